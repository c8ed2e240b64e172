package manifest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm/dsmtest"
)

// TestPlanSeesCannotChangePassword checks that cannot_change_password is
// compared with the NAS both ways, applied, and then matches.
func TestPlanSeesCannotChangePassword(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "kay", Password: "Kay-Passw0rd!"}),
		dsmtest.WithUser(dsmtest.User{Name: "lou", Password: "Lou-Passw0rd!", CannotChangePassword: true}))
	c := srv.Client()
	ctx := t.Context()
	f := mustParse(t, "users:\n  - name: kay\n    cannot_change_password: true\n  - name: lou\n    cannot_change_password: false\n")
	plan, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `~ user kay
    cannot_change_password: false -> true
~ user lou
    cannot_change_password: true -> false
Plan: 0 to create, 2 to change, 0 to delete.
`
	if d := cmp.Diff(want, plan.String()); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	res, err := plan.Apply(ctx, c, ApplyOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("Apply: %v %+v", err, res)
	}
	users := nasUsers(t, c)
	if !users["kay"].CannotChangePassword || users["lou"].CannotChangePassword {
		t.Errorf("after Apply: kay cannot_change_password %v, lou %v; want true, false",
			users["kay"].CannotChangePassword, users["lou"].CannotChangePassword)
	}
	again, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil || !again.Empty() {
		t.Errorf("second plan: %v\n%s", err, again)
	}
}
