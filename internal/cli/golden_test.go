// The golden tests hold dsmctl's tables and the --help of every command
// in testdata/golden, so that any change of the output for people shows
// as a diff in review. After a change made on purpose, rewrite the files
// with
//
//	go test ./internal/cli -run Golden -update
//
// and read the diff before committing it.

package cli

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm/dsmtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenDir holds the golden files; help/ has one per command.
var goldenDir = filepath.Join("testdata", "golden")

// checkGolden compares got with the golden file name (a path under
// goldenDir without .golden), or writes it with -update. A missing file
// fails the test.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, filepath.FromSlash(name)+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s is missing: run go test ./internal/cli -run Golden -update and check what it writes", path)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	// Compared as lines, so that go-cmp reports the lines that changed
	// among their neighbours rather than bytes of one long string.
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", path, diff)
	}
}

// goldenTime is the simulator's clock in the golden tests: noon UTC, so
// that the day is the same in every time zone.
var goldenTime = time.Date(2024, time.March, 15, 12, 0, 0, 0, time.UTC)

// goldenEnv starts a simulator with fixed users and groups on a fixed
// clock and returns an environment that logs admin in for each command.
//
//	user   uid   description    email              other
//	alice  1026  Alice Liddell  alice@example.com  groups staff
//	bob    1027  Bob Builder                       expires 2030-06-01, groups staff, password never expires
//	carol  1028                 carol@example.com  disabled, groups interns
//	dave   1029  Dave                              2-step, cannot change password
//
// The groups staff and interns are gids 65536 and 65537.
func goldenEnv(t *testing.T) *cliEnv {
	t.Helper()
	srv := dsmtest.Start(t,
		dsmtest.WithRSAKey(testKey()),
		dsmtest.WithTime(goldenTime),
		dsmtest.WithGroup(dsmtest.Group{Name: "staff", Description: "Teaching staff"}),
		dsmtest.WithGroup(dsmtest.Group{Name: "interns", Description: "Summer interns"}),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: alicePassword, Description: "Alice Liddell", Email: "alice@example.com", Groups: []string{"staff"}}),
		dsmtest.WithUser(dsmtest.User{Name: "bob", Password: bobPassword, Description: "Bob Builder", Expired: "2030/6/1", Groups: []string{"staff"}, PasswordNeverExpires: true}),
		dsmtest.WithUser(dsmtest.User{Name: "carol", Password: "carol-Secret-3", Email: "carol@example.com", Expired: "now", Groups: []string{"interns"}}),
		dsmtest.WithUser(dsmtest.User{Name: "dave", Password: "dave-Secret-4", Description: "Dave", OTPSecret: bobOTPSecret, CannotChangePassword: true}),
	)
	return newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
}

// goldenRun runs dsmctl, which must succeed without writing to stderr,
// and checks its standard output against the golden file name.
func goldenRun(t *testing.T, e *cliEnv, name string, args ...string) {
	t.Helper()
	r := e.mustRun(t, args...)
	if r.stderr != "" {
		t.Errorf("dsmctl %s wrote to stderr:\n%s", strings.Join(args, " "), r.stderr)
	}
	checkGolden(t, name, r.stdout)
}

func TestGoldenUserList(t *testing.T) {
	t.Parallel()
	e := goldenEnv(t)
	goldenRun(t, e, "user_list", "user", "list")
	goldenRun(t, e, "user_list_all", "user", "list", "--fields", "all")
}

func TestGoldenGroupList(t *testing.T) {
	t.Parallel()
	goldenRun(t, goldenEnv(t), "group_list", "group", "list")
}

// goldenUsersYAML, against goldenEnv with --prune: a policy change,
// groups and users created, changed and deleted, and a user unchanged.
const goldenUsersYAML = `password_policy:
  min_length: 10
groups:
  - name: staff
    description: Office staff
  - name: ops
    description: Operations
users:
  - name: alice
    email: alice@example.org
    groups: [staff, ops]
  - name: bob
  - name: erin
    description: Erin Example
    groups: [ops]
    password: {generate: true}
  - name: frank
    email: frank@example.com
    expiry: 2031-01-01
    password: {from_env: FRANK_PW}
`

func TestGoldenPlan(t *testing.T) {
	t.Parallel()
	e := goldenEnv(t).with("FRANK_PW", frankPw)
	goldenRun(t, e, "plan", "plan", "-f", usersFile(t, goldenUsersYAML), "--prune")
}

// TestGoldenPlanJSON holds the shape of plan -o json: a format version,
// counts, lists never null, typed values, the source of each password as
// an object.
func TestGoldenPlanJSON(t *testing.T) {
	t.Parallel()
	e := goldenEnv(t).with("FRANK_PW", frankPw)
	goldenRun(t, e, "plan_json", "plan", "-f", usersFile(t, goldenUsersYAML), "--prune", "-o", "json")
}

// TestGoldenHelp holds the --help of every command in help/, one file per
// command path ("dsmctl user list" in help/dsmctl_user_list.golden): a
// new command needs its file, and a file whose command is gone fails.
func TestGoldenHelp(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&IOStreams{}, func(string) string { return "" }, new(bool))
	root.InitDefaultHelpCmd() // the help command cobra adds when it runs
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		path = append(slices.Clip(path), c.Name())
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, path)
		}
	}
	walk(root, nil)

	files := map[string]bool{} // the golden files the commands need
	for _, path := range paths {
		name := strings.Join(path, "_")
		if files[name] {
			t.Fatalf("two commands have the golden file help/%s.golden", name)
		}
		files[name] = true
		t.Run(name, func(t *testing.T) {
			args := append(slices.Clone(path[1:]), "--help")
			r := newEnv(t, nil).run(t, args...)
			if r.code != ExitOK || r.stderr != "" {
				t.Fatalf("dsmctl %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
			}
			checkGolden(t, "help/"+name, r.stdout)
		})
	}

	dir := filepath.Join(goldenDir, "help")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), ".golden")
		if ok && files[name] {
			continue
		}
		path := filepath.Join(dir, ent.Name())
		if !*update {
			t.Errorf("%s is the help of no command: delete it, or run go test ./internal/cli -run Golden -update", path)
			continue
		}
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
	}
}
