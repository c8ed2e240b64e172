package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	t.Parallel()
	const adminPassword = "Demo-Admin-Pw-7"
	var out, errOut bytes.Buffer
	o := &demoOptions{rsaKey: testKey(), adminPassword: adminPassword}
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
		"End of the tour.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the demo does not show %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{adminPassword, demoPassword, demoOTPSecret, demoWeakPassword, demoGoodPassword, " passwd=", " password="} {
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
