package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPersistence(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	k, _ := testKey()
	cfg := Config{RSAKey: k, AdminPassword: adminPW, DataDir: dir, JoinDelay: 10 * time.Minute,
		Users: []User{{Name: "alice", Password: "alice-pw", OTPSecret: otpSecret}}}
	s1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin := s1.mustLogin(t, "admin", adminPW)
	for _, kv := range [][]string{
		{"SYNO.Core.User", "create", "name", "bob", "password", strongPW, "description", "Bob"},
		{"SYNO.Core.Group", "create", "name", "staff"},
		{"SYNO.Core.User.Group", "join", "name", "bob", "join_group", `["staff"]`},
		{"SYNO.Core.User.PasswordPolicy", "set", "strong_password", `{"min_length":12}`},
		{"SYNO.Core.User", "delete", "name", `["bob"]`},
		{"SYNO.Core.User", "create", "name", "bob", "password", "Str0ng-pass-2!"},
	} {
		if a := s1.callKV(t, admin, kv...); !a.Success {
			t.Fatalf("%v: %s", kv, a.raw)
		}
	}
	dev := s1.mustLogin(t, "alice", "alice-pw", "otp_code", totpAt(t, s1.Now()), "enable_device_token", "yes", "device_name", "laptop")

	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, StateFile): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode(), err, want)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{adminPW, "alice-pw", strongPW, "Str0ng-pass-2!", dev.DeviceID} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the state file holds the secret %q", secret)
		}
	}

	// A restart: the state is the file's; the config's seeds are not applied.
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Users, cfg.AdminPassword = nil, "something else"
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2.mustLogin(t, "admin", adminPW)
	s2.mustLogin(t, "bob", "Str0ng-pass-2!")
	s2.mustLogin(t, "alice", "alice-pw", "device_id", dev.DeviceID)
	if u := s2.userOf("bob"); u == nil || u.uid != firstUID+2 {
		t.Errorf("bob after restart: %+v, want uid %d", u, firstUID+2)
	}
	if s2.st.policy.Strong.MinLength != 12 || s2.st.groupByName("staff") == nil || len(s2.st.tasks) != 1 {
		t.Errorf("after restart: policy %+v, tasks %v", s2.st.policy, s2.st.tasks)
	}
	// The task was for the deleted bob (uid 1027): it fails when it runs.
	s2.Advance(11 * time.Minute)
	admin = s2.mustLogin(t, "admin", adminPW)
	if got := s2.groupsOfUser(t, admin, "bob"); len(got) != 1 {
		t.Errorf("new bob's groups: %v", got)
	}
	if a := s2.callKV(t, admin, "SYNO.Core.Group", "create", "name", "later"); string(a.Data) != `{"gid":65537,"name":"later"}` {
		t.Errorf("gid after restart: %s", a.raw)
	}
}

// TestDamagedStateFile: a state file of an earlier version that is
// damaged is not migrated, and left as it is.
func TestDamagedStateFile(t *testing.T) {
	t.Parallel()
	k, _ := testKey()
	for name, content := range map[string]string{
		"truncated":      `{"version":1,"users":[`,
		"empty":          ``,
		"wrong version":  `{"version":99}`,
		"unknown field":  `{"version":1,"surprise":true}`,
		"no groups":      `{"version":1,"next_uid":1026,"users":[]}`,
		"two states":     `{"version":1} {"version":1}`,
		"dangling uid":   `{"version":1,"next_uid":1026,"groups":[{"name":"users","members":[5]}]}`,
		"duplicate user": `{"version":1,"next_uid":2000,"users":[{"name":"a","uid":1},{"name":"A","uid":2}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, LegacyStateFile)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(Config{RSAKey: k, DataDir: dir})
			if err == nil || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("New: %v, want an error saying the file is damaged", err)
			}
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Error("the damaged file was overwritten")
			}
		})
	}
}

func TestFailedWriteUndoesTheChange(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	k, _ := testKey()
	s, err := New(Config{RSAKey: k, AdminPassword: adminPW, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	admin := s.mustLogin(t, "admin", adminPW)
	before := s.snapshot(t)
	s.disk.failWrite = func() error { return errors.New("disk full") }
	if a := s.callKV(t, admin, "SYNO.Core.Group", "create", "name", "staff"); a.code() != 100 {
		t.Errorf("create with the write failing: code %d, want 100", a.code())
	}
	if !bytes.Equal(before, s.snapshot(t)) {
		t.Error("the unwritten change stayed in memory")
	}
	// The store works again once the disk does, and the change was not
	// half kept: it is made whole.
	s.disk.failWrite = nil
	if a := s.callKV(t, admin, "SYNO.Core.Group", "create", "name", "staff"); !a.Success {
		t.Errorf("create after the disk recovered: %s", a.raw)
	}
	s.Close()
	s2, err := New(Config{RSAKey: k, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.st.groupByName("staff") == nil {
		t.Error("the change made after the failure is not kept")
	}
}

// crashHelperEnv names the data directory of the crash helper: the test
// binary run with it set is the helper (see TestMain).
const crashHelperEnv = "SIM_CRASH_HELPER_DIR"

// crashHelper keeps changing the state in dir through the handler and
// prints "ack NAME" after each change is answered, until it is killed.
func crashHelper(dir string) int {
	k, err := testKey()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := New(Config{RSAKey: k, AdminPassword: adminPW, DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	do := func(kv ...string) answer {
		req := httptest.NewRequest(http.MethodPost, "/webapi/entry.cgi", strings.NewReader(form(kv...).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = lanAddr
		return serveRequest(&testing.T{}, s, req)
	}
	var login loginData
	a := do("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", "admin", "passwd", adminPW, "format", "sid")
	if json := a.Data; !a.Success || jsonUnmarshal(json, &login) != nil {
		fmt.Fprintln(os.Stderr, "login:", a.raw)
		return 2
	}
	// Each change adds one user or group, so numbering from their count
	// continues where the killed helper stopped.
	for i := len(s.st.groups) + len(s.st.users); ; i++ {
		name := fmt.Sprintf("g%d", i)
		kv := []string{"api", "SYNO.Core.Group", "method", "create", "version", "1", "name", name, "_sid", login.SID}
		if i%3 != 0 || len(s.st.groups) >= maxGroups-10 {
			name = fmt.Sprintf("u%d", i)
			kv = []string{"api", "SYNO.Core.User", "method", "create", "version", "1", "name", name, "password", strongPW, "_sid", login.SID}
		}
		if a := do(kv...); !a.Success {
			fmt.Fprintln(os.Stderr, name, a.raw)
			return 2
		}
		fmt.Printf("ack %s\n", name)
	}
}

// TestCrashSafety runs crashHelper in a child process, SIGKILLs it at
// moments drawn from a seeded source (after 1 to 40 acknowledged
// changes, while it makes the next one) and checks after each kill that
// the state loads and holds every change the helper saw acknowledged.
// The kills are counted in changes, not in time: a slow machine changes
// when they happen, not what is checked.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("forks processes")
	}
	dir := t.TempDir()
	k, _ := testKey()
	rng := rand.New(rand.NewPCG(1, 2))
	var acked []string
	for round := range 5 {
		killAfter := 1 + rng.IntN(40)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashHelperEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The scanner ends when the helper is gone: killed here, or
		// exited on an error it wrote to stderr.
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				acked = append(acked, name)
				if n++; n == killAfter {
					cmd.Process.Kill()
				}
			}
		}
		cmd.Wait()
		if strings.TrimSpace(stderr.String()) != "" {
			t.Fatalf("round %d: helper: %s", round, stderr.String())
		}
		if n < killAfter {
			t.Fatalf("round %d: the helper stopped after %d changes, before it was killed", round, n)
		}
		// The helper's admin password, in case a helper was killed
		// before its state was first written (this New then seeds it).
		s, err := New(Config{RSAKey: k, AdminPassword: adminPW, DataDir: dir})
		if err != nil {
			t.Fatalf("round %d: the state does not load after SIGKILL: %v", round, err)
		}
		s.Close()
		for _, name := range acked {
			if s.st.groupByName(name) == nil && s.st.userByName(name) == nil {
				t.Errorf("round %d: acknowledged %s is lost", round, name)
			}
		}
	}
	t.Logf("%d changes acknowledged over 5 kills", len(acked))
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
