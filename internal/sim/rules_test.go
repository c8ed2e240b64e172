package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// call1 calls api/method, version 1, in session d.
func (s *Server) call1(t testing.TB, d loginData, api, method string, kv ...string) answer {
	t.Helper()
	return s.do(t, authed(d, append([]string{"api", api, "method", method, "version", "1"}, kv...)...))
}

// callKV calls kv[0]/kv[1] with parameters kv[2:] in session d.
func (s *Server) callKV(t testing.TB, d loginData, kv ...string) answer {
	t.Helper()
	return s.call1(t, d, kv[0], kv[1], kv[2:]...)
}

// snapshot is the whole state as the state file would hold it, to check
// that a refused call changed nothing.
func (s *Server) snapshot(t testing.TB) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := encodeState(s.st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// userOf returns a copy of the named user, or nil.
func (s *Server) userOf(name string) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.userByName(name)
	if u == nil {
		return nil
	}
	c := *u
	return &c
}

// groupsOfUser reads the user's groups through SYNO.Core.User get.
func (s *Server) groupsOfUser(t testing.TB, d loginData, name string) []string {
	t.Helper()
	a := s.call1(t, d, "SYNO.Core.User", "get", "name", name, "additional", `["groups"]`)
	if !a.Success {
		t.Fatalf("get %s: %s", name, a.raw)
	}
	var got struct {
		Users []struct {
			Groups []string `json:"groups"`
		} `json:"users"`
	}
	a.data(t, &got)
	return got.Users[0].Groups
}

// refusal is a call that must fail with code and change nothing.
type refusal struct {
	name string
	kv   []string // api, method, then parameters
	code int
}

// checkRefusals runs each refusal as admin and checks the code and that
// the state is byte for byte unchanged.
func checkRefusals(t *testing.T, s *Server, d loginData, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		before := s.snapshot(t)
		a := s.call1(t, d, tt.kv[0], tt.kv[1], tt.kv[2:]...)
		if a.code() != tt.code {
			t.Errorf("%s: code %d, want %d (%s)", tt.name, a.code(), tt.code, a.raw)
		}
		if after := s.snapshot(t); !bytes.Equal(before, after) {
			t.Errorf("%s: the refused call changed the state", tt.name)
		}
	}
}

const strongPW = "Str0ng-pass!"

func TestUserCreate(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "alice-pw"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	alice := s.mustLogin(t, "alice", "alice-pw")
	create := func(name string, kv ...string) []string {
		return append([]string{"SYNO.Core.User", "create", "name", name, "password", strongPW}, kv...)
	}
	tests := []refusal{
		{"missing name", []string{"SYNO.Core.User", "create", "password", strongPW}, 114},
		{"65 characters", create(strings.Repeat("x", 65)), 3103},
		{"leading minus", create("-bob"), 3103},
		{"leading space", create(" bob"), 3103},
		{"trailing space", create("bob "), 3103},
		{"empty", create(""), 3103},
		{"control character", create("bo\tb"), 3103},
		{"taken, other case", create("ALICE"), 3107},
		{"admin, other case", create("Admin"), 3107},
		{"reserved", create("root"), 3114},
		{"reserved, other case", create("Administrator"), 3114},
		{"system account", create("SynologyCMS"), 3114},
		{"description of 65", create("bob", "description", strings.Repeat("d", 65)), 3103},
		{"bad email", create("bob", "email", "not an address"), 3103},
		{"ISO date", create("bob", "expired", "2030-01-02"), 3103},
		{"three-digit month", create("bob", "expired", "2030/001/02"), 3103},
		{"two-digit year", create("bob", "expired", "30/1/2"), 3103},
		{"no such day", create("bob", "expired", "2030/2/30"), 3103},
		{"True for a boolean", create("bob", "cannot_chg_passwd", "True"), 3103},
		{"1 for a boolean", create("bob", "passwd_never_expire", "1"), 3103},
		{"bad notify_by_email", create("bob", "notify_by_email", "yes"), 3103},
		{"short password", []string{"SYNO.Core.User", "create", "name", "bob", "password", "Sh0rt-x"}, 3121},
		{"no upper case", []string{"SYNO.Core.User", "create", "name", "bob", "password", "lower-case-1"}, 3121},
		{"no digit", []string{"SYNO.Core.User", "create", "name", "bob", "password", "No-Digits-Here"}, 3121},
		{"contains the name", []string{"SYNO.Core.User", "create", "name", "bob", "password", "xBOBx-Pass1"}, 3121},
		{"password of 128", []string{"SYNO.Core.User", "create", "name", "bob", "password", "Aa1" + strings.Repeat("x", 125)}, 3121},
		{"no password", []string{"SYNO.Core.User", "create", "name", "bob"}, 3121},
	}
	for _, c := range "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~" { // written out: a test of the constant would follow it
		if !strings.ContainsRune(userNameForbidden, c) {
			t.Errorf("%q is allowed in user names", c)
		}
		tests = append(tests, refusal{fmt.Sprintf("name with %q", c), create("a" + string(c) + "b"), 3103})
	}
	checkRefusals(t, s, admin, tests)

	if a := s.call1(t, alice, "SYNO.Core.User", "create", create("bob")[2:]...); a.code() != 105 {
		t.Errorf("non-administrator: code %d, want 105", a.code())
	}
	noToken := authed(admin, append([]string{"api", "SYNO.Core.User", "method", "create", "version", "1"}, create("bob")[2:]...)...)
	noToken.header = nil
	if a := s.do(t, noToken); a.code() != 403 {
		t.Errorf("no SynoToken: code %d, want 403", a.code())
	}

	// Successes: uids count up from 1027 (alice has 1026).
	successes := []struct {
		kv   []string
		want map[string]any // fields of User get
	}{
		{create("bob", "description", "Bob B.", "email", "bob@example.com", "expired", "never", "cannot_chg_passwd", "true",
			"passwd_never_expire", "true", "notify_by_email", "false", "send_password", "false"),
			map[string]any{"name": "bob", "uid": 1027.0, "description": "Bob B.", "email": "bob@example.com", "expired": "normal",
				"cannot_chg_passwd": true, "passwd_never_expire": true, "is_password_pending": false, "groups": []any{"users"},
				"2fa_status": false, "password_last_change": float64(day(s.Now()))}},
		{create(`"carol"`, "expired", "2031/3/4"), map[string]any{"name": "carol", "uid": 1028.0, "expired": "2031/3/4"}},
		{create(strings.Repeat("é", 64), "expired", "now"), map[string]any{"name": strings.Repeat("é", 64), "uid": 1029.0, "expired": "now"}},
		{create("dan.x_y z-1"), map[string]any{"name": "dan.x_y z-1", "uid": 1030.0}},
		// A zero-padded date is taken and kept without zeros (batonogov).
		{create("erin", "expired", "2031/03/04"), map[string]any{"name": "erin", "uid": 1031.0, "expired": "2031/3/4"}},
	}
	for _, tt := range successes {
		a := s.call1(t, admin, tt.kv[0], tt.kv[1], tt.kv[2:]...)
		if !a.Success {
			t.Fatalf("create %v: %s", tt.kv[3], a.raw)
		}
		var got map[string]any
		a.data(t, &got)
		if diff := cmp.Diff(map[string]any{"name": tt.want["name"], "uid": tt.want["uid"]}, got); diff != "" {
			t.Errorf("create answer (-want +got):\n%s", diff)
		}
		var fields []string
		for k := range tt.want {
			fields = append(fields, k)
		}
		add, _ := json.Marshal(fields)
		a = s.call1(t, admin, "SYNO.Core.User", "get", "name", tt.want["name"].(string), "additional", string(add))
		var rec struct{ Users []map[string]any }
		a.data(t, &rec)
		if diff := cmp.Diff([]map[string]any{tt.want}, rec.Users); diff != "" {
			t.Errorf("get (-want +got):\n%s", diff)
		}
	}
	s.mustLogin(t, "bob", strongPW)
	for _, name := range []string{"carol", strings.Repeat("é", 64)} {
		if a := s.do(t, call{form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", name, "passwd", strongPW)}); name == "carol" && !a.Success || name != "carol" && a.code() != 401 {
			t.Errorf("login %s: %s", name, a.raw)
		}
	}
}

func TestUIDsNeverReused(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	admin := s.mustLogin(t, "admin", adminPW)
	for i, name := range []string{"u1", "u2", "u3"} {
		a := s.call1(t, admin, "SYNO.Core.User", "create", "name", name, "password", strongPW)
		var got struct{ UID int }
		a.data(t, &got)
		if got.UID != firstUID+i {
			t.Fatalf("%s: uid %d, want %d", name, got.UID, firstUID+i)
		}
		if a := s.call1(t, admin, "SYNO.Core.User", "delete", "name", `["`+name+`"]`); !a.Success {
			t.Fatalf("delete %s: %s", name, a.raw)
		}
	}
	s.call1(t, admin, "SYNO.Core.User", "create", "name", "u1", "password", strongPW)
	if u := s.userOf("u1"); u == nil || u.uid != firstUID+3 {
		t.Errorf("u1 again: %+v, want uid %d", u, firstUID+3)
	}
}

func TestTooManyUsersAndGroups(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	admin := s.mustLogin(t, "admin", adminPW)
	s.mu.Lock()
	for len(s.st.users) < maxUsers {
		s.st.addUser(&user{name: fmt.Sprintf("bulk%05d", len(s.st.users))}, 0)
	}
	for len(s.st.groups) < maxGroups {
		s.st.addGroup(fmt.Sprintf("bulk%03d", len(s.st.groups)), "")
	}
	s.mu.Unlock()
	// (Not checkRefusals: encoding 16,000 users for each snapshot is slow
	// under the race detector.)
	if a := s.callKV(t, admin, "SYNO.Core.User", "create", "name", "one-more", "password", strongPW); a.code() != 3110 || len(s.st.users) != maxUsers {
		t.Errorf("user 16,001: code %d, %d users", a.code(), len(s.st.users))
	}
	if a := s.callKV(t, admin, "SYNO.Core.Group", "create", "name", "one-more"); a.code() != 3209 || len(s.st.groups) != maxGroups {
		t.Errorf("group 513: code %d, %d groups", a.code(), len(s.st.groups))
	}
	s.call1(t, admin, "SYNO.Core.User", "delete", "name", `["bulk00100"]`)
	if a := s.call1(t, admin, "SYNO.Core.User", "create", "name", "one-more", "password", strongPW); !a.Success {
		t.Errorf("create after a delete: %s", a.raw)
	}
}

func TestUserSet(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{
		{Name: "alice", Password: "alice-pw", Description: "Alice", Email: "a@example.com"},
		{Name: "bob", Password: "bob-pw"},
	}})
	admin := s.mustLogin(t, "admin", adminPW)
	set := func(kv ...string) []string { return append([]string{"SYNO.Core.User", "set"}, kv...) }
	checkRefusals(t, s, admin, []refusal{
		{"missing name", set("description", "x"), 114},
		{"no such user", set("name", "nobody", "description", "x"), 3106},
		{"to a taken name", set("name", "alice", "new_name", "BOB"), 3108},
		{"to a reserved name", set("name", "alice", "new_name", "root"), 3114},
		{"to a bad name", set("name", "alice", "new_name", "a/b"), 3103},
		{"rename admin", set("name", "admin", "new_name", "boss"), 3115},
		{"rename guest", set("name", "guest", "new_name", "visitor"), 3115},
		{"weak password", set("name", "alice", "password", "weak"), 3121},
		{"bad expired, valid rest", set("name", "alice", "description", "changed", "expired", "tomorrow"), 3103},
		{"bad boolean, valid rest", set("name", "alice", "new_name", "alicia", "passwd_never_expire", "True"), 3103},
		{"disable the only administrator", set("name", "admin", "expired", "now"), 3109},
		{"expire the only administrator", set("name", "admin", "expired", "2020/1/1"), 3109},
	})

	// The set of the reference client (N4S4/synology-api): every field, password "".
	before := s.userOf("alice").password
	a := s.call1(t, admin, "SYNO.Core.User", "set", "name", "alice", "new_name", "Alicia", "password", "", "description", "",
		"email", "", "expired", "never", "cannot_chg_passwd", "false", "passwd_never_expire", "true")
	var got map[string]any
	a.data(t, &got)
	want := map[string]any{"name": "Alicia", "uid": float64(firstUID), "password_last_change": float64(day(s.Now()))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("set answer (-want +got):\n%s", diff)
	}
	u := s.userOf("alicia")
	if u == nil || u.name != "Alicia" || u.description != "" || !u.passwordNeverExpire || !cmp.Equal(u.password, before) || s.userOf("alice") != nil {
		t.Errorf("after set: %+v", u)
	}
	s.mustLogin(t, "alicia", "alice-pw")

	// A case-only rename of oneself, and a password change.
	if a := s.call1(t, admin, "SYNO.Core.User", "set", "name", "alicia", "new_name", "ALICIA", "password", strongPW); !a.Success {
		t.Fatalf("set: %s", a.raw)
	}
	s.mustLogin(t, "Alicia", strongPW)
	if a := s.do(t, call{form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", "alicia", "passwd", "alice-pw")}); a.code() != 400 {
		t.Errorf("old password: code %d, want 400", a.code())
	}

	// Expiry: a future date lets the user in until the day comes.
	future := s.Now().UTC().AddDate(0, 0, 2)
	date := fmt.Sprintf("%d/%d/%d", future.Year(), future.Month(), future.Day())
	if a := s.call1(t, admin, "SYNO.Core.User", "set", "name", "bob", "expired", date); !a.Success {
		t.Fatalf("set expired: %s", a.raw)
	}
	s.mustLogin(t, "bob", "bob-pw")
	s.Advance(72 * time.Hour)
	if a := s.do(t, call{form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", "bob", "passwd", "bob-pw")}); a.code() != 401 {
		t.Errorf("login after the expiry date: code %d, want 401", a.code())
	}
}

func TestUserDelete(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{
		{Name: "a1", Password: "x"}, {Name: "a2", Password: "x"}, {Name: "a3", Password: "x"},
		{Name: "boss", Password: "boss-pw", Admin: true},
	}})
	admin := s.mustLogin(t, "admin", adminPW)
	a1 := s.mustLogin(t, "a1", "x")
	del := func(name string) []string { return []string{"SYNO.Core.User", "delete", "name", name} }
	checkRefusals(t, s, admin, []refusal{
		{"missing", []string{"SYNO.Core.User", "delete"}, 3101},
		{"empty list", del(`[]`), 3101},
		{"malformed list", del(`["a1", `), 3101},
		{"not a list of strings", del(`[1, 2]`), 3101},
		{"admin", del(`["admin"]`), 3115},
		{"guest", del("guest"), 3115},
		{"a system account", del(`["MAILER-DAEMON"]`), 3115},
		{"no such user", del(`["nobody"]`), 3106},
	})
	// A bare name (the reference client), then a list with failures.
	if a := s.callKV(t, admin, del("A1")...); !a.Success || string(a.Data) != "{}" {
		t.Errorf("delete bare name: %s", a.raw)
	}
	if a := s.call1(t, a1, "SYNO.Core.NormalUser", "get"); a.code() != 119 {
		t.Errorf("session of a deleted user: code %d, want 119", a.code())
	}
	a := s.callKV(t, admin, del(`["a2", "nobody", "admin", "a3"]`)...)
	if !a.Success || string(a.Data) != `{"errors":[{"name":"nobody","code":3106},{"name":"admin","code":3115}]}` {
		t.Errorf("partial delete: %s", a.raw)
	}
	if s.userOf("a2") != nil || s.userOf("a3") != nil {
		t.Error("a2 or a3 survived")
	}
	// boss is the only enabled administrator once admin is disabled.
	s.call1(t, admin, "SYNO.Core.User", "set", "name", "admin", "expired", "now")
	boss := s.mustLogin(t, "boss", "boss-pw")
	checkRefusals(t, s, boss, []refusal{{"the last enabled administrator", del(`["boss"]`), 3109}})
}

func TestLastAdministrator(t *testing.T) {
	t.Parallel()
	seed := []User{{Name: "deputy", Password: "deputy-pw", Admin: true, Disabled: true}, {Name: "plain", Password: "x"}}
	s := newServer(t, Config{Users: seed, JoinDelay: time.Hour})
	admin := s.mustLogin(t, "admin", adminPW)
	// deputy is an administrator but disabled: admin is the last enabled one.
	checkRefusals(t, s, admin, []refusal{
		{"User set expired now", []string{"SYNO.Core.User", "set", "name", "admin", "expired", "now"}, 3109},
		{"Member remove", []string{"SYNO.Core.Group.Member", "remove", "group", "administrators", "name", `["admin"]`}, 3210},
		{"Member change", []string{"SYNO.Core.Group.Member", "change", "group", "administrators", "add_member", `["deputy"]`, "remove_member", `["admin"]`}, 3210},
		{"User.Group join", []string{"SYNO.Core.User.Group", "join", "name", "admin", "join_group", `[]`, "leave_group", `["administrators"]`}, 3210},
	})
	// With an enabled second administrator all of these are allowed.
	s.call1(t, admin, "SYNO.Core.User", "set", "name", "deputy", "expired", "normal")
	if a := s.call1(t, admin, "SYNO.Core.Group.Member", "change", "group", "administrators", "add_member", `["plain"]`, "remove_member", `["admin"]`); !a.Success {
		t.Errorf("change with another administrator: %s", a.raw)
	}
	deputy := s.mustLogin(t, "deputy", "deputy-pw")
	if a := s.call1(t, admin, "SYNO.Core.User", "list"); a.code() != 105 {
		t.Errorf("admin, no longer an administrator: code %d, want 105", a.code())
	}
	if got := s.groupsOfUser(t, deputy, "plain"); !cmp.Equal(got, []string{"administrators", "users"}) {
		t.Errorf("plain's groups: %v", got)
	}
}

func TestGroupJoin(t *testing.T) {
	t.Parallel()
	const delay = 10 * time.Minute // long, so the real passing of time cannot finish a task; shorter than the session timeout
	s := newServer(t, Config{
		Users:     []User{{Name: "alice", Password: "x"}, {Name: "bob", Password: "x", Groups: []string{"staff"}}},
		Groups:    []Group{{Name: "staff"}, {Name: "dev", Members: []string{"alice"}}},
		JoinDelay: delay,
	})
	admin := s.mustLogin(t, "admin", adminPW)
	join := func(name, in, out string) []string {
		return []string{"SYNO.Core.User.Group", "join", "name", name, "join_group", in, "leave_group", out}
	}
	checkRefusals(t, s, admin, []refusal{
		{"missing name", []string{"SYNO.Core.User.Group", "join", "join_group", `["staff"]`}, 114},
		{"no such user", join("nobody", `["staff"]`, `[]`), 3106},
		{"no such group", join("alice", `["staff", "nope"]`, `[]`), 3204},
		{"leave users", join("alice", `["administrators"]`, `["users"]`), 3103},
		{"join and leave", join("alice", `["staff"]`, `["STAFF"]`), 3103},
		{"malformed list", join("alice", `["staff"`, `[]`), 120},
	})
	if s.st.tasks != nil {
		t.Fatalf("refused joins queued tasks: %v", s.st.tasks)
	}

	a := s.callKV(t, admin, join("alice", `["staff", "administrators"]`, `["dev"]`)...)
	var task struct {
		TaskID string `json:"task_id"`
	}
	a.data(t, &task)
	if !regexpTaskID.MatchString(task.TaskID) || !strings.Contains(task.TaskID, fmt.Sprint(s.Now().Unix())[:8]) {
		t.Errorf("task id %q", task.TaskID)
	}
	status := func() map[string]any {
		a := s.call1(t, admin, "SYNO.Core.User.Group", "join_status", "task_id", task.TaskID)
		if !a.Success {
			t.Fatalf("join_status: %s", a.raw)
		}
		var st map[string]any
		a.data(t, &st)
		return st
	}
	wantStatus := func(finish bool, progress int) map[string]any {
		return map[string]any{"finish": finish, "auto_remove": false, "success": true,
			"data": map[string]any{"name": "alice", "uid": float64(firstUID), "pid": 18000.0, "progress": float64(progress), "total": 3.0},
			"info": map[string]any{"api": "SYNO.Core.User.Group", "group": "admin", "method": "join", "prefix": "groupbatch", "version": 1.0}}
	}
	if diff := cmp.Diff(wantStatus(false, 0), status()); diff != "" {
		t.Errorf("status at once (-want +got):\n%s", diff)
	}
	if got := s.groupsOfUser(t, admin, "alice"); !cmp.Equal(got, []string{"dev", "users"}) {
		t.Errorf("groups before the task finished: %v", got)
	}
	s.Advance(delay / 2)
	if diff := cmp.Diff(wantStatus(false, 1), status()); diff != "" {
		t.Errorf("status half way (-want +got):\n%s", diff)
	}
	s.Advance(delay / 2)
	if diff := cmp.Diff(wantStatus(true, 3), status()); diff != "" {
		t.Errorf("status when done (-want +got):\n%s", diff)
	}
	if got := s.groupsOfUser(t, admin, "alice"); !cmp.Equal(got, []string{"administrators", "staff", "users"}) {
		t.Errorf("groups after the task: %v", got)
	}

	// A task that has become invalid when it runs fails and changes nothing.
	a = s.callKV(t, admin, join("bob", `["dev"]`, `["staff"]`)...)
	a.data(t, &task)
	s.call1(t, admin, "SYNO.Core.Group", "delete", "name", `["dev"]`)
	s.Advance(delay)
	if st := status(); st["finish"] != true || st["success"] != false {
		t.Errorf("invalid task: %v", st)
	}
	if got := s.groupsOfUser(t, admin, "bob"); !cmp.Equal(got, []string{"staff", "users"}) {
		t.Errorf("bob's groups after a failed task: %v", got)
	}
	if a := s.call1(t, admin, "SYNO.Core.User.Group", "join_status", "task_id", "@administrators/groupbatch1737238746C6723E33"); a.code() != 120 {
		t.Errorf("unknown task: code %d, want 120", a.code())
	}
}

func TestGroupJoinImmediate(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}}, JoinDelay: -1})
	admin := s.mustLogin(t, "admin", adminPW)
	s.call1(t, admin, "SYNO.Core.User.Group", "join", "name", "alice", "join_group", "http")
	if got := s.groupsOfUser(t, admin, "alice"); !cmp.Equal(got, []string{"http", "users"}) {
		t.Errorf("groups: %v", got)
	}
}

func TestConcurrentChanges(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{JoinDelay: -1})
	admin := s.mustLogin(t, "admin", adminPW)
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("worker%d", i)
			if a := s.call1(t, admin, "SYNO.Core.User", "create", "name", name, "password", strongPW); !a.Success {
				t.Errorf("create %s: %s", name, a.raw)
			}
			if a := s.call1(t, admin, "SYNO.Core.Group", "create", "name", "g"+name); !a.Success {
				t.Errorf("create group: %s", a.raw)
			}
			s.call1(t, admin, "SYNO.Core.User.Group", "join", "name", name, "join_group", `["g`+name+`"]`)
			s.call1(t, admin, "SYNO.Core.User", "list", "additional", `["groups"]`)
			s.call1(t, admin, "SYNO.Core.Group.Member", "add", "group", "http", "name", `["`+name+`"]`)
		})
	}
	wg.Wait()
	uids, gids := map[int]bool{}, map[int]bool{}
	for _, u := range s.st.users {
		if uids[u.uid] {
			t.Errorf("uid %d twice", u.uid)
		}
		uids[u.uid] = true
	}
	for _, g := range s.st.groups {
		if gids[g.gid] {
			t.Errorf("gid %d twice", g.gid)
		}
		gids[g.gid] = true
	}
	if len(s.st.users) != n+2 || len(s.st.groups) != n+3 || len(s.st.groups[groupHTTP].members) != n {
		t.Errorf("%d users, %d groups, %d in http", len(s.st.users), len(s.st.groups), len(s.st.groups[groupHTTP].members))
	}
}

var regexpTaskID = regexp.MustCompile(`^@administrators/groupbatch\d{10}[0-9A-F]{8}$`)
