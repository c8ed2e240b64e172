package sim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The simulator's effective right is held to the same table as the
// client's dsm.EffectiveAccess (testdata/effective-access.json at the
// module's root), with its own reading of it.
func TestEffectiveRightTable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "effective-access.json"))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Cases []struct {
			Name   string   `json:"name"`
			User   string   `json:"user"`
			Groups []string `json:"groups"`
			Rows   []struct {
				User, Group, Right string
			} `json:"rows"`
			Want string `json:"want"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Cases) < 10 {
		t.Fatalf("%d cases, want the whole table", len(table.Cases))
	}
	for _, tc := range table.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			// One store per case: users and groups as the case names them.
			st := newStore()
			for _, name := range append(slices.Clone(tc.Groups), "staff", "interns") {
				if st.groupByName(name) == nil {
					st.addGroup(name, "")
				}
			}
			u := &user{name: tc.User}
			st.addUser(u, 0)
			for _, g := range tc.Groups {
				st.groupByName(g).members[u.uid] = true
			}
			sh := &share{name: "s", volume: "/volume1"}
			st.addShare(sh)
			for _, r := range tc.Rows {
				k, ok := parseRightWord(r.Right)
				if !ok {
					t.Fatalf("right %q", r.Right)
				}
				if r.Group != "" {
					g := st.groupByName(r.Group)
					if g == nil {
						g = st.addGroup(r.Group, "")
					}
					sh.groups[g.gid] = permRow{Right: k}
					continue
				}
				ru := st.userByName(r.User)
				if ru == nil {
					ru = &user{name: r.User}
					st.addUser(ru, 0)
				}
				sh.users[ru.uid] = permRow{Right: k}
			}
			if got := accessWord(st.effectiveRight(sh, u)); got != tc.Want {
				t.Errorf("right %s, want %s", got, tc.Want)
			}
		})
	}
}

// Deleting a user or a group drops their rows; renaming keeps them; the
// rows survive a restart from the data directory.
func TestPermissionRowsFollowAccounts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{RSAKey: k, AdminPassword: adminPW, DataDir: dir,
		Groups: []Group{{Name: "staff"}, {Name: "temps"}},
		Users:  []User{{Name: "alice", Password: "x", Groups: []string{"staff"}}, {Name: "bob", Password: "x"}},
		Shares: []Share{{Name: "finance", Users: map[string]string{"alice": "rw", "bob": "ro"}, Groups: map[string]string{"staff": "ro", "temps": "deny"}}}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin := s.mustLogin(t, "admin", adminPW)
	call := func(kv ...string) answer {
		t.Helper()
		a := s.callKV(t, admin, kv...)
		if !a.Success {
			t.Fatalf("%v: %s", kv[:2], a.raw)
		}
		return a
	}
	call("SYNO.Core.User", "set", "name", "alice", "new_name", "alicia")
	call("SYNO.Core.User", "delete", "name", `["bob"]`)
	call("SYNO.Core.Group", "delete", "name", `["temps"]`)
	s.Close()

	s, err = New(Config{RSAKey: k, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	admin = s.mustLogin(t, "admin", adminPW)
	a := s.callKV(t, admin, "SYNO.Core.Share.Permission", "list", "name", "finance", "user_group_type", "local_user", "with_inherit", "true")
	var d struct {
		Items []struct {
			Name       string `json:"name"`
			IsWritable bool   `json:"is_writable"`
			Inherit    string `json:"inherit"`
		} `json:"items"`
	}
	a.data(t, &d)
	got := map[string]string{}
	for _, it := range d.Items {
		got[it.Name] = map[bool]string{true: "rw", false: "-"}[it.IsWritable] + "/" + it.Inherit
	}
	if got["alicia"] != "rw/ro" {
		t.Errorf("alicia (renamed alice) on finance: %q, want her rw kept and ro from staff", got["alicia"])
	}
	if _, ok := got["bob"]; ok {
		t.Errorf("bob is still listed after his deletion: %v", got)
	}
	s.mu.Lock()
	sh := s.st.shareByName("finance")
	rows := len(sh.users) + len(sh.groups)
	s.mu.Unlock()
	if rows != 2 { // alicia's and staff's
		t.Errorf("%d rows after deleting bob and temps, want 2", rows)
	}
}

// The permission calls' refusals: 403 without user_group_type (math65/
// dsmaccess), and the simulator's choices for the rest; none changes
// anything.
func TestPermissionRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	p := func(method string, kv ...string) []string {
		return append([]string{"SYNO.Core.Share.Permission", method}, kv...)
	}
	row := `[{"name":"public","is_readonly":true,"is_writable":false,"is_deny":false,"is_custom":false}]`
	checkRefusals(t, s, admin, []refusal{
		{"list without user_group_type", p("list", "name", "public"), 403},
		{"list_by_user without user_group_type", p("list_by_user", "name", "alice"), 403},
		{"set_by_user_group without user_group_type", p("set_by_user_group", "name", "alice", "permissions", row), 403},
		{"set without user_group_type", p("set", "name", "public", "permissions", `[{"name":"alice","is_readonly":true}]`), 403},
		{"a directory user_group_type", p("list_by_user", "name", "alice", "user_group_type", "domain_user"), 120},
		{"list_by_user of a missing user", p("list_by_user", "name", "nope", "user_group_type", "local_user"), 3106},
		{"list of a missing share", p("list", "name", "nope", "user_group_type", "local_user"), codeNoSuchShare},
		{"set_by_user_group on a missing share", p("set_by_user_group", "name", "alice", "user_group_type", "local_user",
			"permissions", strings.Replace(row, "public", "nope", 1)), codeNoSuchShare},
		{"set of a missing account", p("set", "name", "public", "user_group_type", "local_user", "permissions", `[{"name":"nope","is_readonly":true}]`), 3106},
		{"permissions not a list", p("set", "name", "public", "user_group_type", "local_user", "permissions", `{"name":"alice"}`), 120},
		{"home: bare volume name", []string{"SYNO.Core.User.Home", "set", "enable", "true", "location", `"volume1"`}, 3101},
		{"home: no location", []string{"SYNO.Core.User.Home", "set", "enable", "true"}, 3103},
		{"home: disable with a location", []string{"SYNO.Core.User.Home", "set", "enable", "false", "location", `"/volume1"`}, 3103},
		{"share: create on no volume", []string{"SYNO.Core.Share", "create", "name", "x", "shareinfo", `{"name":"x","vol_path":"/volume9"}`}, 120},
		{"share: create of a taken name", []string{"SYNO.Core.Share", "create", "name", "Public", "shareinfo", `{"name":"Public","vol_path":"/volume1"}`}, 3301},
		{"share: delete homes while the service is on", []string{"SYNO.Core.Share", "delete", "name", `["homes"]`}, 120},
		{"compound: not a list", []string{"SYNO.Entry.Request", "request", "compound", `{}`}, 120},
		{"compound: a login in it", []string{"SYNO.Entry.Request", "request", "compound", `[{"api":"SYNO.API.Auth","method":"login","version":7}]`}, 120},
	})
}

// A compound request's calls are each checked for admin rights: a normal
// user's compound gets 105 in the result of an admin call, and the
// others still run.
func TestCompoundChecksEachCall(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "Alice-pw-1"}}})
	alice := s.mustLogin(t, "alice", "Alice-pw-1")
	a := s.callKV(t, alice, "SYNO.Entry.Request", "request", "compound",
		`[{"api":"SYNO.Core.Share","method":"list","version":1},{"api":"SYNO.Core.NormalUser","method":"get","version":1},{"api":"SYNO.No.Such","method":"get","version":1}]`)
	var d struct {
		HasFail bool `json:"has_fail"`
		Result  []struct {
			API     string `json:"api"`
			Success bool   `json:"success"`
			Error   struct {
				Code int `json:"code"`
			} `json:"error"`
		} `json:"result"`
	}
	a.data(t, &d)
	if !d.HasFail || len(d.Result) != 3 {
		t.Fatalf("answer %s: want has_fail and 3 results", a.raw)
	}
	if d.Result[0].Success || d.Result[0].Error.Code != 105 || !d.Result[1].Success || d.Result[2].Error.Code != 102 {
		t.Errorf("results %+v: want 105 for the admin list, success for NormalUser get, 102 for no such API", d.Result)
	}
}

// A permission change writes the record of the one shared folder it
// changed; the home service goes in the meta record; both survive a
// restart.
func TestShareWritesOnlyTheChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startIn(t, dir, User{Name: "alice", Password: "x"})
	var mu sync.Mutex
	var got []string
	s.disk.written = func(ws []write) {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range ws {
			got = append(got, fmt.Sprintf("%s %s %v", w.bucket, w.key, w.value != nil))
		}
	}
	check := func(what string, want ...string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: records written (-want +got):\n%s", what, d)
		}
		got = nil
	}
	admin := s.mustLogin(t, "admin", adminPW)
	ok := func(kv ...string) {
		t.Helper()
		if a := s.callKV(t, admin, kv...); !a.Success {
			t.Fatalf("%v: %s", kv[:2], a.raw)
		}
	}
	ok("SYNO.Core.Share.Permission", "set_by_user_group", "name", "alice", "user_group_type", "local_user",
		"permissions", `[{"name":"finance","is_readonly":false,"is_writable":true,"is_deny":false,"is_custom":false}]`)
	check("a right on finance", "shares finance true")
	ok("SYNO.Core.Share", "create", "name", "projects", "shareinfo", `{"vol_path":"/volume2"}`)
	check("a new shared folder", "shares projects true")
	ok("SYNO.Core.User.Home", "set", "enable", "false")
	check("the home service off", "meta state true")
	ok("SYNO.Core.Share", "delete", "name", `["projects"]`)
	check("a deleted shared folder", "shares projects false")
	s.Close()

	s = startIn(t, dir)
	admin = s.mustLogin(t, "admin", adminPW)
	a := s.callKV(t, admin, "SYNO.Core.User.Home", "get")
	if !strings.Contains(string(a.Data), `"enable":false`) || !strings.Contains(string(a.Data), `"location":"/volume1"`) {
		t.Errorf("home service after a restart: %s, want off, the location kept", a.Data)
	}
	a = s.callKV(t, admin, "SYNO.Core.Share.Permission", "list_by_user", "name", "alice", "user_group_type", "local_user")
	type row struct {
		Name       string `json:"name"`
		IsWritable bool   `json:"is_writable"`
	}
	var rows struct {
		Shares []row `json:"shares"`
	}
	a.data(t, &rows)
	if i := slices.IndexFunc(rows.Shares, func(r row) bool { return r.Name == "finance" }); i < 0 || !rows.Shares[i].IsWritable {
		t.Errorf("alice's rows after a restart: %s, want rw on finance", a.Data)
	}
}
