package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

// startIn starts a server on dir; it is closed at the end of the test.
func startIn(t *testing.T, dir string, users ...User) *Server {
	t.Helper()
	k, _ := testKey()
	s, err := New(Config{RSAKey: k, AdminPassword: adminPW, DataDir: dir, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStoreRoundTrip: after changes of every kind, a restart holds the
// same state, field for field.
func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startIn(t, dir, User{Name: "alice", Password: "alice-pw", OTPSecret: otpSecret})
	admin := s.mustLogin(t, "admin", adminPW)
	for _, kv := range [][]string{
		{"SYNO.Core.User", "create", "name", "bob", "password", strongPW, "description", "Bob", "email", "bob@example.com"},
		{"SYNO.Core.User", "create", "name", "carol", "password", strongPW},
		{"SYNO.Core.Group", "create", "name", "staff", "description", "Staff"},
		{"SYNO.Core.Group", "create", "name", "gone"},
		{"SYNO.Core.Group.Member", "add", "group", "staff", "name", `["bob","carol"]`},
		{"SYNO.Core.Group.Member", "add", "group", "gone", "name", `["bob"]`},
		{"SYNO.Core.Group", "delete", "name", `["gone"]`},
		{"SYNO.Core.Group", "set", "name", "staff", "new_name", "team"},
		{"SYNO.Core.User", "set", "name", "bob", "new_name", "robert", "expired", "2030/1/2", "password", "Str0ng-pass-2!"},
		{"SYNO.Core.User", "delete", "name", `["carol"]`},
		{"SYNO.Core.User.PasswordPolicy", "set", "strong_password", `{"min_length":12}`},
		{"SYNO.Core.User.Group", "join", "name", "robert", "join_group", `["administrators"]`},
	} {
		if a := s.callKV(t, admin, kv...); !a.Success {
			t.Fatalf("%v: %s", kv, a.raw)
		}
	}
	s.mustLogin(t, "alice", "alice-pw", "otp_code", totpAt(t, s.Now()), "enable_device_token", "yes", "device_name", "laptop")
	want := s.snapshot(t)
	s.Close()
	s2 := startIn(t, dir)
	if diff := cmp.Diff(string(want), string(s2.snapshot(t))); diff != "" {
		t.Errorf("state after a restart (-before +after):\n%s", diff)
	}
}

// TestStoreMigratesStateFile: a data directory of an earlier version
// (state.json) is read, written to the database and renamed; the next
// start reads the database.
func TestStoreMigratesStateFile(t *testing.T) {
	t.Parallel()
	k, _ := testKey()
	mem, err := New(Config{RSAKey: k, AdminPassword: adminPW, Users: []User{{Name: "alice", Password: "alice-pw", Groups: []string{"staff"}}},
		Groups: []Group{{Name: "staff"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.setupSecureSignIn(nil); err != nil {
		t.Fatal(err)
	}
	old := mem.snapshot(t)
	dir := t.TempDir()
	legacy := filepath.Join(dir, LegacyStateFile)
	if err := os.WriteFile(legacy, old, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startIn(t, dir)
	if diff := cmp.Diff(string(old), string(s.snapshot(t))); diff != "" {
		t.Errorf("migrated state (-state.json +loaded):\n%s", diff)
	}
	if _, err := os.Stat(legacy); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state.json still there after the migration (%v)", err)
	}
	if b, err := os.ReadFile(legacy + ".migrated"); err != nil || !bytes.Equal(b, old) {
		t.Errorf("state.json.migrated: %v, want the old file as it was", err)
	}
	s.mustLogin(t, "alice", "alice-pw")
	s.Close()
	// The next start reads the database alone: a state.json put back
	// by hand is not migrated again over it.
	if err := os.WriteFile(legacy, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := startIn(t, dir)
	if diff := cmp.Diff(string(old), string(s2.snapshot(t))); diff != "" {
		t.Errorf("state after the next start (-state.json +loaded):\n%s", diff)
	}
}

// TestStoreWritesOnlyTheChange: a change writes the records it changed
// and no other, whatever the number of users.
func TestStoreWritesOnlyTheChange(t *testing.T) {
	t.Parallel()
	for _, n := range []int{10, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			var users []User
			for i := range n {
				users = append(users, User{Name: fmt.Sprintf("u%d", i), Password: "pw"})
			}
			s := startIn(t, t.TempDir(), users...)
			var mu sync.Mutex
			var got []string
			bytesWritten := 0
			s.disk.written = func(ws []write) {
				mu.Lock()
				defer mu.Unlock()
				for _, w := range ws {
					got = append(got, fmt.Sprintf("%s %x %v", w.bucket, w.key, w.value != nil))
					bytesWritten += len(w.key) + len(w.value)
				}
			}
			admin := s.mustLogin(t, "admin", adminPW)
			check := func(what string, want ...string) {
				t.Helper()
				mu.Lock()
				defer mu.Unlock()
				slices.Sort(got)
				slices.Sort(want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: records written (-want +got):\n%s", what, diff)
				}
				if bytesWritten > 2000 {
					t.Errorf("%s: %d bytes written, want a few hundred", what, bytesWritten)
				}
				got, bytesWritten = nil, 0
			}
			u0 := fmt.Sprintf("%016x", firstUID)
			if a := s.callKV(t, admin, "SYNO.Core.User", "set", "name", "u0", "description", "changed"); !a.Success {
				t.Fatal(a.raw)
			}
			check("a description", "users "+u0+" true")
			next := fmt.Sprintf("%016x", firstUID+n)
			if a := s.callKV(t, admin, "SYNO.Core.User", "create", "name", "new", "password", strongPW); !a.Success {
				t.Fatal(a.raw)
			}
			check("a new user", "meta 7374617465 true", "users "+next+" true", fmt.Sprintf("members %016x%s true", usersGID, next))
			if a := s.callKV(t, admin, "SYNO.Core.User", "delete", "name", `["new"]`); !a.Success {
				t.Fatal(a.raw)
			}
			check("a deleted user", "users "+next+" false", fmt.Sprintf("members %016x%s false", usersGID, next))
			if a := s.callKV(t, admin, "SYNO.Core.User", "get", "name", "u0"); !a.Success {
				t.Fatal(a.raw)
			}
			check("a read")
		})
	}
}

// TestStoreConcurrentChanges: changes from many writers at once, to the
// same user and to others, are on disk in the order they were made.
func TestStoreConcurrentChanges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startIn(t, dir, User{Name: "shared", Password: "pw"})
	admin := s.mustLogin(t, "admin", adminPW)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				if a := s.callKV(t, admin, "SYNO.Core.User", "set", "name", "shared", "description", fmt.Sprintf("w%d-%d", w, i)); !a.Success {
					t.Error(a.raw)
				}
				if a := s.callKV(t, admin, "SYNO.Core.Group", "create", "name", fmt.Sprintf("g%d-%d", w, i)); !a.Success {
					t.Error(a.raw)
				}
			}
		})
	}
	wg.Wait()
	want := s.snapshot(t)
	s.Close()
	if diff := cmp.Diff(string(want), string(startIn(t, dir).snapshot(t))); diff != "" {
		t.Errorf("state after a restart (-in memory +on disk):\n%s", diff)
	}
}

// TestStoreDamaged: a database that is not one, or whose records do not
// hang together, is refused and left as it is.
func TestStoreDamaged(t *testing.T) {
	t.Parallel()
	k, _ := testKey()
	good := t.TempDir()
	s := startIn(t, good)
	s.disk.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).Put(idKey(5000), []byte(`{"name":"x","surprise":1}`))
	})
	s.Close()
	for name, dir := range map[string]string{"not a database": t.TempDir(), "an unknown field": good} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, StateFile)
			if name == "not a database" {
				if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 8192), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			_, err := New(Config{RSAKey: k, DataDir: dir})
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte("damaged")) {
				t.Errorf("New: %v, want an error saying the state is damaged", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the damaged database was changed")
			}
		})
	}
}

// TestStoreInUse: a second simulator on the same directory is refused
// with a clear error, not left waiting.
func TestStoreInUse(t *testing.T) {
	dir := t.TempDir()
	startIn(t, dir)
	defer func(d time.Duration) { openTimeout = d }(openTimeout)
	openTimeout = 10 * time.Millisecond
	k, _ := testKey()
	if _, err := New(Config{RSAKey: k, DataDir: dir}); !errors.Is(err, errStoreInUse) {
		t.Errorf("New on a directory in use: %v, want errStoreInUse", err)
	}
}

// TestStoreReadsDoNotWaitForTheDisk: while a change's transaction is
// held up, reads are answered, and already see the change (the choice
// documented on durableStore); the change itself is answered only once
// its transaction is done.
func TestStoreReadsDoNotWaitForTheDisk(t *testing.T) {
	t.Parallel()
	s := startIn(t, t.TempDir(), User{Name: "alice", Password: "pw"})
	admin := s.mustLogin(t, "admin", adminPW)
	inTx, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.disk.failWrite = func() error {
		once.Do(func() {
			close(inTx)
			<-release
		})
		return nil
	}
	answered := make(chan answer)
	go func() {
		answered <- s.callKV(t, admin, "SYNO.Core.User", "set", "name", "alice", "description", "changed")
	}()
	<-inTx
	a := s.callKV(t, admin, "SYNO.Core.User", "get", "name", "alice", "additional", `["description"]`)
	if !a.Success || !strings.Contains(a.raw, `"changed"`) {
		t.Errorf("a read while the change is being written: %s, want it answered, with the change", a.raw)
	}
	select {
	case a := <-answered:
		t.Errorf("the change was answered before its transaction was done: %s", a.raw)
	default:
	}
	close(release)
	if a := <-answered; !a.Success {
		t.Errorf("the change: %s", a.raw)
	}
}
