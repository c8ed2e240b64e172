package sim

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Error codes of the user and group APIs (PROTOCOL 5).
const codeNoSuchUser = 3106

// userFields are the "additional" fields of SYNO.Core.User list and get.
var userFields = map[string]func(st *store, u *user) any{
	"description":          func(_ *store, u *user) any { return u.description },
	"email":                func(_ *store, u *user) any { return u.email },
	"expired":              func(_ *store, u *user) any { return u.expired },
	"cannot_chg_passwd":    func(_ *store, u *user) any { return u.cannotChangePassword },
	"passwd_never_expire":  func(_ *store, u *user) any { return u.passwordNeverExpire },
	"password_last_change": func(_ *store, u *user) any { return u.passwordLastChange },
	"is_password_pending":  func(_ *store, u *user) any { return u.passwordPending },
	"groups":               func(st *store, u *user) any { return st.groupsOf(u) },
	"2fa_status":           func(_ *store, u *user) any { return u.otpKey != nil },
}

// list reads a list parameter: a JSON list of strings (["a","b"]), a JSON
// string, or a bare comma-separated string.
func (q *request) list(name string) []string {
	v := strings.TrimSpace(q.params.Get(name))
	if v == "" {
		return nil
	}
	var l []string
	if json.Unmarshal([]byte(v), &l) == nil {
		return l
	}
	var out []string
	for item := range strings.SplitSeq(q.str(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// page reads offset and limit (-1 or 0: all; missing: all from 0).
func (q *request) page() (offset, limit int, err error) {
	if q.has("offset") {
		if offset, err = strconv.Atoi(q.str("offset")); err != nil || offset < 0 {
			return 0, 0, fail(codeInvalidParameter)
		}
	}
	limit = -1
	if q.has("limit") {
		if limit, err = strconv.Atoi(q.str("limit")); err != nil || limit < -1 {
			return 0, 0, fail(codeInvalidParameter)
		}
	}
	return offset, limit, nil
}

// pageOf cuts items[offset:offset+limit], limit <= 0 meaning all.
func pageOf[T any](items []T, offset, limit int) []T {
	if offset >= len(items) {
		return []T{}
	}
	items = items[offset:]
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	return items
}

// userRecord is the answer entry for u: name, uid when withUID, and the
// additional fields asked for (unknown names are ignored).
func userRecord(st *store, u *user, additional []string, withUID bool) map[string]any {
	rec := map[string]any{"name": u.name}
	if withUID {
		rec["uid"] = u.uid
	}
	for _, f := range additional {
		if get, ok := userFields[f]; ok {
			rec[f] = get(st, u)
		}
	}
	return rec
}

// userList answers SYNO.Core.User list: the local users sorted by sort_by
// (name, uid, description or email; default name) and sort_direction,
// then paged.
func (s *Server) userList(q *request) (any, error) {
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	users := s.st.sortedUsers()
	var key func(a, b *user) int
	switch q.str("sort_by") {
	case "uid":
		key = func(a, b *user) int { return cmp.Compare(a.uid, b.uid) }
	case "description":
		key = func(a, b *user) int { return cmp.Compare(fold(a.description), fold(b.description)) }
	case "email":
		key = func(a, b *user) int { return cmp.Compare(fold(a.email), fold(b.email)) }
	}
	if key != nil {
		slices.SortStableFunc(users, key)
	}
	if strings.EqualFold(q.str("sort_direction"), "DESC") {
		slices.Reverse(users)
	}
	additional := q.list("additional")
	out := []map[string]any{}
	for _, u := range pageOf(users, offset, limit) {
		out = append(out, userRecord(s.st, u, additional, false))
	}
	return map[string]any{"offset": offset, "total": len(users), "users": out}, nil
}

// userGet answers SYNO.Core.User get: a list of one user, or 3106.
func (s *Server) userGet(q *request) (any, error) {
	u := s.st.userByName(q.str("name"))
	if u == nil {
		return nil, fail(codeNoSuchUser)
	}
	return map[string]any{"users": []map[string]any{userRecord(s.st, u, q.list("additional"), true)}}, nil
}

// groupRecord is one entry of SYNO.Core.Group list.
type groupRecord struct {
	Name        string `json:"name"`
	GID         int    `json:"gid"`
	Description string `json:"description"`
}

// groupList answers SYNO.Core.Group list: groups sorted by name, paged;
// name_only=true leaves only the names.
func (s *Server) groupList(q *request) (any, error) {
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	groups := s.st.sortedGroups()
	var out []any
	for _, g := range pageOf(groups, offset, limit) {
		if q.yes("name_only") {
			out = append(out, map[string]string{"name": g.name})
		} else {
			out = append(out, groupRecord{Name: g.name, GID: g.gid, Description: g.description})
		}
	}
	if out == nil {
		out = []any{}
	}
	return map[string]any{"offset": offset, "total": len(groups), "groups": out}, nil
}

// memberRecord is one entry of SYNO.Core.Group.Member list.
type memberRecord struct {
	Name        string `json:"name"`
	UID         int    `json:"uid"`
	Description string `json:"description"`
}

// groupMemberList answers SYNO.Core.Group.Member list: the users in
// group (ingroup=true, the default) or not in it (ingroup=false), sorted
// by name and paged. An unknown group is code 120.
func (s *Server) groupMemberList(q *request) (any, error) {
	g := s.st.groups[fold(q.str("group"))]
	if g == nil {
		return nil, fail(codeInvalidParameter)
	}
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	in := !q.has("ingroup") || q.yes("ingroup")
	var users []*user
	for _, u := range s.st.sortedUsers() {
		if g.members[u.uid] == in {
			users = append(users, u)
		}
	}
	out := []memberRecord{}
	for _, u := range pageOf(users, offset, limit) {
		out = append(out, memberRecord{Name: u.name, UID: u.uid, Description: u.description})
	}
	return map[string]any{"offset": offset, "total": len(users), "users": out}, nil
}
