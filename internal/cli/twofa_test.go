package cli

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestTwoFASetupOnTerminal runs dsmctl 2fa setup as a person at a
// terminal: the QR code (and with --show-uri the URI) go to the
// terminal, a wrong code is asked again, and the seed never reaches
// standard output.
func TestTwoFASetupOnTerminal(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithRSAKey(testKey()),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: alicePassword}),
		dsmtest.WithUser(dsmtest.User{Name: "carol", Password: "carol-Secret-3"}))
	for _, tt := range []struct {
		user, password string
		showURI        bool
	}{{"alice", alicePassword, true}, {"carol", "carol-Secret-3", false}} {
		var out, errOut bytes.Buffer
		seed := ""
		answers := 0
		s := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, ErrTerminal: true}
		s.ReadLine = func(prompt string) (string, error) {
			errOut.WriteString(prompt)
			answers++
			seed = srv.PendingTOTPSecret(tt.user) // what the app scanned
			if answers == 1 {
				return "12345", nil // a typo: asked again
			}
			return dsmtest.TOTP(seed, srv.Now()), nil
		}
		env := map[string]string{"DSM_URL": srv.URL(), "DSM_USER": tt.user, "DSM_PASSWORD": tt.password, "DSM_CONFIG_DIR": t.TempDir()}
		args := []string{"2fa", "setup"}
		if tt.showURI {
			args = append(args, "--show-uri")
		}
		if code := Run(t.Context(), args, s, func(k string) string { return env[k] }); code != ExitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", tt.user, code, out.String(), errOut.String())
		}
		if seed == "" || answers != 2 {
			t.Fatalf("%s: %d answers, seed %t", tt.user, answers, seed != "")
		}
		if got := out.String(); got != "2-step verification is on for "+tt.user+"\n" {
			t.Errorf("%s: stdout %q", tt.user, got)
		}
		terminal := errOut.String()
		if !strings.Contains(terminal, "\x1b[30;47m") || !strings.ContainsAny(terminal, "▀▄█") {
			t.Errorf("%s: no QR code drawn on the terminal:\n%s", tt.user, terminal)
		}
		if !strings.Contains(terminal, "That code was not accepted") {
			t.Errorf("%s: the typo was not reported:\n%s", tt.user, terminal)
		}
		if got := strings.Contains(terminal, "otpauth://totp/") && strings.Contains(terminal, seed); got != tt.showURI {
			t.Errorf("%s: the URI with the seed on the terminal: %v, want %v", tt.user, got, tt.showURI)
		}
		on, err := srv.Client().TwoStep.Status(t.Context(), tt.user)
		if err != nil || !on {
			t.Errorf("%s: 2-step after setup: %v, %v", tt.user, on, err)
		}
	}
}

// TestTwoFASetupNeedsATerminal: the seed is never shown where it could
// be logged.
func TestTwoFASetupNeedsATerminal(t *testing.T) {
	t.Parallel()
	// Standard input a terminal, standard error not (redirected to a
	// log): refused, nothing asked of DSM.
	e := newEnv(t, nil, "DSM_URL", "http://127.0.0.1:1", "DSM_USER", "alice", "DSM_PASSWORD", "x")
	e.terminal = []string{}
	r := e.run(t, "2fa", "setup")
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "not a terminal") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestSimUserFlag seeds dsmctl sim with --user accounts, one with a
// made-up 2-step seed printed once, and signs in as them.
func TestSimUserFlag(t *testing.T) {
	t.Parallel()
	o := &simOptions{AdminPassword: "Admin-pw-1", DSMVersion: "7.4"}
	f := simUserFlag{&o.Users}
	for _, v := range []string{"bob:Bob:pw-1:otp", "carol:Carol-pw-1", "dave:Dave-pw-1:otp=" + bobOTPSecret} {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkSimUsers(o.Users); err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "bob,carol,dave" {
		t.Errorf("String %q: want the names only", got)
	}
	url, stop := startRunSimWith(t, o)
	ctx := t.Context()
	login := func(name, pw, code string) error {
		c, err := dsm.NewClient(url)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Auth.Login(ctx, dsm.Credentials{Account: name, Password: pw, OTPCode: code})
		return err
	}
	out, _ := stop()
	m := regexp.MustCompile(`(?m)^user bob: 2-step seed ([A-Z2-7]+) `).FindStringSubmatch(out)
	if m == nil || strings.Count(out, m[1]) != 1 {
		t.Fatalf("bob's seed is not printed once:\n%s", out)
	}
	if strings.Contains(out, bobOTPSecret) || strings.Contains(out, "Carol-pw-1") {
		t.Errorf("a given seed or a password is printed:\n%s", out)
	}
	url, stop = startRunSimWith(t, &simOptions{AdminPassword: "Admin-pw-1", DSMVersion: "7.4", Users: o.Users})
	defer stop()
	if err := login("bob", "Bob:pw-1", ""); err == nil {
		t.Error("bob signed in without a code")
	}
	if err := login("bob", "Bob:pw-1", dsmtest.TOTP(m[1], time.Now())); err != nil {
		t.Errorf("bob with a code of the printed seed: %v", err)
	}
	if err := login("carol", "Carol-pw-1", ""); err != nil {
		t.Errorf("carol: %v", err)
	}
	if err := login("dave", "Dave-pw-1", dsmtest.TOTP(bobOTPSecret, time.Now())); err != nil {
		t.Errorf("dave with the given seed: %v", err)
	}
}

// TestSimUserFlagErrors: a malformed --user is a usage error that never
// quotes the password.
func TestSimUserFlagErrors(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"no-colon-secretpw", ":secretpw", "bad/name:secretpw", "eve:", "eve::otp", "eve:secretpw:otp=not*base32"} {
		var users []simUser
		simUserFlag{&users}.Set(v)
		err := checkSimUsers(users)
		if err == nil {
			t.Errorf("%q accepted", v)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%q: the error quotes the password: %v", v, err)
		}
		if exitCode(err) != ExitUsage {
			t.Errorf("%q: exit code %d, want %d", v, exitCode(err), ExitUsage)
		}
	}
}

// TestTwoFADevices lists the device a 2-step login trusted and forgets
// it: the next login needs a code again.
func TestTwoFADevices(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithRSAKey(testKey()), dsmtest.WithUser(dsmtest.User{Name: "bob", Password: bobPassword, OTPSecret: bobOTPSecret}))
	e := newEnv(t, srv, "DSM_USER", "bob", "DSM_PASSWORD", bobPassword)
	e.mustRun(t, "login", "--otp", dsmtest.TOTP(bobOTPSecret, srv.Now()))
	r := e.mustRun(t, "2fa", "devices", "-o", "json")
	var devs []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(r.stdout), &devs); err != nil || len(devs) != 1 || devs[0].ID == "" || devs[0].Name == "" {
		t.Fatalf("devices %s (%v)", r.stdout, err)
	}
	if r := e.mustRun(t, "2fa", "forget", devs[0].ID); r.stdout != "device "+devs[0].ID+" is no longer trusted\n" {
		t.Errorf("forget: %q", r.stdout)
	}
	// The environment's password signs each command in with the saved
	// device token, now forgotten: a code is needed again.
	e.run(t, "2fa", "devices").wantCode(t, ExitAuth)
}
