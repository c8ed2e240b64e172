package cli

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// adminEnv starts a simulator and logs admin in; the environment it
// returns uses the saved session (no DSM_PASSWORD).
func adminEnv(t *testing.T, opts ...dsmtest.Option) (*dsmtest.Server, *cliEnv) {
	t.Helper()
	srv := startSim(t, opts...)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login")
	return srv, e.with("DSM_PASSWORD", "")
}

// libUser reads a user with the library, as an oracle independent of
// dsmctl's output.
func libUser(t *testing.T, srv *dsmtest.Server, name string) dsm.User {
	t.Helper()
	u, err := srv.Client().Users.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return u
}

// decodeJSON decodes out into v or fails the test.
func decodeJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
}

const bobPw = "Bob-Builder-42"

func TestUserCreateGetUpdate(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	e = e.with(newPasswordEnv, bobPw)
	r := e.mustRun(t, "user", "create", "bob2", "--description", "Bob Two", "--email", "bob2@example.com",
		"--expire", "2099-01-02", "--password-never-expires")
	if !regexp.MustCompile(`^created user bob2 \(uid [0-9]+\)\n$`).MatchString(r.stdout) {
		t.Errorf("create stdout:\n%s", r.stdout)
	}
	want := libUser(t, srv, "bob2")
	if want.Description != "Bob Two" || want.Email != "bob2@example.com" || want.Expired.String() != "2099-01-02" ||
		!want.PasswordNeverExpires || want.CannotChangePassword {
		t.Fatalf("created user: %+v", want)
	}

	// get -o json shows every field with the keys documented.
	r = e.mustRun(t, "user", "get", "bob2", "-o", "json")
	var got map[string]any
	decodeJSON(t, r.stdout, &got)
	for k, v := range map[string]any{"name": "bob2", "uid": float64(want.UID), "description": "Bob Two", "expired": "2099-01-02",
		"password_never_expires": true, "cannot_change_password": false, "groups": []any{"users"}} {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("get -o json %s (-want +got):\n%s", k, diff)
		}
	}

	// Each update changes its field and nothing else.
	steps := []struct {
		args   []string
		change func(*dsm.User)
	}{
		{[]string{"--email", "bob@example.org"}, func(u *dsm.User) { u.Email = "bob@example.org" }},
		{[]string{"--description", ""}, func(u *dsm.User) { u.Description = "" }},
		{[]string{"--password-never-expires=false"}, func(u *dsm.User) { u.PasswordNeverExpires = false }},
		{[]string{"--cannot-change-password"}, func(u *dsm.User) { u.CannotChangePassword = true }},
		{[]string{"--expire", "disabled"}, func(u *dsm.User) { u.Expired = dsm.Disabled }},
		{[]string{"--expire", "never"}, func(u *dsm.User) { u.Expired = dsm.Never }},
	}
	for _, st := range steps {
		r := e.mustRun(t, append([]string{"user", "update", "bob2"}, st.args...)...)
		if !strings.HasPrefix(r.stdout, "updated user bob2: ") {
			t.Errorf("update %v stdout:\n%s", st.args, r.stdout)
		}
		st.change(&want)
		if diff := cmp.Diff(want, libUser(t, srv, "bob2")); diff != "" {
			t.Errorf("after update %v (-want +got):\n%s", st.args, diff)
		}
	}

	// DSM_NEW_PASSWORD alone changes nothing: update needs a flag.
	e.run(t, "user", "update", "bob2").wantCode(t, ExitUsage)

	// Rename.
	e.mustRun(t, "user", "update", "bob2", "--rename", "robert")
	if u := libUser(t, srv, "robert"); u.UID != want.UID {
		t.Errorf("renamed user has uid %d, want %d", u.UID, want.UID)
	}
	e.run(t, "user", "get", "bob2").wantCode(t, ExitNotFound)
}

func TestUserNotFound(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	for _, args := range [][]string{
		{"user", "get", "nobody"},
		{"user", "update", "nobody", "--email", "x@example.com"},
		{"user", "delete", "nobody", "--yes"},
		{"group", "get", "nogroup"},
		{"group", "members", "nogroup"},
	} {
		r := e.run(t, args...)
		r.wantCode(t, ExitNotFound)
		if !strings.Contains(r.stderr, "no such") {
			t.Errorf("dsmctl %s: stderr lacks DSM's reason:\n%s", strings.Join(args, " "), r.stderr)
		}
	}
}

func TestUserCreatePasswordSources(t *testing.T) {
	t.Parallel()
	srv, base := adminEnv(t)
	tests := []struct {
		name     string
		args     []string
		env      []string
		stdin    string
		terminal []string
		code     int
		pw       string // the password the user then has
	}{
		{name: "stdin", args: []string{"--password-stdin"}, stdin: bobPw + "\nrest\n", pw: bobPw},
		{name: "stdin wins over env", args: []string{"--password-stdin"}, stdin: bobPw + "\n", env: []string{newPasswordEnv, "Other-Pass-77"}, pw: bobPw},
		{name: "env", env: []string{newPasswordEnv, bobPw}, pw: bobPw},
		{name: "terminal twice", terminal: []string{bobPw, bobPw}, pw: bobPw},
		{name: "terminal mismatch", terminal: []string{bobPw, bobPw + "x"}, code: ExitUsage},
		{name: "terminal empty", terminal: []string{""}, code: ExitUsage},
		{name: "no source", code: ExitUsage},
		{name: "empty stdin", args: []string{"--password-stdin"}, code: ExitUsage},
		{name: "stdin and generate", args: []string{"--password-stdin", "--generate-password"}, stdin: bobPw + "\n", code: ExitUsage},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "u" + string(rune('a'+i))
			e := base.with(tt.env...)
			e.stdin = tt.stdin
			e.terminal = tt.terminal
			r := e.run(t, append([]string{"user", "create", name}, tt.args...)...)
			r.wantCode(t, tt.code)
			r.noSecrets(t, bobPw)
			if tt.code != 0 {
				if _, err := srv.Client().Users.Get(t.Context(), name); err == nil {
					t.Errorf("the user was created")
				}
				return
			}
			if tt.terminal != nil && !slices.Equal(e.prompts, []string{"New password for " + name + ": ", "Again, to confirm: "}) {
				t.Errorf("prompts %q", e.prompts)
			}
			// The user logs in with the password.
			newEnv(t, srv, "DSM_USER", name, "DSM_PASSWORD", tt.pw).mustRun(t, "whoami")
		})
	}
}

func TestUserCreateGeneratedPassword(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	e.mustRun(t, "policy", "password", "set", "--min-length", "24", "--special")
	r := e.mustRun(t, "user", "create", "gen", "--generate-password")
	m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no password printed:\n%s", r.stdout)
	}
	pw := m[1]
	if len(pw) < 24 {
		t.Errorf("generated password has %d characters, the policy wants 24", len(pw))
	}
	if strings.Count(r.stdout+r.stderr, pw) != 1 {
		t.Errorf("the generated password is printed %d times, want once", strings.Count(r.stdout+r.stderr, pw))
	}
	newEnv(t, srv, "DSM_USER", "gen", "DSM_PASSWORD", pw).mustRun(t, "whoami")

	// -o json carries it too; update --generate-password makes a new one.
	r = e.mustRun(t, "user", "update", "gen", "--generate-password", "-o", "json")
	var up struct {
		Name     string   `json:"name"`
		Changed  []string `json:"changed"`
		Password string   `json:"password"`
	}
	decodeJSON(t, r.stdout, &up)
	if up.Name != "gen" || !slices.Equal(up.Changed, []string{"password"}) || up.Password == "" || up.Password == pw {
		t.Errorf("update --generate-password -o json: %+v", up)
	}
	newEnv(t, srv, "DSM_USER", "gen", "DSM_PASSWORD", up.Password).mustRun(t, "whoami")
}

func TestUserCreateWeakPassword(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	e = e.with(newPasswordEnv, "weakling")
	r := e.run(t, "user", "create", "weakling")
	r.wantCode(t, ExitFailure)
	for _, want := range []string{"code 3121", "mixed_case: needs both upper and lower case letters", "included_numeric_char: needs a digit", "exclude_username: contains the user name"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if _, err := srv.Client().Users.Get(t.Context(), "weakling"); err == nil {
		t.Error("the user was created")
	}
}

func TestUserCreateOptions(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	e = e.with(newPasswordEnv, bobPw)
	e.mustRun(t, "group", "create", "staff")
	e.mustRun(t, "group", "create", "dev")
	r := e.mustRun(t, "user", "create", "carl", "--groups", "staff,dev", "--cannot-change-password", "--notify")
	if !strings.Contains(r.stdout, "joined staff, dev\n") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	u := libUser(t, srv, "carl")
	if !slices.Equal(u.Groups, []string{"dev", "staff", "users"}) || !u.CannotChangePassword || u.Expired != dsm.Never {
		t.Errorf("created user: %+v", u)
	}

	for _, args := range [][]string{
		{"user", "create", "x1", "--send-password"},
		{"user", "create", "x2", "--expire", "someday"},
		{"user", "create", "bad/name"},
		{"user", "create", "x3", "--groups", "a:b"},
		{"user", "create", "x4", "-o", "xml"},
		{"user", "create"},
	} {
		e.run(t, args...).wantCode(t, ExitUsage)
	}
	// A group that does not exist: refused before anything is created.
	r = e.run(t, "user", "create", "dora", "--groups", "nogroup")
	if r.code != ExitNotFound || !strings.Contains(r.stderr, "group nogroup") || !strings.Contains(r.stderr, "nothing created") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestUserList(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	r := e.mustRun(t, "user", "list")
	want := "NAME   DESCRIPTION          EMAIL              EXPIRED\n" +
		"admin  System default user  -                  never\n" +
		"alice  Alice Liddell        alice@example.com  never\n" +
		"bob    -                    -                  never\n" +
		"guest  Guest                -                  disabled\n"
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("user list (-want +got):\n%s", diff)
	}

	r = e.mustRun(t, "user", "list", "-o", "json", "--desc")
	var users []map[string]any
	decodeJSON(t, r.stdout, &users)
	var names []string
	for _, u := range users {
		names = append(names, u["name"].(string))
		if diff := cmp.Diff([]string{"description", "email", "expired", "name"}, slices.Sorted(mapKeys(u))); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
	}
	if diff := cmp.Diff([]string{"guest", "bob", "alice", "admin"}, names); diff != "" {
		t.Errorf("--desc order (-want +got):\n%s", diff)
	}

	r = e.mustRun(t, "user", "list", "--offset", "1", "--limit", "2", "--fields", "email,groups", "-o", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{{"name", "email", "groups"}, {"alice", "alice@example.com", "users"}, {"bob", "", "users"}}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("csv (-want +got):\n%s", diff)
	}

	r = e.mustRun(t, "user", "list", "--sort", "email", "--fields", "all", "-o", "yaml")
	if !strings.Contains(r.stdout, "- name: admin\n  uid: 1024\n  description: System default user\n") || !strings.Contains(r.stdout, "  two_factor: true\n") {
		t.Errorf("yaml:\n%s", r.stdout)
	}

	// uid comes from list's additional (the simulator, like DSM, leaves
	// it out unless asked).
	r = e.mustRun(t, "user", "list", "--fields", "uid", "-o", "csv")
	rows, err = csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRows = [][]string{{"name", "uid"}, {"admin", "1024"}, {"alice", "1026"}, {"bob", "1027"}, {"guest", "1025"}}
	if diff := cmp.Diff(wantRows, rows); diff != "" {
		t.Errorf("--fields uid csv (-want +got):\n%s", diff)
	}

	for _, args := range [][]string{
		{"--sort", "uid"}, {"--fields", "password"}, {"--offset", "-1"}, {"-o", "xml"},
	} {
		e.run(t, append([]string{"user", "list"}, args...)...).wantCode(t, ExitUsage)
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestParseUserColumns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec string
		want []string
	}{
		{"", []string{"name", "description", "email", "expired"}},
		{"email", []string{"name", "email"}},
		{"name,Groups, cannot-change-password,passwd_never_expire,email,email", []string{"name", "groups", "cannot_change_password", "password_never_expires", "email"}},
		{"all", []string{"name", "uid", "description", "email", "expired", "cannot_change_password", "password_never_expires", "password_last_change", "password_pending", "groups", "two_factor"}},
		{"UID,email", []string{"name", "uid", "email"}},
	}
	for _, tt := range tests {
		cols, err := parseUserColumns(tt.spec)
		if err != nil {
			t.Errorf("%q: %v", tt.spec, err)
			continue
		}
		var got []string
		for _, c := range cols {
			got = append(got, c.key)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.spec, diff)
		}
	}
	for _, bad := range []string{"secret", "all,email", "uid,2fa"} {
		if _, err := parseUserColumns(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestUserJoinLeave(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	e.mustRun(t, "group", "create", "staff")
	e.mustRun(t, "group", "create", "dev")

	r := e.mustRun(t, "user", "join", "alice", "staff", "dev")
	if r.stdout != "alice joined staff, dev\n" {
		t.Errorf("join stdout:\n%s", r.stdout)
	}
	if u := libUser(t, srv, "alice"); !slices.Equal(u.Groups, []string{"dev", "staff", "users"}) {
		t.Errorf("after join: %v", u.Groups)
	}
	r = e.mustRun(t, "user", "leave", "alice", "dev", "-o", "json")
	if diff := cmp.Diff("{\n  \"name\": \"alice\",\n  \"left\": [\n    \"dev\"\n  ],\n  \"unchanged\": []\n}\n", r.stdout); diff != "" {
		t.Errorf("leave -o json (-want +got):\n%s", diff)
	}
	if u := libUser(t, srv, "alice"); !slices.Equal(u.Groups, []string{"staff", "users"}) {
		t.Errorf("after leave: %v", u.Groups)
	}

	// What would change nothing is said, and not sent: no task.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "join", "alice", "staff"}, "alice is already in staff: nothing changed\n"},
		{[]string{"user", "leave", "alice", "dev"}, "alice is not in dev: nothing changed\n"},
		{[]string{"user", "join", "alice", "STAFF", "dev"}, "alice joined dev (already in STAFF)\n"},
		{[]string{"user", "leave", "alice", "dev"}, "alice left dev\n"},
		{[]string{"group", "add", "staff", "alice"}, "alice already in staff: nothing changed\n"},
		{[]string{"group", "add", "staff", "alice", "bob"}, "bob added to staff (alice already in)\n"},
		{[]string{"group", "remove", "dev", "bob"}, "bob not in dev: nothing changed\n"},
		{[]string{"group", "remove", "staff", "bob"}, "bob removed from staff\n"},
	} {
		if r := e.mustRun(t, tt.args...); r.stdout != tt.want {
			t.Errorf("%v: stdout %q, want %q", tt.args, r.stdout, tt.want)
		}
	}
	// Adding a user who does not exist is "no such user" (exit 3), and
	// no user leaves "users", with the rule said.
	r = e.run(t, "group", "add", "staff", "nobody")
	r.wantCode(t, ExitNotFound)
	if !strings.Contains(r.stderr, "nobody") || !strings.Contains(r.stderr, "no such user") {
		t.Errorf("group add of a missing user: %q", r.stderr)
	}
	r = e.run(t, "group", "remove", "users", "alice")
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "every user belongs to") {
		t.Errorf("group remove from users: %q", r.stderr)
	}

	// --no-wait prints the task id at once.
	r = e.mustRun(t, "user", "join", "bob", "dev", "--no-wait")
	if !regexp.MustCompile(`^@administrators/groupbatch[0-9]+[0-9A-F]+\n$`).MatchString(r.stdout) {
		t.Errorf("--no-wait stdout:\n%s", r.stdout)
	}
	// ... and a command takes it.
	id := strings.TrimSpace(r.stdout)
	if !strings.Contains(r.stderr, "dsmctl task wait "+id+" bob") {
		t.Errorf("--no-wait does not say how to follow the task:\n%s", r.stderr)
	}
	srv.Advance(time.Minute) // the simulator's task finishes on its clock
	r = e.mustRun(t, "task", "wait", id, "bob")
	if r.stdout != "task "+id+" finished: bob is in dev,users\n" {
		t.Errorf("task wait: %q", r.stdout)
	}
	e.run(t, "task", "wait", "@administrators/groupbatch0000", "bob").wantCode(t, ExitFailure)

	// On a terminal, progress goes to stderr.
	te := e.with()
	te.errTerminal = true
	r = te.mustRun(t, "user", "join", "alice", "dev")
	if !strings.Contains(r.stderr, "waiting for DSM to change the groups of alice: ") {
		t.Errorf("no progress on a terminal:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "waiting") {
		t.Errorf("progress on stdout:\n%s", r.stdout)
	}

	e.run(t, "user", "leave", "alice", "users").wantCode(t, ExitUsage)
	e.run(t, "user", "join", "alice").wantCode(t, ExitUsage)
	r = e.run(t, "user", "join", "alice", "nogroup")
	if r.code == 0 || !strings.Contains(r.stderr, "nogroup") {
		t.Errorf("join nogroup: exit %d\n%s", r.code, r.stderr)
	}
}

func TestUserDelete(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	exists := func(name string) bool {
		_, err := srv.Client().Users.Get(t.Context(), name)
		return err == nil
	}

	// Not a terminal, no --yes: refused, nothing sent.
	r := e.run(t, "user", "delete", "alice")
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "without --yes") || !exists("alice") {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	// A terminal: asked; "n" keeps the user.
	te := e.with()
	te.terminal = []string{"n"}
	r = te.run(t, "user", "delete", "alice", "bob")
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "dsmctl: not confirmed: nothing deleted") {
		t.Errorf("a declined delete says:\n%s", r.stderr)
	}
	if !slices.Equal(te.prompts, []string{"Delete 2 users (alice, bob)? This cannot be undone. [y/N] "}) || !exists("alice") || !exists("bob") {
		t.Errorf("prompts %q, stderr:\n%s", te.prompts, r.stderr)
	}
	te = e.with()
	te.terminal = []string{"y"}
	r = te.mustRun(t, "user", "delete", "alice")
	if r.stdout != "deleted user alice\n" || exists("alice") {
		t.Errorf("stdout:\n%s", r.stdout)
	}

	e.mustRun(t, "user", "delete", "bob", "--yes")
	if exists("bob") {
		t.Error("bob is still there")
	}
	r = e.run(t, "user", "delete", "admin", "--yes")
	if r.code != ExitFailure || !exists("admin") {
		t.Errorf("deleting admin: exit %d\n%s", r.code, r.stderr)
	}

	// A partial delete says what was deleted and what was not.
	e.mustRun(t, "user", "create", "carol", "--generate-password")
	r = e.run(t, "user", "delete", "carol", "nobody", "--yes")
	r.wantCode(t, ExitNotFound)
	if r.stdout != "deleted user carol\n" || exists("carol") {
		t.Errorf("stdout %q, carol there: %v", r.stdout, exists("carol"))
	}
	if !strings.Contains(r.stderr, "not deleted: nobody; deleted: carol") || !strings.Contains(r.stderr, "no such user") {
		t.Errorf("stderr %q: want what was and was not deleted, and why", r.stderr)
	}
	e.mustRun(t, "group", "create", "crew")
	r = e.run(t, "group", "delete", "crew", "nogroup", "--yes")
	if r.stdout != "deleted group crew\n" || !strings.Contains(r.stderr, "not deleted: nogroup; deleted: crew") {
		t.Errorf("group delete of two, one missing: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestUserUpdatePassword(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	const newPw = "Wonder-Land-99"
	e.with(newPasswordEnv, newPw).mustRun(t, "user", "update", "alice", "--password")
	newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", newPw).mustRun(t, "whoami")
	newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", alicePassword).run(t, "whoami").wantCode(t, ExitAuth)

	te := e.with()
	te.terminal = []string{"Third-Pass-Word-1", "Third-Pass-Word-1"}
	te.mustRun(t, "user", "update", "alice", "--password")
	newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", "Third-Pass-Word-1").mustRun(t, "whoami")

	r := e.with(newPasswordEnv, "short").run(t, "user", "update", "alice", "--password")
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "min_length: shorter than 8 characters") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	e.stdin = "bob\n"
	r := e.run(t, "user", "check-password", "bob", "--password-stdin")
	r.wantCode(t, ExitFailure)
	want := "the password breaks 4 rule(s) of the password policy:\n" +
		"  min_length: shorter than 8 characters\n" +
		"  mixed_case: needs both upper and lower case letters\n" +
		"  included_numeric_char: needs a digit\n" +
		"  exclude_username: contains the user name\n"
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}

	r = e.with(newPasswordEnv, "Good-Enough-1").mustRun(t, "user", "check-password", "bob")
	if r.stdout != "the password meets the password policy\n" {
		t.Errorf("stdout:\n%s", r.stdout)
	}

	e.stdin = "abcdefgh1\n"
	r = e.run(t, "user", "check-password", "nobody", "--password-stdin", "-o", "json")
	r.wantCode(t, ExitFailure)
	var v []dsm.PasswordViolation
	decodeJSON(t, r.stdout, &v)
	if len(v) != 1 || v[0].Rule != dsm.RuleMixedCase {
		t.Errorf("json: %+v", v)
	}

	te := e.with()
	te.stdin = ""
	te.terminal = []string{"Good-Enough-1"}
	te.mustRun(t, "user", "check-password", "bob")
	if !slices.Equal(te.prompts, []string{"Password to check for bob: "}) {
		t.Errorf("prompts %q", te.prompts)
	}
	e.with().run(t, "user", "check-password", "bob").wantCode(t, ExitUsage)
}

// user create checks the groups before it creates anything, and when the
// join fails anyway after the create, the password is still printed, in
// every format, with what exists.
func TestUserCreateGroupsCheckedFirst(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	r := e.run(t, "user", "create", "ivy", "--generate-password", "--groups", "nosuch", "-o", "json")
	r.wantCode(t, ExitNotFound)
	if !strings.Contains(r.stderr, "group nosuch") || !strings.Contains(r.stderr, "nothing created") {
		t.Errorf("stderr %q", r.stderr)
	}
	if _, err := srv.Client().Users.Get(t.Context(), "ivy"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("ivy after a refused create: %v", err)
	}

	e.mustRun(t, "group", "create", "ops")
	f, err := dsmtest.ParseFault("SYNO.Core.User.Group:join:code=3202")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(f); err != nil {
		t.Fatal(err)
	}
	r = e.run(t, "user", "create", "ivy", "--generate-password", "--groups", "ops", "-o", "json")
	r.wantCode(t, ExitFailure)
	var got struct {
		Name, Password string
		Groups         []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Name != "ivy" || got.Password == "" || got.Groups == nil || len(got.Groups) != 0 {
		t.Errorf("stdout %q (%v): want ivy with its password and no groups", r.stdout, err)
	}
	if !strings.Contains(r.stderr, "user ivy is created, but joining ops failed") {
		t.Errorf("stderr %q", r.stderr)
	}
	if err := newEnv(t, srv, "DSM_USER", "ivy", "DSM_PASSWORD", got.Password).run(t, "whoami").code; err != ExitOK {
		t.Errorf("ivy cannot log in with the printed password: exit %d", err)
	}
}
