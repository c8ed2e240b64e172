package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dsmkit/dsm/internal/atomicfile"
)

// StateFile is the name of the state's database in Config.DataDir (see
// boltstore.go).
const StateFile = "state.db"

// LegacyStateFile is the state file of earlier versions, rewritten whole
// after every change. New migrates it into StateFile and renames it
// LegacyStateFile + ".migrated".
const LegacyStateFile = "state.json"

// stateVersion is the format version of the state file and of the
// database's meta record.
const stateVersion = 1

// diskState is the state file of earlier versions, and the form the
// database's records are checked in (decodeDisk), and what DumpState
// writes: everything a DSM keeps across reboots
// (users, groups, policies, queued join tasks, the secure sign-in static
// key), not sessions. Passwords are stored only as salted PBKDF2 hashes
// and device tokens only as SHA-256 hashes; TOTP secrets and the static
// private key must be stored as they are, so the file is 0600 in a 0700
// directory.
type diskState struct {
	// diskMeta holds what is neither a user nor a group, with the same
	// keys as the database's meta record.
	diskMeta
	Users  []diskUser  `json:"users"`
	Groups []diskGroup `json:"groups"`
	// Shares are the shared folders with their rows (shares.go); states
	// of earlier versions have none.
	Shares []diskShare `json:"shares,omitempty"`
	// Profiles are the quotas, application rules and speed limits of
	// users and groups (profiles.go); absent in earlier versions.
	Profiles []diskOwnerProfile `json:"profiles,omitempty"`
}

type diskUser struct {
	Name                 string            `json:"name"`
	UID                  int               `json:"uid"`
	Description          string            `json:"description"`
	Email                string            `json:"email"`
	Expired              string            `json:"expired"`
	CannotChangePassword bool              `json:"cannot_chg_passwd"`
	PasswordNeverExpire  bool              `json:"passwd_never_expire"`
	PasswordLastChange   int               `json:"password_last_change"`
	PasswordPending      bool              `json:"is_password_pending"`
	Password             passwordHash      `json:"password"`
	History              []passwordHash    `json:"history,omitempty"`
	OTPKey               []byte            `json:"otp_key,omitempty"`
	OTPEnforced          bool              `json:"otp_enforced,omitempty"`
	LastOTPStep          int64             `json:"last_otp_step,omitempty"`
	Devices              map[string]string `json:"devices,omitempty"`
}

type diskGroup struct {
	Name        string `json:"name"`
	GID         int    `json:"gid"`
	Description string `json:"description"`
	Members     []int  `json:"members"`
}

func encodeState(st *store) ([]byte, error) {
	d := diskState{diskMeta: metaOf(st)}
	users := st.sortedUsers()
	for _, u := range users {
		d.Users = append(d.Users, diskUserOf(u))
	}
	for _, g := range st.sortedGroups() {
		dg := diskGroup{Name: g.name, GID: g.gid, Description: g.description, Members: []int{}}
		for _, u := range users {
			if g.members[u.uid] {
				dg.Members = append(dg.Members, u.uid)
			}
		}
		d.Groups = append(d.Groups, dg)
	}
	d.Shares = sharesOf(st)
	d.Profiles = st.diskProfiles()
	return json.MarshalIndent(d, "", "\t")
}

// decodeState parses a state file and checks it hangs together: a
// damaged file is an error, never an empty state.
func decodeState(b []byte) (*store, error) {
	var d diskState
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the state")
	}
	return decodeDisk(d)
}

// decodeDisk checks that a state hangs together and makes it a store.
func decodeDisk(d diskState) (*store, error) {
	if d.Version != stateVersion {
		return nil, fmt.Errorf("format version %d, want %d", d.Version, stateVersion)
	}
	st := &store{users: map[string]*user{}, groups: map[string]*group{}, nextUID: d.NextUID, nextGID: d.NextGID,
		nextPID: d.NextPID, policy: d.Policy, expiry: d.Expiry, tasks: d.Tasks, ikKey: d.SecureSignInKey, home: d.Home,
		security: d.Security}
	if d.SecureSignInKey != nil && len(d.SecureSignInKey) != 32 {
		return nil, fmt.Errorf("secure_signin_key has %d bytes, want 32", len(d.SecureSignInKey))
	}
	uids := map[int]bool{}
	for _, du := range d.Users {
		if du.Name == "" || st.users[fold(du.Name)] != nil || uids[du.UID] {
			return nil, fmt.Errorf("user %q: empty or duplicate name or uid", du.Name)
		}
		if _, ok := normalizeExpired(du.Expired); !ok {
			return nil, fmt.Errorf("user %q: bad expired %q", du.Name, du.Expired)
		}
		if du.UID >= st.nextUID {
			return nil, fmt.Errorf("user %q: uid %d not below next_uid %d", du.Name, du.UID, st.nextUID)
		}
		uids[du.UID] = true
		devices := du.Devices
		if devices == nil {
			devices = map[string]string{}
		}
		st.users[fold(du.Name)] = &user{
			name: du.Name, uid: du.UID, description: du.Description, email: du.Email, expired: du.Expired,
			cannotChangePassword: du.CannotChangePassword, passwordNeverExpire: du.PasswordNeverExpire,
			passwordLastChange: du.PasswordLastChange, passwordPending: du.PasswordPending,
			password: du.Password, history: du.History, otpKey: du.OTPKey, otpEnforced: du.OTPEnforced,
			lastOTPStep: du.LastOTPStep, devices: devices,
		}
	}
	for _, dg := range d.Groups {
		if dg.Name == "" || st.groups[fold(dg.Name)] != nil {
			return nil, fmt.Errorf("group %q: empty or duplicate name", dg.Name)
		}
		g := &group{name: dg.Name, gid: dg.GID, description: dg.Description, members: map[int]bool{}}
		for _, uid := range dg.Members {
			if !uids[uid] {
				return nil, fmt.Errorf("group %q: member uid %d is no user", dg.Name, uid)
			}
			g.members[uid] = true
		}
		st.groups[fold(dg.Name)] = g
	}
	for _, name := range []string{groupUsers, groupAdministrators, groupHTTP} {
		if st.groups[name] == nil {
			return nil, fmt.Errorf("built-in group %q missing", name)
		}
	}
	for _, t := range st.tasks {
		if t == nil || t.ID == "" {
			return nil, errors.New("a join task without an id")
		}
	}
	if err := decodeShares(st, d.Shares); err != nil {
		return nil, err
	}
	if err := st.loadDiskProfiles(d.Profiles); err != nil {
		return nil, err
	}
	return st, nil
}

// loadState reads dir's state file of an earlier version: (nil, nil)
// when there is none. It removes temporary files a crash left behind.
func loadState(dir string) (*store, []byte, error) {
	path := filepath.Join(dir, LegacyStateFile)
	atomicfile.RemoveTemps(path)
	// Earlier versions named their temporary files .state-*.tmp.
	if stale, _ := filepath.Glob(filepath.Join(dir, ".state-*.tmp")); len(stale) > 0 {
		for _, f := range stale {
			os.Remove(f)
		}
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sim: read state: %w", err)
	}
	st, err := decodeState(b)
	if err != nil {
		return nil, nil, fmt.Errorf("sim: state file %s is damaged (not loaded, not overwritten): %w", path, err)
	}
	return st, b, nil
}

// DumpState returns the state kept in dir (a database of this version or
// a state file of an earlier one) in the state file's JSON form, for
// inspection. It holds the password hashes, TOTP secrets and the secure
// sign-in private key: treat it as the data directory itself. It fails
// while a simulator has dir open, and migrates a LegacyStateFile as New
// does.
func DumpState(dir string) ([]byte, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("sim: data directory: %w", err)
	}
	d, st, err := openDurable(dir)
	if err != nil {
		return nil, err
	}
	defer d.close()
	if st == nil {
		return nil, fmt.Errorf("sim: no state in %s", dir)
	}
	return encodeState(st)
}
