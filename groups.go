package dsm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Group is a local DSM group.
type Group struct {
	Name        string `json:"name"`
	GID         int    `json:"gid"`
	Description string `json:"description"`
}

type groupWire struct {
	Name        string  `json:"name"`
	GID         flexInt `json:"gid"`
	Description string  `json:"description"`
}

func (w groupWire) group() Group {
	return Group{Name: w.Name, GID: int(w.GID), Description: w.Description}
}

// Member is a user as a group's member list shows it.
type Member struct {
	Name        string `json:"name"`
	UID         int    `json:"uid"`
	Description string `json:"description"`
}

// memberWire is a member as SYNO.Core.Group.Member list sends it.
type memberWire struct {
	Name        string  `json:"name"`
	UID         flexInt `json:"uid"`
	Description string  `json:"description"`
}

// GroupsService manages local groups (SYNO.Core.Group and
// SYNO.Core.Group.Member).
type GroupsService struct {
	c *Client
}

// GroupListOptions selects a page of groups.
type GroupListOptions struct {
	// Offset is the index of the first group to return.
	Offset int
	// Limit is the number of groups to return; 0 means all.
	Limit int
}

// List returns one page of local groups and the total number of groups.
//
// DSM: SYNO.Core.Group list.
func (s *GroupsService) List(ctx context.Context, opts GroupListOptions) ([]Group, int, error) {
	if opts.Offset < 0 || opts.Limit < 0 {
		return nil, 0, argErrorf("list groups", "offset %d and limit %d must not be negative", opts.Offset, opts.Limit)
	}
	limit := opts.Limit
	if limit == 0 {
		limit = -1 // all, as batonogov/terraform-provider-synology-dsm internal/client/group.go ListGroups asks
	}
	var d struct {
		Total  flexInt     `json:"total"`
		Groups []groupWire `json:"groups"`
	}
	err := s.c.do(ctx, newRead("SYNO.Core.Group", "list", Params{
		"type": "local", "offset": opts.Offset, "limit": limit, "name_only": false,
	}, &d))
	if err != nil {
		return nil, 0, err
	}
	out := make([]Group, len(d.Groups))
	for i, g := range d.Groups {
		out[i] = g.group()
	}
	return out, int(d.Total), nil
}

// Get returns one group.
//
// DSM: SYNO.Core.Group get.
func (s *GroupsService) Get(ctx context.Context, name string) (Group, error) {
	if err := ValidateGroupName(name); err != nil {
		return Group{}, argError("get group", err)
	}
	var d struct {
		Groups []groupWire `json:"groups"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.Group", "get", Params{"name": name}, &d)); err != nil {
		return Group{}, err
	}
	if len(d.Groups) == 0 {
		return Group{}, &APIError{Code: 3204, API: "SYNO.Core.Group", Method: "get"}
	}
	return d.Groups[0].group(), nil
}

// GroupCreateRequest describes a new group.
type GroupCreateRequest struct {
	Name        string
	Description string
}

// Create makes a local group.
//
// DSM: SYNO.Core.Group create.
func (s *GroupsService) Create(ctx context.Context, r GroupCreateRequest) (Group, error) {
	if err := ValidateGroupName(r.Name); err != nil {
		return Group{}, argError("create group", err)
	}
	if err := ValidateDescription(r.Description); err != nil {
		return Group{}, argError(fmt.Sprintf("create group %s", r.Name), err)
	}
	var d groupWire
	applied := func(ctx context.Context) (bool, error) {
		g, err := s.Get(ctx, r.Name)
		if errors.Is(err, ErrNoSuchGroup) {
			return false, nil
		}
		if err != nil || g.Description != r.Description {
			return false, err
		}
		d = groupWire{Name: g.Name, GID: flexInt(g.GID), Description: g.Description}
		return true, nil
	}
	if err := s.c.do(ctx, newCheckedChange("SYNO.Core.Group", "create", Params{"name": r.Name, "description": r.Description}, &d, applied)); err != nil {
		return Group{}, err
	}
	g := d.group()
	if g.Name == "" {
		g.Name = r.Name
	}
	g.Description = r.Description
	return g, nil
}

// GroupUpdateRequest changes a group; nil fields keep their values.
type GroupUpdateRequest struct {
	NewName     *string
	Description *string
}

// Update renames a group or changes its description. Only the fields that
// are set change.
//
// DSM: SYNO.Core.Group get, then SYNO.Core.Group set.
func (s *GroupsService) Update(ctx context.Context, name string, r GroupUpdateRequest) (Group, error) {
	if err := ValidateGroupName(name); err != nil {
		return Group{}, argError("update group", err)
	}
	if r.NewName != nil {
		if err := ValidateGroupName(*r.NewName); err != nil {
			return Group{}, argError(fmt.Sprintf("update group %s", name), fmt.Errorf("new name: %w", err))
		}
	}
	if r.Description != nil {
		if err := ValidateDescription(*r.Description); err != nil {
			return Group{}, argError(fmt.Sprintf("update group %s", name), err)
		}
	}
	if r.NewName == nil && r.Description == nil {
		return Group{}, argErrorf(fmt.Sprintf("update group %s", name), "nothing to change")
	}
	cur, err := s.Get(ctx, name)
	if err != nil {
		return Group{}, err
	}
	p := Params{"name": cur.Name, "description": pick(r.Description, cur.Description)}
	if r.NewName != nil && *r.NewName != cur.Name {
		p["new_name"] = *r.NewName
	}
	renamed := func(ctx context.Context) (bool, error) {
		g, err := s.Get(ctx, *r.NewName)
		if errors.Is(err, ErrNoSuchGroup) {
			return false, nil
		}
		return err == nil && g.GID == cur.GID, err
	}
	if _, ok := p["new_name"]; ok {
		err = s.c.do(ctx, newCheckedChange("SYNO.Core.Group", "set", p, nil, renamed))
	} else {
		err = s.c.do(ctx, newSafeChange("SYNO.Core.Group", "set", p, nil))
	}
	if err != nil {
		return Group{}, err
	}
	return Group{Name: pick(r.NewName, cur.Name), GID: cur.GID, Description: pick(r.Description, cur.Description)}, nil
}

// Delete removes local groups.
//
// DSM: SYNO.Core.Group delete.
func (s *GroupsService) Delete(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return argErrorf("delete groups", "no group named")
	}
	for _, n := range names {
		if err := ValidateGroupName(n); err != nil {
			return argError("delete groups", err)
		}
	}
	var d struct {
		Errors json.RawMessage `json:"errors"`
	}
	gone := func(ctx context.Context) (bool, error) {
		for _, n := range names {
			_, err := s.Get(ctx, n)
			switch {
			case err == nil:
				return false, nil // still there: not done
			case !errors.Is(err, ErrNoSuchGroup):
				return false, err // cannot tell
			}
		}
		return true, nil
	}
	if err := s.c.do(ctx, newCheckedChange("SYNO.Core.Group", "delete", Params{"name": names}, &d, gone)); err != nil {
		return err
	}
	return itemErrors("SYNO.Core.Group", "delete", d.Errors)
}

// Members returns the users in group.
//
// DSM: SYNO.Core.Group.Member list (ingroup=true).
func (s *GroupsService) Members(ctx context.Context, group string) ([]Member, error) {
	return s.members(ctx, group, true)
}

// NonMembers returns the users not in group.
//
// DSM: SYNO.Core.Group.Member list (ingroup=false).
func (s *GroupsService) NonMembers(ctx context.Context, group string) ([]Member, error) {
	return s.members(ctx, group, false)
}

func (s *GroupsService) members(ctx context.Context, group string, in bool) ([]Member, error) {
	if err := ValidateGroupName(group); err != nil {
		return nil, argError("group members", err)
	}
	// The whole list in one request (limit -1; N4S4/synology-api
	// synology_api/core_group.py get_users sends no limit at all, which
	// DSM answers with every member); decoded as it is read, as the users
	// of a group can be all 16,000 of the NAS.
	d := &listPage[memberWire, Member]{key: "users", conv: func(w *memberWire) Member {
		return Member{Name: w.Name, UID: int(w.UID), Description: w.Description}
	}}
	err := s.c.do(ctx, newRead("SYNO.Core.Group.Member", "list", Params{"group": group, "ingroup": in, "offset": 0, "limit": -1}, d))
	if err != nil {
		return nil, err
	}
	if d.items == nil {
		return []Member{}, nil
	}
	return d.items, nil
}

// AddMembers puts users into group, then reads the members back: DSM
// answers success to membership writes that did not apply, and that is
// reported as a *MembershipError, or as ErrNoSuchUser for a user that
// does not exist.
//
// DSM: SYNO.Core.Group.Member add, then list (and SYNO.Core.User get of
// a user that is not in).
func (s *GroupsService) AddMembers(ctx context.Context, group string, users ...string) error {
	return s.changeMembers(ctx, "add", group, users)
}

// RemoveMembers takes users out of group, and checks as AddMembers does.
// Every user belongs to GroupUsers: removing from it is refused before
// any call.
//
// DSM: SYNO.Core.Group.Member remove, then list.
func (s *GroupsService) RemoveMembers(ctx context.Context, group string, users ...string) error {
	return s.changeMembers(ctx, "remove", group, users)
}

func (s *GroupsService) changeMembers(ctx context.Context, method, group string, users []string) error {
	if err := ValidateGroupName(group); err != nil {
		return argError(fmt.Sprintf("%s members", method), err)
	}
	if len(users) == 0 {
		return argErrorf(fmt.Sprintf("%s members of %s", method, group), "no user named")
	}
	for _, u := range users {
		if err := ValidateUserName(u); err != nil {
			return argError(fmt.Sprintf("%s members of %s", method, group), err)
		}
	}
	if method == "remove" && strings.EqualFold(group, GroupUsers) {
		return argErrorf(fmt.Sprintf("remove members of %s", group), "every user belongs to %q and cannot leave it; delete the user instead", GroupUsers)
	}
	if err := s.c.do(ctx, newSafeChange("SYNO.Core.Group.Member", method, Params{"group": group, "name": users}, nil)); err != nil {
		return err
	}
	members, err := s.Members(ctx, group)
	if err != nil {
		return fmt.Errorf("dsm: reading back the members of %s: %w", group, err)
	}
	in := map[string]bool{}
	for _, m := range members {
		in[strings.ToLower(m.Name)] = true
	}
	var bad []string
	for _, u := range users {
		if in[strings.ToLower(u)] != (method == "add") {
			bad = append(bad, u)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	if method == "add" {
		// DSM answers success to adding a user that does not exist: say
		// that, rather than that the change was not applied.
		var missing []error
		for _, u := range bad {
			if _, err := s.c.Users.Get(ctx, u, FieldDescription); errors.Is(err, ErrNoSuchUser) {
				missing = append(missing, fmt.Errorf("dsm: add members of %s: %s: %w", group, u, err))
			}
		}
		if len(missing) > 0 {
			return errors.Join(missing...)
		}
	}
	me := &MembershipError{Group: group}
	if method == "add" {
		me.NotAdded = bad
	} else {
		me.NotRemoved = bad
	}
	return me
}

// ErrMembershipNotApplied matches a *MembershipError: DSM reported
// success for a membership change that the read-back does not show.
var ErrMembershipNotApplied = errors.New("dsm: membership change not applied")

// MembershipError reports a membership change that DSM acknowledged but
// did not apply.
type MembershipError struct {
	// User is set for a change of one user's groups.
	User string
	// Group is set for a change of one group's members.
	Group string
	// NotAdded lists users (or groups) that should be in but are not;
	// NotRemoved those that should be out but are in.
	NotAdded, NotRemoved []string
}

// Error says what failed and why.
func (e *MembershipError) Error() string {
	var parts []string
	if e.User != "" {
		if len(e.NotAdded) > 0 {
			parts = append(parts, fmt.Sprintf("%s is not in %s", e.User, strings.Join(e.NotAdded, ", ")))
		}
		if len(e.NotRemoved) > 0 {
			parts = append(parts, fmt.Sprintf("%s is still in %s", e.User, strings.Join(e.NotRemoved, ", ")))
		}
	} else {
		if len(e.NotAdded) > 0 {
			parts = append(parts, fmt.Sprintf("%s not in %s", strings.Join(e.NotAdded, ", "), e.Group))
		}
		if len(e.NotRemoved) > 0 {
			parts = append(parts, fmt.Sprintf("%s still in %s", strings.Join(e.NotRemoved, ", "), e.Group))
		}
	}
	slices.Sort(parts)
	return "dsm: membership change reported done but not applied: " + strings.Join(parts, "; ")
}

// Is makes a *MembershipError match ErrMembershipNotApplied.
func (e *MembershipError) Is(target error) bool { return target == ErrMembershipNotApplied }
