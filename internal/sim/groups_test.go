package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGroupCRUD(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}, {Name: "bob", Password: "x"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	g := func(method string, kv ...string) []string { return append([]string{"SYNO.Core.Group", method}, kv...) }
	for i, name := range []string{"staff", "dev#1"} {
		a := s.callKV(t, admin, g("create", "name", name, "description", "the "+name)...)
		if want := fmt.Sprintf(`{"gid":%d,"name":%q}`, firstGID+i, name); string(a.Data) != want {
			t.Errorf("create %s: %s, want data %s", name, a.raw, want)
		}
	}
	tests := []refusal{
		{"create: missing name", g("create", "description", "x"), 114},
		{"create: taken, other case", g("create", "name", "STAFF"), 3206},
		{"create: built-in", g("create", "name", "Administrators"), 3206},
		{"create: reserved", g("create", "name", "everyone"), 3207},
		{"create: 33 characters", g("create", "name", strings.Repeat("g", 33)), 3208},
		{"create: leading minus", g("create", "name", "-g"), 3208},
		{"create: long description", g("create", "name", "g", "description", strings.Repeat("d", 65)), 120},
		{"get: no such group", g("get", "name", "nope"), 3204},
		{"set: no such group", g("set", "name", "nope", "description", "x"), 3204},
		{"set: rename a built-in", g("set", "name", "users", "new_name", "people"), 3207},
		{"set: to a taken name", g("set", "name", "staff", "new_name", "DEV#1"), 3206},
		{"set: to a bad name", g("set", "name", "staff", "new_name", "a:b"), 3208},
		{"set: to a reserved name", g("set", "name", "staff", "new_name", "wheel"), 3207},
		{"delete: built-in", g("delete", "name", `["http"]`), 3207},
		{"delete: no such group", g("delete", "name", `["nope"]`), 3204},
		{"delete: malformed", g("delete", "name", `["staff"`), 120},
		{"list: bad name_only", g("list", "name_only", "True"), 120},
		{"list: domain", g("list", "type", "domain"), 120},
		{"member list: no such group", []string{"SYNO.Core.Group.Member", "list", "group", "nope"}, 3204},
		{"member list: bad ingroup", []string{"SYNO.Core.Group.Member", "list", "group", "staff", "ingroup", "yes"}, 120},
		{"member add: no such group", []string{"SYNO.Core.Group.Member", "add", "group", "nope", "name", `["alice"]`}, 3204},
		{"member add: malformed", []string{"SYNO.Core.Group.Member", "add", "group", "staff", "name", `["alice"`}, 120},
		{"member change: malformed", []string{"SYNO.Core.Group.Member", "change", "group", "staff", "add_member", `{}`}, 120},
	}
	for _, c := range "!\"$%&'()*+,/:;<=>?@[\\]^`{|}~" {
		tests = append(tests, refusal{fmt.Sprintf("create: %q", c), g("create", "name", "a"+string(c)+"b"), 3208})
	}
	checkRefusals(t, s, admin, tests)

	a := s.callKV(t, admin, g("get", "name", `"STAFF"`)...)
	if string(a.Data) != `{"groups":[{"name":"staff","gid":65536,"description":"the staff"}]}` {
		t.Errorf("get: %s", a.raw)
	}
	if a := s.callKV(t, admin, g("set", "name", "staff", "new_name", "Staff2", "description", "renamed")...); string(a.Data) != `{"gid":65536,"name":"Staff2"}` {
		t.Errorf("set: %s", a.raw)
	}
	if a := s.callKV(t, admin, g("set", "name", "users", "description", "everybody")...); !a.Success {
		t.Errorf("describe a built-in group: %s", a.raw)
	}

	member := func(method string, kv ...string) []string {
		return append([]string{"SYNO.Core.Group.Member", method, "group", "staff2"}, kv...)
	}
	steps := []struct {
		kv   []string
		want []string // members of staff2 afterwards
	}{
		{member("add", "name", `["alice", "nobody"]`), []string{"alice"}},
		{member("add", "name", `["alice"]`), []string{"alice"}}, // nothing changes: still success
		{member("change", "add_member", `["bob"]`, "remove_member", `["alice"]`), []string{"bob"}},
		{member("remove", "name", "bob"), nil},
		{member("remove", "name", `["bob"]`), nil},
	}
	for _, st := range steps {
		if a := s.callKV(t, admin, st.kv...); !a.Success {
			t.Errorf("%v: %s", st.kv, a.raw)
		}
		a := s.callKV(t, admin, "SYNO.Core.Group.Member", "list", "group", "staff2")
		var got struct{ Users []memberRecord }
		a.data(t, &got)
		var names []string
		for _, u := range got.Users {
			names = append(names, u.Name)
		}
		if !cmp.Equal(names, st.want) {
			t.Errorf("after %v: members %v, want %v", st.kv, names, st.want)
		}
	}
	// Nobody leaves users, and the answer is still success.
	if a := s.callKV(t, admin, "SYNO.Core.Group.Member", "remove", "group", "users", "name", `["alice"]`); !a.Success {
		t.Errorf("remove from users: %s", a.raw)
	}
	if got := s.groupsOfUser(t, admin, "alice"); !cmp.Equal(got, []string{"users"}) {
		t.Errorf("alice's groups: %v", got)
	}

	// Delete: some go, the errors list the others; gids are not reused.
	a = s.callKV(t, admin, g("delete", "name", `["staff2", "nope", "users"]`)...)
	if string(a.Data) != `{"errors":[{"name":"nope","code":3204},{"name":"users","code":3207}]}` {
		t.Errorf("delete: %s", a.raw)
	}
	if a := s.callKV(t, admin, g("create", "name", "staff")...); string(a.Data) != `{"gid":65538,"name":"staff"}` {
		t.Errorf("create after delete: %s", a.raw)
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	a := s.callKV(t, admin, "SYNO.Core.User.PasswordPolicy", "get")
	want := `{"enable_reset_passwd_by_email":false,"password_must_change":false,"strong_password":{"min_length_enable":true,"min_length":8,` +
		`"mixed_case":true,"included_numeric_char":true,"included_special_char":false,"exclude_username":true,` +
		`"exclude_common_password":false,"exclude_history":false,"history_num":0}}`
	if string(a.Data) != want {
		t.Errorf("get: %s\nwant %s", a.Data, want)
	}
	set := func(kv ...string) []string { return append([]string{"SYNO.Core.User.PasswordPolicy", "set"}, kv...) }
	checkRefusals(t, s, admin, []refusal{
		{"True", set("enable_reset_passwd_by_email", "True"), 120},
		{"valid flag, string for a number", set("password_must_change", "true", "strong_password", `{"min_length":"8"}`), 120},
		{"unknown rule", set("strong_password", `{"no_such_rule":true}`), 120},
		{"min_length 0", set("strong_password", `{"min_length":0}`), 120},
		{"min_length 128", set("strong_password", `{"min_length":128}`), 120},
		{"history_num -1", set("strong_password", `{"history_num":-1}`), 120},
		{"history_num 25", set("strong_password", `{"history_num":25}`), 120},
		{"history excluded, history_num 0", set("strong_password", `{"exclude_history":true,"history_num":0}`), 120},
		{"broken object", set("strong_password", `{"min_length":`), 120},
		{"a bare unknown key", set("strong_password", "nonsense"), 120},
	})
	// The bare keys of the reference client (N4S4/synology-api) change no rule; the flags they come with do.
	if a := s.callKV(t, admin, set("password_must_change", "true", "strong_password", "mixed_case", "strong_password", "min_length")...); !a.Success {
		t.Fatalf("bare keys: %s", a.raw)
	}
	if !s.st.policy.MustChange || s.st.policy.Strong != defaultPasswordPolicy().Strong {
		t.Errorf("after bare keys: %+v", s.st.policy)
	}
	if a := s.callKV(t, admin, set("strong_password", `{"min_length":10,"included_special_char":true,"exclude_common_password":true,"exclude_history":true,"history_num":2}`)...); !a.Success {
		t.Fatalf("set: %s", a.raw)
	}
	create := func(name, pw string) answer {
		return s.callKV(t, admin, "SYNO.Core.User", "create", "name", name, "password", pw)
	}
	for pw, code := range map[string]int{"Abcdefgh12": 3121, "Ab1-xyz": 3121, "Password123": 3121, "Password123!": 0} {
		if a := create(fmt.Sprintf("u%d%d", len(pw), code), pw); a.code() != code {
			t.Errorf("create with %q: code %d, want %d", pw, a.code(), code)
		}
	}
	s.callKV(t, admin, set("strong_password", `{"included_special_char":false}`)...)
	if a := create("common", "Password123"); a.code() != 3123 {
		t.Errorf("a common password: code %d, want 3123", a.code())
	}
	if u := s.userOf("u120"); u == nil || !u.passwordPending {
		t.Errorf("password_must_change: new user %+v not pending", u)
	}

	// History: the current password and the one before are refused, older ones not.
	change := func(pw string) int {
		return s.callKV(t, admin, "SYNO.Core.User", "set", "name", "alice", "password", pw).code()
	}
	for _, pw := range []string{"First-pass1", "Second-pass2", "Third-pass3"} {
		if c := change(pw); c != 0 {
			t.Fatalf("change to %s: code %d", pw, c)
		}
	}
	for pw, code := range map[string]int{"Third-pass3": 3122, "Second-pass2": 3122} {
		if c := change(pw); c != code {
			t.Errorf("reuse %s: code %d, want %d", pw, c, code)
		}
	}
	if c := change("First-pass1"); c != 0 {
		t.Errorf("reuse of the third-last password: code %d, want 0", c)
	}
}

func TestPasswordExpiry(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{
		{Name: "alice", Password: "alice-pw"}, {Name: "bob", Password: "bob-pw", CannotChangePassword: true},
		{Name: "carol", Password: "carol-pw"},
	}})
	admin := s.mustLogin(t, "admin", adminPW)
	a := s.callKV(t, admin, "SYNO.Core.User.PasswordExpiry", "get")
	want := `{"password_expire_enable":false,"max_age":90,"min_age_enable":false,"min_age":1,"enable_login_prompt":false,` +
		`"login_prompt_days":1,"allow_reset_after_expired":true,"enable_mail_notification":false,"mail_notification_days":""}`
	if string(a.Data) != want {
		t.Errorf("get: %s\nwant %s", a.Data, want)
	}
	set := func(kv ...string) []string { return append([]string{"SYNO.Core.User.PasswordExpiry", "set"}, kv...) }
	checkRefusals(t, s, admin, []refusal{
		{"max_age 0", set("password_expire_enable", "true", "max_age", "0"), 120},
		{"max_age 1000", set("password_expire_enable", "true", "max_age", "1000"), 120},
		{"max_age x", set("max_age", "x"), 120},
		{"login_prompt_days 100", set("enable_login_prompt", "true", "login_prompt_days", "100"), 120},
		{"min_age above max_age", set("password_expire_enable", "true", "max_age", "5", "min_age_enable", "true", "min_age", "5"), 120},
		{"mail without days", set("enable_mail_notification", "true"), 120},
		{"True", set("password_expire_enable", "True"), 120},
		{"unknown user exempted", set("password_expire_enable", "true", "max_age", "30", "never_expired_list", `["alice", "nobody"]`), 3106},
		{"malformed list", set("never_expired_list", `["alice"`), 120},
	})
	// Out of range while off: accepted, value kept.
	if a := s.callKV(t, admin, set("max_age", "0", "login_prompt_days", "0")...); !a.Success || s.st.expiry.MaxAge != 90 {
		t.Errorf("out of range while off: %s, max_age %d", a.raw, s.st.expiry.MaxAge)
	}
	if a := s.callKV(t, admin, set("password_expire_enable", "true", "max_age", "30", "mail_notification_days", "7",
		"enable_mail_notification", "true", "never_expired_list", `["carol"]`)...); !a.Success || a.Data != nil {
		t.Fatalf("set: %s", a.raw)
	}
	if !s.userOf("carol").passwordNeverExpire || s.userOf("alice").passwordNeverExpire {
		t.Error("never_expired_list not applied as named")
	}
	s.mustLogin(t, "alice", "alice-pw")
	s.Advance(30 * 24 * time.Hour)
	login := func(name, pw string) int {
		return s.do(t, call{form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", name, "passwd", pw)}).code()
	}
	for name, code := range map[string]int{"alice": 409, "bob": 408, "carol": 0} {
		if c := login(name, name+"-pw"); c != code {
			t.Errorf("login %s after 30 days: code %d, want %d", name, c, code)
		}
	}
}

func TestPasswordConfirmAndNormalUserSet(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{
		{Name: "alice", Password: "alice-pw"}, {Name: "bob", Password: "bob-pw", CannotChangePassword: true},
	}})
	alice := s.mustLogin(t, "alice", "alice-pw")
	bob := s.mustLogin(t, "bob", "bob-pw")
	confirm := func(d loginData, version string, kv ...string) answer {
		return s.do(t, authed(d, append([]string{"api", "SYNO.Core.User.PasswordConfirm", "method", "auth", "version", version}, kv...)...))
	}
	if a := confirm(alice, "2", "password", "wrong"); a.code() != 3124 {
		t.Errorf("wrong password: code %d, want 3124", a.code())
	}
	if a := confirm(bob, "2", "password", "bob-pw"); !a.Success {
		t.Errorf("bob confirms: %s", a.raw)
	}
	if a := confirm(alice, "2"); a.code() != 114 {
		t.Errorf("no password: code %d, want 114", a.code())
	}
	if s.ConfirmTokenValid("") || s.ConfirmTokenValid("forged") {
		t.Error("a token that was never issued is valid")
	}
	var tok struct{ SynoConfirmPWToken string }
	for _, v := range []string{"1", "2"} {
		a := confirm(alice, v, "password", "alice-pw")
		a.data(t, &tok)
		if !s.ConfirmTokenValid(tok.SynoConfirmPWToken) {
			t.Errorf("v%s: token %q not valid", v, tok.SynoConfirmPWToken)
		}
	}
	s.Advance(ConfirmTokenTTL - time.Second)
	if !s.ConfirmTokenValid(tok.SynoConfirmPWToken) {
		t.Error("token expired early")
	}
	s.Advance(2 * time.Second)
	if s.ConfirmTokenValid(tok.SynoConfirmPWToken) {
		t.Error("token valid after 300 s")
	}

	// NormalUser set: a user's own password, fullname and email.
	alice = s.mustLogin(t, "alice", "alice-pw")
	bob = s.mustLogin(t, "bob", "bob-pw")
	set := func(d loginData, kv ...string) int {
		return s.do(t, authed(d, append([]string{"api", "SYNO.Core.NormalUser", "method", "set", "version", "2"}, kv...)...)).code()
	}
	before := s.snapshot(t)
	for _, tt := range []struct {
		d    loginData
		kv   []string
		code int
	}{
		{alice, []string{"old_password", "wrong", "password", strongPW}, 3124},
		{alice, []string{"old_password", "alice-pw", "password", "weak"}, 3121},
		{alice, []string{"old_password", "alice-pw", "password", "Alice-pw-1"}, 3121}, // contains the name
		{alice, []string{"fullname", strings.Repeat("f", 65)}, 3103},
		{alice, []string{"email", "no address", "old_password", "alice-pw", "password", strongPW}, 3103},
		{bob, []string{"old_password", "bob-pw", "password", strongPW}, 105},
	} {
		if c := set(tt.d, tt.kv...); c != tt.code {
			t.Errorf("%v: code %d, want %d", tt.kv, c, tt.code)
		}
	}
	if !cmp.Equal(before, s.snapshot(t)) {
		t.Error("refused NormalUser set calls changed the state")
	}
	if c := set(alice, "fullname", "Alice A.", "email", "alice@example.com", "old_password", "alice-pw", "password", strongPW); c != 0 {
		t.Fatalf("set: code %d", c)
	}
	if c := set(bob, "fullname", "Bob"); c != 0 {
		t.Errorf("bob's fullname: code %d", c)
	}
	s.mustLogin(t, "alice", strongPW)
	if u := s.userOf("alice"); u.description != "Alice A." || u.email != "alice@example.com" {
		t.Errorf("alice: %+v", u)
	}
}

// TestAdminOnlyAndSynoToken checks every method marked admin answers 105
// to a plain user's session, and every mutating one 403 without the
// SynoToken, without changing anything.
func TestAdminOnlyAndSynoToken(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "alice-pw"}}})
	alice := s.mustLogin(t, "alice", "alice-pw")
	admin := s.mustLogin(t, "admin", adminPW)
	before := s.snapshot(t)
	n := 0
	for name, api := range apiTable {
		if !strings.HasPrefix(name, "SYNO.Core.") {
			continue
		}
		for method, m := range api.methods {
			kv := []string{"name", "alice", "group", "users", "password", strongPW}
			if m.admin {
				n++
				if a := s.call1(t, alice, name, method, kv...); a.code() != 105 {
					t.Errorf("%s %s as a user: code %d, want 105", name, method, a.code())
				}
			}
			if m.mutates {
				c := authed(admin, append([]string{"api", name, "method", method, "version", "1"}, kv...)...)
				c.header = nil
				if a := s.do(t, c); a.code() != 403 {
					t.Errorf("%s %s without SynoToken: code %d, want 403", name, method, a.code())
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d admin methods", n)
	}
	if !cmp.Equal(before, s.snapshot(t)) {
		t.Error("refused calls changed the state")
	}
}

func TestMalformedValues(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	list := func(kv ...string) []string { return append([]string{"SYNO.Core.User", "list"}, kv...) }
	checkRefusals(t, s, admin, []refusal{
		{"unknown sort_by", list("sort_by", "shoe_size"), 120},
		{"bad sort_direction", list("sort_direction", "UP"), 120},
		{"negative offset", list("offset", "-1"), 120},
		{"limit -2", list("limit", "-2"), 120},
		{"type domain", list("type", "domain"), 120},
		{"get without name", []string{"SYNO.Core.User", "get"}, 114},
	})
	for _, kv := range [][]string{{"sort_by", "expired", "sort_direction", "desc"}, {"sort_by", "email"}} {
		if a := s.callKV(t, admin, list(kv...)...); !a.Success {
			t.Errorf("%v: %s", kv, a.raw)
		}
	}
	if a := s.do(t, call{form: form("api", "SYNO.Core.User", "method", "list", "_sid", admin.SID)}); a.code() != 101 {
		t.Errorf("no version: code %d, want 101", a.code())
	}
}
