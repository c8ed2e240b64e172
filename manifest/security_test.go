package manifest

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// setUpOwnTwoStep turns on 2-step verification of the account c is
// signed in as, as "dsmctl 2fa setup" does; c's session goes on.
func setUpOwnTwoStep(t *testing.T, srv *dsmtest.Server, c *dsm.Client) {
	t.Helper()
	setup, err := c.TwoStep.Setup(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.TwoStep.Confirm(t.Context(), dsmtest.TOTP(setup.Secret(), srv.Now())); err != nil {
		t.Fatal(err)
	}
}

func TestSecuritySectionPlanApplyExport(t *testing.T) {
	t.Parallel()
	srv := startNAS(t)
	c := srv.Client()
	ctx := t.Context()
	setUpOwnTwoStep(t, srv, c) // else admins would lock admin out
	f := mustParse(t, `security:
  two_step_enforcement: admins
  auto_block: {enabled: true, attempts: 4, within_minutes: 7, expire_days: 3}
  account_protection:
    enabled: true
    untrusted_attempts: 6
    trusted_lock_minutes: 45
  allow: [192.0.2.0/24, "::ffff:198.51.100.7"]
`)
	plan, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sections []string
	for _, s := range plan.Settings {
		sections = append(sections, s.Section)
	}
	if diff := cmp.Diff([]string{SectionTwoStep, SectionAutoBlock, SectionAccountProtection, SectionAllow}, sections); diff != "" {
		t.Fatalf("sections (-want +got):\n%s\n%s", diff, plan)
	}
	if got := plan.Settings[0].Changes; !cmp.Equal(got, []Change{{Field: "two_step_enforcement", Old: "none", New: "admins"}}) {
		t.Errorf("two_step change: %+v", got)
	}
	if got := plan.Settings[3].Changes[0].New; got != "192.0.2.0/24, 198.51.100.7" {
		t.Errorf("allow list planned as %q, want it normalized and sorted", got)
	}
	res, err := plan.Apply(ctx, c, ApplyOptions{})
	if err != nil || len(res.Failures) > 0 {
		t.Fatalf("apply: %v %+v", err, res.Failures)
	}
	ab, _ := c.Security.AutoBlock(ctx)
	if want := (dsm.AutoBlock{Enabled: true, Attempts: 4, WithinMinutes: 7, ExpireDays: 3}); ab != want {
		t.Errorf("auto-block %+v, want %+v", ab, want)
	}
	ap, _ := c.Security.AccountProtection(ctx)
	if !ap.Enabled || ap.Untrusted.Attempts != 6 || ap.Trusted.LockMinutes != 45 {
		t.Errorf("account protection %+v", ap)
	}
	if e, _ := c.TwoStep.Enforcement(ctx); e != dsm.EnforceAdmins {
		t.Errorf("enforcement %q, want admin", e)
	}
	again, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil || !again.Empty() {
		t.Fatalf("second plan not empty: %v\n%s", err, again)
	}

	// The file's allow list is the whole list: an entry it drops goes.
	g := mustParse(t, "security:\n  allow: [192.0.2.0/24]\n")
	plan, err = g.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := plan.Apply(ctx, c, ApplyOptions{}); err != nil || len(res.Failures) > 0 {
		t.Fatalf("apply: %v %+v", err, res.Failures)
	}
	rules, _ := c.Security.AllowList(ctx)
	if len(rules) != 1 || rules[0].Address != "192.0.2.0/24" {
		t.Errorf("allow list %+v, want 192.0.2.0/24 alone", rules)
	}

	// Export writes every setting, and its plan changes nothing.
	exp, err := Export(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{FormatYAML, FormatJSON} {
		var b strings.Builder
		if err := exp.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"two_step_enforcement", "admins", "within_minutes", "untrusted_attempts", "192.0.2.0/24"} {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s export lacks %q:\n%s", format, w, b.String())
			}
		}
		back, err := Parse("export."+format, []byte(b.String()))
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, b.String())
		}
		plan, err := back.Plan(ctx, c, PlanOptions{})
		if err != nil || !plan.Empty() {
			t.Errorf("%s: plan of the export: %v\n%s", format, err, plan)
		}
	}
}

func TestSecuritySectionProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"enforcement", "security:\n  two_step_enforcement: everyone\n", `2: security.two_step_enforcement: "everyone": want none, admins or all`},
		{"attempts", "security:\n  auto_block:\n    attempts: 0\n", `3: security.auto_block.attempts: 0 is out of range: want 1 to 100`},
		{"expire", "security:\n  auto_block:\n    expire_days: 2001\n", `3: security.auto_block.expire_days: 2001 is out of range: want 0 to 2000 (0: never)`},
		{"lock", "security:\n  account_protection:\n    trusted_lock_minutes: 0\n", `3: security.account_protection.trusted_lock_minutes: 0 is out of range: want 1 to 525600`},
		{"unknown", "security:\n  autoblock: {}\n", `2: security: unknown key "autoblock"`},
		{"allow", "security:\n  allow: [10.0.0.0/8, nope]\n", `2: security.allow[1]: "nope": not an IP address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("f.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSecuritySectionDigests: a saved plan of a security section is
// refused once the NAS's setting moved: the digest of the section, as
// Plan read it, changes with it.
func TestSecuritySectionDigests(t *testing.T) {
	t.Parallel()
	srv := startNAS(t)
	c := srv.Client()
	ctx := t.Context()
	f := mustParse(t, "security:\n  auto_block: {attempts: 3}\n  two_step_enforcement: all\n  allow: [192.0.2.1]\n")
	opts := PlanOptions{AllowLockout: true} // admin has no 2-step
	plan, err := f.Plan(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	before := plan.Digests()
	for _, k := range []string{SectionAutoBlock, SectionTwoStep, SectionAllow} {
		if !strings.HasPrefix(before[k], "sha256:") {
			t.Errorf("no digest of %s: %v", k, before)
		}
	}
	if err := c.Security.SetAutoBlock(ctx, dsm.AutoBlock{Enabled: true, Attempts: 9, WithinMinutes: 9}); err != nil {
		t.Fatal(err)
	}
	again, err := f.Plan(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	after := again.Digests()
	if after[SectionAutoBlock] == before[SectionAutoBlock] {
		t.Error("the auto-block digest did not change with the setting")
	}
	if after[SectionTwoStep] != before[SectionTwoStep] || after[SectionAllow] != before[SectionAllow] {
		t.Error("digests of settings that did not change moved")
	}
}

// TestSecuritySectionCustomEnforcement: custom, which export writes for
// DSM 7's policy of chosen users and groups, plans to nothing where the
// NAS has it, and is refused, with its line, where it would be set.
func TestSecuritySectionCustomEnforcement(t *testing.T) {
	t.Parallel()
	srv := startNAS(t)
	f := mustParse(t, "security:\n  two_step_enforcement: custom\n")
	_, err := f.Plan(t.Context(), srv.Client(), PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "2: security.two_step_enforcement: custom (chosen users and groups) is set in DSM") {
		t.Errorf("Plan: %v", err)
	}
	plan := &Plan{settings: nasSettings{Enforcement: dsm.EnforceCustom}}
	probs := &problems{}
	planSecurity(f.Security, plan, probs)
	if len(plan.Settings) != 0 || len(probs.list) != 0 {
		t.Errorf("custom on a NAS that has it: %+v %+v", plan.Settings, probs.list)
	}
}

// TestSecuritySectionLockout: a two_step_enforcement that covers the
// account planning (admins or all: only an administrator sets it) while
// that account has no 2-step verification is a problem at its line, which
// says what would happen and what to do; AllowLockout plans it anyway,
// and once the account has 2-step it plans without. Plans that would not
// change the enforcement, or set none, are not held back.
func TestSecuritySectionLockout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		nas   dsm.TwoStepEnforcement // set once signed in: admin's session outlives it
		file  string
		own   bool // the planning account has 2-step
		allow bool
		want  string // the problem, "" for none
	}{
		{name: "admins", nas: dsm.EnforceNone, file: "admins", want: "3: security.two_step_enforcement: admins covers admin, the account applying it, which has no 2-step verification: " +
			"after apply it could not sign in again (DSM answers 406); set it up first (dsmctl 2fa setup), or pass --allow-lockout to apply it anyway"},
		{name: "all", nas: dsm.EnforceNone, file: "all", want: "3: security.two_step_enforcement: all covers admin"},
		{name: "admins to all", nas: dsm.EnforceAdmins, file: "all", want: "3: security.two_step_enforcement: all covers admin"},
		{name: "all to admins", nas: dsm.EnforceAll, file: "admins", want: "3: security.two_step_enforcement: admins covers admin"},
		{name: "allowed", nas: dsm.EnforceNone, file: "all", allow: true},
		{name: "own 2-step", nas: dsm.EnforceNone, file: "all", own: true},
		{name: "unchanged", nas: dsm.EnforceAll, file: "all"},
		{name: "to none", nas: dsm.EnforceAll, file: "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startNAS(t)
			c := srv.Client()
			if tc.own {
				setUpOwnTwoStep(t, srv, c)
			}
			if err := c.TwoStep.SetEnforcement(t.Context(), tc.nas); err != nil {
				t.Fatal(err)
			}
			f := mustParse(t, "groups: [{name: staff}]\nsecurity:\n  two_step_enforcement: "+tc.file+"\n")
			plan, err := f.Plan(t.Context(), c, PlanOptions{AllowLockout: tc.allow})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Plan: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Plan: %v, want one problem %q\n%s", err, tc.want, plan)
			}
			if p := ve.Problems[0]; p.Line != 3 || p.Path != SectionTwoStep {
				t.Errorf("problem at %d %s, want 3 %s", p.Line, p.Path, SectionTwoStep)
			}
		})
	}
}
