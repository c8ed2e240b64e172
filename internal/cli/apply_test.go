package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// usersFile writes a users file into a temporary directory and returns
// its path.
func usersFile(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const teamYAML = `groups:
  - name: staff
    description: Staff
users:
  - name: erin
    description: Erin
    groups: [staff]
    password: {generate: true}
  - name: frank
    email: frank@example.com
    password: {from_env: FRANK_PW}
  - name: alice
    email: alice@example.org
`

const frankPw = "Hot-Dog-Stand-77"

func TestPlanCommand(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	e = e.with("FRANK_PW", frankPw)
	file := usersFile(t, teamYAML)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string // regular expressions
	}{
		{"text", []string{"plan", "-f", file}, 0, []string{`(?m)^\+ group staff$`, `(?m)^\+ user erin$`, `(?m)^    password: generated$`,
			`(?m)^~ user alice$\n^    email: alice@example\.com -> alice@example\.org$`, `Plan: 3 to create, 1 to change, 0 to delete\.`}},
		{"detailed", []string{"plan", "-f", file, "--detailed-exitcode"}, 2, []string{`Plan: 3 to create`}},
		{"json", []string{"plan", "-f", file, "-o", "json"}, 0, []string{`"action": "create"`, `"name": "erin"`, `"source": "env",\s+"env": "FRANK_PW"`}},
		{"no file", []string{"plan"}, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, tc.args...)
			r.wantCode(t, tc.code)
			for _, re := range tc.stdout {
				if !regexp.MustCompile(re).MatchString(r.stdout) {
					t.Errorf("stdout lacks %s:\n%s", re, r.stdout)
				}
			}
			r.noSecrets(t, frankPw)
		})
	}
}

func TestPlanCommandProblems(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	file := usersFile(t, "users:\n  - name: root\n    password: {generate: true}\n  - name: x\n    password: {from_env: NOPE}\n    colour: red\n")
	r := e.run(t, "plan", "-f", file)
	r.wantCode(t, ExitFailure)
	for _, w := range []string{file + `:6: users[1]: unknown key "colour"`} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	// Once the file reads, the NAS's rules: both problems at once.
	file = usersFile(t, "users:\n  - name: root\n    password: {generate: true}\n  - name: x\n    password: {from_env: NOPE}\n")
	r = e.run(t, "plan", "-f", file)
	r.wantCode(t, ExitFailure)
	for _, w := range []string{"2 problems, nothing changed", file + ":2: user root: the name is reserved by DSM", file + ":5: user x: the environment variable NOPE is not set"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
}

func TestApplyCommand(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t, dsmtest.WithJoinDelay(10e6))
	e = e.with("FRANK_PW", frankPw)
	file := usersFile(t, teamYAML)
	out := filepath.Join(t.TempDir(), "first.tsv")

	// Refusals first: nothing changes.
	e.run(t, "apply", "-f", file, "--passwords-file", out).wantCode(t, ExitUsage) // no terminal, no --yes
	r := e.run(t, "apply", "-f", file, "--yes")
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "--passwords-file") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	no := e.with()
	no.terminal = []string{"n"}
	no.run(t, "apply", "-f", file, "--passwords-file", out).wantCode(t, 0)
	if _, err := srv.Client().Users.Get(t.Context(), "erin"); err == nil {
		t.Fatal("erin exists after a refused apply")
	}

	// On a terminal, "y" applies; the progress is plain lines here.
	yes := e.with()
	yes.terminal = []string{"y"}
	r = yes.run(t, "apply", "-f", file, "--passwords-file", out)
	r.wantCode(t, 0)
	if len(yes.prompts) != 1 || !strings.Contains(yes.prompts[0], "Apply these changes to "+srv.URL()) {
		t.Errorf("prompts %q", yes.prompts)
	}
	for _, re := range []string{`(?m)^Applied 4 of 4 changes \(3 to create, 1 to change, 0 to delete\) in .*; 0 failed\.$`, `generated passwords are in .*first\.tsv`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("stdout lacks %s:\n%s", re, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^apply: 4/4 done, 0 failed, [0-9.]+/s$`).MatchString(r.stderr) {
		t.Errorf("stderr lacks the progress:\n%s", r.stderr)
	}
	if m := fileMode(t, out); m != 0o600 {
		t.Errorf("--passwords-file has mode %04o", m)
	}
	data, _ := os.ReadFile(out)
	name, pw, ok := strings.Cut(strings.TrimSpace(string(data)), "\t")
	if !ok || name != "erin" {
		t.Fatalf("--passwords-file holds %q", data)
	}
	r.noSecrets(t, pw, frankPw)
	c, _ := dsm.NewClient(srv.URL())
	if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "erin", Password: pw}); err != nil {
		t.Errorf("login with the generated password: %v", err)
	}

	// Nothing left to do.
	e.run(t, "plan", "-f", file, "--detailed-exitcode").wantCode(t, 0)
	r = e.run(t, "apply", "-f", file, "--yes")
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "No changes") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

func TestApplyCommandJSONAndFailures(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	file := usersFile(t, "users:\n  - name: g1\n    password: {generate: true}\n  - name: g2\n    password: {generate: true}\n")
	// The plan is made; then g2 is taken just before the create (a
	// fault the engine reports, not stops at): simulate with a second
	// apply racing the first is hard, so make g2 first and plan nothing
	// for it... instead check the JSON of a clean run here.
	r := e.run(t, "apply", "-f", file, "--yes", "-o", "json")
	r.wantCode(t, 0)
	var got struct {
		Plan struct {
			Users []struct{ Name, Action string }
		}
		Result struct {
			Total, Succeeded int
			Failures         []any
			Passwords        []struct{ User, Password string }
		}
	}
	decodeJSON(t, r.stdout, &got)
	if got.Result.Total != 2 || got.Result.Succeeded != 2 || len(got.Result.Passwords) != 2 || len(got.Plan.Users) != 2 {
		t.Fatalf("result %+v", got)
	}
	for _, p := range got.Result.Passwords {
		if strings.Contains(r.stderr, p.Password) {
			t.Errorf("a generated password shows on stderr")
		}
	}

	// One failure does not stop the others; it is listed with its
	// reason and the exit code is 1. DSM reserves the group name wheel
	// without listing it in its username policy, so only apply sees it.
	file = usersFile(t, "groups:\n  - name: wheel\n  - name: fine\nusers:\n  - name: alice\n    groups: [wheel]\n  - name: bob\n    groups: [fine]\n")
	r = e.run(t, "apply", "-f", file, "--yes")
	r.wantCode(t, ExitFailure)
	for _, w := range []string{"Applied 2 of 4 changes", "  failed: group wheel: create: dsm: SYNO.Core.Group create: code 3207: group name is reserved",
		"  failed: user alice: join: group wheel could not be created"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "dsmctl: 2 of 4 changes failed") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if u, err := srv.Client().Users.Get(t.Context(), "bob"); err != nil || strings.Join(u.Groups, ",") != "fine,users" {
		t.Errorf("bob: %v %v", u.Groups, err)
	}
}

func TestApplyProgressBar(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	e.errTerminal = true
	file := usersFile(t, "groups:\n  - name: a1\n  - name: a2\n  - name: a3\n")
	r := e.run(t, "apply", "-f", file, "--yes")
	r.wantCode(t, 0)
	if !strings.Contains(r.stderr, "applying") || !strings.Contains(r.stderr, "/3, ") || !strings.Contains(r.stderr, "changes/s") {
		t.Errorf("no progress bar on the terminal:\n%q", r.stderr)
	}
	if strings.Contains(r.stderr, "apply: 3/3 done") {
		t.Errorf("plain progress lines on a terminal:\n%s", r.stderr)
	}
}

func TestExportThenPlan(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t, dsmtest.WithGroup(dsmtest.Group{Name: "crew", Description: "The crew", Members: []string{"alice"}}))
	for _, format := range []string{"yaml", "json"} {
		r := e.mustRun(t, "export", "-o", format)
		if format == "json" {
			var v map[string]any
			decodeJSON(t, r.stdout, &v)
		}
		file := usersFile(t, r.stdout)
		p := e.run(t, "plan", "-f", file, "--prune", "--detailed-exitcode")
		p.wantCode(t, 0)
		if !strings.Contains(p.stdout, "No changes") {
			t.Errorf("%s: plan of the export:\n%s", format, p.stdout)
		}
	}
	e.run(t, "export", "-o", "csv").wantCode(t, ExitUsage)
}

func TestUserImport(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t, dsmtest.WithGroup(dsmtest.Group{Name: "crew"}))
	dir := t.TempDir()
	csvFile := filepath.Join(dir, "staff.csv")
	os.WriteFile(csvFile, []byte("name,password,description,email,groups\nhal,Open-The-Pod-9,HAL,hal@example.com,\"crew\"\nkim,,Kim,,\n"), 0o600)
	dsmFile := filepath.Join(dir, "users.txt")
	os.WriteFile(dsmFile, []byte("rosy\tRed-Rose-5678\tmother\trosy@abc.com\tcrew\t80000\neddy\tSteady-Go-1234\tfather\teddy@abc.com\t80000\n"), 0o600)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("name,password,email\nok1,Ok-Pass-1234,\nroot,Root-Pass-1234,\nx:y,,\nz,Zz-Pass-1234,nope\n"), 0o600)
	out := filepath.Join(dir, "pw.tsv")

	r := e.run(t, "user", "import", bad, "--yes")
	r.wantCode(t, ExitFailure)
	for _, w := range []string{bad + ":4: the user name \"x:y\" contains ':'", bad + ":5: user z: \"nope\" is not an email address"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}

	r = e.run(t, "user", "import", csvFile, "--yes", "--passwords-file", out)
	r.wantCode(t, 0)
	r.noSecrets(t, "Open-The-Pod-9")
	r = e.run(t, "user", "import", dsmFile, "--yes")
	r.wantCode(t, 0)
	c := srv.Client()
	for name, want := range map[string]string{"hal": "crew,users", "kim": "users", "rosy": "crew,users", "eddy": "users"} {
		u, err := c.Users.Get(t.Context(), name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := strings.Join(u.Groups, ","); got != want {
			t.Errorf("%s is in %s, want %s", name, got, want)
		}
	}
	if u, _ := c.Users.Get(t.Context(), "rosy"); u.Description != "mother" || u.Email != "rosy@abc.com" {
		t.Errorf("rosy: %+v", u)
	}
	lc, _ := dsm.NewClient(srv.URL())
	if _, err := lc.Auth.Login(t.Context(), dsm.Credentials{Account: "eddy", Password: "Steady-Go-1234"}); err != nil {
		t.Errorf("eddy's password from the list: %v", err)
	}
	data, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(data), "kim\t") {
		t.Errorf("passwords file: %q", data)
	}
	// Importing again changes nothing.
	r = e.run(t, "user", "import", dsmFile, "--yes")
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "No changes") {
		t.Errorf("second import:\n%s", r.stdout)
	}
}
