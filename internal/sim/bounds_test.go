package sim

import (
	"fmt"
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
