package sim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These test the methods of DSM's own table for the user APIs that DSM's
// web UI calls and the reference client (N4S4/synology-api) does not.

func TestJoinListAndStop(t *testing.T) {
	t.Parallel()
	const delay = 10 * time.Minute // shorter than the session timeout
	s := newServer(t, Config{
		Users:     []User{{Name: "alice", Password: "x"}, {Name: "bob", Password: "x"}},
		Groups:    []Group{{Name: "staff"}, {Name: "dev"}, {Name: "ops"}},
		JoinDelay: delay,
	})
	admin := s.mustLogin(t, "admin", adminPW)
	join := func(name, group string) string {
		t.Helper()
		a := s.call1(t, admin, "SYNO.Core.User.Group", "join", "name", name, "join_group", `["`+group+`"]`)
		var d struct {
			TaskID string `json:"task_id"`
		}
		a.data(t, &d)
		return d.TaskID
	}
	type itemData struct {
		Name string `json:"name"`
	}
	type item struct {
		TaskID string   `json:"task_id"`
		Finish bool     `json:"finish"`
		Data   itemData `json:"data"`
	}
	list := func() map[string][]item {
		t.Helper()
		a := s.call1(t, admin, "SYNO.Core.User.Group", "join_list")
		if !a.Success {
			t.Fatalf("join_list: %s", a.raw)
		}
		var l map[string][]item
		a.data(t, &l)
		return l
	}
	stop := func(ids string) (answer, []string) {
		t.Helper()
		a := s.call1(t, admin, "SYNO.Core.User.Group", "join_stop", "task_id", ids)
		var d struct {
			TaskID []string `json:"task_id"`
		}
		if a.Success {
			a.data(t, &d)
		}
		return a, d.TaskID
	}

	if diff := cmp.Diff(map[string][]item{"running": {}, "interrupted": {}, "finished": {}}, list()); diff != "" {
		t.Errorf("join_list with no task (-want +got):\n%s", diff)
	}
	done := join("alice", "staff")
	broken := join("bob", "dev")
	s.call1(t, admin, "SYNO.Core.Group", "delete", "name", `["dev"]`)
	s.Advance(delay)
	running := join("alice", "ops")

	want := map[string][]item{
		"running":     {{TaskID: running, Data: itemData{"alice"}}},
		"interrupted": {{TaskID: broken, Finish: true, Data: itemData{"bob"}}},
		"finished":    {{TaskID: done, Finish: true, Data: itemData{"alice"}}},
	}
	if diff := cmp.Diff(want, list()); diff != "" {
		t.Errorf("join_list (-want +got):\n%s", diff)
	}

	// DSM's user dialog clears finished and interrupted tasks in one list.
	ids, _ := json.Marshal([]string{done, broken, "@administrators/groupbatch1737238746C6723E33"})
	a, stopped := stop(string(ids))
	if !a.Success || !cmp.Equal(stopped, []string{done, broken}) {
		t.Errorf("join_stop: %v (%s)", stopped, a.raw)
	}
	if l := list(); len(l["finished"]) != 0 || len(l["interrupted"]) != 0 || len(l["running"]) != 1 {
		t.Errorf("join_list after join_stop: %v", l)
	}
	if a := s.call1(t, admin, "SYNO.Core.User.Group", "join_status", "task_id", done); a.code() != codeInvalidParameter {
		t.Errorf("join_status of a stopped task: code %d, want 120", a.code())
	}
	if got := s.groupsOfUser(t, admin, "alice"); !cmp.Equal(got, []string{"staff", "users"}) {
		t.Errorf("stopping a finished task undid it: alice is in %v", got)
	}

	// A running task stopped (one id, bare) never makes its change.
	if a, stopped := stop(running); !a.Success || !cmp.Equal(stopped, []string{running}) {
		t.Errorf("join_stop of a running task: %v (%s)", stopped, a.raw)
	}
	s.Advance(delay)
	if got := s.groupsOfUser(t, admin, "alice"); !cmp.Equal(got, []string{"staff", "users"}) {
		t.Errorf("a stopped task ran: alice is in %v", got)
	}
	if a, stopped := stop(`["` + running + `"]`); !a.Success || len(stopped) != 0 || string(a.Data) != `{"task_id":[]}` {
		t.Errorf("join_stop of a gone task: %s", a.raw)
	}
	checkRefusals(t, s, admin, []refusal{
		{"join_stop without task_id", []string{"SYNO.Core.User.Group", "join_stop"}, codeMissingParameters},
		{"join_stop with an object", []string{"SYNO.Core.User.Group", "join_stop", "task_id", `{"id":1}`}, codeInvalidParameter},
		{"join_stop with no id", []string{"SYNO.Core.User.Group", "join_stop", "task_id", `[]`}, codeInvalidParameter},
	})
}

func TestAdminCheck(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{
		Users:  []User{{Name: "alice", Password: "x", Admin: true}, {Name: "bob", Password: "x"}},
		Groups: []Group{{Name: "staff", Members: []string{"alice", "bob"}}},
	})
	admin := s.mustLogin(t, "admin", adminPW)
	tests := []struct {
		api, name string
		want      string
	}{
		{"SYNO.Core.Group", "administrators", `{"groups":[{"name":"administrators","is_admin":true}]}`},
		{"SYNO.Core.Group", "Staff", `{"groups":[{"name":"staff","is_admin":false}]}`},
		{"SYNO.Core.Group", "users", `{"groups":[{"name":"users","is_admin":false}]}`},
		{"SYNO.Core.Group.Member", "admin", `{"users":[{"name":"admin","is_admin":true}]}`},
		{"SYNO.Core.Group.Member", "ALICE", `{"users":[{"name":"alice","is_admin":true}]}`},
		{"SYNO.Core.Group.Member", "bob", `{"users":[{"name":"bob","is_admin":false}]}`},
	}
	for _, tt := range tests {
		a := s.call1(t, admin, tt.api, "admin_check", "name", tt.name)
		if !a.Success || string(a.Data) != tt.want {
			t.Errorf("%s admin_check %s: %s, want data %s", tt.api, tt.name, a.raw, tt.want)
		}
	}
	checkRefusals(t, s, admin, []refusal{
		{"group: no name", []string{"SYNO.Core.Group", "admin_check"}, codeMissingParameters},
		{"group: unknown", []string{"SYNO.Core.Group", "admin_check", "name", "nope"}, codeNoSuchGroup},
		{"member: no name", []string{"SYNO.Core.Group.Member", "admin_check"}, codeMissingParameters},
		{"member: unknown", []string{"SYNO.Core.Group.Member", "admin_check", "name", "nobody"}, codeNoSuchUser},
	})
}

func TestPasswordPolicyCheck(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: strongPW}, {Name: "bob", Password: strongPW}}})
	admin := s.mustLogin(t, "admin", adminPW)
	alice := s.mustLogin(t, "alice", strongPW)
	// The default policy: 8 characters, mixed case, a digit, not the name.
	// History on, so that reuse is observable.
	if a := s.call1(t, admin, "SYNO.Core.User.PasswordPolicy", "set", "strong_password", `{"exclude_history":true,"history_num":2,"exclude_common_password":true}`); !a.Success {
		t.Fatal(a.raw)
	}
	tests := []struct {
		name string
		as   loginData
		kv   []string
		code int
	}{
		{"good, new user", admin, []string{"name", "carol", "description", "Carol C", "password", "Good-pass-7"}, 0},
		{"good, no name", alice, []string{"password", "Good-pass-7"}, 0},
		{"too short", admin, []string{"name", "carol", "password", "Gp-7"}, codePasswordPolicy},
		{"no digit", admin, []string{"name", "carol", "password", "Good-pass-x"}, codePasswordPolicy},
		{"no upper case", alice, []string{"password", "good-pass-7"}, codePasswordPolicy},
		{"contains the name", admin, []string{"name", "carol", "password", "Carol-pass-7"}, codePasswordPolicy},
		{"contains the description", admin, []string{"name", "carol", "description", "Wonderland", "password", "wonderland-X7"}, codePasswordPolicy},
		{"too common", admin, []string{"name", "carol", "password", "Password123"}, codePasswordCommon},
		{"alice's current password, as alice", alice, []string{"name", "alice", "password", strongPW}, codePasswordHistory},
		{"alice's current password, as admin", admin, []string{"name", "alice", "password", strongPW}, codePasswordHistory},
		{"bob's current password, as alice: no history", alice, []string{"name", "bob", "password", strongPW}, 0},
		{"no password", admin, []string{"name", "carol"}, codeMissingParameters},
	}
	for _, tt := range tests {
		before := s.snapshot(t)
		a := s.call1(t, tt.as, "SYNO.Core.User.PasswordPolicy", "check", tt.kv...)
		if a.code() != tt.code {
			t.Errorf("%s: code %d, want %d (%s)", tt.name, a.code(), tt.code, a.raw)
		}
		if a.Success && len(a.Data) != 0 {
			t.Errorf("%s: data %s, want none", tt.name, a.Data)
		}
		if !cmp.Equal(before, s.snapshot(t)) {
			t.Errorf("%s: check changed the state", tt.name)
		}
	}
}

func TestPasswordMeterEvaluate(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: strongPW}}})
	alice := s.mustLogin(t, "alice", strongPW)
	tests := []struct {
		kv    []string
		score int
	}{
		{[]string{"password", ""}, 0},
		{[]string{"password", "abc"}, 0},
		{[]string{"password", "password"}, 0}, // common
		{[]string{"password", "abcdefgh"}, 1},
		{[]string{"password", "Abcdefgh"}, 2},
		{[]string{"password", "Abcdefg1"}, 3},
		{[]string{"password", "Abcdef-1"}, 4},
		{[]string{"password", "Abcdefgh-1234"}, 5},
		{[]string{"password", "Abcdefghijklmn-1"}, 5}, // capped
		{[]string{"password", "Abcdef-1", "required_rules", `{"min_length_enable":true,"min_length":10}`}, 0},
		{[]string{"password", "Abcdefgh-1", "required_rules", `{"min_length_enable":true,"min_length":10,"mixed_case":true}`}, 5},
	}
	for _, tt := range tests {
		a := s.call1(t, alice, "SYNO.Core.User.PasswordMeter", "evaluate", tt.kv...)
		var d map[string]int
		if a.Success {
			a.data(t, &d)
		}
		if !a.Success || !cmp.Equal(d, map[string]int{"score": tt.score}) {
			t.Errorf("evaluate %q: %s, want score %d", tt.kv, a.raw, tt.score)
		}
	}
	for _, kv := range [][]string{{}, {"password", "x", "required_rules", `{"min_length":"ten"}`}, {"password", "x", "required_rules", `{"no_such_rule":true}`}} {
		want := codeInvalidParameter
		if len(kv) == 0 {
			want = codeMissingParameters
		}
		if a := s.call1(t, alice, "SYNO.Core.User.PasswordMeter", "evaluate", kv...); a.code() != want {
			t.Errorf("evaluate %q: code %d, want %d", kv, a.code(), want)
		}
	}
}

func TestAuthType(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}, {Name: "otto", Password: "x", OTPSecret: otpSecret}}})
	tests := []struct {
		account string
		want    string
	}{
		{"alice", `[{"type":"passwd"}]`},
		{"OTTO", `[{"type":"passwd"},{"type":"otp"}]`},
		{"nobody", `[{"type":"passwd"}]`},
		{"", `[{"type":"passwd"}]`},
	}
	for _, tt := range tests {
		// Asked before login: no session.
		a := s.do(t, call{form: form("api", "SYNO.API.Auth.Type", "method", "get", "version", "1", "account", tt.account)})
		if !a.Success || string(a.Data) != tt.want {
			t.Errorf("Auth.Type get %q: %s, want data %s", tt.account, a.raw, tt.want)
		}
	}
	if a := s.do(t, call{form: form("api", "SYNO.API.Auth.Type", "method", "get", "version", "2")}); a.code() != codeBadVersion {
		t.Errorf("version 2: code %d, want 104", a.code())
	}
}
