package dsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Right is what one row of DSM's shared-folder permission table gives a
// user or a group: no access of its own, read-only, read/write or denied.
type Right int

// The rights of a permission row, from weakest to strongest: when rows of
// a user and of their groups disagree, the strongest wins (EffectiveAccess).
const (
	// RightNone: no row; the right comes from elsewhere (the user's
	// groups), or there is none.
	RightNone Right = iota
	// RightReadOnly: is_readonly.
	RightReadOnly
	// RightReadWrite: is_writable.
	RightReadWrite
	// RightDeny: is_deny ("No access" in DSM's dialog).
	RightDeny
)

// String returns the right as dsmctl writes it: none, ro, rw or deny.
func (r Right) String() string {
	switch r {
	case RightReadOnly:
		return "ro"
	case RightReadWrite:
		return "rw"
	case RightDeny:
		return "deny"
	}
	return "none"
}

// ParseRight reads a right as dsmctl and the users file write it: rw, ro,
// deny, and none or default for no row of its own.
func ParseRight(s string) (Right, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "rw", "read-write", "readwrite":
		return RightReadWrite, nil
	case "ro", "read-only", "readonly":
		return RightReadOnly, nil
	case "deny", "na", "no-access":
		return RightDeny, nil
	case "none", "default", "":
		return RightNone, nil
	}
	return RightNone, invalid("%q is not a right; use rw, ro, deny or default", s)
}

// Permission is one row of DSM's shared-folder permission table, as the
// list calls return it.
type Permission struct {
	// Share is the shared folder (list_by_user, list_by_group; the
	// share asked for in ListShare).
	Share string
	// Principal is the user or group of the row (ListShare; the one
	// asked for in ListUser and ListGroup).
	Principal Principal
	// Right is the row's own right.
	Right Right
	// Custom is is_custom: the folder has ACL rights of its own for the
	// principal beyond the share's table. Send it back as it is: DSM
	// erases those rights when a row is written with it changed
	// (math65/dsmaccess).
	Custom bool
	// Inherited is the right a user gets from their groups, as DSM
	// reports it in "inherit" ("-" none, "ro", "rw", "na"); RightNone
	// for groups, which inherit nothing.
	Inherited Right
	// InheritedCustom is inherit "cu": a group gives custom ACL rights.
	InheritedCustom bool
}

// permissionWire is a row as DSM sends it: list_by_user/list_by_group
// rows are named by the share, list rows by the account (dsmaccess
// DSMSharePermission.swift, DSM 7.4; batonogov share_permission.go).
type permissionWire struct {
	Name       string   `json:"name"`
	Inherit    string   `json:"inherit"`
	IsReadonly flexBool `json:"is_readonly"`
	IsWritable flexBool `json:"is_writable"`
	IsDeny     flexBool `json:"is_deny"`
	IsCustom   flexBool `json:"is_custom"`
}

// right is the row's own right; a row with several flags set counts as
// its strongest.
func (w permissionWire) right() Right {
	switch {
	case bool(w.IsDeny):
		return RightDeny
	case bool(w.IsWritable):
		return RightReadWrite
	case bool(w.IsReadonly):
		return RightReadOnly
	}
	return RightNone
}

// inherited reads "inherit": "-" none, "ro", "rw", "na" denied, "cu"
// custom (dsmaccess); anything else is taken as none.
func (w permissionWire) inherited() (Right, bool) {
	switch strings.ToLower(w.Inherit) {
	case "ro":
		return RightReadOnly, false
	case "rw":
		return RightReadWrite, false
	case "na":
		return RightDeny, false
	case "cu":
		return RightNone, true
	}
	return RightNone, false
}

func (w permissionWire) permission(share string, p Principal) Permission {
	inh, cu := w.inherited()
	return Permission{Share: share, Principal: p, Right: w.right(), Custom: bool(w.IsCustom), Inherited: inh, InheritedCustom: cu}
}

// rowWire is a row as set and set_by_user_group take it: all four flags,
// always (go-synology SharePermissionSetEntry, verified on a NAS).
type rowWire struct {
	Name       string `json:"name"`
	IsReadonly bool   `json:"is_readonly"`
	IsWritable bool   `json:"is_writable"`
	IsDeny     bool   `json:"is_deny"`
	IsCustom   bool   `json:"is_custom"`
}

func rowOf(name string, r Right, custom bool) rowWire {
	return rowWire{Name: name, IsReadonly: r == RightReadOnly, IsWritable: r == RightReadWrite, IsDeny: r == RightDeny, IsCustom: custom}
}

// PermissionsService reads and changes who may use which shared folder
// (SYNO.Core.Share.Permission).
//
// Every call names user_group_type (local_user or local_group): DSM
// answers 403 without it (math65/dsmaccess, DSM 7.4). Writes are patches:
// DSM changes the rows sent and keeps the others (dsmaccess; DSM's own
// dialog sends only the rows it changed).
type PermissionsService struct {
	c *Client
}

// shareTypes are the kinds of share DSM's own dialog lists (UI 6.2.3,
// loadDetail).
var shareTypes = []string{"dec", "local", "usb", "sata", "cluster", "cold_storage"}

// ListShare returns the rows of every user (group false) or every group
// (group true) on a shared folder, users with what they inherit from
// their groups.
//
// DSM: SYNO.Core.Share.Permission list.
func (s *PermissionsService) ListShare(ctx context.Context, share string, group bool) ([]Permission, error) {
	if err := ValidateShareName(share); err != nil {
		return nil, argError("list permissions", err)
	}
	var d struct {
		Items []permissionWire `json:"items"`
		Total flexInt          `json:"total"`
	}
	ugt := Principal{Group: group}.userGroupType()
	// with_inherit: without it DSM leaves out inherited rights
	// (dsmaccess); action, offset and limit as batonogov sends them.
	err := s.c.do(ctx, newRead("SYNO.Core.Share.Permission", "list", Params{
		"name": share, "user_group_type": ugt, "action": "enum", "with_inherit": true,
		"is_unite_permission": false, "offset": 0, "limit": -1,
	}, &d))
	if err != nil {
		return nil, err
	}
	out := make([]Permission, 0, len(d.Items))
	for _, w := range d.Items {
		out = append(out, w.permission(share, Principal{Name: w.Name, Group: group}))
	}
	return out, nil
}

// ListUser returns the user's row on every shared folder, with what they
// inherit from their groups.
//
// DSM: SYNO.Core.Share.Permission list_by_user.
func (s *PermissionsService) ListUser(ctx context.Context, user string) ([]Permission, error) {
	return s.listPrincipal(ctx, UserPrincipal(user))
}

// ListGroup returns the group's row on every shared folder.
//
// DSM: SYNO.Core.Share.Permission list_by_group.
func (s *PermissionsService) ListGroup(ctx context.Context, group string) ([]Permission, error) {
	return s.listPrincipal(ctx, GroupPrincipal(group))
}

// List returns the rows of a user or a group on every shared folder.
//
// DSM: SYNO.Core.Share.Permission list_by_user or list_by_group.
func (s *PermissionsService) List(ctx context.Context, p Principal) ([]Permission, error) {
	return s.listPrincipal(ctx, p)
}

func (s *PermissionsService) listPrincipal(ctx context.Context, p Principal) ([]Permission, error) {
	if err := p.validate(); err != nil {
		return nil, argError("list permissions", err)
	}
	var d sharePermissionsWire
	if err := s.c.do(ctx, permissionsRequest(p, &d)); err != nil {
		return nil, err
	}
	return d.permissions(p), nil
}

// sharePermissionsWire is the answer of list_by_user and list_by_group.
type sharePermissionsWire struct {
	Shares []permissionWire `json:"shares"`
	Total  flexInt          `json:"total"`
}

func (d sharePermissionsWire) permissions(p Principal) []Permission {
	out := make([]Permission, 0, len(d.Shares))
	for _, w := range d.Shares {
		perm := w.permission(w.Name, p)
		if p.Group {
			perm.Inherited, perm.InheritedCustom = RightNone, false
		}
		out = append(out, perm)
	}
	return out
}

// permissionsRequest is list_by_user or list_by_group of p, as DSM's own
// dialog sends it (UI 6.2.3 loadDetail).
func permissionsRequest(p Principal, out any) *request {
	method := "list_by_user"
	if p.Group {
		method = "list_by_group"
	}
	return newRead("SYNO.Core.Share.Permission", method, Params{
		"name": p.Name, "user_group_type": p.userGroupType(), "share_type": shareTypes,
		"additional": []string{"hidden", "encryption", "is_aclmode"},
	}, out)
}

// RightChange is one row to write.
type RightChange struct {
	// Share is the shared folder (SetFor); Principal is ignored there.
	Share string
	// Principal is the user or group (SetShare); Share is ignored there.
	Principal Principal
	// Right is the new right; RightNone removes the principal's own row.
	Right Right
	// Custom is sent as is_custom: pass the value the row has (see
	// Permission.Custom), or custom ACL rights are erased.
	Custom bool
}

// SetFor writes rows of one user or group on the shared folders named in
// changes, and leaves every other row as it is.
//
// DSM: SYNO.Core.Share.Permission set_by_user_group.
func (s *PermissionsService) SetFor(ctx context.Context, p Principal, changes []RightChange) error {
	r, err := setForChanges(p, changes)
	if err != nil {
		return err
	}
	return s.write(ctx, r)
}

// setForChanges checks changes and returns the set_by_user_group that
// writes them.
func setForChanges(p Principal, changes []RightChange) (*request, error) {
	op := fmt.Sprintf("set permissions of %s", p)
	if err := p.validate(); err != nil {
		return nil, argError(op, err)
	}
	if len(changes) == 0 {
		return nil, argErrorf(op, "no change given")
	}
	rows := make([]rowWire, 0, len(changes))
	seen := map[string]bool{}
	for _, ch := range changes {
		if err := ValidateShareName(ch.Share); err != nil {
			return nil, argError(op, err)
		}
		if err := ch.Right.validate(); err != nil {
			return nil, argError(op, err)
		}
		if seen[strings.ToLower(ch.Share)] {
			return nil, argErrorf(op, "share %s is named twice; give one right per share", ch.Share)
		}
		seen[strings.ToLower(ch.Share)] = true
		rows = append(rows, rowOf(ch.Share, ch.Right, ch.Custom))
	}
	return setForRequest(p, rows), nil
}

func setForRequest(p Principal, rows []rowWire) *request {
	return newSafeChange("SYNO.Core.Share.Permission", "set_by_user_group", Params{
		"name": p.Name, "user_group_type": p.userGroupType(), "permissions": rows,
	}, nil)
}

// SetShare writes rows of users and groups on one shared folder, and
// leaves every other row as it is. DSM takes users and groups in separate
// calls (one user_group_type each): rows of both kinds make two calls.
//
// DSM: SYNO.Core.Share.Permission set.
func (s *PermissionsService) SetShare(ctx context.Context, share string, changes []RightChange) error {
	op := fmt.Sprintf("set permissions on %s", share)
	if err := ValidateShareName(share); err != nil {
		return argError(op, err)
	}
	if len(changes) == 0 {
		return argErrorf(op, "no change given")
	}
	var users, groups []rowWire
	seen := map[string]bool{}
	for _, ch := range changes {
		if err := ch.Principal.validate(); err != nil {
			return argError(op, err)
		}
		if err := ch.Right.validate(); err != nil {
			return argError(op, err)
		}
		key := ch.Principal.String()
		if seen[strings.ToLower(key)] {
			return argErrorf(op, "%s is named twice; give one right each", key)
		}
		seen[strings.ToLower(key)] = true
		row := rowOf(ch.Principal.Name, ch.Right, ch.Custom)
		if ch.Principal.Group {
			groups = append(groups, row)
		} else {
			users = append(users, row)
		}
	}
	for _, part := range []struct {
		ugt  string
		rows []rowWire
	}{{"local_user", users}, {"local_group", groups}} {
		if len(part.rows) == 0 {
			continue
		}
		err := s.write(ctx, newSafeChange("SYNO.Core.Share.Permission", "set", Params{
			"name": share, "user_group_type": part.ugt, "permissions": part.rows,
		}, nil))
		if err != nil {
			return err
		}
	}
	return nil
}

// Grant gives a user or a group a right on one shared folder (RightNone:
// removes their own row, so that their groups decide). It reads the row
// first and writes it back with its is_custom as DSM has it, so custom
// ACL rights survive, and writes nothing when the row already has the
// right.
//
// DSM: SYNO.Core.Share.Permission list_by_user or list_by_group, then
// set_by_user_group.
func (s *PermissionsService) Grant(ctx context.Context, share string, p Principal, r Right) error {
	op := fmt.Sprintf("grant %s on %s to %s", r, share, p)
	if err := ValidateShareName(share); err != nil {
		return argError(op, err)
	}
	if err := p.validate(); err != nil {
		return argError(op, err)
	}
	if err := r.validate(); err != nil {
		return argError(op, err)
	}
	if p.Group && strings.EqualFold(p.Name, GroupAdministrators) && r != RightReadWrite {
		return argErrorf(op, "the administrators group always has read/write on every shared folder; DSM does not let it be changed")
	}
	rows, err := s.listPrincipal(ctx, p)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(rows, func(row Permission) bool { return strings.EqualFold(row.Share, share) })
	if i < 0 {
		return &NotFoundError{Kind: "shared folder", Name: share}
	}
	if rows[i].Right == r {
		return nil
	}
	return s.write(ctx, setForRequest(p, []rowWire{rowOf(rows[i].Share, r, rows[i].Custom)}))
}

// write sends a set or set_by_user_group. go-synology reports its NAS
// answering 403 to set unless the call comes inside a SYNO.Entry.Request,
// as DSM's Control Panel sends it (go-synology
// pkg/api/core/share_permission.go), while math65/dsmaccess and batonogov
// call it directly on theirs: after a 403 the write is sent once more as a
// compound request of that one call.
func (s *PermissionsService) write(ctx context.Context, r *request) error {
	err := s.c.do(ctx, r)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 403 {
		return err
	}
	call := &BatchCall{API: r.api, Method: r.method, Params: r.params}
	if berr := s.c.Batch(ctx, BatchOptions{StopOnError: true}, call); berr != nil {
		if call.Err != nil {
			return call.Err
		}
		return berr
	}
	return nil
}

func (r Right) validate() error {
	if r < RightNone || r > RightDeny {
		return invalid("right %d is not one of RightNone, RightReadOnly, RightReadWrite, RightDeny", int(r))
	}
	return nil
}

// Grant is one row that EffectiveAccess weighs: the right of a user or a
// group of theirs on one shared folder.
type Grant struct {
	Principal Principal
	Right     Right
}

// Access is a user's effective right on a shared folder and the rows it
// comes from.
type Access struct {
	// Right is the effective right: RightNone means no access.
	Right Right
	// From are the rows that give Right (all of them, the user's own row
	// first, then groups by name); empty when Right is RightNone.
	From []Grant
	// User is the user it was computed for.
	User string
}

// Reason says where the right comes from, in dsmctl's words: "rw from
// group staff", "denied for bob (own row)", "no access: no row for bob or
// their groups".
func (a Access) Reason() string {
	if a.Right == RightNone {
		return fmt.Sprintf("no access: no row for %s or their groups", a.User)
	}
	word := a.Right.String()
	if a.Right == RightDeny {
		word = "denied"
	}
	parts := make([]string, 0, len(a.From))
	for _, g := range a.From {
		switch {
		case !g.Principal.Group:
			parts = append(parts, fmt.Sprintf("for %s (own row)", g.Principal.Name))
		case a.Right == RightDeny:
			parts = append(parts, "by group "+g.Principal.Name)
		case strings.EqualFold(g.Principal.Name, GroupAdministrators):
			parts = append(parts, "from group "+g.Principal.Name+" (always)")
		default:
			parts = append(parts, "from group "+g.Principal.Name)
		}
	}
	return word + " " + strings.Join(parts, ", ")
}

// EffectiveAccess computes a user's right on one shared folder as DSM
// does, from rows: the user's own row and those of their groups (rows of
// other principals are ignored; groups are the user's groups).
//
// The strongest right wins: deny over read/write over read-only (DSM's
// dialog, getFinalPermission, UI 6.2.3; math65/dsmaccess, DSM 7.4). The
// administrators group always has read/write, whatever its row says
// (synology-community/terraform-provider-synology PR #227); that a deny
// row of the user or of another of their groups still wins over it is a
// choice: deny wins over every other row, and DSM does keep a deny row for
// an administrator who inherits rw (testdata/real/share_permission_list.json,
// as N4S4/synology-api publishes it), which would mean nothing otherwise.
func EffectiveAccess(user string, groups []string, rows []Grant) Access {
	in := map[string]bool{}
	for _, g := range groups {
		in[strings.ToLower(g)] = true
	}
	var own []Grant
	var byGroup []Grant
	for _, row := range rows {
		switch {
		case !row.Principal.Group && strings.EqualFold(row.Principal.Name, user):
			own = append(own, row)
		case row.Principal.Group && in[strings.ToLower(row.Principal.Name)]:
			if strings.EqualFold(row.Principal.Name, GroupAdministrators) {
				continue // added below, always rw
			}
			byGroup = append(byGroup, row)
		}
	}
	if in[GroupAdministrators] {
		byGroup = append(byGroup, Grant{Principal: GroupPrincipal(GroupAdministrators), Right: RightReadWrite})
	}
	slices.SortStableFunc(byGroup, func(a, b Grant) int {
		return strings.Compare(strings.ToLower(a.Principal.Name), strings.ToLower(b.Principal.Name))
	})
	all := append(own, byGroup...)
	best := RightNone
	for _, g := range all {
		best = max(best, g.Right)
	}
	a := Access{Right: best, User: user}
	if best == RightNone {
		return a
	}
	for _, g := range all {
		if g.Right == best {
			a.From = append(a.From, g)
		}
	}
	return a
}

// ListGroups returns the rows of several groups on every shared folder,
// keyed by group name as given, reading up to MaxBatchCalls groups per
// compound request.
//
// DSM: SYNO.Entry.Request request of SYNO.Core.Share.Permission
// list_by_group.
func (s *PermissionsService) ListGroups(ctx context.Context, groups ...string) (map[string][]Permission, error) {
	for _, g := range groups {
		if err := ValidateGroupName(g); err != nil {
			return nil, argError("list permissions", err)
		}
	}
	out := make(map[string][]Permission, len(groups))
	for chunk := range slices.Chunk(groups, MaxBatchCalls) {
		answers := make([]sharePermissionsWire, len(chunk))
		calls := make([]*BatchCall, len(chunk))
		for i, g := range chunk {
			r := permissionsRequest(GroupPrincipal(g), &answers[i])
			calls[i] = &BatchCall{API: r.api, Method: r.method, Params: r.params, Out: &answers[i]}
		}
		if err := s.c.Batch(ctx, BatchOptions{}, calls...); err != nil {
			return nil, err
		}
		for i, g := range chunk {
			out[g] = answers[i].permissions(GroupPrincipal(g))
		}
	}
	return out, nil
}
