package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
	"github.com/dsmkit/dsm/internal/audit"
)

const (
	auditOpsPassword  = "Kestrel-Moon-2024!"
	auditCarlPassword = "Heron-River-2024!"
	auditHankPassword = "Osprey-Hill-2024!"
)

// plantedEnv starts a simulator with one planted instance of each risk
// dsmctl audit checks, and returns an environment logged in (saved
// session) as ops, an administrator with 2-step verification:
//
//	admin   enabled, 2-step               default-admin-enabled
//	guest   enabled                       guest-enabled
//	ops     administrator, 2-step         trusted-device ("laptop")
//	carl    administrator, no 2-step      admin-no-2fa
//	dora    administrator, disabled       disabled-admin; the 4th admin: many-admins
//	erin    password never expires        password-never-expires
//	fred    password 100 days old         password-too-old (max age 90)
//	gus     expired 74 days before end    account-expired
//	hank    created under "must change"   first-password-unchanged
//
// and the settings: 2-step enforced for none (2fa-not-enforced), DSM's
// default password policy (weak-password-policy), auto-block and account
// protection off. The simulator's clock ends 30 seconds after end.
func plantedEnv(t *testing.T, end time.Time) (*cliEnv, *dsmtest.Server) {
	t.Helper()
	start := end.Add(-100 * 24 * time.Hour)
	expired := end.AddDate(0, 0, -74).UTC()
	srv := dsmtest.Start(t,
		dsmtest.WithRSAKey(testKey()),
		dsmtest.WithTime(start),
		dsmtest.WithAutoBlock(0, 0, 0),
		dsmtest.WithAccountLock(-1, 0, 0),
		dsmtest.WithUser(dsmtest.User{Name: "ops", Password: "First-Lark-2023!", Admin: true, OTPSecret: bobOTPSecret}),
		dsmtest.WithUser(dsmtest.User{Name: "carl", Password: "First-Wren-2023!", Admin: true}),
		dsmtest.WithUser(dsmtest.User{Name: "dora", Password: "Swift-Dune-2024!", Admin: true, Expired: "now"}),
		dsmtest.WithUser(dsmtest.User{Name: "erin", Password: "Crane-Field-2024!", PasswordNeverExpires: true}),
		dsmtest.WithUser(dsmtest.User{Name: "fred", Password: "Finch-Lake-2024!"}),
		dsmtest.WithUser(dsmtest.User{Name: "gus", Password: "Robin-Vale-2024!", Expired: expired.Format("2006/1/2")}),
	)
	srv.Advance(end.Sub(start))
	c := srv.Client()
	ctx := t.Context()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// Fresh passwords for all but fred (and the disabled, who are not
	// checked), admin's last, as the client is admin.
	for name, pw := range map[string]string{"ops": auditOpsPassword, "carl": auditCarlPassword} {
		_, err := c.Users.Update(ctx, name, dsm.UserUpdateRequest{Password: dsm.Ptr(pw)})
		must("password of "+name, err)
	}
	_, err := c.Users.Update(ctx, "guest", dsm.UserUpdateRequest{Expiry: dsm.Ptr(dsm.Never)})
	must("enable guest", err)
	must("expiry", c.Policy.SetPasswordExpiry(ctx, dsm.PasswordExpiry{Enabled: true, MaxAge: 90}, nil))
	pol, err := c.Policy.PasswordPolicy(ctx)
	must("policy", err)
	pol.MustChange = true
	must("must change", c.Policy.SetPasswordPolicy(ctx, pol))
	_, err = c.Users.Create(ctx, dsm.UserCreateRequest{Name: "hank", Password: auditHankPassword})
	must("create hank", err)
	setup, err := c.TwoStep.Setup(ctx)
	must("admin 2-step", err)
	must("admin 2-step", c.TwoStep.Confirm(ctx, dsmtest.TOTP(setup.Secret(), srv.Now())))
	_, err = c.Users.Update(ctx, "admin", dsm.UserUpdateRequest{Password: dsm.Ptr("Eagle-Peak-2024!"), PasswordNeverExpires: dsm.Ptr(false)})
	must("admin password", err)

	e := newEnv(t, srv, "DSM_USER", "ops", "DSM_PASSWORD", auditOpsPassword)
	// The code of the simulator's clock, which need not be the local one.
	e.mustRun(t, "login", "--otp", dsmtest.TOTP(bobOTPSecret, srv.Now()))
	// The login trusted "dsmctl on HOST"; the planted device is "laptop",
	// trusted by a login of the next 30-second window (a code is
	// accepted once), and dsmctl's own is forgotten, so that no host
	// name is in the output.
	srv.Advance(30 * time.Second)
	cred := dsm.Credentials{Account: "ops", Password: auditOpsPassword, OTPCode: dsmtest.TOTP(bobOTPSecret, srv.Now()), DeviceName: "laptop"}
	ops, err := dsm.NewClient(srv.URL(), dsm.WithCredentials(cred))
	must("client", err)
	_, err = ops.Auth.Login(ctx, cred)
	must("login of ops", err)
	devs, err := ops.TwoStep.Devices(ctx)
	must("devices", err)
	for _, d := range devs {
		if d.Name != "laptop" {
			must("forget", ops.TwoStep.ForgetDevice(ctx, d.ID))
		}
	}
	// Later commands use the saved session, not a login of their own.
	return e.with("DSM_PASSWORD", ""), srv
}

// deviceID matches the id of a trusted device, random in the simulator.
var deviceID = regexp.MustCompile(`\b[0-9a-f]{16}\b`)

// stableAudit masks the device id with a mask as long, so that the
// table's columns stay where they are.
func stableAudit(s string) string { return deviceID.ReplaceAllString(s, "DEVICE-ID-16-HEX") }

// TestGoldenAudit: on the planted simulator, dsmctl audit reports
// exactly the planted risks, one finding each, in the table, JSON and
// Markdown forms of the golden files.
func TestGoldenAudit(t *testing.T) {
	t.Parallel()
	e, _ := plantedEnv(t, goldenTime)
	for _, tc := range []struct{ name, format string }{{"audit", "text"}, {"audit_json", "json"}, {"audit_markdown", "markdown"}} {
		r := e.run(t, "audit", "-o", tc.format)
		r.wantCode(t, 0)
		checkGolden(t, tc.name, stableAudit(r.stdout))
	}
	var doc auditDoc
	r := e.mustRun(t, "audit", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range doc.Findings {
		got = append(got, f.Key())
	}
	slices.Sort(got)
	want := []string{audit.AccountExpired + ":gus", audit.AccountProtectionOff, audit.AdminNoTwoStep + ":carl", audit.AutoBlockOff,
		audit.DefaultAdminEnabled, audit.DisabledAdmin + ":dora", audit.FirstPasswordUnchanged + ":hank", audit.GuestEnabled,
		audit.ManyAdmins, audit.PasswordNeverExpires + ":erin", audit.PasswordTooOld + ":fred", audit.TrustedDevice + ":ops",
		audit.TwoStepNotEnforced, audit.WeakPasswordPolicy}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(want) != len(audit.Checks) {
		t.Errorf("%d planted risks for %d checks: plant one of each", len(want), len(audit.Checks))
	}
}

// TestAuditFixesClearFindings runs the fix of each finding, as the
// finding gives it, and checks that the finding is gone after it; at the
// end the audit is clean.
func TestAuditFixesClearFindings(t *testing.T) {
	// On the local clock: the 2-step fix confirms with a code of it.
	e, _ := plantedEnv(t, time.Now().Add(-30*time.Second))
	t.Chdir(t.TempDir()) // the 2-step fix writes its seed file here
	findings := func() []audit.Finding {
		t.Helper()
		var doc auditDoc
		r := e.mustRun(t, "audit", "-o", "json")
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Findings
	}
	done := map[string]bool{}
	for {
		fs := findings()
		i := slices.IndexFunc(fs, func(f audit.Finding) bool { return !done[f.Key()] })
		if i < 0 {
			if len(fs) > 0 {
				t.Fatalf("findings left after their fixes: %+v", fs)
			}
			break
		}
		f := fs[i]
		done[f.Key()] = true
		args := strings.Fields(f.Fix)
		if args[0] != "dsmctl" {
			t.Fatalf("%s: the fix %q is not a dsmctl command", f.Key(), f.Fix)
		}
		env := e
		if f.Check == audit.AdminNoTwoStep {
			// Its holder runs it, with their password.
			env = e.with("DSM_PASSWORD", auditCarlPassword)
		}
		t.Logf("%s: %s", f.Key(), f.Fix)
		env.mustRun(t, args[1:]...)
		for _, g := range findings() {
			if g.Key() == f.Key() {
				t.Errorf("%s: still reported after %q", f.Key(), f.Fix)
			}
		}
	}
	if len(done) < len(audit.Checks) {
		t.Errorf("%d fixes run, want one per check at least (%d)", len(done), len(audit.Checks))
	}
}

// TestAuditFailOnAndIgnore: --fail-on sets the exit code from the worst
// finding left after --ignore and --ignore-file.
func TestAuditFailOnAndIgnore(t *testing.T) {
	t.Parallel()
	e, _ := plantedEnv(t, goldenTime)
	e.run(t, "audit", "--fail-on", "high").wantCode(t, ExitFindings)
	e.run(t, "audit", "--fail-on", "high", "--ignore", "admin-no-2fa:carl").wantCode(t, 0)
	e.run(t, "audit", "--fail-on", "medium", "--ignore", "admin-no-2fa").wantCode(t, ExitFindings)
	file := filepath.Join(t.TempDir(), "accepted")
	os.WriteFile(file, []byte("# accepted risks\nadmin-no-2fa:carl  # carl is away\n\n"), 0o600)
	r := e.run(t, "audit", "--fail-on", "high", "--ignore-file", file, "-o", "json")
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, `"ignored": 1`) {
		t.Errorf("the ignored finding is not counted:\n%s", r.stdout)
	}
	for _, bad := range [][]string{{"--fail-on", "severe"}, {"--ignore", "no-such-check"}, {"--ignore", "autoblock-off:bob"}, {"-o", "yaml"}} {
		r := e.run(t, append([]string{"audit"}, bad...)...)
		r.wantCode(t, ExitUsage)
	}
	os.WriteFile(file, []byte("guest-enabled\nbogus\n"), 0o600)
	r = e.run(t, "audit", "--ignore-file", file)
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "accepted:2") || !strings.Contains(r.stderr, "unknown check") {
		t.Errorf("no line number or reason:\n%s", r.stderr)
	}
}
