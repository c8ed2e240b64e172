package manifest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm/dsmtest"
)

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
