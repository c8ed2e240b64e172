package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm/dsmtest"
	"github.com/dsmkit/dsm/internal/sim"
)

func TestWhoamiSavedSession(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", alicePassword)
	e.mustRun(t, "login")
	_, sess := loggedInSession(t, e)
	e = e.with("DSM_PASSWORD", "")
	logins := srv.Logins()

	r := e.mustRun(t, "whoami")
	want := "account:    alice\n" +
		"url:        " + srv.URL() + "\n" +
		"full name:  Alice Liddell\n" +
		"email:      alice@example.com\n" +
		"2-step:     off\n" +
		"model:      DS923+\n" +
		"dsm:        DSM 7.4-90075\n" +
		"session:    full: DSM 7's secure sign-in (every request signed)\n"
	if r.stderr != "" {
		t.Errorf("whoami wrote to stderr:\n%s", r.stderr)
	}
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("whoami (-want +got):\n%s", diff)
	}

	r = e.mustRun(t, "whoami", "-o", "json")
	var got whoami
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("whoami -o json: %v\n%s", err, r.stdout)
	}
	wantJSON := whoami{Account: "alice", URL: srv.URL(), Fullname: "Alice Liddell", Email: "alice@example.com", Model: "DS923+", DSMVersion: "DSM 7.4-90075", SecureSignIn: true}
	if diff := cmp.Diff(wantJSON, got); diff != "" {
		t.Errorf("whoami -o json (-want +got):\n%s", diff)
	}
	if srv.Logins() != logins {
		t.Errorf("whoami with a saved session logged in %d times, want 0", srv.Logins()-logins)
	}
	r.noSecrets(t, alicePassword, sess.SID, sess.SynoToken, sess.DeviceID)
}

// A session opened without the secure sign-in (here the NAS's UIConfig
// fails, as behind a proxy that drops its cookie) says so.
func TestWhoamiSessionWithoutSecureSignIn(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	f, err := dsmtest.ParseFault("SYNO.API.Auth.UIConfig:get:code=103")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(f); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", alicePassword)
	e.mustRun(t, "login")
	r := e.with("DSM_PASSWORD", "").mustRun(t, "whoami")
	if want := "session:    without DSM 7's secure sign-in: limited to reading from an address DSM counts as remote\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("whoami:\n%s\nwant the line %q", r.stdout, want)
	}
}

// TestWhoamiWithoutSystemInfo: when DSM refuses SYNO.DSM.Info (or has
// none), whoami still shows the account, with the model and version as
// "-" (null for programs) and a note on stderr; any other failure of the
// call fails the command.
func TestWhoamiWithoutSystemInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		code     int
		note     string // "" : the command fails
		wantExit int
	}{
		{"permission denied", 105, "note: DSM does not tell alice the model and DSM version (SYNO.DSM.Info getinfo: permission denied)", 0},
		{"no such API", 102, "note: this DSM does not tell the model and DSM version (SYNO.DSM.Info getinfo is not supported)", ExitOK},
		{"no such method", 103, "note: this DSM does not tell the model and DSM version", ExitOK},
		{"unknown error", 100, "", ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startSim(t, dsmtest.WithFault(dsmtest.Fault{API: "SYNO.DSM.Info", Method: "getinfo", Kind: dsmtest.FaultCode, Code: tt.code}))
			e := newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", alicePassword)
			r := e.run(t, "whoami")
			r.wantCode(t, tt.wantExit)
			if tt.note == "" {
				if r.stdout != "" {
					t.Errorf("a failed whoami printed:\n%s", r.stdout)
				}
				return
			}
			if !strings.Contains(r.stderr, tt.note) {
				t.Errorf("stderr lacks %q:\n%s", tt.note, r.stderr)
			}
			for _, line := range []string{"account:    alice\n", "full name:  Alice Liddell\n", "model:      -\n", "dsm:        -\n"} {
				if !strings.Contains(r.stdout, line) {
					t.Errorf("stdout lacks %q:\n%s", line, r.stdout)
				}
			}
			r = e.run(t, "whoami", "-o", "json")
			r.wantCode(t, ExitOK)
			for _, part := range []string{`"account": "alice"`, `"model": null`, `"dsm_version": null`} {
				if !strings.Contains(r.stdout, part) {
					t.Errorf("json lacks %s:\n%s", part, r.stdout)
				}
			}
		})
	}
}

func TestWhoamiOneShot(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", alicePassword)
	logins := srv.Logins()
	r := e.mustRun(t, "whoami")
	if !strings.Contains(r.stdout, "account:    alice\n") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if n := srv.Logins() - logins; n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
	if n := openSessions(t, srv); n != 0 {
		t.Errorf("%d sessions left open, want 0: the one-shot login was not logged out", n)
	}
	if _, err := os.Stat(e.configDir()); !os.IsNotExist(err) {
		t.Errorf("a one-shot command wrote to the config directory (stat: %v)", err)
	}
	r.noSecrets(t, alicePassword)
}

func TestWhoamiPasswordWinsOverSavedSession(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login")
	before, err := os.ReadFile(filepath.Join(e.configDir(), sessionsFile))
	if err != nil {
		t.Fatal(err)
	}
	r := e.with("DSM_USER", "alice", "DSM_PASSWORD", alicePassword).mustRun(t, "whoami", "-o", "json")
	if !strings.Contains(r.stdout, `"account": "alice"`) {
		t.Errorf("whoami with alice's password:\n%s", r.stdout)
	}
	after, err := os.ReadFile(filepath.Join(e.configDir(), sessionsFile))
	if err != nil || string(after) != string(before) {
		t.Errorf("a one-shot command changed the saved session (err %v)", err)
	}
	// Without the password, the saved session is admin's: asking for
	// alice is refused rather than answered as admin.
	r = e.with("DSM_USER", "alice", "DSM_PASSWORD", "").run(t, "whoami")
	r.wantCode(t, ExitAuth)
	if !strings.Contains(r.stderr, "not logged in to "+srv.URL()+" as alice") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestWhoamiSessionExpired(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login")
	e = e.with("DSM_PASSWORD", "")
	srv.Advance(sim.DefaultSessionIdleTimeout + 1)
	r := e.run(t, "whoami")
	r.wantCode(t, ExitAuth)
	if !strings.Contains(r.stderr, "session expired, run dsmctl login") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestWhoamiNotLoggedIn(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	tests := []struct {
		name string
		env  *cliEnv
		want string
	}{
		{"no URL", newEnv(t, nil), "not logged in: run dsmctl login"},
		{"URL", newEnv(t, srv), "not logged in to " + srv.URL()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.env.run(t, "whoami")
			r.wantCode(t, ExitAuth)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}

func TestDebugShowsNoSecrets(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	r := e.mustRun(t, "login", "--debug")
	_, sess := loggedInSession(t, e)
	r2 := e.with("DSM_PASSWORD", "").mustRun(t, "whoami", "--debug")
	for _, r := range []result{r, r2} {
		if !strings.Contains(r.stderr, "level=DEBUG") || !strings.Contains(r.stderr, "api=SYNO.API.Auth") && !strings.Contains(r.stderr, "api=SYNO.Core.NormalUser") {
			t.Errorf("--debug traced nothing:\n%s", r.stderr)
		}
		r.noSecrets(t, srv.AdminPassword(), sess.SID, sess.SynoToken, sess.DeviceID)
	}
}

func TestOutputFormat(t *testing.T) {
	t.Parallel()
	r := newEnv(t, nil).run(t, "whoami", "-o", "xml")
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "unknown output format") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
