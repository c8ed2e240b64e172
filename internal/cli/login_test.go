package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// loggedInSession returns the session saved in e's config directory for the
// latest login, failing the test when there is none.
func loggedInSession(t *testing.T, e *cliEnv) (string, dsm.Session) {
	t.Helper()
	url, sess, ok, err := currentSession(store{dir: e.configDir()})
	if err != nil || !ok {
		t.Fatalf("no saved session (err %v)", err)
	}
	return url, sess
}

func TestLoginPasswordSources(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	pw := srv.AdminPassword()
	tests := []struct {
		name     string
		env      []string
		stdin    string
		terminal []string
		args     []string
		prompts  []string
	}{
		{name: "DSM_PASSWORD", env: []string{"DSM_USER", "admin", "DSM_PASSWORD", pw}},
		{name: "password-stdin", env: []string{"DSM_USER", "admin"}, stdin: pw + "\n", args: []string{"--password-stdin"}},
		{name: "password-stdin without newline", env: []string{"DSM_USER", "admin"}, stdin: pw, args: []string{"--password-stdin"}},
		{name: "password-stdin wins over DSM_PASSWORD", env: []string{"DSM_USER", "admin", "DSM_PASSWORD", "wrong"}, stdin: pw + "\r\n", args: []string{"--password-stdin"}},
		{
			name: "terminal prompt", env: []string{"DSM_USER", "admin"}, terminal: []string{pw},
			prompts: []string{"Password for admin on " + srv.URL() + ": "},
		},
		{name: "flags win over env", env: []string{"DSM_USER", "nobody", "DSM_URL", "http://127.0.0.1:1", "DSM_PASSWORD", pw}, args: []string{"--user", "admin", "--url", srv.URL()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, srv, tt.env...)
			e.stdin = tt.stdin
			e.terminal = tt.terminal
			r := e.mustRun(t, append([]string{"login"}, tt.args...)...)
			if want := "logged in to " + srv.URL() + " as admin\ncurrent context: admin@" + strings.TrimPrefix(srv.URL(), "http://") + "\n"; r.stdout != want {
				t.Errorf("stdout = %q, want %q", r.stdout, want)
			}
			if diff := cmp.Diff(tt.prompts, e.prompts); diff != "" {
				t.Errorf("prompts (-want +got):\n%s", diff)
			}
			url, sess := loggedInSession(t, e)
			if url != srv.URL() || sess.Account != "admin" || sess.SID == "" || sess.SynoToken == "" {
				t.Errorf("saved session for %s: %v", url, sess)
			}
			r.noSecrets(t, pw, sess.SID, sess.SynoToken, sess.DeviceID)
		})
	}
}

func TestLoginWrongPassword(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	const wrong = "not-The-Password-9"
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", wrong)
	r := e.run(t, "login")
	r.wantCode(t, ExitAuth)
	if !strings.Contains(r.stderr, "code 400: no such account or incorrect password") {
		t.Errorf("stderr does not give DSM's reason:\n%s", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	r.noSecrets(t, wrong)
	if _, err := os.Stat(filepath.Join(e.configDir(), sessionsFile)); !os.IsNotExist(err) {
		t.Errorf("a failed login saved a session (stat: %v)", err)
	}
}

func TestLoginUsageErrors(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{name: "no URL", env: []string{"DSM_USER", "admin", "DSM_PASSWORD", "x"}, want: "no DSM URL"},
		{name: "no account", env: []string{"DSM_URL", srv.URL(), "DSM_PASSWORD", "x"}, want: "no account"},
		{name: "no password and no terminal", env: []string{"DSM_URL", srv.URL(), "DSM_USER", "admin"}, want: "no password: set DSM_PASSWORD or pass --password-stdin"},
		{name: "empty stdin", env: []string{"DSM_URL", srv.URL(), "DSM_USER", "admin"}, args: []string{"--password-stdin"}, want: "standard input has no password"},
		{name: "no password flag", env: []string{"DSM_URL", srv.URL(), "DSM_USER", "admin"}, args: []string{"--password", "x"}, want: "unknown flag: --password"},
		{name: "OTP not digits", env: []string{"DSM_URL", srv.URL(), "DSM_USER", "admin", "DSM_PASSWORD", "x"}, args: []string{"--otp", "12a456"}, want: "--otp: the 2-step code must be digits only"},
		{name: "bad URL", env: []string{"DSM_URL", "ftp://nas", "DSM_USER", "admin", "DSM_PASSWORD", "x"}, want: `scheme "ftp" is not supported`},
		{name: "arguments", env: []string{"DSM_URL", srv.URL(), "DSM_USER", "admin", "DSM_PASSWORD", "x"}, args: []string{"admin"}, want: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil, tt.env...)
			r := e.run(t, append([]string{"login"}, tt.args...)...)
			r.wantCode(t, ExitUsage)
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "Run 'dsmctl login --help' for usage.") {
				t.Errorf("stderr lacks %q and the usage hint:\n%s", tt.want, r.stderr)
			}
		})
	}
}

func TestLoginTwoStep(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "bob", "DSM_PASSWORD", bobPassword)

	// Without a code and without a terminal: say to pass --otp.
	r := e.run(t, "login")
	r.wantCode(t, ExitAuth)
	if !strings.Contains(r.stderr, "code 403") || !strings.Contains(r.stderr, "--otp CODE") {
		t.Errorf("stderr does not ask for --otp:\n%s", r.stderr)
	}

	// A wrong code.
	r = e.run(t, "login", "--otp", "000000")
	if code := dsmtest.TOTP(bobOTPSecret, srv.Now()); code != "000000" {
		r.wantCode(t, ExitAuth)
		if !strings.Contains(r.stderr, "code 404") {
			t.Errorf("stderr does not give DSM's reason for a wrong code:\n%s", r.stderr)
		}
	}

	// The right code: logged in, device trusted.
	code := dsmtest.TOTP(bobOTPSecret, srv.Now())
	r = e.mustRun(t, "login", "--otp", code)
	if !strings.Contains(r.stdout, "this device is now trusted") {
		t.Errorf("stdout does not say the device is trusted:\n%s", r.stdout)
	}
	_, sess := loggedInSession(t, e)
	token, err := store{dir: e.configDir()}.deviceToken(srv.URL(), "bob")
	if err != nil || token == "" {
		t.Fatalf("no device token saved (err %v)", err)
	}
	r.noSecrets(t, bobPassword, code, token, sess.SID, sess.SynoToken)

	// Logout keeps the token; the next login needs no code, on a later
	// TOTP window too.
	e.mustRun(t, "logout")
	srv.Advance(2 * time.Minute)
	r = e.mustRun(t, "login")
	if strings.Contains(r.stdout, "now trusted") {
		t.Errorf("a login with the saved device token says it is new:\n%s", r.stdout)
	}
	r = e.mustRun(t, "whoami", "-o", "json")
	if !strings.Contains(r.stdout, `"otp_enabled": true`) {
		t.Errorf("whoami of bob:\n%s", r.stdout)
	}
}

// TestLoginTwoStepPrompt: on a terminal, a 2-step login asks whether to
// trust this device (default no), then for the code; only a yes saves a
// device token.
func TestLoginTwoStepPrompt(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		answer string
		trust  bool
	}{{"y", true}, {"YES", true}, {"", false}, {"n", false}, {"sure", false}} {
		t.Run(fmt.Sprintf("%q", tt.answer), func(t *testing.T) {
			t.Parallel()
			srv := startSim(t) // one each: a code is accepted once
			e := newEnv(t, srv, "DSM_USER", "bob")
			e.terminal = []string{bobPassword, tt.answer, dsmtest.TOTP(bobOTPSecret, srv.Now())}
			r := e.mustRun(t, "login")
			want := []string{
				"Password for bob on " + srv.URL() + ": ",
				"bob has 2-step verification. Trust this device, so that later logins of bob here need no code? [y/N] ",
				"2-step verification code for bob: ",
			}
			if diff := cmp.Diff(want, e.prompts); diff != "" {
				t.Errorf("prompts (-want +got):\n%s", diff)
			}
			if got := strings.Contains(r.stdout, "this device is now trusted"); got != tt.trust {
				t.Errorf("says the device is trusted: %v, want %v; stdout:\n%s", got, tt.trust, r.stdout)
			}
			token, err := store{dir: e.configDir()}.deviceToken(srv.URL(), "bob")
			if err != nil {
				t.Fatal(err)
			}
			if (token != "") != tt.trust {
				t.Errorf("device token saved: %v, want %v", token != "", tt.trust)
			}
			r.noSecrets(t, bobPassword, e.terminal[2], token)
			_, sess := loggedInSession(t, e)
			if sess.Account != "bob" {
				t.Errorf("saved session of %q", sess.Account)
			}
		})
	}
}

func TestLoginReplacesSession(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login")
	_, first := loggedInSession(t, e)
	e.mustRun(t, "login")
	_, second := loggedInSession(t, e)
	if first.SID == second.SID {
		t.Fatal("a second login kept the first session")
	}
	if n := openSessions(t, srv); n != 1 {
		t.Errorf("%d sessions open on the server, want 1: the replaced session was not logged out", n)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login")
	_, sess := loggedInSession(t, e)
	devices := filepath.Join(e.configDir(), devicesFile)
	before, err := os.ReadFile(devices)
	if err != nil {
		t.Fatalf("login saved no device token: %v", err)
	}

	e = e.with("DSM_PASSWORD", "")
	r := e.mustRun(t, "logout")
	if want := "logged out of " + srv.URL() + "\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	if _, err := os.Stat(filepath.Join(e.configDir(), sessionsFile)); !os.IsNotExist(err) {
		t.Errorf("the session file is still there (stat: %v)", err)
	}
	after, err := os.ReadFile(devices)
	if err != nil || string(after) != string(before) {
		t.Errorf("logout changed the device tokens (err %v)", err)
	}
	// The session is over on the server.
	c, err := dsm.NewClient(srv.URL(), dsm.WithSession(sess))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth.Whoami(t.Context()); !errors.Is(err, dsm.ErrSessionExpired) {
		t.Errorf("the logged-out session still works: whoami error %v", err)
	}

	// Logging out again does nothing and succeeds; whoami says not logged in.
	r = e.mustRun(t, "logout")
	if !strings.Contains(r.stderr, "not logged in") {
		t.Errorf("second logout stderr = %q", r.stderr)
	}
	e.run(t, "whoami").wantCode(t, ExitAuth)
}

func TestLogoutKeepsOtherURLs(t *testing.T) {
	t.Parallel()
	srv1, srv2 := startSim(t), startSim(t)
	e := newEnv(t, nil, "DSM_USER", "admin")
	e.with("DSM_URL", srv1.URL(), "DSM_PASSWORD", srv1.AdminPassword()).mustRun(t, "login")
	e.with("DSM_URL", srv2.URL(), "DSM_PASSWORD", srv2.AdminPassword()).mustRun(t, "login")

	// Without a URL, whoami uses the latest login.
	r := e.mustRun(t, "whoami", "-o", "json")
	if !strings.Contains(r.stdout, srv2.URL()) {
		t.Errorf("whoami without a URL did not use the latest login:\n%s", r.stdout)
	}
	e.mustRun(t, "logout", "--url", srv2.URL())
	e.mustRun(t, "whoami", "--url", srv1.URL())
	e.run(t, "whoami", "--url", srv2.URL()).wantCode(t, ExitAuth)
	// The latest login is gone: without a URL there is none to pick.
	r = e.run(t, "whoami")
	r.wantCode(t, ExitAuth)
	if !strings.Contains(r.stderr, "not logged in") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login")
	if m := fileMode(t, e.configDir()); m != 0o700 {
		t.Errorf("config directory mode %04o, want 0700", m)
	}
	for _, name := range []string{sessionsFile, devicesFile, contextsFile} {
		if m := fileMode(t, filepath.Join(e.configDir(), name)); m != 0o600 {
			t.Errorf("%s mode %04o, want 0600", name, m)
		}
	}
	entries, err := os.ReadDir(e.configDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("config directory holds %d entries, want 3 (a temporary file left behind?)", len(entries))
	}
}

func TestRefuseReadableSessionFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login")
	path := filepath.Join(e.configDir(), sessionsFile)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"whoami"}, {"logout"}, {"login"}} {
			env := e
			if args[0] != "login" {
				env = e.with("DSM_PASSWORD", "")
			}
			r := env.run(t, args...)
			r.wantCode(t, ExitFailure)
			if !strings.Contains(r.stderr, "chmod 600 "+path) {
				t.Errorf("mode %04o, %s: stderr lacks the chmod to run:\n%s", mode, args[0], r.stderr)
			}
		}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	e.with("DSM_PASSWORD", "").mustRun(t, "whoami")
}

// After a logout, or with only DSM_URL set once the session has expired,
// "dsmctl login" logs in where and as whom the latest login was.
func TestLoginAgainAfterLogoutOrExpiry(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", alicePassword)
	e.mustRun(t, "login")
	e.mustRun(t, "logout")
	bare := newEnv(t, nil, "DSM_CONFIG_DIR", e.configDir(), "DSM_PASSWORD", alicePassword)
	if r := bare.mustRun(t, "login"); !strings.HasPrefix(r.stdout, "logged in to "+srv.URL()+" as alice\n") {
		t.Errorf("login after logout, with no URL or account: %q", r.stdout)
	}
	srv.ExpireSessions()
	urlOnly := newEnv(t, nil, "DSM_CONFIG_DIR", e.configDir(), "DSM_URL", srv.URL(), "DSM_PASSWORD", alicePassword)
	if r := urlOnly.mustRun(t, "login"); !strings.HasPrefix(r.stdout, "logged in to "+srv.URL()+" as alice\n") {
		t.Errorf("login with only DSM_URL after an expiry: %q", r.stdout)
	}
}
