package cli

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
)

func TestGroupWorkflow(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	ctx := t.Context()
	lib := srv.Client()

	r := e.mustRun(t, "group", "create", "staff", "--description", "Office staff")
	if !strings.HasPrefix(r.stdout, "created group staff (gid ") {
		t.Errorf("create stdout:\n%s", r.stdout)
	}
	g, err := lib.Groups.Get(ctx, "staff")
	if err != nil || g.Description != "Office staff" {
		t.Fatalf("created group %+v, %v", g, err)
	}

	r = e.mustRun(t, "group", "get", "staff", "-o", "yaml")
	if diff := cmp.Diff("name: staff\ngid: "+strconv.Itoa(g.GID)+"\ndescription: Office staff\n", r.stdout); diff != "" {
		t.Errorf("get -o yaml (-want +got):\n%s", diff)
	}

	r = e.mustRun(t, "group", "list", "-o", "csv")
	if !strings.HasPrefix(r.stdout, "name,gid,description\n") || !strings.Contains(r.stdout, "\nstaff,"+strconv.Itoa(g.GID)+",Office staff\n") {
		t.Errorf("list -o csv:\n%s", r.stdout)
	}

	r = e.mustRun(t, "group", "add", "staff", "alice", "bob")
	if r.stdout != "alice, bob added to staff\n" {
		t.Errorf("add stdout:\n%s", r.stdout)
	}
	r = e.mustRun(t, "group", "members", "staff")
	want := "NAME   UID   DESCRIPTION\nalice  1026  Alice Liddell\nbob    1027  -\n"
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	e.mustRun(t, "group", "remove", "staff", "bob")
	m, err := lib.Groups.Members(ctx, "staff")
	if err != nil || len(m) != 1 || m[0].Name != "alice" {
		t.Errorf("members after remove: %+v, %v", m, err)
	}
	r = e.mustRun(t, "group", "members", "staff", "--not", "-o", "json")
	if !strings.Contains(r.stdout, `"name": "bob"`) || strings.Contains(r.stdout, `"name": "alice"`) {
		t.Errorf("members --not:\n%s", r.stdout)
	}

	// Update changes only what is given.
	e.mustRun(t, "group", "update", "staff", "--rename", "employees")
	g2, err := lib.Groups.Get(ctx, "employees")
	if err != nil || g2.Description != "Office staff" || g2.GID != g.GID {
		t.Errorf("after rename: %+v, %v", g2, err)
	}
	e.mustRun(t, "group", "update", "employees", "--description", "")
	if g3, _ := lib.Groups.Get(ctx, "employees"); g3.Description != "" {
		t.Errorf("after --description '': %+v", g3)
	}
	e.run(t, "group", "update", "employees").wantCode(t, ExitUsage)

	e.run(t, "group", "delete", "employees").wantCode(t, ExitUsage)
	e.mustRun(t, "group", "delete", "employees", "--yes")
	groups, _, err := lib.Groups.List(ctx, dsm.GroupListOptions{})
	if err != nil || slices.ContainsFunc(groups, func(g dsm.Group) bool { return g.Name == "employees" }) {
		t.Errorf("after delete: %+v, %v", groups, err)
	}
	e.run(t, "group", "delete", "administrators", "--yes").wantCode(t, ExitFailure)
	e.run(t, "group", "create", "users").wantCode(t, ExitFailure)
	e.run(t, "group", "create", "a-name-longer-than-thirty-two-chars").wantCode(t, ExitUsage)
	e.run(t, "group", "add", "staff").wantCode(t, ExitUsage)
}
