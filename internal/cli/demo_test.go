package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	t.Parallel()
	const adminPassword = "Demo-Admin-Pw-7"
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	o := &demoOptions{rsaKey: testKey(), adminPassword: adminPassword, tmpDir: dir}
	if err := runDemo(t.Context(), o, &IOStreams{Out: &out, ErrOut: &errOut}); err != nil {
		t.Fatalf("demo: %v\n%s", err, &out)
	}
	got := out.String()
	// Every step ran, in order.
	rest := got
	for i, step := range tourSteps {
		_, after, ok := strings.Cut(rest, step.title)
		if !ok {
			t.Fatalf("step %d (%s) missing or out of order:\n%s", i+1, step.title, got)
		}
		rest = after
	}
	for _, want := range []string{
		"SYNO.API.Auth v7 login __cIpHeRtExT=(", // the password travels in the envelope
		"code 400: no such account or incorrect password",
		"error 403: 2-step verification code required",
		"Accepted without a code",
		"error 119: invalid session",              // the expired session, then the logged-out one
		"SYNO.Core.User v1 create __cIpHeRtExT=(", // the new password travels in the envelope
		"error 3121: password does not meet the password policy",
		"  exclude_username: contains the user name",
		"SYNO.Core.User.Group v1 join_status",
		"carroll is in users, writers.",
		"     carroll  Lewis Carroll        carroll@example.com  never     users,writers\n",
		"email: carroll@example.com -> lewis@example.org",
		"error 3106: no such user",
		// Users as code: the plan, the apply, an empty second plan.
		"     + user queen\n         description: \"Queen of Hearts\"\n         expiry: never\n         groups: +court\n         password: generated\n",
		"     Plan: 5 to create, 0 to change, 0 to delete.\n",
		"SYNO.Core.Group v1 create _sid=(43 bytes) description=\"The Mad Tea-Party\" name=\"teaparty\"",
		"     Applied 5 of 5 changes (5 to create, 0 to change, 0 to delete) in ",
		"; 0 failed.\n",
		"queen's generated password is in " + filepath.Join(dir, "first-passwords.tsv") + " (mode 0600),",
		"     No changes: the NAS matches " + filepath.Join(dir, "users.yaml") + ".\n",
		// A flaky NAS: two busy answers retried, a lost answer checked.
		"     SYNO.Core.User:get:code=117:times=2\n",
		"< error 117: the network connection is unstable or the system is busy (2 times)\n",
		"   log: dsm retry api=SYNO.Core.User method=get attempt=2 wait=",
		"   log: dsm retry api=SYNO.Core.User method=get attempt=3 wait=",
		`name="rabbit" notify_by_email=false passwd_never_expire=false send_password=false +X-SYNO-TOKEN +X-SYNO-HASH(nonce `,
		"   < no answer: connection ",
		// The secure sign-in: the handshake at login, signed calls, and a
		// NAS that counts every client as remote.
		"format=sid ik_message=(155 bytes) session=webui",
		"SYNO.Core.NormalUser v1 get _sid=(43 bytes) +X-SYNO-TOKEN +X-SYNO-HASH(nonce 0)\n",
		"< error 105: this session does not have permission",
		"the session was opened without DSM 7's secure sign-in",
		"Created and deleted carroll there.",
		"   log: dsm retry: the change happened despite the failure api=SYNO.Core.User method=create attempt=1\n",
		"rabbit is listed once.",
		// The audit: one finding, its fix sent, a clean audit.
		"One finding: [medium] guest-enabled (guest): the guest account is enabled.",
		"Fix: dsmctl user update guest --expire disabled. The call it makes:",
		`expired="now" name="guest"`,
		"The audit again: no findings.",
		"End of the tour.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the demo does not show %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "   log: "); n != 3 {
		t.Errorf("%d log lines, want the 3 retry lines only", n)
	}

	// The generated password is in a 0600 file, and only there.
	b, err := os.ReadFile(filepath.Join(dir, "first-passwords.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	current := currentPasswords(t, string(b))
	queenPassword := current["queen"]
	if len(current) != 1 || queenPassword == "" {
		t.Fatalf("first-passwords.tsv does not hold one created password, queen's: %d bytes", len(b))
	}
	if fi, err := os.Stat(filepath.Join(dir, "first-passwords.tsv")); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("first-passwords.tsv has mode %04o, want 0600", fi.Mode().Perm())
	}
	for _, secret := range []string{adminPassword, demoPassword, demoOTPSecret, demoWeakPassword, demoGoodPassword, " passwd=", " password=",
		demoHatterPassword, demoDormousePassword, demoFlakyPassword, queenPassword} {
		if strings.Contains(got, secret) || strings.Contains(errOut.String(), secret) {
			t.Errorf("the demo shows %q", secret)
		}
	}
}

func TestDemoStopsAtFailingStep(t *testing.T) {
	t.Parallel()
	ran := 0
	step := func(err error) tourStep {
		return tourStep{"step", func(*tour, context.Context) error { ran++; return err }}
	}
	var out bytes.Buffer
	o := &demoOptions{rsaKey: testKey(), steps: []tourStep{step(nil), step(errors.New("boom")), step(nil)}}
	err := runDemo(t.Context(), o, &IOStreams{Out: &out, ErrOut: &out})
	if err == nil || !strings.Contains(err.Error(), "demo step 2 (step): boom") {
		t.Errorf("runDemo = %v, want the failing step named", err)
	}
	if ran != 2 {
		t.Errorf("%d steps ran, want 2", ran)
	}
}

// TestDemoRemovesItsTempDir: the temporary directory of the users-as-code
// step is gone when the demo ends.
func TestDemoRemovesItsTempDir(t *testing.T) {
	t.Parallel()
	var dir string
	steps := []tourStep{{"make it", func(t *tour, _ context.Context) error {
		var err error
		dir, err = t.tempDir()
		return err
	}}}
	var out bytes.Buffer
	if err := runDemo(t.Context(), &demoOptions{rsaKey: testKey(), steps: steps}, &IOStreams{Out: &out, ErrOut: &out}); err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		t.Fatal("no temporary directory made")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after the demo: %v", dir, err)
	}
}
