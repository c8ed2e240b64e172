package sim

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var directoryUsers = []User{
	{Name: "carol", Password: "c", Description: "Carol", Email: "carol@example.com"},
	{Name: "Bob", Password: "b", Description: "Bob B.", OTPSecret: otpSecret},
	{Name: "dave", Password: "d", Admin: true},
}

func TestUserList(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: directoryUsers})
	admin := s.mustLogin(t, "admin", adminPW)
	list := func(kv ...string) call {
		return authed(admin, append([]string{"api", "SYNO.Core.User", "method", "list", "version", "1", "type", "local"}, kv...)...)
	}
	tests := []struct {
		name string
		c    call
		want string
	}{
		{"all, sorted by name", list("offset", "0", "limit", "-1"),
			`{"offset":0,"total":5,"users":[{"name":"admin"},{"name":"Bob"},{"name":"carol"},{"name":"dave"},{"name":"guest"}]}`},
		{"no paging params", list(),
			`{"offset":0,"total":5,"users":[{"name":"admin"},{"name":"Bob"},{"name":"carol"},{"name":"dave"},{"name":"guest"}]}`},
		{"page", list("offset", "1", "limit", "2"),
			`{"offset":1,"total":5,"users":[{"name":"Bob"},{"name":"carol"}]}`},
		{"past the end", list("offset", "9", "limit", "2"),
			`{"offset":9,"total":5,"users":[]}`},
		{"DESC", list("sort_direction", "DESC", "limit", "2"),
			`{"offset":0,"total":5,"users":[{"name":"guest"},{"name":"dave"}]}`},
		{"by uid", list("sort_by", "uid", "limit", "3"),
			`{"offset":0,"total":5,"users":[{"name":"admin"},{"name":"guest"},{"name":"carol"}]}`},
		{"additional", list("limit", "3", "additional", `["email", "groups", "2fa_status", "expired", "nonsense"]`),
			`{"offset":0,"total":5,"users":[
				{"name":"admin","email":"","groups":["administrators","users"],"2fa_status":false,"expired":"normal"},
				{"name":"Bob","email":"","groups":["users"],"2fa_status":true,"expired":"normal"},
				{"name":"carol","email":"carol@example.com","groups":["users"],"2fa_status":false,"expired":"normal"}]}`},
		{"bare additional", list("limit", "1", "offset", "4", "additional", "expired"),
			`{"offset":4,"total":5,"users":[{"name":"guest","expired":"now"}]}`},
		{"JSON-quoted paging", list("offset", `"4"`, "additional", `"description"`),
			`{"offset":4,"total":5,"users":[{"name":"guest","description":"Guest"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := s.do(t, tt.c)
			if !a.Success {
				t.Fatalf("list: %s", a.raw)
			}
			var got, want any
			a.data(t, &got)
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range [][]string{{"offset", "-1"}, {"limit", "x"}, {"limit", "-2"}} {
		if a := s.do(t, list(bad...)); a.code() != 120 {
			t.Errorf("%v: code %d, want 120", bad, a.code())
		}
	}
}

func TestUserGetAndPermissions(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: directoryUsers})
	admin := s.mustLogin(t, "admin", adminPW)
	dave := s.mustLogin(t, "dave", "d")
	carol := s.mustLogin(t, "carol", "c")
	get := func(d loginData, name string, kv ...string) call {
		return authed(d, append([]string{"api", "SYNO.Core.User", "method", "get", "version", "1", "type", "local", "name", name}, kv...)...)
	}
	a := s.do(t, get(admin, "bob", "additional", `["description","groups","cannot_chg_passwd","passwd_never_expire","is_password_pending"]`))
	var got map[string][]map[string]any
	a.data(t, &got)
	want := map[string][]map[string]any{"users": {{"name": "Bob", "uid": float64(1027), "description": "Bob B.", "groups": []any{"users"},
		"cannot_chg_passwd": false, "passwd_never_expire": false, "is_password_pending": false}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	tests := []struct {
		name string
		c    call
		want int
	}{
		{"JSON-quoted name", get(admin, `"carol"`), 0},
		{"no such user", get(admin, "bob smith"), 3106},
		{"another administrator", get(dave, "carol"), 0},
		{"a user may not", get(carol, "carol"), 105},
		{"a user may not list", authed(carol, "api", "SYNO.Core.User", "method", "list", "version", "1"), 105},
		{"a user may not list groups", authed(carol, "api", "SYNO.Core.Group", "method", "list", "version", "1"), 105},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if a := s.do(t, tt.c); a.code() != tt.want {
				t.Errorf("code %d, want %d (%s)", a.code(), tt.want, a.raw)
			}
		})
	}
}

func TestGroupLists(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: directoryUsers})
	admin := s.mustLogin(t, "admin", adminPW)
	tests := []struct {
		name string
		kv   []string
		want string
	}{
		{"groups", []string{"api", "SYNO.Core.Group", "method", "list", "version", "1", "offset", "0", "limit", "-1", "name_only", "false", "type", "local"},
			`{"offset":0,"total":3,"groups":[
				{"name":"administrators","gid":101,"description":"System default admin group"},
				{"name":"http","gid":1023,"description":"System default group for Web services"},
				{"name":"users","gid":100,"description":"System default group"}]}`},
		{"group names, paged", []string{"api", "SYNO.Core.Group", "method", "list", "version", "1", "offset", "1", "limit", "1", "name_only", "true"},
			`{"offset":1,"total":3,"groups":[{"name":"http"}]}`},
		{"members", []string{"api", "SYNO.Core.Group.Member", "method", "list", "version", "1", "group", "administrators", "ingroup", "true"},
			`{"offset":0,"total":2,"users":[{"name":"admin","uid":1024,"description":"System default user"},{"name":"dave","uid":1028,"description":""}]}`},
		{"non-members", []string{"api", "SYNO.Core.Group.Member", "method", "list", "version", "1", "group", "administrators", "ingroup", "false", "limit", "2"},
			`{"offset":0,"total":3,"users":[{"name":"Bob","uid":1027,"description":"Bob B."},{"name":"carol","uid":1026,"description":"Carol"}]}`},
		{"everyone is in users", []string{"api", "SYNO.Core.Group.Member", "method", "list", "version", "1", "group", `"users"`},
			`{"offset":0,"total":5,"users":[{"name":"admin","uid":1024,"description":"System default user"},{"name":"Bob","uid":1027,"description":"Bob B."},
				{"name":"carol","uid":1026,"description":"Carol"},{"name":"dave","uid":1028,"description":""},{"name":"guest","uid":1025,"description":"Guest"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := s.do(t, authed(admin, tt.kv...))
			if !a.Success {
				t.Fatalf("%s", a.raw)
			}
			var got, want any
			a.data(t, &got)
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if a := s.do(t, authed(admin, "api", "SYNO.Core.Group.Member", "method", "list", "version", "1", "group", "nope")); a.code() != 3204 {
		t.Errorf("unknown group: code %d, want 3204", a.code())
	}
}

// TestListFollowsChanges checks that the cached order of the user list
// follows creates, renames and deletes.
func TestListFollowsChanges(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	admin := s.mustLogin(t, "admin", adminPW)
	names := func(extra ...string) []string {
		t.Helper()
		var d struct {
			Users []struct{ Name string } `json:"users"`
		}
		s.call1(t, admin, "SYNO.Core.User", "list", extra...).data(t, &d)
		var out []string
		for _, u := range d.Users {
			out = append(out, u.Name)
		}
		return out
	}
	for _, n := range []string{"mia", "bea"} {
		if a := s.callKV(t, admin, "SYNO.Core.User", "create", "name", n, "password", strongPW); !a.Success {
			t.Fatalf("create %s: %s", n, a.raw)
		}
	}
	if got, want := names(), []string{"admin", "bea", "guest", "mia"}; !slices.Equal(got, want) {
		t.Fatalf("list %v, want %v", got, want)
	}
	if a := s.callKV(t, admin, "SYNO.Core.User", "set", "name", "mia", "new_name", "Abe"); !a.Success {
		t.Fatalf("rename: %s", a.raw)
	}
	if got, want := names(), []string{"Abe", "admin", "bea", "guest"}; !slices.Equal(got, want) {
		t.Errorf("after rename %v, want %v", got, want)
	}
	if got, want := names("sort_direction", "DESC", "offset", "1", "limit", "2"), []string{"bea", "admin"}; !slices.Equal(got, want) {
		t.Errorf("descending page %v, want %v", got, want)
	}
	if a := s.callKV(t, admin, "SYNO.Core.User", "delete", "name", `["bea"]`); !a.Success {
		t.Fatalf("delete: %s", a.raw)
	}
	if got, want := names(), []string{"Abe", "admin", "guest"}; !slices.Equal(got, want) {
		t.Errorf("after delete %v, want %v", got, want)
	}
	// The deleted user's uid no longer finds a user.
	abe := s.mustLogin(t, "Abe", strongPW)
	if a := s.callKV(t, admin, "SYNO.Core.User", "delete", "name", `["Abe"]`); !a.Success {
		t.Fatalf("delete Abe: %s", a.raw)
	}
	if a := s.call1(t, abe, "SYNO.Core.NormalUser", "get"); a.Success {
		t.Errorf("a deleted user's session still works: %s", a.raw)
	}
}
