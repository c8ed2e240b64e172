package sim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Built-in accounts and groups of a fresh DSM 7.
const (
	adminUID  = 1024
	guestUID  = 1025
	firstUID  = 1026 // first uid given to a local user
	usersGID  = 100
	adminsGID = 101
	httpGID   = 1023
	firstGID  = 65536 // first gid given to a local group

	groupAdministrators = "administrators"
	groupUsers          = "users"
	groupHTTP           = "http"
)

// user is one local account with every field of a DSM user record
// (PROTOCOL 6) plus what login needs.
type user struct {
	name                 string
	uid                  int
	description          string
	email                string
	expired              string // "normal", "now" (disabled) or "YYYY/M/D"
	cannotChangePassword bool
	passwordNeverExpire  bool
	passwordLastChange   int // days since 1970-01-01
	passwordPending      bool

	password    string
	otpKey      []byte            // nil: 2-step verification not set up
	otpEnforced bool              // 2-step verification required for this user
	lastOTPStep int64             // last accepted TOTP step; codes at or before it are refused
	devices     map[string]string // device token -> device name
}

// disabled reports whether the account may not log in at t.
func (u *user) disabled(t time.Time) bool {
	switch u.expired {
	case "normal", "":
		return false
	case "now":
		return true
	}
	var y, m, d int
	if n, _ := fmt.Sscanf(u.expired, "%d/%d/%d", &y, &m, &d); n != 3 {
		return false
	}
	exp := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.Local)
	return !t.Before(exp)
}

// group is one local group; members are kept by uid so renames need no fix-up.
type group struct {
	name        string
	gid         int
	description string
	members     map[int]bool
}

// store is the simulator's state. Every field is guarded by Server.mu.
type store struct {
	users   map[string]*user // key: lower-case name (names are case-insensitive)
	groups  map[string]*group
	nextUID int
	nextGID int
}

func fold(name string) string { return strings.ToLower(name) }

func newStore() *store {
	st := &store{
		users:   map[string]*user{},
		groups:  map[string]*group{},
		nextUID: firstUID,
		nextGID: firstGID,
	}
	st.groups[groupUsers] = &group{name: groupUsers, gid: usersGID, description: "System default group", members: map[int]bool{}}
	st.groups[groupAdministrators] = &group{name: groupAdministrators, gid: adminsGID, description: "System default admin group", members: map[int]bool{}}
	st.groups[groupHTTP] = &group{name: groupHTTP, gid: httpGID, description: "System default group for Web services", members: map[int]bool{}}
	return st
}

// addUser stores u under the given uid (0: the next free local uid) and
// puts it in the users group.
func (st *store) addUser(u *user, uid int) {
	if uid == 0 {
		uid = st.nextUID
		st.nextUID++
	}
	u.uid = uid
	if u.expired == "" {
		u.expired = "normal"
	}
	if u.devices == nil {
		u.devices = map[string]string{}
	}
	st.users[fold(u.name)] = u
	st.groups[groupUsers].members[uid] = true
}

func (st *store) userByName(name string) *user { return st.users[fold(name)] }

func (st *store) userByUID(uid int) *user {
	for _, u := range st.users {
		if u.uid == uid {
			return u
		}
	}
	return nil
}

// isAdmin reports whether u is a member of administrators.
func (st *store) isAdmin(u *user) bool {
	return st.groups[groupAdministrators].members[u.uid]
}

// groupsOf returns the names of u's groups, sorted.
func (st *store) groupsOf(u *user) []string {
	var names []string
	for _, g := range st.groups {
		if g.members[u.uid] {
			names = append(names, g.name)
		}
	}
	slices.Sort(names)
	return names
}

// sortedUsers returns every user sorted by name (case-insensitive).
func (st *store) sortedUsers() []*user {
	us := make([]*user, 0, len(st.users))
	for _, u := range st.users {
		us = append(us, u)
	}
	slices.SortFunc(us, func(a, b *user) int { return cmp.Compare(fold(a.name), fold(b.name)) })
	return us
}

// sortedGroups returns every group sorted by name (case-insensitive).
func (st *store) sortedGroups() []*group {
	gs := make([]*group, 0, len(st.groups))
	for _, g := range st.groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *group) int { return cmp.Compare(fold(a.name), fold(b.name)) })
	return gs
}
