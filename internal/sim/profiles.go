package sim

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// A user's or a group's profile beyond its record: quotas (quotas.go),
// application rules (apps.go) and speed limits (speed.go). Profiles are
// kept by uid or gid, so a rename keeps them (DSM keys them by id, as it
// keys share permissions: a choice where no source shows a rename) and a delete drops them (dropProfile), as DSM
// removes a deleted account's rows everywhere.

// owner is the user or group a profile belongs to.
type owner struct {
	group bool
	id    int // uid or gid
}

// profile is what one owner has set. Empty maps are dropped.
type profile struct {
	quotas map[string]int64      // quotaTarget -> bytes (never 0: no row)
	rules  map[string]appRule    // app id -> rule
	speeds map[string]speedLimit // protocol -> limit
}

func (p *profile) empty() bool {
	return p == nil || len(p.quotas) == 0 && len(p.rules) == 0 && len(p.speeds) == 0
}

// profiles holds every owner's profile and which changed since the last
// commit. Guarded by Server.mu, as the rest of store.
type profiles struct {
	by    map[owner]*profile
	dirty map[owner]bool
}

// get returns o's profile, nil when it has none.
func (ps *profiles) get(o owner) *profile { return ps.by[o] }

// edit returns o's profile, made when missing, and marks it changed.
func (ps *profiles) edit(o owner) *profile {
	if ps.by == nil {
		ps.by = map[owner]*profile{}
	}
	p := ps.by[o]
	if p == nil {
		p = &profile{quotas: map[string]int64{}, rules: map[string]appRule{}, speeds: map[string]speedLimit{}}
		ps.by[o] = p
	}
	if ps.dirty == nil {
		ps.dirty = map[owner]bool{}
	}
	ps.dirty[o] = true
	return p
}

// dropProfile removes everything of a deleted user (group false) or
// group: their quotas, rules and limits.
func (st *store) dropProfile(group bool, id int) {
	o := owner{group, id}
	if st.profiles.by[o] == nil {
		return
	}
	delete(st.profiles.by, o)
	if st.profiles.dirty == nil {
		st.profiles.dirty = map[owner]bool{}
	}
	st.profiles.dirty[o] = true
}

// userOwner and groupOwner name the owner of a profile.
func userOwner(u *user) owner   { return owner{false, u.uid} }
func groupOwner(g *group) owner { return owner{true, g.gid} }

// The profiles on disk: bucket "profiles", key 'u' or 'g' and the uid or
// gid (8 bytes big-endian), value the owner's diskProfile. An owner
// without a profile has no key.
var bucketProfiles = []byte("profiles")

func profileKey(o owner) []byte {
	k := []byte{'u'}
	if o.group {
		k[0] = 'g'
	}
	return binary.BigEndian.AppendUint64(k, uint64(o.id))
}

type diskProfile struct {
	Quotas map[string]int64      `json:"quotas,omitempty"`
	Rules  map[string]appRule    `json:"rules,omitempty"`
	Speeds map[string]speedLimit `json:"speeds,omitempty"`
}

// diffProfiles writes the profiles that changed since the last commit
// (all of them on the first), and forgets the marks.
func (st *store) diffProfiles(ws []write, first bool) []write {
	ps := &st.profiles
	keys := ps.dirty
	if first {
		keys = maps.Clone(ps.dirty)
		if keys == nil {
			keys = map[owner]bool{}
		}
		for o := range ps.by {
			keys[o] = true
		}
	}
	for _, o := range sortedOwners(maps.Keys(keys)) {
		p := ps.by[o]
		if p.empty() {
			delete(ps.by, o)
			ws = append(ws, write{bucket: bucketProfiles, key: profileKey(o)})
			continue
		}
		v, _ := json.Marshal(diskProfile{Quotas: p.quotas, Rules: p.rules, Speeds: p.speeds})
		ws = append(ws, write{bucketProfiles, profileKey(o), v})
	}
	ps.dirty = nil
	return ws
}

// loadProfiles reads the profiles bucket (absent in states written
// before profiles were kept) into st, holding each to the bounds of
// checkProfile.
func loadProfiles(tx *bolt.Tx, st *store) error {
	b := tx.Bucket(bucketProfiles)
	if b == nil {
		return nil
	}
	ids := st.ownerIDs()
	return b.ForEach(func(k, v []byte) error {
		if len(k) != 9 || (k[0] != 'u' && k[0] != 'g') {
			return fmt.Errorf("profile key %x: want 'u' or 'g' and 8 bytes", k)
		}
		o := owner{k[0] == 'g', int(binary.BigEndian.Uint64(k[1:]))}
		var d diskProfile
		if err := strictJSON(v, &d); err != nil {
			return fmt.Errorf("profile %x: %w", k, err)
		}
		p := newProfile(d)
		if !ids[o] {
			return fmt.Errorf("profile %x: no user or group with id %d", k, o.id)
		}
		if err := st.checkProfile(p); err != nil {
			return fmt.Errorf("profile %x: %w", k, err)
		}
		st.setProfile(o, p)
		return nil
	})
}

// checkProfile holds a loaded profile to what a call could have made:
// known targets, apps and protocols, values in their bounds.
func (st *store) checkProfile(p *profile) error {
	for t, b := range p.quotas {
		if _, ok := st.quotaTargetSize(t); !ok || b <= 0 || b > maxQuotaBytes {
			return fmt.Errorf("quota %q of %d bytes: unknown target or out of 1 to %d", t, b, int64(maxQuotaBytes))
		}
	}
	for id, r := range p.rules {
		if catalogueApp(id) == nil || r.check() != nil {
			return fmt.Errorf("rule for %q: unknown app or bad addresses", id)
		}
	}
	for proto, l := range p.speeds {
		if speedProtocol(proto) == nil || l.check() != nil {
			return fmt.Errorf("speed limit for %q: unknown protocol or out of bounds", proto)
		}
	}
	return nil
}

// diskOwnerProfile is one profile in the state file's form (DumpState).
type diskOwnerProfile struct {
	Group bool `json:"group,omitempty"`
	ID    int  `json:"id"`
	diskProfile
}

// diskProfiles returns every profile, users first, by id.
func (st *store) diskProfiles() []diskOwnerProfile {
	var out []diskOwnerProfile
	for _, o := range sortedOwners(maps.Keys(st.profiles.by)) {
		if p := st.profiles.by[o]; !p.empty() {
			out = append(out, diskOwnerProfile{o.group, o.id, diskProfile{p.quotas, p.rules, p.speeds}})
		}
	}
	return out
}

// loadDiskProfiles takes the profiles of a state file into st.
func (st *store) loadDiskProfiles(ps []diskOwnerProfile) error {
	ids := st.ownerIDs()
	for _, d := range ps {
		o := owner{d.Group, d.ID}
		p := newProfile(d.diskProfile)
		if !ids[o] || st.profiles.by[o] != nil {
			return fmt.Errorf("profile of id %d: no such user or group, or a second one", d.ID)
		}
		if err := st.checkProfile(p); err != nil {
			return fmt.Errorf("profile of id %d: %w", d.ID, err)
		}
		st.setProfile(o, p)
	}
	return nil
}

// ownerIDs returns every user and group as an owner.
func (st *store) ownerIDs() map[owner]bool {
	ids := make(map[owner]bool, len(st.users)+len(st.groups))
	for _, u := range st.users {
		ids[userOwner(u)] = true
	}
	for _, g := range st.groups {
		ids[groupOwner(g)] = true
	}
	return ids
}

// newProfile makes a profile of its disk form, with no nil map.
func newProfile(d diskProfile) *profile {
	p := &profile{quotas: d.Quotas, rules: d.Rules, speeds: d.Speeds}
	if p.quotas == nil {
		p.quotas = map[string]int64{}
	}
	if p.rules == nil {
		p.rules = map[string]appRule{}
	}
	if p.speeds == nil {
		p.speeds = map[string]speedLimit{}
	}
	return p
}

// setProfile stores a loaded profile (not marked changed).
func (st *store) setProfile(o owner, p *profile) {
	if st.profiles.by == nil {
		st.profiles.by = map[owner]*profile{}
	}
	st.profiles.by[o] = p
}

// sortedOwners returns owners in order: users, then groups, each by id.
func sortedOwners(keys iter.Seq[owner]) []owner {
	return slices.SortedFunc(keys, func(a, b owner) int {
		if a.group != b.group {
			if a.group {
				return 1
			}
			return -1
		}
		return a.id - b.id
	})
}
