package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestHostileLoginsKeepMemoryBounded sends logins with 900 KB names,
// session names and device names, and checks the live heap does not grow
// with them: the limiter keeps a hash of a name, and over-long session and
// device names are refused.
func TestHostileLoginsKeepMemoryBounded(t *testing.T) {
	s := newServer(t, Config{})
	huge := strings.Repeat("a", 900_000)
	const n = 40 // 36 MB of names: kept, they would be well above the bound
	const bound = 8 << 20

	before := heapAfterGC()
	for i := range n {
		c := loginCall(huge+fmt.Sprint(i), "wrong")
		c.addr = fmt.Sprintf("127.0.%d.%d:1000", i/250, i%250+1)
		if a := s.do(t, c); a.code() != 400 {
			t.Fatalf("login with a long name: code %d, want 400", a.code())
		}
	}
	for _, param := range []string{"session", "device_name"} {
		for range n {
			c := loginCall("admin", adminPW, "enable_device_token", "yes")
			c.form.Set(param, huge)
			if a := s.do(t, c); a.code() != 120 {
				t.Fatalf("login with a 900 KB %s: code %d, want 120", param, a.code())
			}
		}
	}
	after := heapAfterGC()
	grown := int64(after) - int64(before)
	t.Logf("live heap %d -> %d bytes (%+d) after %d hostile logins of each kind", before, after, grown, n)
	if grown > bound {
		t.Errorf("live heap grew by %d bytes, want at most %d", grown, bound)
	}
	if got := s.byAccount.size(); got > n {
		t.Errorf("%d account records, want at most %d", got, n)
	}

	// Once their window has passed, the failure records are dropped.
	s.Advance(DefaultAccountLockWithin + DefaultAutoBlockWithin)
	c := loginCall("nobody", "wrong")
	c.addr = "198.51.100.9:1"
	s.do(t, c)
	if a, b := s.byAddr.size(), s.byAccount.size(); a != 1 || b != 1 {
		t.Errorf("after the window: %d address and %d account records, want 1 and 1", a, b)
	}
}

// TestSessionsAreCappedAndSwept logs one account in more often than it may
// keep sessions, then lets them all expire.
func TestSessionsAreCappedAndSwept(t *testing.T) {
	s := newServer(t, Config{})
	first := s.mustLogin(t, "admin", adminPW)
	for range maxSessionsPerUser + 10 {
		s.mustLogin(t, "admin", adminPW)
	}
	if got := s.Sessions(); got != maxSessionsPerUser {
		t.Errorf("%d sessions open, want the cap %d", got, maxSessionsPerUser)
	}
	if a := s.do(t, call{form: form("api", "SYNO.Core.User", "version", "1", "method", "list", "_sid", first.SID)}); a.code() != 119 {
		t.Errorf("the least recently used session: code %d, want 119 (ended by the cap)", a.code())
	}
	s.Advance(DefaultSessionIdleTimeout + time.Minute)
	s.do(t, call{form: form("api", "SYNO.API.Info", "version", "1", "method", "query")})
	if got := s.Sessions(); got != 0 {
		t.Errorf("%d sessions left after they all expired, want 0", got)
	}
}

func TestTrustedDevicesAreCapped(t *testing.T) {
	u := &user{devices: map[string]string{}}
	for i := range maxDevicesPerUser + 5 {
		makeRoomForDevice(u)
		u.devices[deviceKey(fmt.Sprint(i))] = "device"
	}
	if len(u.devices) != maxDevicesPerUser {
		t.Errorf("%d trusted devices, want the cap %d", len(u.devices), maxDevicesPerUser)
	}
}

// TestStateFileOutOfBounds edits a state file (of the JSON form earlier
// versions kept, which a start migrates) the way an attacker or a damaged
// disk could, and checks New refuses it naming the field, and leaves it
// as it is.
func TestStateFileOutOfBounds(t *testing.T) {
	for name, tc := range map[string]struct{ from, to, want string }{
		"iterations":  {`"iter": 1000`, `"iter": 2000000000`, "password: iter 2000000000, want 1 to 100000"},
		"hash length": {`"hash": "`, `"hash": "AAAA`, "password: hash has 35 bytes, want 32"},
	} {
		t.Run(name, func(t *testing.T) {
			first := t.TempDir()
			newServer(t, Config{DataDir: first}).Close()
			b, err := DumpState(first)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.from) {
				t.Fatalf("state has no %s", tc.from)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, LegacyStateFile)
			edited := strings.Replace(string(b), tc.from, tc.to, 1)
			if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
			k, _ := testKey()
			_, err = New(Config{DataDir: dir, RSAKey: k})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "out of bounds") {
				t.Errorf("New: %v, want an error saying %q", err, tc.want)
			}
			if kept, err := os.ReadFile(path); err != nil || string(kept) != edited {
				t.Errorf("the refused state file was not left as it was: %v", err)
			}
		})
	}
}

// TestLoginHashesWithoutTheLock checks that a login computes its password
// hash with the state's lock released.
func TestLoginHashesWithoutTheLock(t *testing.T) {
	s := newServer(t, Config{})
	calls, free := 0, 0
	s.unlockedHook = func() {
		calls++
		if s.mu.TryLock() {
			free++
			s.mu.Unlock()
		}
	}
	admin := s.mustLogin(t, "admin", adminPW)
	if a := s.do(t, loginCall("admin", "wrong")); a.code() != 400 {
		t.Errorf("wrong password: code %d, want 400", a.code())
	}
	if a := s.callKV(t, admin, "SYNO.Core.User.PasswordConfirm", "auth", "password", adminPW); !a.Success {
		t.Errorf("PasswordConfirm auth: %s", a.raw)
	}
	if calls != 3 || free != 3 {
		t.Errorf("%d of %d password checks ran with the lock free, want 3 of 3", free, calls)
	}
}
