package cli

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
)

func TestPolicyPassword(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	lib := srv.Client()
	before, err := lib.Policy.PasswordPolicy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r := e.mustRun(t, "policy", "password")
	if !strings.Contains(r.stdout, "min length:          8\n") || !strings.Contains(r.stdout, "mixed case:          yes\n") {
		t.Errorf("policy password:\n%s", r.stdout)
	}

	// Each set changes its rules and nothing else.
	steps := []struct {
		args   []string
		change func(*dsm.PasswordPolicy)
	}{
		{[]string{"--min-length", "12"}, func(p *dsm.PasswordPolicy) { p.Strong.MinLength = 12 }},
		{[]string{"--special", "--mixed-case=false"}, func(p *dsm.PasswordPolicy) { p.Strong.Special, p.Strong.MixedCase = true, false }},
		{[]string{"--min-length", "0"}, func(p *dsm.PasswordPolicy) { p.Strong.MinLengthEnabled = false }},
		{[]string{"--exclude-history", "--history-count", "3"}, func(p *dsm.PasswordPolicy) { p.Strong.ExcludeHistory, p.Strong.HistoryCount = true, 3 }},
		{[]string{"--must-change", "--reset-by-email", "--exclude-common", "--digit=false", "--exclude-username=false"}, func(p *dsm.PasswordPolicy) {
			p.MustChange, p.ResetByEmail, p.Strong.ExcludeCommon, p.Strong.Digit, p.Strong.ExcludeUsername = true, true, true, false, false
		}},
	}
	want := before
	for _, st := range steps {
		r := e.mustRun(t, append([]string{"policy", "password", "set", "-o", "json"}, st.args...)...)
		st.change(&want)
		got, err := lib.Policy.PasswordPolicy(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after set %v (-want +got):\n%s", st.args, diff)
		}
		var printed map[string]any
		decodeJSON(t, r.stdout, &printed)
		if printed["history_count"] != float64(got.Strong.HistoryCount) || printed["min_length_enabled"] != got.Strong.MinLengthEnabled {
			t.Errorf("set printed %v, the policy is %+v", printed, got)
		}
	}
	e.run(t, "policy", "password", "set").wantCode(t, ExitUsage)
	e.run(t, "policy", "password", "set", "--min-length", "200").wantCode(t, ExitUsage)
	// The library refuses these (*dsm.ArgError): a usage error too.
	e.run(t, "policy", "password", "set", "--history-count", "0", "--exclude-history").wantCode(t, ExitUsage)
	e.run(t, "policy", "password", "set", "--history-count", "25").wantCode(t, ExitUsage)
}

func TestPolicyExpiry(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	lib := srv.Client()
	want, err := lib.Policy.PasswordExpiry(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, "policy", "expiry", "set", "--enable", "--max-age", "90", "--login-prompt-days", "7")
	want.Enabled, want.MaxAge, want.LoginPrompt, want.LoginPromptDays = true, 90, true, 7
	got, err := lib.Policy.PasswordExpiry(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after set (-want +got):\n%s", diff)
	}
	r := e.mustRun(t, "policy", "expiry", "set", "--min-age", "2", "--mail-notification-days", "5", "--allow-reset-after-expired=false", "-o", "csv")
	want.MinAgeEnabled, want.MinAge, want.MailNotification, want.MailNotificationDays, want.AllowResetAfterExpired = true, 2, true, 5, false
	got, _ = lib.Policy.PasswordExpiry(t.Context())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after set (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(r.stdout, "enabled,max_age,min_age_enabled,min_age,") || !strings.Contains(r.stdout, "\ntrue,90,true,2,true,7,false,true,5,\"admin,guest\"\n") {
		t.Errorf("csv:\n%s", r.stdout)
	}
	r = e.mustRun(t, "policy", "expiry", "set", "--login-prompt-days", "0")
	if !strings.Contains(r.stdout, "login prompt:               no\n") {
		t.Errorf("text:\n%s", r.stdout)
	}

	// --never-expire is the whole list: exactly these users are exempt,
	// and policy expiry shows them.
	exempt := func() []string {
		var out []string
		for _, n := range []string{"admin", "alice", "bob"} {
			if libUser(t, srv, n).PasswordNeverExpires {
				out = append(out, n)
			}
		}
		return out
	}
	for _, tt := range []struct {
		list string
		want []string
	}{
		{"alice,bob", []string{"alice", "bob"}},
		{"bob", []string{"bob"}},
		{"", nil},
	} {
		r := e.mustRun(t, "policy", "expiry", "set", "--never-expire", tt.list, "-o", "json")
		if d := cmp.Diff(tt.want, exempt()); d != "" {
			t.Errorf("--never-expire %q: exempt (-want +got):\n%s", tt.list, d)
		}
		var shown struct {
			NeverExpire []string `json:"never_expire"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil || !slices.Equal(shown.NeverExpire, tt.want) {
			t.Errorf("--never-expire %q: shows %v (%v), want %v", tt.list, shown.NeverExpire, err, tt.want)
		}
	}
	e.mustRun(t, "policy", "expiry", "set", "--never-expire", "alice")
	if r := e.mustRun(t, "policy", "expiry"); !strings.Contains(r.stdout, "never expire:               alice\n") {
		t.Errorf("policy expiry does not show the list:\n%s", r.stdout)
	}
	r = e.run(t, "policy", "expiry", "set", "--never-expire", "alice,nobody")
	r.wantCode(t, ExitNotFound)
	if d := cmp.Diff([]string{"alice"}, exempt()); d != "" || !strings.Contains(r.stderr, "nobody") {
		t.Errorf("an unknown user in the list changed something (-want +got):\n%s\n%s", d, r.stderr)
	}
	e.run(t, "policy", "expiry", "set").wantCode(t, ExitUsage)
	e.run(t, "policy", "expiry", "set", "--never-expire", "a/b").wantCode(t, ExitUsage)
	e.run(t, "policy", "expiry", "set", "--enable", "--max-age", "1000").wantCode(t, ExitUsage)
	e.run(t, "policy", "expiry", "set", "--mail-notification-days", "100").wantCode(t, ExitUsage)
}

func TestPolicyReservedNames(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	r := e.mustRun(t, "policy", "reserved-names")
	if !strings.HasPrefix(r.stdout, "NAME\n") || !strings.Contains(r.stdout, "\nroot\n") {
		t.Errorf("text:\n%s", r.stdout)
	}
	r = e.mustRun(t, "policy", "reserved-names", "-o", "json")
	var names []struct{ Name string }
	decodeJSON(t, r.stdout, &names)
	if len(names) == 0 || names[0].Name == "" {
		t.Errorf("json:\n%s", r.stdout)
	}
}

func TestConfirmPassword(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	e.stdin = srv.AdminPassword() + "\n"
	r := e.mustRun(t, "confirm-password", "--password-stdin")
	if !regexp.MustCompile(`^password confirmed; the token expires at [0-9:]{8} \(in 5m0s\)\n$`).MatchString(r.stdout) {
		t.Errorf("stdout:\n%s", r.stdout)
	}

	r = e.mustRun(t, "confirm-password", "--password-stdin", "--show-token", "-o", "json")
	var got struct {
		Expires string `json:"expires"`
		Token   string `json:"token"`
	}
	decodeJSON(t, r.stdout, &got)
	exp, err := time.Parse(time.RFC3339, got.Expires)
	if err != nil || got.Token == "" || time.Until(exp) < 4*time.Minute {
		t.Errorf("--show-token -o json: %+v (%v)", got, err)
	}
	r = e.mustRun(t, "confirm-password", "--password-stdin", "-o", "json")
	if strings.Contains(r.stdout, "token") {
		t.Errorf("the token shows without --show-token:\n%s", r.stdout)
	}

	// DSM_PASSWORD serves for both the login and the confirmation.
	newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", alicePassword).mustRun(t, "confirm-password")

	// A terminal asks; a wrong password is refused.
	te := e.with()
	te.stdin = ""
	te.terminal = []string{srv.AdminPassword()}
	te.mustRun(t, "confirm-password")
	if len(te.prompts) != 1 || te.prompts[0] != "Password of admin: " {
		t.Errorf("prompts %q", te.prompts)
	}
	e.stdin = "wrong-password\n"
	if r := e.run(t, "confirm-password", "--password-stdin"); r.code == 0 {
		t.Errorf("a wrong password was confirmed:\n%s", r.stdout)
	}
	e.with().run(t, "confirm-password").wantCode(t, ExitUsage)
}
