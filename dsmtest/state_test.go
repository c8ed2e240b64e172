package dsmtest_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dsmkit/dsm/dsmtest"
)

// TestUsersGroupsAndState drives the new options over the real listener:
// seeded groups and memberships, an expired account, a join task moved on
// with Advance, a confirm token, and a state that survives a restart.
func TestUsersGroupsAndState(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	opts := []dsmtest.Option{
		dsmtest.WithAdminPassword("Adm1n-pw!"),
		dsmtest.WithDataDir(dir),
		dsmtest.WithJoinDelay(time.Minute),
		dsmtest.WithGroup(dsmtest.Group{Name: "staff", Description: "Staff", Members: []string{"admin"}}),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "alice-pw", Groups: []string{"staff"}, PasswordNeverExpires: true}),
		dsmtest.WithUser(dsmtest.User{Name: "old", Password: "old-pw", Expired: "2001/2/3"}),
	}
	srv := dsmtest.Start(t, opts...)
	hc := srv.HTTPClient()
	var sess struct {
		SID string `json:"sid"`
	}
	json.Unmarshal(post(t, hc, srv, login("admin", "Adm1n-pw!")...).Data, &sess)
	call := func(kv ...string) dsmAnswer {
		return post(t, hc, srv, append(kv, "version", "1", "_sid", sess.SID)...)
	}
	groupsOf := func(name string) []string {
		a := call("api", "SYNO.Core.User", "method", "get", "name", name, "additional", `["groups"]`)
		var d struct{ Users []struct{ Groups []string } }
		json.Unmarshal(a.Data, &d)
		if len(d.Users) != 1 {
			t.Fatalf("get %s: %+v", name, a)
		}
		return d.Users[0].Groups
	}
	if got := groupsOf("alice"); !slices.Equal(got, []string{"staff", "users"}) {
		t.Errorf("alice's groups: %v", got)
	}
	if got := groupsOf("admin"); !slices.Equal(got, []string{"administrators", "staff", "users"}) {
		t.Errorf("admin's groups: %v", got)
	}
	if c := code(post(t, hc, srv, login("old", "old-pw")...)); c != 401 {
		t.Errorf("expired account: code %d, want 401", c)
	}

	a := call("api", "SYNO.Core.User.Group", "method", "join", "name", "alice", "join_group", `["http"]`, "leave_group", `["staff"]`)
	var task struct {
		TaskID string `json:"task_id"`
	}
	json.Unmarshal(a.Data, &task)
	status := func() bool {
		var st struct{ Finish bool }
		json.Unmarshal(call("api", "SYNO.Core.User.Group", "method", "join_status", "task_id", task.TaskID).Data, &st)
		return st.Finish
	}
	if status() || !slices.Equal(groupsOf("alice"), []string{"staff", "users"}) {
		t.Errorf("the join applied before its delay: %v", groupsOf("alice"))
	}
	srv.Advance(time.Minute)
	if !status() || !slices.Equal(groupsOf("alice"), []string{"http", "users"}) {
		t.Errorf("the join did not apply after its delay: %v", groupsOf("alice"))
	}

	a = call("api", "SYNO.Core.User.PasswordConfirm", "method", "auth", "password", "Adm1n-pw!")
	var tok struct{ SynoConfirmPWToken string }
	json.Unmarshal(a.Data, &tok)
	if !srv.ConfirmTokenValid(tok.SynoConfirmPWToken) || srv.ConfirmTokenValid("nope") {
		t.Errorf("ConfirmTokenValid: %+v", a)
	}
	srv.Advance(301 * time.Second)
	if srv.ConfirmTokenValid(tok.SynoConfirmPWToken) {
		t.Error("confirm token valid after 300 s")
	}
	srv.Close()

	// A second server on the same directory has the first one's state.
	srv2 := dsmtest.Start(t, dsmtest.WithAdminPassword("Adm1n-pw!"), dsmtest.WithDataDir(dir))
	json.Unmarshal(post(t, hc, srv2, login("admin", "Adm1n-pw!")...).Data, &sess)
	srv = srv2
	if got := groupsOf("alice"); !slices.Equal(got, []string{"http", "users"}) {
		t.Errorf("alice's groups after a restart: %v", got)
	}
}
