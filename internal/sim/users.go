package sim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error codes of the user and group APIs. No Synology guide documents
// these APIs: the meanings are those of DSM's own web UI, whose error
// strings name each code; no public capture confirms them one by one.
const (
	codeBadArgument      = 3101
	codeInvalidValue     = 3103
	codeNoSuchUser       = 3106
	codeUserExists       = 3107 // create: the name is taken (any case)
	codeNewNameExists    = 3108 // set: new_name is taken (any case)
	codeLastAdmin        = 3109 // a User call would leave no enabled administrator
	codeTooManyUsers     = 3110
	codeReservedUser     = 3114
	codeDefaultAccount   = 3115 // default or system account: cannot be deleted or renamed
	codeNoSuchGroup      = 3204
	codeGroupExists      = 3206
	codeReservedGroup    = 3207 // reserved name, or a built-in group that cannot be deleted or renamed
	codeBadGroupName     = 3208
	codeTooManyGroups    = 3209
	codeLastAdminInGroup = 3210 // a group call would leave no enabled administrator
)

// The punctuation DSM refuses in names. Synology's own pages list these
// for user names (plus: not starting with "-" or a space, not ending with
// a space; SynologyWiki, "Managing the File Server Abilities of the
// Synology System"); their group page lists the same set without "#"
// (kb.synology.com/en-ca/DSM/help/DSM/AdminCenter/file_group_create?version=6).
const (
	userNameForbidden  = "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~"
	groupNameForbidden = "!\"$%&'()*+,/:;<=>?@[\\]^`{|}~"
)

// validName checks a user or group name: 1 to maxLen characters of valid
// UTF-8, no control character, none of forbidden, not starting with "-"
// or a space, not ending with a space. "Space" is U+0020, as the pages
// write it; refusing control characters is a guess from their
// "displayable characters".
func validName(name string, maxLen int, forbidden string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxLen {
		return false
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 || strings.ContainsAny(name, forbidden) {
		return false
	}
	return name[0] != '-' && name[0] != ' ' && name[len(name)-1] != ' '
}

// validDescription: at most 64 characters of valid UTF-8, no control
// character.
func validDescription(d string) bool {
	return utf8.ValidString(d) && utf8.RuneCountInString(d) <= maxDescriptionLen && strings.IndexFunc(d, unicode.IsControl) < 0
}

// validEmail: empty, or one address of at most 512 bytes: something@host,
// no spaces or control characters. A guess: what DSM checks in an address
// is not public, so the simulator checks only its shape.
func validEmail(e string) bool {
	if e == "" {
		return true
	}
	local, host, ok := strings.Cut(e, "@")
	return ok && len(e) <= maxEmailLen && local != "" && host != "" && !strings.Contains(host, "@") &&
		utf8.ValidString(e) && strings.IndexFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) < 0
}

// normalizeExpired reads the expired parameter: "normal" ("never", the
// default of the reference client, N4S4/synology-api, means the same),
// "now", or a date YYYY/M/D, with or without leading zeros: DSM accepts 2027/03/05 on set
// and answers it as 2027/3/5 (batonogov/terraform-provider-synology-dsm,
// its notes and TestClient_UpdateUser_ExpiryRoundTrip). The date comes
// back in DSM's form, without zeros. Anything else (an ISO date) is not
// valid (3103).
func normalizeExpired(s string) (string, bool) {
	switch s {
	case "normal", "never":
		return "normal", true
	case "now":
		return "now", true
	}
	return canonicalExpiryDate(s)
}

// canonicalExpiryDate reads YYYY/M/D whose month and day may have one
// leading zero, and returns it without zeros.
func canonicalExpiryDate(s string) (string, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) == 0 || len(parts[1]) > 2 || len(parts[2]) == 0 || len(parts[2]) > 2 {
		return "", false
	}
	n := make([]int, 3)
	for i, p := range parts {
		for _, c := range p {
			if c < '0' || c > '9' {
				return "", false
			}
			n[i] = n[i]*10 + int(c-'0')
		}
	}
	out := fmt.Sprintf("%d/%d/%d", n[0], n[1], n[2])
	if _, ok := parseExpiryDate(out); !ok {
		return "", false
	}
	return out, true
}

// day is the number of days since 1970-01-01 (UTC) at t.
func day(t time.Time) int { return int(t.Unix() / 86400) }

// userFields are the "additional" fields of SYNO.Core.User list and get.
// uid may be asked for in list's additional (go-synology and
// happn-app/officectl do); get answers it anyway.
var userFields = map[string]func(st *store, r release, u *user) any{
	"uid":                  func(_ *store, _ release, u *user) any { return u.uid },
	"description":          func(_ *store, _ release, u *user) any { return u.description },
	"email":                func(_ *store, _ release, u *user) any { return u.email },
	"expired":              func(_ *store, _ release, u *user) any { return u.expired },
	"cannot_chg_passwd":    func(_ *store, _ release, u *user) any { return u.cannotChangePassword },
	"passwd_never_expire":  func(_ *store, _ release, u *user) any { return u.passwordNeverExpire },
	"password_last_change": func(_ *store, _ release, u *user) any { return u.passwordLastChange },
	"is_password_pending":  func(_ *store, _ release, u *user) any { return u.passwordPending },
	"groups":               func(st *store, r release, u *user) any { return st.userGroups(u, r) },
	"2fa_status":           func(_ *store, _ release, u *user) any { return u.otpKey != nil },
}

// userRecord is the answer entry for u in release r: name, uid when
// withUID, and the additional fields asked for (unknown names are
// ignored).
func userRecord(st *store, r release, u *user, additional []string, withUID bool) map[string]any {
	rec := map[string]any{"name": u.name}
	if withUID {
		rec["uid"] = u.uid
	}
	for _, f := range additional {
		if get, ok := userFields[f]; ok {
			rec[f] = get(st, r, u)
		}
	}
	return rec
}

// userSortKeys are the sort_by values of SYNO.Core.User list.
var userSortKeys = map[string]func(a, b *user) int{
	"name":        func(a, b *user) int { return cmp.Compare(fold(a.name), fold(b.name)) },
	"uid":         func(a, b *user) int { return cmp.Compare(a.uid, b.uid) },
	"description": func(a, b *user) int { return cmp.Compare(fold(a.description), fold(b.description)) },
	"email":       func(a, b *user) int { return cmp.Compare(fold(a.email), fold(b.email)) },
	"expired":     func(a, b *user) int { return cmp.Compare(a.expired, b.expired) },
}

// userList answers SYNO.Core.User list: the local users sorted by sort_by
// (name, uid, description, email or expired; default name) and
// sort_direction (ASC or DESC), then paged. Anything else is 120.
func (s *Server) userList(q *request) (any, error) {
	if err := q.localType(); err != nil {
		return nil, err
	}
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	key := userSortKeys["name"]
	if q.has("sort_by") {
		if key = userSortKeys[q.str("sort_by")]; key == nil {
			return nil, fail(codeInvalidParameter)
		}
	}
	desc := false
	if q.has("sort_direction") {
		switch strings.ToUpper(q.str("sort_direction")) {
		case "ASC":
		case "DESC":
			desc = true
		default:
			return nil, fail(codeInvalidParameter)
		}
	}
	users := s.st.sortedUsers() // shared: sort or reverse a copy
	if q.has("sort_by") && q.str("sort_by") != "name" {
		users = slices.Clone(users)
		slices.SortStableFunc(users, key)
	}
	var page []*user
	if desc {
		// The page counted from the end, then in descending order.
		end := max(len(users)-offset, 0)
		start := 0
		if limit > 0 {
			start = max(end-limit, 0)
		}
		page = slices.Clone(users[start:end])
		slices.Reverse(page)
	} else {
		page = pageOf(users, offset, limit)
	}
	additional := q.list("additional")
	out := []map[string]any{}
	for _, u := range page {
		out = append(out, userRecord(s.st, s.release, u, additional, false))
	}
	return map[string]any{"offset": offset, "total": len(users), "users": out}, nil
}

// userGet answers SYNO.Core.User get: a list of one user, or 3106.
func (s *Server) userGet(q *request) (any, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	u := s.st.userByName(q.str("name"))
	if u == nil {
		return nil, fail(codeNoSuchUser)
	}
	return map[string]any{"users": []map[string]any{userRecord(s.st, s.release, u, q.list("additional"), true)}}, nil
}

// userChange is the optional fields of User create and set, validated.
type userChange struct {
	description, email, expired *string
	cannotChange, neverExpire   *bool
}

// checkedText returns the value of key when it is given, nil when it is
// not, and 3103 when valid refuses it.
func (q *request) checkedText(key string, valid func(string) bool) (*string, error) {
	if !q.has(key) {
		return nil, nil
	}
	v := q.str(key)
	if !valid(v) {
		return nil, fail(codeInvalidValue)
	}
	return &v, nil
}

// readUserChange reads and checks the optional fields: 3103 for a value
// DSM would refuse (a description over 64 characters, a bad address, an
// ISO date, "True" for a boolean). notify_by_email and send_password are
// checked and otherwise ignored: the simulator sends no mail.
func (q *request) readUserChange() (userChange, error) {
	var c userChange
	var err error
	if c.description, err = q.checkedText("description", validDescription); err != nil {
		return c, err
	}
	if c.email, err = q.checkedText("email", validEmail); err != nil {
		return c, err
	}
	if q.has("expired") {
		e, ok := normalizeExpired(q.str("expired"))
		if !ok {
			return c, fail(codeInvalidValue)
		}
		c.expired = &e
	}
	for name, dst := range map[string]**bool{"cannot_chg_passwd": &c.cannotChange, "passwd_never_expire": &c.neverExpire, "notify_by_email": nil, "send_password": nil} {
		if !q.has(name) {
			continue
		}
		b, err := q.boolean(name, false, codeInvalidValue)
		if err != nil {
			return c, err
		}
		if dst != nil {
			*dst = &b
		}
	}
	return c, nil
}

// apply sets the fields of c on u.
func (c userChange) apply(u *user) {
	if c.description != nil {
		u.description = *c.description
	}
	if c.email != nil {
		u.email = *c.email
	}
	if c.expired != nil {
		u.expired = *c.expired
	}
	if c.cannotChange != nil {
		u.cannotChangePassword = *c.cannotChange
	}
	if c.neverExpire != nil {
		u.passwordNeverExpire = *c.neverExpire
	}
}

// disables reports whether c disables u at now when u is enabled.
func (c userChange) disables(u *user, now time.Time) bool {
	if c.expired == nil || u.disabled(now) {
		return false
	}
	after := *u
	after.expired = *c.expired
	return after.disabled(now)
}

// userCreate answers SYNO.Core.User create -> {name, uid}. Checks, all
// before any change: the fields (3103), the name (3103), the number of
// users (3110), a taken name in any case (3107), a reserved name (3114),
// the password policy (3121, 3123).
func (s *Server) userCreate(q *request) (any, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	name := q.str("name")
	c, err := q.readUserChange()
	if err != nil {
		return nil, err
	}
	if !validName(name, maxUserNameLen, userNameForbidden) {
		return nil, fail(codeInvalidValue)
	}
	if len(s.st.users) >= maxUsers {
		return nil, fail(codeTooManyUsers)
	}
	if s.st.userByName(name) != nil {
		return nil, fail(codeUserExists)
	}
	if reserved(reservedUserNames, name) || undeletableUser(name) {
		return nil, fail(codeReservedUser)
	}
	pw := q.str("password")
	if err := s.st.policy.checkPassword(name, pw, nil); err != nil {
		return nil, err
	}
	u := &user{name: name, passwordPending: s.st.policy.MustChange}
	c.apply(u)
	u.setPassword(pw, day(q.now))
	s.st.addUser(u, 0)
	s.dirty = true
	return map[string]any{"name": u.name, "uid": u.uid}, nil
}

// userSet answers SYNO.Core.User set -> {name, uid, password_last_change}.
// Absent fields keep their values; an empty password means unchanged (the
// reference client always sends one). Renaming a default account is 3115,
// to a taken name 3108, to a reserved one 3114; disabling the last
// enabled administrator is 3109.
func (s *Server) userSet(q *request) (any, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	u := s.st.userByName(q.str("name"))
	if u == nil {
		return nil, fail(codeNoSuchUser)
	}
	c, err := q.readUserChange()
	if err != nil {
		return nil, err
	}
	newName := u.name
	if nn := q.str("new_name"); nn != "" && nn != u.name {
		if undeletableUser(u.name) {
			return nil, fail(codeDefaultAccount)
		}
		if !validName(nn, maxUserNameLen, userNameForbidden) {
			return nil, fail(codeInvalidValue)
		}
		if other := s.st.userByName(nn); other != nil && other != u {
			return nil, fail(codeNewNameExists)
		}
		if fold(nn) != fold(u.name) && (reserved(reservedUserNames, nn) || undeletableUser(nn)) {
			return nil, fail(codeReservedUser)
		}
		newName = nn
	}
	pw := q.str("password")
	if pw != "" {
		if err := s.st.policy.checkPassword(newName, pw, u); err != nil {
			return nil, err
		}
	}
	if c.disables(u, q.now) && s.st.isAdmin(u) && s.st.leavesNoAdmin(q.now, map[int]bool{u.uid: true}) {
		return nil, fail(codeLastAdmin)
	}

	c.apply(u)
	if pw != "" {
		u.setPassword(pw, day(q.now))
	}
	if newName != u.name {
		delete(s.st.users, fold(u.name))
		u.name = newName
		s.st.users[fold(newName)] = u
		s.st.usersChanged()
	}
	s.dirty = true
	return map[string]any{"name": u.name, "uid": u.uid, "password_last_change": u.passwordLastChange}, nil
}

// itemError is one entry of a per-item error list.
type itemError struct {
	Name string `json:"name"`
	Code int    `json:"code"`
}

// userDelete answers SYNO.Core.User delete. name is a JSON list (DSM's
// UI) or one bare name (the reference client). Each name is checked in
// order: a default or system account is 3115, an unknown one 3106, the
// last enabled administrator 3109. The others are deleted. The answer is
// {} when all went, {"errors":[{name,code}]} when some did; when none
// could go it is an error with the first item's code and the list.
func (s *Server) userDelete(q *request) (any, error) {
	names, err := q.names("name", true, codeBadArgument)
	if err != nil {
		return nil, err
	}
	gone := map[int]bool{}
	var doomed []*user
	var errs []itemError
	for _, n := range names {
		u := s.st.userByName(n)
		switch {
		case undeletableUser(n):
			errs = append(errs, itemError{n, codeDefaultAccount})
		case u == nil:
			errs = append(errs, itemError{n, codeNoSuchUser})
		case gone[u.uid]:
		case s.st.isAdmin(u) && !u.disabled(q.now) && s.st.leavesNoAdmin(q.now, union(gone, u.uid)):
			errs = append(errs, itemError{n, codeLastAdmin})
		default:
			gone[u.uid] = true
			doomed = append(doomed, u)
		}
	}
	if len(doomed) == 0 {
		return nil, &apiError{code: errs[0].Code, details: errs}
	}
	for _, u := range doomed {
		for _, g := range s.st.groups {
			delete(g.members, u.uid)
		}
		s.st.dropProfile(false, u.uid)
		delete(s.st.users, fold(u.name))
		s.st.forgetPrincipal(false, u.uid) // permissions.go: DSM drops the user's rows
	}
	s.st.usersChanged()
	s.dirty = true
	if len(errs) > 0 {
		return map[string]any{"errors": errs}, nil
	}
	return struct{}{}, nil
}

// union returns a copy of set with uid added.
func union(set map[int]bool, uid int) map[int]bool {
	out := make(map[int]bool, len(set)+1)
	for k := range set {
		out[k] = true
	}
	out[uid] = true
	return out
}

// normalUser is the data of SYNO.Core.NormalUser get.
type normalUser struct {
	Username           string `json:"username"`
	Fullname           string `json:"fullname"`
	Email              string `json:"email"`
	OTPEnable          bool   `json:"OTP_enable"`
	OTPEnforced        bool   `json:"OTP_enforced"`
	DisallowChPasswd   bool   `json:"disallowchpasswd"`
	Editable           bool   `json:"editable"`
	PasswordLastChange int    `json:"password_last_change"`
}

// normalUserGet answers SYNO.Core.NormalUser get: the session's own user.
func (s *Server) normalUserGet(q *request) (any, error) {
	u := q.user
	return normalUser{
		Username:           u.name,
		Fullname:           u.description,
		Email:              u.email,
		OTPEnable:          u.otpKey != nil,
		OTPEnforced:        s.mustHaveOTP(u), // the account's flag or the enforcement policy
		DisallowChPasswd:   u.cannotChangePassword,
		Editable:           true,
		PasswordLastChange: u.passwordLastChange,
	}, nil
}

// normalUserSet answers SYNO.Core.NormalUser set: a user changes their own
// fullname (the description), email or password. The parameters are
// those of DSM's personal settings page: fullname, email, and for a new
// password both password and old_password. A password change is refused
// with 105 when cannot_chg_passwd is set, 3124 when old_password is
// wrong, and by the policy (3121-3123).
func (s *Server) normalUserSet(q *request) (any, error) {
	u := q.user
	var c userChange
	var err error
	if c.description, err = q.checkedText("fullname", validDescription); err != nil {
		return nil, err
	}
	if c.email, err = q.checkedText("email", validEmail); err != nil {
		return nil, err
	}
	pw := q.str("password")
	if pw != "" {
		if u.cannotChangePassword {
			return nil, fail(codePermission)
		}
		now, ok, changed := s.passwordMatches(u, q.str("old_password")) // the hash runs without s.mu
		if changed || !ok {
			return nil, fail(codePasswordInvalid)
		}
		if u = now; u.cannotChangePassword {
			return nil, fail(codePermission)
		}
		if err := s.st.policy.checkPassword(u.name, pw, u); err != nil {
			return nil, err
		}
	}
	c.apply(u)
	if pw != "" {
		u.setPassword(pw, day(q.now))
		u.passwordPending = false
	}
	s.dirty = true
	return struct{}{}, nil
}
