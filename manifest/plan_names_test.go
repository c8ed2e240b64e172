package manifest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// deletions returns the users and groups a plan deletes, as "user NAME"
// and "group NAME".
func deletions(p *Plan) []string {
	var dels []string
	for _, u := range p.Users {
		if u.Action == ActionDelete {
			dels = append(dels, "user "+u.Name)
		}
	}
	for _, g := range p.Groups {
		if g.Action == ActionDelete {
			dels = append(dels, "group "+g.Name)
		}
	}
	return dels
}

// TestPlanMatchesNamesWithoutCase checks that a name in the file is the
// NAS's user of that name in any case, as DSM compares names: no create,
// and no delete under prune.
func TestPlanMatchesNamesWithoutCase(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-Pw-1234", Description: "Alice"}),
		dsmtest.WithUser(dsmtest.User{Name: "Bob", Password: "Bob-Pw-12345", Description: "Bob"}))
	c := srv.Client()
	ctx := t.Context()

	// A password to generate applies to a new user only: when the names
	// match, there is none.
	same := mustParse(t, `users:
  - name: Alice
    description: Alice
    password: {generate: true}
  - name: bob
    description: Bob
    password: {generate: true}
`)
	plan, err := same.Plan(ctx, c, PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() {
		t.Errorf("plan of the NAS's users named in another case is not empty:\n%s", plan)
	}

	// A change is an update of the NAS's user, under the NAS's name.
	changed := mustParse(t, `users:
  - name: Alice
    description: Alice L.
    password: {generate: true}
  - name: bob
    description: Bob B.
    password: {generate: true}
`)
	plan, err = changed.Plan(ctx, c, PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	type change struct {
		Action  Action
		Name    string
		Changes []Change
	}
	var got []change
	for _, u := range plan.Users {
		got = append(got, change{u.Action, u.Name, u.Changes})
	}
	want := []change{
		{ActionUpdate, "alice", []Change{{"description", "Alice", "Alice L."}}},
		{ActionUpdate, "Bob", []Change{{"description", "Bob", "Bob B."}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("users of the plan (-want +got):\n%s\n%s", d, plan)
	}
}

// TestPruneKeepsTheRunningAccount checks that prune never deletes the
// account the plan runs as, when it is an administrator other than admin.
func TestPruneKeepsTheRunningAccount(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "ops", Password: "Ops-Passw0rd!", Admin: true}),
		dsmtest.WithUser(dsmtest.User{Name: "dave", Password: "Dave-Pw-1234"}),
		dsmtest.WithUser(dsmtest.User{Name: "erin", Password: "Erin-Pw-1234"}))
	c, err := dsm.NewClient(srv.URL(), dsm.WithCredentials(dsm.Credentials{Account: "ops", Password: "Ops-Passw0rd!"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	f := mustParse(t, "users:\n  - name: dave\n")
	plan, err := f.Plan(ctx, c, PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"user erin"}, deletions(plan)); d != "" {
		t.Errorf("deletions of a prune run as ops (-want +got):\n%s\n%s", d, plan)
	}
	res, err := plan.Apply(ctx, c, ApplyOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("Apply: %v %+v", err, res)
	}
	users := nasUsers(t, c)
	for _, name := range []string{"ops", "dave", "admin"} {
		if _, ok := users[name]; !ok {
			t.Errorf("%s is gone after the prune", name)
		}
	}
	if _, ok := users["erin"]; ok {
		t.Error("erin is still there after the prune")
	}
}
