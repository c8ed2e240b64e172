package manifest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestApplyUnderFaults applies a file through a NAS that fails about one
// call in twenty (an error code that is not worth a retry) and drops
// connections, before and after doing the work. The first apply either
// converges or names exactly the items it could not finish; once the
// faults stop, a second apply converges.
func TestApplyUnderFaults(t *testing.T) {
	t.Parallel()
	var src strings.Builder
	src.WriteString("groups:\n  - name: class-a\n  - name: class-b\nusers:\n")
	for i := range 40 {
		fmt.Fprintf(&src, "  - name: pupil%02d\n    description: Pupil %d\n    groups: [class-%c]\n    password: {generate: true}\n", i, i, 'a'+i%2)
	}
	f := mustParse(t, src.String())

	var opts []dsmtest.Option
	for _, spec := range []string{
		"SYNO.Core.User:*:code=100:p=0.05",
		"SYNO.Core.User.Group:*:code=100:p=0.05",
		"SYNO.Core.Group:*:code=100:p=0.05",
		"SYNO.Core.User:*:reset:p=0.03",
		"SYNO.Core.User:*:reset-after:p=0.03",
		"SYNO.Core.User.Group:*:reset-after:p=0.03",
	} {
		fault, err := dsmtest.ParseFault(spec)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, dsmtest.WithFault(fault))
	}
	srv := startNAS(t, append(opts, dsmtest.WithFaultSeed(7))...)
	c, err := dsm.NewClient(srv.URL(), dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}),
		dsm.WithRetry(dsm.RetryPolicy{MaxAttempts: 4, MaxElapsed: 10 * time.Second, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	var plan *Plan
	for range 5 { // the plan's own reads may meet a fault
		if plan, err = f.Plan(ctx, c, PlanOptions{}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("plan through faults: %v", err)
	}
	res, err := plan.Apply(ctx, c, ApplyOptions{Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, fl := range res.Failures {
		if fl.Item == "" || fl.Reason == "" {
			t.Errorf("failure without item or reason: %+v", fl)
		}
		failed[fl.Item] = true
		t.Logf("failed: %s %s: %s", fl.Item, fl.Step, fl.Reason)
	}
	t.Logf("first apply: %d of %d items, %d failed", res.Succeeded, res.Total, len(res.Failures))
	if res.Succeeded+len(res.Failures) != res.Total {
		t.Errorf("%d succeeded + %d failed != %d items", res.Succeeded, len(res.Failures), res.Total)
	}

	// What the NAS still lacks is exactly what was reported failed.
	srv.ClearFaults()
	next, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range next.Groups {
		if !failed["group "+g.Name] {
			t.Errorf("group %s still needs changes but was not reported failed", g.Name)
		}
	}
	for _, u := range next.Users {
		if !failed["user "+u.Name] && !slices.ContainsFunc(u.Join, func(g string) bool { return failed["group "+g] }) {
			t.Errorf("user %s still needs changes but was not reported failed:\n%s", u.Name, next)
		}
	}

	// Without faults, the second apply converges.
	res2, err := next.Apply(ctx, c, ApplyOptions{Parallel: 4})
	if err != nil || !res2.OK() {
		t.Fatalf("second apply: %+v %v", res2, err)
	}
	last, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !last.Empty() {
		t.Errorf("plan after the second apply is not empty:\n%s", last)
	}
	users := nasUsers(t, c)
	for i := range 40 {
		u, ok := users[fmt.Sprintf("pupil%02d", i)]
		want := []string{fmt.Sprintf("class-%c", 'a'+i%2), "users"}
		if !ok || !slices.Equal(u.Groups, want) {
			t.Errorf("pupil%02d: %v (present %v), want groups %v", i, u.Groups, ok, want)
		}
	}
	if len(res.Failures) == 0 {
		t.Log("no item failed in the first apply: the faults were all ridden out")
	}
}
