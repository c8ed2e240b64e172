package dsm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// Additional fields of a user that List and Get can ask for.
const (
	// FieldUID asks List for each user's uid; Get answers it always.
	FieldUID                  = "uid"
	FieldDescription          = "description"
	FieldEmail                = "email"
	FieldExpired              = "expired"
	FieldCannotChangePassword = "cannot_chg_passwd"
	FieldPasswordNeverExpires = "passwd_never_expire"
	FieldPasswordLastChange   = "password_last_change"
	FieldPasswordPending      = "is_password_pending"
	FieldGroups               = "groups"
	Field2FA                  = "2fa_status"
)

// AllUserFields lists every additional field DSM knows for a user.
var AllUserFields = []string{FieldUID, FieldDescription, FieldEmail, FieldExpired, FieldCannotChangePassword,
	FieldPasswordNeverExpires, FieldPasswordLastChange, FieldPasswordPending, FieldGroups, Field2FA}

// User is a local DSM account. Fields that were not asked for are zero.
type User struct {
	Name        string `json:"name"`
	UID         int    `json:"uid,omitempty"`
	Description string `json:"description"`
	Email       string `json:"email"`
	// Expired says whether and when the account is disabled.
	Expired Expiry `json:"expired"`
	// CannotChangePassword: the user may not change their own password.
	CannotChangePassword bool `json:"cannot_change_password"`
	// PasswordNeverExpires exempts the user from password expiry.
	PasswordNeverExpires bool `json:"password_never_expires"`
	// PasswordLastChange is the day of the last password change.
	PasswordLastChange Date `json:"password_last_change"`
	// PasswordPending: the user must set a password at next login.
	PasswordPending bool `json:"password_pending"`
	// Groups the user belongs to, sorted.
	Groups []string `json:"groups,omitempty"`
	// InheritedGroups are the groups of Groups the user is in without
	// having been added, as every user is in "users", sorted. DSM 7.2 and
	// 7.3 say which these are; an answer that lists groups by name only
	// leaves this nil.
	InheritedGroups []string `json:"inherited_groups,omitempty"`
	// TwoFactor: the user has 2-step verification.
	TwoFactor bool `json:"two_factor"`
}

// userWire is a user as DSM sends it, with its loose types.
type userWire struct {
	Name                 string          `json:"name"`
	UID                  flexInt         `json:"uid"`
	Description          string          `json:"description"`
	Email                string          `json:"email"`
	Expired              *Expiry         `json:"expired"`
	CannotChangePassword flexBool        `json:"cannot_chg_passwd"`
	PasswordNeverExpires flexBool        `json:"passwd_never_expire"`
	PasswordLastChange   daysDate        `json:"password_last_change"`
	PasswordPending      flexBool        `json:"is_password_pending"`
	Groups               userGroups      `json:"groups"`
	TwoFA                json.RawMessage `json:"2fa_status"`
}

// userGroups is the groups field of a user record: a list of names
// (older DSM, and what clients document), or on DSM 7.2 and 7.3 a list of
// objects {"name":"users","inherited":true} (batonogov/terraform-provider-
// synology-dsm commit 40ae1ea, TestParseUser_GroupsAsObjects). Both forms,
// and a mix, are read.
type userGroups struct {
	names     []string
	inherited []string
}

func (g *userGroups) UnmarshalJSON(data []byte) error {
	*g = userGroups{}
	if string(data) == "null" {
		return nil
	}
	// The two forms DSM sends, each in one pass; a mix takes the long way.
	if names, ok := plainNames(data); ok {
		g.names = names
		return nil
	}
	var objs []struct {
		Name      *string  `json:"name"`
		Inherited flexBool `json:"inherited"`
	}
	if json.Unmarshal(data, &objs) == nil && !slices.ContainsFunc(objs, func(o struct {
		Name      *string  `json:"name"`
		Inherited flexBool `json:"inherited"`
	}) bool {
		return o.Name == nil
	}) {
		g.names = make([]string, len(objs))
		for i, o := range objs {
			g.names[i] = *o.Name
			if o.Inherited {
				g.inherited = append(g.inherited, *o.Name)
			}
		}
		return nil
	}
	*g = userGroups{}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return errors.New("groups: want a list of group names or of {name, inherited} objects")
	}
	for i, raw := range items {
		var name string
		if json.Unmarshal(raw, &name) == nil {
			g.names = append(g.names, name)
			continue
		}
		var obj struct {
			Name      *string  `json:"name"`
			Inherited flexBool `json:"inherited"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil || obj.Name == nil {
			return fmt.Errorf("groups: entry %d is neither a group name nor a {name, inherited} object", i)
		}
		g.names = append(g.names, *obj.Name)
		if obj.Inherited {
			g.inherited = append(g.inherited, *obj.Name)
		}
	}
	return nil
}

// plainNames reads data, a JSON value the decoder has checked, when it
// is a list of UTF-8 strings without escapes (["administrators","users"]), the
// common form, without a second pass of encoding/json; ok is false for
// anything else.
func plainNames(data []byte) (names []string, ok bool) {
	if len(data) < 2 || data[0] != '[' || bytes.IndexByte(data, '\\') >= 0 {
		return nil, false
	}
	rest := data[1:]
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n,")
		switch {
		case len(rest) == 0:
			return nil, false
		case rest[0] == ']':
			return names, true
		case rest[0] != '"':
			return nil, false
		}
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil, false
		}
		name := rest[1 : 1+end]
		if !utf8.Valid(name) {
			return nil, false // encoding/json replaces what is not UTF-8
		}
		names = append(names, string(name))
		rest = rest[end+2:]
	}
}

func (w userWire) user() User {
	u := User{
		Name:                 w.Name,
		UID:                  int(w.UID),
		Description:          w.Description,
		Email:                w.Email,
		CannotChangePassword: bool(w.CannotChangePassword),
		PasswordNeverExpires: bool(w.PasswordNeverExpires),
		PasswordLastChange:   Date(w.PasswordLastChange),
		PasswordPending:      bool(w.PasswordPending),
		Groups:               sortedInPlace(w.Groups.names),
		InheritedGroups:      sortedInPlace(w.Groups.inherited),
		TwoFactor:            twoFactorOn(w.TwoFA),
	}
	if w.Expired != nil {
		u.Expired = *w.Expired
	}
	if len(u.Groups) == 0 {
		u.Groups = nil
	}
	if len(u.InheritedGroups) == 0 {
		u.InheritedGroups = nil
	}
	return u
}

// sortedInPlace sorts s, which no one else holds, and returns it.
func sortedInPlace(s []string) []string {
	if !slices.IsSorted(s) {
		slices.Sort(s)
	}
	return s
}

// twoFactorOn reads 2fa_status, which DSM versions send as a boolean or as
// a word ("enabled", "disabled").
func twoFactorOn(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	var b flexBool
	if b.UnmarshalJSON(raw) == nil {
		return bool(b)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		s = strings.ToLower(s)
		return s == "enabled" || s == "enable" || s == "on"
	}
	return false
}

// UsersService manages local users (SYNO.Core.User and
// SYNO.Core.User.Group).
type UsersService struct {
	c *Client
}

// SortField names a field to sort a user list by.
type SortField string

// The fields DSM sorts users by.
const (
	SortByName        SortField = "name"
	SortByDescription SortField = "description"
	SortByEmail       SortField = "email"
	SortByExpired     SortField = "expired"
)

// ListOptions selects a page of users.
type ListOptions struct {
	// Offset is the index of the first user to return.
	Offset int
	// Limit is the number of users to return; 0 means all.
	Limit int
	// SortBy is the field to sort by; empty means name.
	SortBy SortField
	// Descending sorts from last to first.
	Descending bool
	// Fields are the additional fields to fetch (FieldEmail, ...).
	Fields []string
	// PageSize is the page size of All; 0 asks for the whole list in one
	// request.
	PageSize int
}

func (o ListOptions) validate() error {
	if o.Offset < 0 {
		return fmt.Errorf("offset %d is negative", o.Offset)
	}
	if o.Limit < 0 {
		return fmt.Errorf("limit %d is negative; use 0 for all", o.Limit)
	}
	if o.PageSize < 0 {
		return fmt.Errorf("page size %d is negative", o.PageSize)
	}
	switch o.SortBy {
	case "", SortByName, SortByDescription, SortByEmail, SortByExpired:
	default:
		return fmt.Errorf("cannot sort by %q; use name, description, email or expired", o.SortBy)
	}
	return validateFields(o.Fields)
}

func validateFields(fields []string) error {
	for _, f := range fields {
		if !slices.Contains(AllUserFields, f) {
			return fmt.Errorf("unknown user field %q; known: %s", f, strings.Join(AllUserFields, ", "))
		}
	}
	return nil
}

// listPage is the data of a list call, such as SYNO.Core.User list's
// {"offset":0,"total":N,"users":[...]}, decoded from the answer as it is
// read: each item goes from the stream into a wire record W, reused, and
// from it into its T, so a list of 16,000 users is never held twice (as
// text and as records).
type listPage[W, T any] struct {
	key   string     // the member that holds the list: "users", "groups"
	conv  func(*W) T // a record as the caller sees it
	total int        // the total member, when there is one
	items []T
}

// userPage is a page of SYNO.Core.User list.
func userPage() *listPage[userWire, User] {
	return &listPage[userWire, User]{key: "users", conv: func(w *userWire) User { return w.user() }}
}

func (p *listPage[W, T]) decodeStream(dec *json.Decoder) error {
	*p = listPage[W, T]{key: p.key, conv: p.conv}
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if err := skipOpened(dec, tok); err != nil {
			return err
		}
		return &json.UnmarshalTypeError{Value: "not an object", Type: reflect.TypeFor[[]T]()}
	}
	var first error // the first item that does not fit; the rest is still read
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		// Member names match as encoding/json matches them, ignoring
		// case, so that the stream reads what decoding whole would.
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "total"):
			var n flexInt
			if err := dec.Decode(&n); err != nil {
				if isJSONSyntax(err) {
					return err
				}
				first = cmp.Or(first, err)
			}
			p.total = int(n)
		case strings.EqualFold(key, p.key):
			if err := p.decodeItems(dec); err != nil {
				if isJSONSyntax(err) {
					return err
				}
				first = cmp.Or(first, err)
			}
		default:
			if err := dec.Decode(&json.RawMessage{}); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	return first
}

// maxUsersHint bounds the room made for a list from its total: DSM's
// limit of local users, and some.
const maxUsersHint = 20_000

// skipOpened reads past the rest of the value that tok, just read,
// opens (nothing when tok is a scalar).
func skipOpened(dec *json.Decoder, tok json.Token) error {
	depth := 0
	for {
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = dec.Token(); err != nil {
			return err
		}
	}
}

// decodeItems reads the list, one record at a time.
func (p *listPage[W, T]) decodeItems(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	// A list given twice: the last one counts, as with encoding/json.
	p.items = p.items[:0]
	if tok == nil {
		p.items = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		if err := skipOpened(dec, tok); err != nil {
			return err
		}
		return &json.UnmarshalTypeError{Value: "not a list", Field: p.key, Type: reflect.TypeFor[[]T]()}
	}
	if p.items == nil && p.total > 0 {
		// total comes before the list in the answers seen (keys in
		// order); bounded, as it is only a hint.
		p.items = make([]T, 0, min(p.total, maxUsersHint))
	}
	var first error
	var w W // one, reused: each record is decoded into it, then copied out
	var zero W
	for dec.More() {
		w = zero
		if err := dec.Decode(&w); err != nil {
			if isJSONSyntax(err) {
				return err
			}
			first = cmp.Or(first, err)
			continue
		}
		p.items = append(p.items, p.conv(&w))
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	return first
}

// List returns one page of local users and the total number of users.
//
// DSM: SYNO.Core.User list.
func (s *UsersService) List(ctx context.Context, opts ListOptions) ([]User, int, error) {
	if err := opts.validate(); err != nil {
		return nil, 0, argError("list users", err)
	}
	limit := opts.Limit
	if limit == 0 {
		limit = -1
	}
	sortBy := opts.SortBy
	if sortBy == "" {
		sortBy = SortByName
	}
	dir := "ASC"
	if opts.Descending {
		dir = "DESC"
	}
	fields := opts.Fields
	if fields == nil {
		fields = []string{}
	}
	d := userPage()
	err := s.c.do(ctx, newRead("SYNO.Core.User", "list", Params{
		"type": "local", "offset": opts.Offset, "limit": limit,
		"sort_by": string(sortBy), "sort_direction": dir, "additional": fields,
	}, d))
	if err != nil {
		return nil, 0, err
	}
	users := d.items
	if users == nil {
		users = []User{}
	}
	return users, int(d.total), nil
}

// All returns every user. With opts.PageSize 0 it asks for the whole
// list in one request (limit -1, as N4S4/synology-api
// synology_api/core_user.py get_users and
// batonogov/terraform-provider-synology-dsm internal/client/user.go
// ListUsers ask for it on real NAS boxes); with a page size it fetches
// pages of that size as the caller iterates. Should a DSM answer fewer
// users than its total (a cap on a list, which no client has reported),
// All asks again from where the answer stopped, so no user is missed.
// Offset and Limit of opts are ignored. Iteration stops at the first
// error, which is yielded with a zero User.
func (s *UsersService) All(ctx context.Context, opts ListOptions) iter.Seq2[User, error] {
	return func(yield func(User, error) bool) {
		page := opts
		page.Limit = opts.PageSize // 0: all (List sends -1)
		for offset := 0; ; {
			page.Offset = offset
			users, total, err := s.List(ctx, page)
			if err != nil {
				yield(User{}, err)
				return
			}
			for _, u := range users {
				if !yield(u, nil) {
					return
				}
			}
			offset += len(users)
			if len(users) == 0 || offset >= total {
				return
			}
		}
	}
}

// Get returns one user with the additional fields asked for (all of them
// when none are given).
//
// DSM: SYNO.Core.User get.
func (s *UsersService) Get(ctx context.Context, name string, fields ...string) (User, error) {
	if err := ValidateUserName(name); err != nil {
		return User{}, argError("get user", err)
	}
	if err := validateFields(fields); err != nil {
		return User{}, argError("get user", err)
	}
	if len(fields) == 0 {
		// get answers the uid without being asked (N4S4/synology-api's
		// published user_get answer; go-synology asks for it in list).
		fields = slices.DeleteFunc(slices.Clone(AllUserFields), func(f string) bool { return f == FieldUID })
	}
	var d struct {
		Users []userWire `json:"users"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.User", "get", Params{"name": name, "additional": fields}, &d)); err != nil {
		return User{}, err
	}
	if len(d.Users) == 0 {
		return User{}, &APIError{Code: 3106, API: "SYNO.Core.User", Method: "get"}
	}
	return d.Users[0].user(), nil
}

// UserCreateRequest describes a new user.
type UserCreateRequest struct {
	Name        string
	Password    string
	Description string
	Email       string
	// Expiry is when the account is disabled; the zero value is Never.
	Expiry               Expiry
	CannotChangePassword bool
	PasswordNeverExpires bool
	// NotifyByEmail sends the new user a notification mail;
	// SendPassword includes the password in it.
	NotifyByEmail bool
	SendPassword  bool
}

// CreatedUser is the answer to Create.
type CreatedUser struct {
	Name string `json:"name"`
	UID  int    `json:"uid"`
}

// Create makes a local user. The password travels encrypted over plain
// http. When the answer is lost (a reset after the request was sent), the
// client looks the user up instead of creating it again: a user of that
// name with the same description and email is taken as the one created.
//
// DSM: SYNO.Core.User create.
func (s *UsersService) Create(ctx context.Context, r UserCreateRequest) (CreatedUser, error) {
	if err := r.validate(s.c.today(), true); err != nil {
		return CreatedUser{}, argError("create user", err)
	}
	var d struct {
		Name string  `json:"name"`
		UID  flexInt `json:"uid"`
	}
	applied := func(ctx context.Context) (bool, error) {
		u, err := s.Get(ctx, r.Name, FieldDescription, FieldEmail)
		if errors.Is(err, ErrNoSuchUser) {
			return false, nil
		}
		if err != nil || u.Description != r.Description || u.Email != r.Email {
			return false, err
		}
		d.Name, d.UID = u.Name, flexInt(u.UID)
		return true, nil
	}
	err := s.c.do(ctx, newCheckedChange("SYNO.Core.User", "create", Params{
		"name": r.Name, "description": r.Description, "email": r.Email,
		"expired": r.Expiry.dsm(), "cannot_chg_passwd": r.CannotChangePassword,
		"passwd_never_expire": r.PasswordNeverExpires, "notify_by_email": r.NotifyByEmail,
		"send_password": r.SendPassword,
	}, &d, applied).withSecret(Params{"password": r.Password}))
	if err != nil {
		return CreatedUser{}, err
	}
	name := d.Name
	if name == "" {
		name = r.Name
	}
	return CreatedUser{Name: name, UID: int(d.UID)}, nil
}

// validate checks r as of the day today; the password may be empty
// unless needPassword.
func (r UserCreateRequest) validate(today Date, needPassword bool) error {
	if err := ValidateUserName(r.Name); err != nil {
		return err
	}
	if r.Password == "" && needPassword {
		return errors.New("the password is empty")
	}
	if err := ValidatePassword(r.Password); err != nil {
		return err
	}
	if err := ValidateDescription(r.Description); err != nil {
		return err
	}
	if err := ValidateEmail(r.Email); err != nil {
		return err
	}
	if r.SendPassword && !r.NotifyByEmail {
		return errors.New("SendPassword needs NotifyByEmail: the password is sent in the notification mail")
	}
	return validateExpiry(r.Expiry, today)
}

// UserUpdateRequest changes a user. Only the fields that are set change;
// nil fields keep their current values.
type UserUpdateRequest struct {
	NewName              *string
	Password             *string
	Description          *string
	Email                *string
	Expiry               *Expiry
	CannotChangePassword *bool
	PasswordNeverExpires *bool
}

// Ptr returns a pointer to v, for the fields of UserUpdateRequest.
func Ptr[T any](v T) *T { return &v }

func (r UserUpdateRequest) validate(today Date) error {
	if r.NewName != nil {
		if err := ValidateUserName(*r.NewName); err != nil {
			return fmt.Errorf("new name: %w", err)
		}
	}
	if r.Password != nil {
		if *r.Password == "" {
			return errors.New("the new password is empty")
		}
		if err := ValidatePassword(*r.Password); err != nil {
			return err
		}
	}
	if r.Description != nil {
		if err := ValidateDescription(*r.Description); err != nil {
			return err
		}
	}
	if r.Email != nil {
		if err := ValidateEmail(*r.Email); err != nil {
			return err
		}
	}
	if r.Expiry != nil {
		if err := validateExpiry(*r.Expiry, today); err != nil {
			return err
		}
	}
	return nil
}

func (r UserUpdateRequest) empty() bool {
	return r == UserUpdateRequest{}
}

// UpdatedUser is the answer to Update.
type UpdatedUser struct {
	Name               string `json:"name"`
	UID                int    `json:"uid"`
	PasswordLastChange Date   `json:"password_last_change"`
}

// Update changes the fields of r that are set, and nothing else. It reads
// the user first and sends every field DSM's set takes with its current
// value unless r changes it, so no field is reset whatever DSM does with
// absent ones.
//
// DSM: SYNO.Core.User get, then SYNO.Core.User set.
func (s *UsersService) Update(ctx context.Context, name string, r UserUpdateRequest) (UpdatedUser, error) {
	if err := ValidateUserName(name); err != nil {
		return UpdatedUser{}, argError("update user", err)
	}
	if err := r.validate(s.c.today()); err != nil {
		return UpdatedUser{}, argError(fmt.Sprintf("update user %s", name), err)
	}
	if r.empty() {
		return UpdatedUser{}, argErrorf(fmt.Sprintf("update user %s", name), "nothing to change")
	}
	cur, err := s.Get(ctx, name, FieldDescription, FieldEmail, FieldExpired, FieldCannotChangePassword, FieldPasswordNeverExpires, FieldPasswordLastChange)
	if err != nil {
		return UpdatedUser{}, err
	}
	p := Params{
		"name":                cur.Name,
		"description":         pick(r.Description, cur.Description),
		"email":               pick(r.Email, cur.Email),
		"expired":             pick(r.Expiry, cur.Expired).dsm(),
		"cannot_chg_passwd":   pick(r.CannotChangePassword, cur.CannotChangePassword),
		"passwd_never_expire": pick(r.PasswordNeverExpires, cur.PasswordNeverExpires),
	}
	if r.NewName != nil && *r.NewName != cur.Name {
		p["new_name"] = *r.NewName
	}
	var secret Params
	if r.Password != nil {
		secret = Params{"password": *r.Password}
	}
	var d struct {
		Name               string   `json:"name"`
		UID                flexInt  `json:"uid"`
		PasswordLastChange daysDate `json:"password_last_change"`
	}
	// A rename or a new password is not safe to repeat: after an ambiguous
	// failure, look whether it happened (the new name exists with the
	// user's uid; the password's last change moved).
	req := newSafeChange("SYNO.Core.User", "set", p, &d).withSecret(secret)
	if _, renaming := p["new_name"]; renaming || r.Password != nil {
		req.mutating = true
		req.verify = func(ctx context.Context) (bool, error) {
			u, err := s.Get(ctx, pick(r.NewName, cur.Name), FieldPasswordLastChange)
			if errors.Is(err, ErrNoSuchUser) {
				return false, nil
			}
			if err != nil || u.UID != cur.UID {
				return false, err
			}
			if r.Password != nil && u.PasswordLastChange == cur.PasswordLastChange {
				// DSM keeps the day of the last change only: a password
				// already changed today shows nothing. Repeating could be
				// refused as "used before", or change it twice: give up.
				if d := cur.PasswordLastChange; !d.IsZero() && !d.Before(DateOf(s.c.now().UTC().AddDate(0, 0, -1))) {
					return false, errors.New("the password was already changed today, so the client cannot tell whether this change was applied; check before trying again")
				}
				return false, nil
			}
			d.Name, d.UID, d.PasswordLastChange = u.Name, flexInt(u.UID), daysDate(u.PasswordLastChange)
			return true, nil
		}
	}
	err = s.c.do(ctx, req)
	if err != nil {
		return UpdatedUser{}, err
	}
	out := UpdatedUser{Name: d.Name, UID: int(d.UID), PasswordLastChange: Date(d.PasswordLastChange)}
	if out.Name == "" {
		out.Name = pick(r.NewName, cur.Name)
	}
	return out, nil
}

func pick[T any](p *T, cur T) T {
	if p != nil {
		return *p
	}
	return cur
}

// Delete removes local users. DSM deletes what it can; the error lists the
// users it could not delete.
//
// DSM: SYNO.Core.User delete.
func (s *UsersService) Delete(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return argErrorf("delete users", "no user named")
	}
	for _, n := range names {
		if err := ValidateUserName(n); err != nil {
			return argError("delete users", err)
		}
	}
	var d struct {
		Errors json.RawMessage `json:"errors"`
	}
	gone := func(ctx context.Context) (bool, error) {
		for _, n := range names {
			_, err := s.Get(ctx, n, FieldDescription)
			switch {
			case err == nil:
				return false, nil // still there: not done
			case !errors.Is(err, ErrNoSuchUser):
				return false, err // cannot tell
			}
		}
		return true, nil
	}
	if err := s.c.do(ctx, newCheckedChange("SYNO.Core.User", "delete", Params{"name": names}, &d, gone)); err != nil {
		return err
	}
	return itemErrors("SYNO.Core.User", "delete", d.Errors)
}

// itemErrors turns DSM's per-item error list (data.errors) into an error.
func itemErrors(api, method string, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "[]" || string(raw) == "{}" {
		return nil
	}
	var items []struct {
		Code flexInt `json:"code"`
		Name string  `json:"name"`
	}
	if json.Unmarshal(raw, &items) != nil || len(items) == 0 {
		return &APIError{Code: 3102, API: api, Method: method, Details: raw}
	}
	errs := make([]error, 0, len(items))
	for _, it := range items {
		e := &APIError{Code: int(it.Code), API: api, Method: method}
		if it.Name != "" {
			errs = append(errs, &ItemError{Name: it.Name, Err: e})
		} else {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// ItemError is the failure of one item of a call on several (a user or
// group of a Delete): DSM did what it could of the others. The error of
// such a call joins one ItemError per failed item; FailedItems lists
// them.
type ItemError struct {
	// Name is the item DSM named.
	Name string
	// Err is DSM's reason for it.
	Err *APIError
}

// Error names the item and DSM's reason.
func (e *ItemError) Error() string { return e.Name + ": " + e.Err.Error() }

// Unwrap returns DSM's reason, which matches its sentinel.
func (e *ItemError) Unwrap() error { return e.Err }

// FailedItems returns the ItemErrors that err holds, in order: the items
// that a call on several did not do. None means the call failed as a
// whole, or did not fail.
func FailedItems(err error) []*ItemError {
	var out []*ItemError
	var walk func(error)
	walk = func(err error) {
		if ie, ok := err.(*ItemError); ok {
			out = append(out, ie)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// CheckPassword tells in advance which rules of the NAS's password policy
// password breaks for the user name; an empty result means none that can
// be checked here (the password history is the server's to judge). It
// never sends the password.
//
// DSM: SYNO.Core.User.PasswordPolicy get.
func (s *UsersService) CheckPassword(ctx context.Context, name, password string) ([]PasswordViolation, error) {
	p, err := s.c.Policy.PasswordPolicy(ctx)
	if err != nil {
		return nil, err
	}
	return p.Check(name, password), nil
}

// JoinGroups asks DSM to put user name into the groups of join and take
// it out of those of leave. DSM runs this as a task: call Wait on the
// result. Every user stays in "users": leaving it is refused here.
//
// DSM: SYNO.Core.User.Group join.
func (s *UsersService) JoinGroups(ctx context.Context, name string, join, leave []string) (*GroupTask, error) {
	if err := ValidateGroupChange(name, join, leave); err != nil {
		return nil, err
	}
	var d struct {
		TaskID string `json:"task_id"`
	}
	// Joining and leaving are safe to repeat: a second task does nothing
	// new, and Wait reads the groups back.
	err := s.c.do(ctx, newSafeChange("SYNO.Core.User.Group", "join", Params{
		"name": name, "join_group": nonNil(join), "leave_group": nonNil(leave),
	}, &d))
	if err != nil {
		return nil, err
	}
	if d.TaskID == "" {
		return nil, &MalformedError{API: "SYNO.Core.User.Group", Method: "join", Reason: "no task_id in the answer"}
	}
	return &GroupTask{ID: d.TaskID, User: name, Join: slices.Clone(join), Leave: slices.Clone(leave), s: s}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
