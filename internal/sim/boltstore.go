package sim

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// The state on disk is a bbolt database: one file, ACID transactions, an
// fsync per commit, pure Go. It was chosen over SQLite (through the pure-Go
// modernc.org/sqlite) because the state is a few kinds of records looked up
// by key, which is what a key/value store is; a SQL engine would add a
// large dependency and a schema without buying a query the simulator
// needs. Each record is a JSON value in the bucket of its kind, so a change
// writes only the records it changed:
//
//	meta     "state"     -> next uid/gid/pid, policies, join tasks, static key
//	users    uid         -> the user (password hashes, TOTP, device tokens)
//	groups   gid         -> name and description
//	members  gid, uid    -> "" (one key per membership: joining the users
//	                        group of 16,000 writes one key, not 16,000)
//	shares   folded name -> a shared folder with its permission rows
//	                        (shares.go), written only when one changed
//
// Keys are 8-byte big-endian numbers (members: two of them).
var (
	bucketMeta    = []byte("meta")
	bucketUsers   = []byte("users")
	bucketGroups  = []byte("groups")
	bucketMembers = []byte("members")
	keyState      = []byte("state")
)

// diskMeta is the meta record: everything of the state that is not a
// user, a group or a membership.
type diskMeta struct {
	Version int            `json:"version"`
	NextUID int            `json:"next_uid"`
	NextGID int            `json:"next_gid"`
	NextPID int            `json:"next_pid"`
	Policy  passwordPolicy `json:"password_policy"`
	Expiry  passwordExpiry `json:"password_expiry"`
	Tasks   []*joinTask    `json:"tasks"`
	// SecureSignInKey is the X25519 private key behind _SSID. States
	// written before it was kept have none: New makes one.
	SecureSignInKey []byte `json:"secure_signin_key,omitempty"`
	// Home is the user home service (home.go); states written before it
	// was kept have none: the service is off.
	Home homeState `json:"home,omitzero"`
	// Security holds the sign-in protection and 2-step enforcement
	// settings; states written before they were kept have none: New
	// takes them from its Config.
	Security *securityState `json:"security,omitempty"`
}

// metaOf returns the meta record of st.
func metaOf(st *store) diskMeta {
	return diskMeta{Version: stateVersion, NextUID: st.nextUID, NextGID: st.nextGID, NextPID: st.nextPID,
		Policy: st.policy, Expiry: st.expiry, Tasks: st.tasks, SecureSignInKey: st.ikKey, Home: st.home,
		Security: st.security}
}

// diskGroupRecord is a group's record; its members are their own keys.
type diskGroupRecord struct {
	Name        string `json:"name"`
	GID         int    `json:"gid"`
	Description string `json:"description"`
}

// write is one record written (value nil: deleted) in a transaction.
type write struct {
	bucket []byte
	key    []byte
	value  []byte
}

// pendingWrite is one change's writes, queued until a transaction holds
// them durably.
type pendingWrite struct {
	writes []write
	done   bool
	err    error
}

// durableStore keeps the state in dir's database. The in-memory state
// stays the source of every read; what the database holds is mirrored in
// the snapshot (guarded by Server.mu), and a change's writes are what
// differs between the two.
//
// Changes are queued in the order they were made (under Server.mu) and
// written after Server.mu is released: one waiting writer at a time takes
// everything queued and writes it in one transaction (one fsync for all
// of them), so concurrent writers share an fsync and reads never wait for
// one. A change is answered only once its transaction is durable; until
// then other callers may already read it (the choice: reads see applied
// changes at once, as on a NAS whose memory is ahead of its disk; a crash
// can lose such a change, but never one that was acknowledged).
type durableStore struct {
	db *bolt.DB

	// The snapshot: what the database holds. Guarded by Server.mu.
	meta    []byte
	users   map[int]*user // copies
	groups  map[int]diskGroupRecord
	members map[int]map[int]bool // gid -> uids
	shares  map[string][]byte    // folded share name -> record

	mu       sync.Mutex // guards below
	cond     *sync.Cond
	queue    []*pendingWrite
	flushing bool
	broken   error // the store could not be reloaded after a failed write

	// Test hooks, nil in use: written sees the writes of each
	// transaction, failWrite makes a transaction fail.
	written   func([]write)
	failWrite func() error
}

// openTimeout is how long New waits for another process to let go of the
// database before saying the data directory is in use.
var openTimeout = 2 * time.Second

// errStoreInUse says another simulator has the data directory open.
var errStoreInUse = errors.New("the data directory is in use by another simulator (one simulator per directory)")

// openDurable opens (creating) dir's database and loads its state; a
// state.json of an earlier version is migrated into it. The store is nil
// when the database holds no state yet (and there is no state.json).
func openDurable(dir string) (*durableStore, *store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("sim: data directory: %w", err)
	}
	path := filepath.Join(dir, StateFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, nil, fmt.Errorf("sim: %s: %w", path, errStoreInUse)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sim: state %s is damaged (not loaded, not overwritten): %w", path, err)
	}
	d := &durableStore{db: db}
	d.cond = sync.NewCond(&d.mu)
	st, err := d.load()
	if err == nil && st != nil {
		err = checkState(st)
	}
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("sim: state %s is damaged or out of bounds (not loaded, not overwritten): %w", path, err)
	}
	legacy := filepath.Join(dir, LegacyStateFile)
	if st == nil {
		// Migration: the state file of earlier versions, read and
		// checked as before, written whole, then kept aside.
		old, _, err := loadState(dir)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		if old == nil {
			return d, nil, nil
		}
		if err := checkState(old); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("sim: state file %s is out of bounds (not loaded, not migrated): %w", legacy, err)
		}
		st = old
		if err := d.writeNow(d.diff(st)); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("sim: migrate %s: %w", legacy, err)
		}
	} else {
		d.reset(st)
	}
	// Renamed only once the database holds the state: a crash before
	// this migrates again, one after it finds the database.
	if _, err := os.Stat(legacy); err == nil {
		if err := os.Rename(legacy, legacy+".migrated"); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("sim: keep the migrated %s: %w", legacy, err)
		}
	}
	return d, st, nil
}

// close closes the database; queued writes have all been waited for by
// their callers.
func (d *durableStore) close() error { return d.db.Close() }

func idKey(id int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

func memberKey(gid, uid int) []byte { return binary.BigEndian.AppendUint64(idKey(gid), uint64(uid)) }

// load reads the database's state and checks it as a state file is
// checked (decodeDisk): nil when it holds none yet.
func (d *durableStore) load() (*store, error) {
	var st *store
	err := d.db.View(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMeta)
		if mb == nil || mb.Get(keyState) == nil {
			return nil
		}
		var m diskMeta
		if err := strictJSON(mb.Get(keyState), &m); err != nil {
			return fmt.Errorf("meta: %w", err)
		}
		ds := diskState{diskMeta: m}
		for _, name := range [][]byte{bucketUsers, bucketGroups, bucketMembers} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("no %s bucket", name)
			}
		}
		if err := tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u diskUser
			if err := strictJSON(v, &u); err != nil {
				return fmt.Errorf("user %x: %w", k, err)
			}
			ds.Users = append(ds.Users, u)
			return nil
		}); err != nil {
			return err
		}
		byGID := map[int]int{}
		if err := tx.Bucket(bucketGroups).ForEach(func(k, v []byte) error {
			var g diskGroupRecord
			if err := strictJSON(v, &g); err != nil {
				return fmt.Errorf("group %x: %w", k, err)
			}
			if _, dup := byGID[g.GID]; dup {
				return fmt.Errorf("group %q: duplicate gid %d", g.Name, g.GID)
			}
			byGID[g.GID] = len(ds.Groups)
			ds.Groups = append(ds.Groups, diskGroup{Name: g.Name, GID: g.GID, Description: g.Description, Members: []int{}})
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMembers).ForEach(func(k, _ []byte) error {
			if len(k) != 16 {
				return fmt.Errorf("membership key %x: %d bytes, want 16", k, len(k))
			}
			gid, uid := int(binary.BigEndian.Uint64(k)), int(binary.BigEndian.Uint64(k[8:]))
			i, ok := byGID[gid]
			if !ok {
				return fmt.Errorf("membership of uid %d in gid %d: no such group", uid, gid)
			}
			ds.Groups[i].Members = append(ds.Groups[i].Members, uid)
			return nil
		}); err != nil {
			return err
		}
		if b := tx.Bucket(bucketShares); b != nil { // states of earlier versions have none
			if err := b.ForEach(func(k, v []byte) error {
				var sh diskShare
				if err := strictJSON(v, &sh); err != nil {
					return fmt.Errorf("shared folder %q: %w", k, err)
				}
				ds.Shares = append(ds.Shares, sh)
				return nil
			}); err != nil {
				return err
			}
		}
		var err error
		if st, err = decodeDisk(ds); err != nil {
			return err
		}
		return loadProfiles(tx, st)
	})
	return st, err
}

// reset makes the snapshot st: what was just loaded from the database.
func (d *durableStore) reset(st *store) {
	d.meta, d.users, d.groups, d.members, d.shares = nil, nil, nil, nil, nil
	d.diff(st)
}

// diff returns the writes that make the database hold st, and takes them
// into the snapshot. It compares in memory (no encoding) every user and
// group with its copy, then encodes only what differs. Call with
// Server.mu held.
func (d *durableStore) diff(st *store) []write {
	first := d.users == nil
	if first {
		d.users, d.groups, d.members = map[int]*user{}, map[int]diskGroupRecord{}, map[int]map[int]bool{}
	}
	var ws []write
	m, _ := json.Marshal(metaOf(st))
	if !bytes.Equal(m, d.meta) {
		ws = append(ws, write{bucketMeta, keyState, m})
		d.meta = m
	}

	ws = d.diffShares(st, ws, first)
	if first || st.touchedAll {
		ws = d.diffAll(st, ws)
	} else {
		ws = d.diffTouched(st, ws)
		if checkDiffs {
			if missed := d.diffAll(st, nil); len(missed) > 0 {
				panic(fmt.Sprintf("sim: %d changed records (the first in %s) were not noticed: a user was changed that no accessor of store handed out", len(missed), missed[0].bucket))
			}
		}
	}
	ws = st.diffProfiles(ws, first)
	st.untouch()
	return ws
}

// checkDiffs makes every diff of the touched users also compare
// everything, and panic when that finds a change the first missed. The
// package's tests set it.
var checkDiffs = false

// diffTouched is diff when only the users in st.touched can have
// changed: its cost is that of the change (and of the groups' records,
// at most maxGroups), whatever the number of users.
func (d *durableStore) diffTouched(st *store, ws []write) []write {
	for u := range st.touched {
		present := st.users[fold(u.name)] == u
		old, known := d.users[u.uid]
		switch {
		case present && (!known || !sameUser(u, old)):
			v, _ := json.Marshal(diskUserOf(u))
			ws = append(ws, write{bucketUsers, idKey(u.uid), v})
			d.users[u.uid] = copyUser(u)
		case !present && known: // deleted
			ws = append(ws, write{bucket: bucketUsers, key: idKey(u.uid)})
			delete(d.users, u.uid)
		}
	}
	seen := make(map[int]bool, len(st.groups))
	for _, g := range st.groups {
		seen[g.gid] = true
		ws = d.diffGroupRecord(g, ws)
		old := d.members[g.gid]
		if old == nil {
			ws = d.diffMembers(g, ws)
			continue
		}
		for u := range st.touched {
			switch in := g.members[u.uid]; {
			case in && !old[u.uid]:
				ws = append(ws, write{bucketMembers, memberKey(g.gid, u.uid), []byte{}})
				old[u.uid] = true
			case !in && old[u.uid]:
				ws = append(ws, write{bucket: bucketMembers, key: memberKey(g.gid, u.uid)})
				delete(old, u.uid)
			}
		}
	}
	return d.diffDeletedGroups(seen, ws)
}

// diffAll is diff comparing every user and every membership: for the
// first commit, and after every user was handed out.
func (d *durableStore) diffAll(st *store, ws []write) []write {
	known := len(d.users)
	matched := 0
	for _, u := range st.users {
		old, ok := d.users[u.uid]
		if ok {
			matched++
			if sameUser(u, old) {
				continue
			}
		}
		v, _ := json.Marshal(diskUserOf(u))
		ws = append(ws, write{bucketUsers, idKey(u.uid), v})
		d.users[u.uid] = copyUser(u)
	}
	if matched < known { // some were deleted
		for uid := range d.users {
			if st.userByUID(uid) == nil {
				ws = append(ws, write{bucket: bucketUsers, key: idKey(uid)})
				delete(d.users, uid)
			}
		}
	}

	seen := make(map[int]bool, len(st.groups))
	for _, g := range st.groups {
		seen[g.gid] = true
		ws = d.diffGroupRecord(g, ws)
		ws = d.diffMembers(g, ws)
	}
	return d.diffDeletedGroups(seen, ws)
}

func (d *durableStore) diffGroupRecord(g *group, ws []write) []write {
	rec := diskGroupRecord{Name: g.name, GID: g.gid, Description: g.description}
	if old, ok := d.groups[g.gid]; !ok || old != rec {
		v, _ := json.Marshal(rec)
		ws = append(ws, write{bucketGroups, idKey(g.gid), v})
		d.groups[g.gid] = rec
	}
	return ws
}

// diffMembers compares every membership of g.
func (d *durableStore) diffMembers(g *group, ws []write) []write {
	old := d.members[g.gid]
	if old != nil && maps.Equal(old, g.members) {
		return ws
	}
	if old == nil {
		old = map[int]bool{}
		d.members[g.gid] = old
	}
	for uid := range g.members {
		if !old[uid] {
			ws = append(ws, write{bucketMembers, memberKey(g.gid, uid), []byte{}})
			old[uid] = true
		}
	}
	for uid := range old {
		if !g.members[uid] {
			ws = append(ws, write{bucket: bucketMembers, key: memberKey(g.gid, uid)})
			delete(old, uid)
		}
	}
	return ws
}

// diffDeletedGroups deletes the groups not seen, with their memberships.
func (d *durableStore) diffDeletedGroups(seen map[int]bool, ws []write) []write {
	if len(seen) < len(d.groups) {
		for gid := range d.groups {
			if seen[gid] {
				continue
			}
			ws = append(ws, write{bucket: bucketGroups, key: idKey(gid)})
			for uid := range d.members[gid] {
				ws = append(ws, write{bucket: bucketMembers, key: memberKey(gid, uid)})
			}
			delete(d.groups, gid)
			delete(d.members, gid)
		}
	}
	return ws
}

// sameUser reports whether u still equals its copy c in every stored
// field.
func sameUser(u, c *user) bool {
	return u.name == c.name && u.uid == c.uid && u.description == c.description && u.email == c.email &&
		u.expired == c.expired && u.cannotChangePassword == c.cannotChangePassword &&
		u.passwordNeverExpire == c.passwordNeverExpire && u.passwordLastChange == c.passwordLastChange &&
		u.passwordPending == c.passwordPending && sameHash(u.password, c.password) &&
		slices.EqualFunc(u.history, c.history, sameHash) && bytes.Equal(u.otpKey, c.otpKey) &&
		u.otpEnforced == c.otpEnforced && u.lastOTPStep == c.lastOTPStep && maps.Equal(u.devices, c.devices)
}

func sameHash(a, b passwordHash) bool {
	return a.Iter == b.Iter && bytes.Equal(a.Salt, b.Salt) && bytes.Equal(a.Hash, b.Hash)
}

// copyUser copies u deeply enough that changes to u do not reach it.
func copyUser(u *user) *user {
	c := *u
	c.history = slices.Clone(u.history)
	c.otpKey = slices.Clone(u.otpKey)
	c.devices = maps.Clone(u.devices)
	return &c
}

func diskUserOf(u *user) diskUser {
	return diskUser{
		Name: u.name, UID: u.uid, Description: u.description, Email: u.email, Expired: u.expired,
		CannotChangePassword: u.cannotChangePassword, PasswordNeverExpire: u.passwordNeverExpire,
		PasswordLastChange: u.passwordLastChange, PasswordPending: u.passwordPending,
		Password: u.password, History: u.history, OTPKey: u.otpKey, OTPEnforced: u.otpEnforced,
		LastOTPStep: u.lastOTPStep, Devices: u.devices,
	}
}

// writeNow writes ws in one transaction and waits for it to be durable.
func (d *durableStore) writeNow(ws []write) error {
	if len(ws) == 0 {
		return nil
	}
	return d.db.Update(func(tx *bolt.Tx) error { return d.apply(tx, ws) })
}

func (d *durableStore) apply(tx *bolt.Tx, ws []write) error {
	if d.failWrite != nil {
		if err := d.failWrite(); err != nil {
			return err
		}
	}
	for _, w := range ws {
		b, err := tx.CreateBucketIfNotExists(w.bucket)
		if err != nil {
			return err
		}
		if w.value == nil {
			err = b.Delete(w.key)
		} else {
			err = b.Put(w.key, w.value)
		}
		if err != nil {
			return err
		}
	}
	for _, name := range [][]byte{bucketUsers, bucketGroups, bucketMembers} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	if d.written != nil {
		d.written(ws)
	}
	return nil
}

// enqueue queues ws behind every change made before. Call with Server.mu
// held, so the queue's order is the order of the changes.
func (d *durableStore) enqueue(ws []write) *pendingWrite {
	p := &pendingWrite{writes: ws}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.broken != nil {
		p.done, p.err = true, d.broken
		return p
	}
	d.queue = append(d.queue, p)
	return p
}

// commit takes the change just made into the queue of writes. Call with
// s.mu held; then, with s.mu released, s.awaitDurable(p) before the
// change is answered. Memory-only servers only clear the dirty mark.
func (s *Server) commit() *pendingWrite {
	s.dirty = false
	if s.disk == nil {
		s.st.untouch()
		return nil
	}
	ws := s.disk.diff(s.st)
	if len(ws) == 0 {
		return nil
	}
	return s.disk.enqueue(ws)
}

// awaitDurable returns once p's transaction is durable, writing it (with
// whatever else is queued) when no other caller is. When the write fails
// every change queued with or after it is undone (the state is reloaded
// from the database) and each is answered the error. Call without s.mu.
func (s *Server) awaitDurable(p *pendingWrite) error {
	if p == nil {
		return nil
	}
	d := s.disk
	d.mu.Lock()
	for !p.done && d.flushing {
		d.cond.Wait()
	}
	if p.done {
		d.mu.Unlock()
		return p.err
	}
	batch := d.queue // p is in it
	d.queue, d.flushing = nil, true
	d.mu.Unlock()

	err := d.db.Update(func(tx *bolt.Tx) error {
		for _, q := range batch {
			if err := d.apply(tx, q.writes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("sim: save state: %w", err)
		s.mu.Lock()
		d.mu.Lock()
		// Everything queued since was a change on top of the failed
		// ones: none of it is written, all of it is undone.
		batch = append(batch, d.queue...)
		d.queue = nil
		if st, lerr := d.load(); lerr == nil && st != nil {
			s.st = st
			d.reset(st)
		} else {
			d.broken = fmt.Errorf("sim: the state could not be reloaded after a failed write: %v", lerr)
		}
		s.dirty = false
		s.mu.Unlock()
	} else {
		d.mu.Lock()
	}
	for _, q := range batch {
		q.done, q.err = true, err
	}
	d.flushing = false
	d.cond.Broadcast()
	d.mu.Unlock()
	return p.err
}
