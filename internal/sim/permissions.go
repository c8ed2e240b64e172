package sim

import (
	"encoding/json"
	"slices"
)

// rightKind is a permission row's right, stored as its number.
type rightKind int

// The rights, weakest first: DSM's effective right is the strongest of
// the user's own row and their groups' rows, NA > RW > RO (DSM's dialog,
// getFinalPermission, UI 6.2.3; math65/dsmaccess, DSM 7.4).
const (
	rightNone rightKind = iota
	rightRO
	rightRW
	rightDeny
)

// permRow is one row of a share's permission table. custom is is_custom:
// the folder has ACL rights for the principal beyond the table; a row
// written with is_custom false erases it (dsmaccess).
type permRow struct {
	Right  rightKind
	Custom bool
}

// parseRightWord reads a seed's right: rw, ro, deny.
func parseRightWord(s string) (rightKind, bool) {
	switch s {
	case "rw":
		return rightRW, true
	case "ro":
		return rightRO, true
	case "deny":
		return rightDeny, true
	}
	return rightNone, false
}

// codeNoUserGroupType is DSM's answer to a SYNO.Core.Share.Permission
// call without user_group_type (math65/dsmaccess
// DSMPermissionService.swift, DSM 7.4).
const codeNoUserGroupType = 403

// userGroupType reads user_group_type: local_user gives false,
// local_group true. Missing is 403 (above); any other value (domain_*,
// ldap_*: the simulator has no directory) is 120, a choice.
func (q *request) userGroupType() (group bool, err error) {
	if !q.has("user_group_type") {
		return false, fail(codeNoUserGroupType)
	}
	switch q.str("user_group_type") {
	case "local_user":
		return false, nil
	case "local_group":
		return true, nil
	}
	return false, fail(codeInvalidParameter)
}

// effectiveRight is the right of u on sh as DSM computes it: the
// strongest of u's own row and the rows of u's groups, deny over rw over
// ro; administrators always rw (synology-community
// terraform-provider-synology PR #227), a deny still winning over it (a
// choice: deny wins over every other row, and DSM keeps a deny row for an
// administrator: testdata/real/share_permission_list.json). It is written here apart from
// the client's dsm.EffectiveAccess; both are held to
// testdata/effective-access.json.
func (st *store) effectiveRight(sh *share, u *user) rightKind {
	best := sh.users[u.uid].Right
	return max(best, st.groupRight(sh, u))
}

// groupRight is the strongest right u's groups give on sh: what DSM
// reports as "inherit".
func (st *store) groupRight(sh *share, u *user) rightKind {
	best := rightNone
	for _, g := range st.groups {
		if !g.members[u.uid] {
			continue
		}
		r := sh.groups[g.gid].Right
		if g.name == groupAdministrators {
			r = rightRW
		}
		best = max(best, r)
	}
	return best
}

// groupCustom reports whether a group of u has a custom row on sh.
func (st *store) groupCustom(sh *share, u *user) bool {
	for _, g := range st.groups {
		if g.members[u.uid] && sh.groups[g.gid].Custom {
			return true
		}
	}
	return false
}

// inheritWord is "inherit" of a user's row: "-" none, "ro", "rw", "na",
// "cu" when only custom ACL rights come from the groups (dsmaccess
// DSMSharePermission.swift).
func inheritWord(r rightKind, custom bool) string {
	switch r {
	case rightRO:
		return "ro"
	case rightRW:
		return "rw"
	case rightDeny:
		return "na"
	}
	if custom {
		return "cu"
	}
	return "-"
}

// rowFlags are the flags of a row as the list calls send them.
func rowFlags(m map[string]any, r permRow) map[string]any {
	m["is_readonly"] = r.Right == rightRO
	m["is_writable"] = r.Right == rightRW
	m["is_deny"] = r.Right == rightDeny
	m["is_custom"] = r.Custom
	return m
}

// rowOf returns the row of a principal on sh; the administrators group's
// is always rw.
func (st *store) rowOf(sh *share, group bool, id int) permRow {
	if group {
		r := sh.groups[id]
		if id == adminsGID {
			r.Right = rightRW
		}
		return r
	}
	return sh.users[id]
}

// permissionList answers SYNO.Core.Share.Permission list {name: share,
// user_group_type, with_inherit, offset, limit} -> {items, total}: a row
// for every user (or group), sorted by name, with those without a right
// of their own too, as DSM's dialog shows them all (dsmaccess; batonogov
// share_permission.go reads items and total). inherit is sent for users
// when with_inherit is true (without it DSM leaves inherited rights out:
// dsmaccess). is_admin marks members of administrators (go-synology
// SharePermission; its meaning is a guess).
func (s *Server) permissionList(q *request) (any, error) {
	group, err := q.userGroupType()
	if err != nil {
		return nil, err
	}
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	sh := s.st.shareByName(q.str("name"))
	if sh == nil {
		return nil, fail(codeNoSuchShare)
	}
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	inherit, err := q.boolean("with_inherit", false, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	items := []map[string]any{}
	if group {
		all := s.st.sortedGroups()
		for _, g := range pageOf(all, offset, limit) {
			items = append(items, rowFlags(map[string]any{"name": g.name, "is_admin": g.gid == adminsGID}, s.st.rowOf(sh, true, g.gid)))
		}
		return map[string]any{"items": items, "total": len(all)}, nil
	}
	all := s.st.sortedUsers()
	for _, u := range pageOf(all, offset, limit) {
		m := rowFlags(map[string]any{"name": u.name, "is_admin": s.st.isAdmin(u)}, s.st.rowOf(sh, false, u.uid))
		if inherit {
			m["inherit"] = inheritWord(s.st.groupRight(sh, u), s.st.groupCustom(sh, u))
		}
		items = append(items, m)
	}
	return map[string]any{"items": items, "total": len(all)}, nil
}

// permissionListByUser answers list_by_user {name: user,
// user_group_type: local_user} -> {shares, total}: the user's row on
// every share with inherit (dsmaccess; DSM's dialog, UI 6.2.3). A
// missing user is 3106 (a choice, the code of SYNO.Core.User).
func (s *Server) permissionListByUser(q *request) (any, error) {
	return s.permissionListBy(q, false)
}

// permissionListByGroup answers list_by_group {name: group,
// user_group_type: local_group}: as list_by_user without inherit (groups
// inherit nothing: dsmaccess). A missing group is 3204 (a choice).
func (s *Server) permissionListByGroup(q *request) (any, error) {
	return s.permissionListBy(q, true)
}

func (s *Server) permissionListBy(q *request, wantGroup bool) (any, error) {
	isGroup, err := q.userGroupType()
	if err != nil {
		return nil, err
	}
	if isGroup != wantGroup {
		return nil, fail(codeInvalidParameter)
	}
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	var u *user
	var g *group
	if isGroup {
		if g = s.st.groupByName(q.str("name")); g == nil {
			return nil, fail(codeNoSuchGroup)
		}
	} else if u = s.st.userByName(q.str("name")); u == nil {
		return nil, fail(codeNoSuchUser)
	}
	add := q.list("additional")
	out := []map[string]any{}
	for _, sh := range s.st.sortedShares() {
		// The keys of testdata/real/share_permission_list_by_group.json:
		// is_mask, is_sync_share and is_unite_permission always, and of
		// the additional fields asked for (hidden, encryption, is_aclmode)
		// is_aclmode alone.
		m := map[string]any{"name": sh.name, "share_path": sh.volume + "/" + sh.name,
			"is_mask": false, "is_sync_share": false, "is_unite_permission": false}
		if isGroup {
			rowFlags(m, s.st.rowOf(sh, true, g.gid))
		} else {
			rowFlags(m, s.st.rowOf(sh, false, u.uid))
			m["inherit"] = inheritWord(s.st.groupRight(sh, u), s.st.groupCustom(sh, u))
		}
		if slices.Contains(add, "is_aclmode") {
			m["is_aclmode"] = true
		}
		out = append(out, m)
	}
	return map[string]any{"shares": out, "total": len(out)}, nil
}

// rowWire is a row of set and set_by_user_group (go-synology
// SharePermissionSetEntry, verified on a NAS: all four flags).
type rowWire struct {
	Name       string `json:"name"`
	IsReadonly *bool  `json:"is_readonly"`
	IsWritable *bool  `json:"is_writable"`
	IsDeny     *bool  `json:"is_deny"`
	IsCustom   *bool  `json:"is_custom"`
}

// row is the row's new state: the strongest flag set; a missing flag is
// false. A row of no right and no custom removes the principal's row.
func (w rowWire) row() permRow {
	on := func(b *bool) bool { return b != nil && *b }
	r := permRow{Custom: on(w.IsCustom)}
	switch {
	case on(w.IsDeny):
		r.Right = rightDeny
	case on(w.IsWritable):
		r.Right = rightRW
	case on(w.IsReadonly):
		r.Right = rightRO
	}
	return r
}

// rows reads permissions: a JSON list of rows, each named; anything
// else, or more rows than a share can hold, is 120.
func (q *request) rows() ([]rowWire, error) {
	var rows []rowWire
	if err := json.Unmarshal([]byte(q.params.Get("permissions")), &rows); err != nil || len(rows) > maxShareRows {
		return nil, fail(codeInvalidParameter)
	}
	for _, r := range rows {
		if r.Name == "" {
			return nil, fail(codeInvalidParameter)
		}
	}
	return rows, nil
}

// setRow writes one row (patch: the others stay). The administrators
// group's row stays rw whatever is sent: it cannot be revoked (PR #227
// above); ignoring the write rather than refusing the call is a choice.
func setRow(sh *share, group bool, id int, r permRow) {
	m := sh.users
	if group {
		if id == adminsGID {
			return
		}
		m = sh.groups
	}
	if r == (permRow{}) {
		delete(m, id)
		return
	}
	m[id] = r
}

// principalID returns the uid or gid of a named principal, or the code
// of its absence.
func (st *store) principalID(group bool, name string) (int, error) {
	if group {
		g := st.groupByName(name)
		if g == nil {
			return 0, fail(codeNoSuchGroup)
		}
		return g.gid, nil
	}
	u := st.userByName(name)
	if u == nil {
		return 0, fail(codeNoSuchUser)
	}
	return u.uid, nil
}

// permissionSet answers set {name: share, user_group_type, permissions:
// rows by account}: a patch, the rows not sent stay (dsmaccess; batonogov
// sends the whole list, which a patch takes as well). All rows are
// checked before any is written: an unknown account is 3106 or 3204 and
// nothing changes (a choice). go-synology reports DSM answering 403 to a
// set outside a compound request on its NAS; dsmaccess and batonogov call
// it directly on theirs: the simulator takes it both ways.
func (s *Server) permissionSet(q *request) (any, error) {
	group, err := q.userGroupType()
	if err != nil {
		return nil, err
	}
	if !q.has("name") || !q.has("permissions") {
		return nil, fail(codeMissingParameters)
	}
	sh := s.st.shareByName(q.str("name"))
	if sh == nil {
		return nil, fail(codeNoSuchShare)
	}
	rows, err := q.rows()
	if err != nil {
		return nil, err
	}
	ids := make([]int, len(rows))
	for i, r := range rows {
		if ids[i], err = s.st.principalID(group, r.Name); err != nil {
			return nil, err
		}
	}
	for i, r := range rows {
		setRow(sh, group, ids[i], r.row())
	}
	s.st.sharesDirty, s.dirty = true, true
	return struct{}{}, nil
}

// permissionSetByUserGroup answers set_by_user_group {name: account,
// user_group_type, permissions: rows by share}: a patch, as DSM's own
// dialog sends only the rows it changed (UI 6.2.3; dsmaccess: "DSM
// applies the list as a patch"). A missing account is 3106 or 3204, a
// missing share codeNoSuchShare; nothing changes then.
func (s *Server) permissionSetByUserGroup(q *request) (any, error) {
	group, err := q.userGroupType()
	if err != nil {
		return nil, err
	}
	if !q.has("name") || !q.has("permissions") {
		return nil, fail(codeMissingParameters)
	}
	id, err := s.st.principalID(group, q.str("name"))
	if err != nil {
		return nil, err
	}
	rows, err := q.rows()
	if err != nil {
		return nil, err
	}
	shares := make([]*share, len(rows))
	for i, r := range rows {
		if shares[i] = s.st.shareByName(r.Name); shares[i] == nil {
			return nil, fail(codeNoSuchShare)
		}
	}
	for i, r := range rows {
		setRow(shares[i], group, id, r.row())
	}
	s.st.sharesDirty, s.dirty = true, true
	return struct{}{}, nil
}

// forgetPrincipal drops every row of a deleted user (group false) or
// group, as DSM does when it deletes the account; a rename keeps them,
// rows being kept by id. Call with s.mu held.
func (st *store) forgetPrincipal(group bool, id int) {
	for _, sh := range st.shares {
		m := sh.users
		if group {
			m = sh.groups
		}
		if _, ok := m[id]; ok {
			delete(m, id)
			st.sharesDirty = true
		}
	}
}

// accessWord names a user's effective right for tests and the control
// API: none, ro, rw or deny.
func accessWord(r rightKind) string {
	return [...]string{"none", "ro", "rw", "deny"}[r]
}
