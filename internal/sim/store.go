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
	firstGID  = 65536 // first gid given to a local group (what DSM 7 gives its first one)

	groupAdministrators = "administrators"
	groupUsers          = "users"
	groupHTTP           = "http"
)

// Limits published by Synology for DSM 7
// (https://www.synology.com/en-us/dsm/software_spec/account_privilege),
// but maxEmailLen: no public source gives one, 512 is a choice (the
// client's dsm.MaxEmailLength too).
const (
	maxUsers          = 16000
	maxGroups         = 512
	maxUserNameLen    = 64 // characters
	maxGroupNameLen   = 32
	maxPasswordLen    = 127
	maxDescriptionLen = 64
	maxEmailLen       = 512
)

// user is one local account with every field of a DSM user record (the
// fields SYNO.Core.User get answers, see userFields) plus what login
// needs.
type user struct {
	name                 string
	uid                  int
	description          string
	email                string
	expired              string // "normal", "now" (disabled) or "YYYY/M/D"
	cannotChangePassword bool
	passwordNeverExpire  bool
	passwordLastChange   int // days since 1970-01-01 (UTC) on the sim clock
	passwordPending      bool

	password    passwordHash
	history     []passwordHash    // earlier passwords, newest first
	otpKey      []byte            // nil: 2-step verification not set up
	otpEnforced bool              // 2-step verification required for this user
	lastOTPStep int64             // last accepted TOTP step; codes at or before it are refused
	devices     map[string]string // SHA-256 (hex) of a device token -> device name
	// pendingOTPKey is the seed SYNO.Core.OTP get_qrcode made and
	// auth_tmp_code has not confirmed yet; memory only (otp.go).
	pendingOTPKey []byte
}

// disabled reports whether the account may not log in at t: expired is
// "now", or a date (UTC) that t has reached.
func (u *user) disabled(t time.Time) bool {
	switch u.expired {
	case "normal", "":
		return false
	case "now":
		return true
	}
	exp, ok := parseExpiryDate(u.expired)
	return ok && !t.Before(exp)
}

// parseExpiryDate reads DSM's YYYY/M/D (no leading zeros, a real date).
func parseExpiryDate(s string) (time.Time, bool) {
	var y, m, d int
	if n, err := fmt.Sscanf(s, "%d/%d/%d", &y, &m, &d); n != 3 || err != nil {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1970 || y > 9999 || t.Year() != y || int(t.Month()) != m || t.Day() != d || fmt.Sprintf("%d/%d/%d", y, m, d) != s {
		return time.Time{}, false
	}
	return t, true
}

// group is one local group; members are kept by uid so renames need no fix-up.
type group struct {
	name        string
	gid         int
	description string
	members     map[int]bool
}

// store is the simulator's state: what a DSM keeps on disk. Every field is
// guarded by Server.mu.
type store struct {
	users   map[string]*user // key: lower-case name (names are case-insensitive)
	groups  map[string]*group
	nextUID int // uids and gids are never reused, even after a delete
	nextGID int
	policy  passwordPolicy
	expiry  passwordExpiry
	tasks   []*joinTask // SYNO.Core.User.Group join tasks, oldest first
	nextPID int         // the fake pid of the next task
	ikKey   []byte      // the secure sign-in static private key (X25519); nil until New sets it
	// security holds the sign-in protection and 2-step enforcement
	// settings (security.go); nil until New sets it.
	security *securityState

	// byName caches the users sorted by name for lists; nil when a user
	// was added, renamed or deleted since (see usersChanged).
	byName []*user
	// byUID indexes the users by uid; nil after a change, like byName.
	byUID map[int]*user

	// touched holds every user handed out (userByName, userByUID,
	// addUser) since the last commit: only they can have changed, so
	// only they are compared with what the database holds (boltstore.go).
	// touchedAll: sortedUsers handed out every user.
	touched    map[*user]bool
	touchedAll bool

	// Shared folders (shares.go) by folded name, with their permission
	// rows; sharesDirty: one changed since the last commit. home is the
	// user home service (home.go).
	shares      map[string]*share
	sharesDirty bool
	home        homeState
	// profiles holds the quotas, application rules and speed limits of
	// users and groups (profiles.go).
	profiles profiles
}

// usersChanged drops the caches; call it whenever st.users changes.
func (st *store) usersChanged() { st.byName, st.byUID = nil, nil }

// touch notes that u was handed out and may change; it returns u.
func (st *store) touch(u *user) *user {
	if u != nil && !st.touchedAll {
		if st.touched == nil {
			st.touched = map[*user]bool{}
		}
		st.touched[u] = true
	}
	return u
}

// untouch forgets the users handed out: call it once their changes are
// taken into a commit, or when a call changed nothing.
func (st *store) untouch() { st.touched, st.touchedAll, st.profiles.dirty = nil, false, nil }

func fold(name string) string { return strings.ToLower(name) }

func newStore() *store {
	st := &store{
		users:   map[string]*user{},
		groups:  map[string]*group{},
		nextUID: firstUID,
		nextGID: firstGID,
		policy:  defaultPasswordPolicy(),
		expiry:  defaultPasswordExpiry(),
		nextPID: 18000,
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
	st.touch(u)
	st.usersChanged()
	st.groups[groupUsers].members[uid] = true
}

// addGroup stores a new local group with the next free gid.
func (st *store) addGroup(name, description string) *group {
	g := &group{name: name, gid: st.nextGID, description: description, members: map[int]bool{}}
	st.nextGID++
	st.groups[fold(name)] = g
	return g
}

func (st *store) userByName(name string) *user { return st.touch(st.users[fold(name)]) }

func (st *store) groupByName(name string) *group { return st.groups[fold(name)] }

func (st *store) userByUID(uid int) *user {
	if st.byUID == nil {
		st.byUID = make(map[int]*user, len(st.users))
		for _, u := range st.users {
			st.byUID[u.uid] = u
		}
	}
	return st.touch(st.byUID[uid])
}

// isAdmin reports whether u is a member of administrators.
func (st *store) isAdmin(u *user) bool {
	return st.groups[groupAdministrators].members[u.uid]
}

// enabledAdmins counts the members of administrators that can log in at
// now, leaving out the uids in gone (deleted, removed from the group or
// disabled by the change being checked).
func (st *store) enabledAdmins(now time.Time, gone map[int]bool) int {
	return st.countEnabled(now, st.groups[groupAdministrators].members, gone)
}

// countEnabled counts the uids of members, less those in gone, whose
// accounts can log in at now.
func (st *store) countEnabled(now time.Time, members, gone map[int]bool) int {
	n := 0
	for uid := range members {
		if gone[uid] {
			continue
		}
		if u := st.userByUID(uid); u != nil && !u.disabled(now) {
			n++
		}
	}
	return n
}

// leavesNoAdmin reports whether losing the uids in gone (as members of
// administrators or as enabled accounts) would leave no enabled
// administrator where there was one.
func (st *store) leavesNoAdmin(now time.Time, gone map[int]bool) bool {
	return st.enabledAdmins(now, nil) > 0 && st.enabledAdmins(now, gone) == 0
}

// groupsOf returns the names of u's groups, sorted.
func (st *store) groupsOf(u *user) []string {
	names := []string{}
	for _, g := range st.groups {
		if g.members[u.uid] {
			names = append(names, g.name)
		}
	}
	slices.Sort(names)
	return names
}

// sortedUsers returns every user sorted by name (case-insensitive). The
// slice is shared and cached until the users change: callers must not
// modify it.
func (st *store) sortedUsers() []*user {
	st.touchedAll, st.touched = true, nil
	if st.byName == nil {
		type keyed struct {
			key string
			u   *user
		}
		ks := make([]keyed, 0, len(st.users))
		for k, u := range st.users {
			ks = append(ks, keyed{k, u}) // the map key is the folded name
		}
		slices.SortFunc(ks, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
		st.byName = make([]*user, len(ks))
		for i, k := range ks {
			st.byName[i] = k.u
		}
	}
	return st.byName
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

// builtinGroup reports whether name is one of DSM's default groups, which
// cannot be deleted or renamed.
func builtinGroup(name string) bool {
	switch fold(name) {
	case groupAdministrators, groupUsers, groupHTTP:
		return true
	}
	return false
}

// undeletableUser reports whether name is a default or system account
// (admin and guest; SynologyCMS, MAILER-DAEMON and POSTMASTER, as
// Synology's DSM 7 specification above lists them), which cannot be
// deleted or renamed (3115).
func undeletableUser(name string) bool {
	switch fold(name) {
	case "admin", "guest", "synologycms", "mailer-daemon", "postmaster":
		return true
	}
	return false
}

// reservedUserNames is the answer of SYNO.Core.User.UsernamePolicy: names
// no new user may take (3114), compared without regard to case. It starts
// as the seed's example and adds the system accounts and groups of DSM 7.
var reservedUserNames = []string{
	"root", "rootuser", "rootusr", "admin", "administrator", "adm", "adminuser", "adminusr",
	"user", "users", "guest", "administrators", "http", "nobody", "daemon", "bin", "sys",
	"sync", "mail", "ftp", "anonymous", "www", "www-data", "postfix", "sshd", "mysql",
	"postgres", "system", "everyone", "synology", "SynologyCMS", "MAILER-DAEMON", "POSTMASTER",
}

// reservedGroupNames are names no new group may take (3207).
var reservedGroupNames = []string{
	"root", "administrators", "users", "http", "nobody", "everyone", "system", "admin",
	"guest", "wheel", "daemon", "bin", "sys",
}

func reserved(list []string, name string) bool {
	return slices.ContainsFunc(list, func(r string) bool { return strings.EqualFold(r, name) })
}
