package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEExitCodes holds the README's table of exit codes to
// exitCodesTable, the text dsmctl help exit-codes and the root help show.
func TestREADMEExitCodes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- exit-codes: the text of exitCodesTable in internal/cli/exitcodes.go -->\n```text\n", "\n```\n<!-- end exit-codes -->"
	s := string(data)
	i := strings.Index(s, start)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no block between %q and %q", start, end)
	}
	if got := s[i+len(start) : j]; got != exitCodesTable {
		t.Errorf("README.md's exit codes differ from exitCodesTable (internal/cli/exitcodes.go); copy the Go text:\nREADME:\n%s\nGo:\n%s", got, exitCodesTable)
	}
}

// TestHelpExitCodesTopic: "dsmctl help exit-codes" is a help topic, listed
// under "Additional help topics", and shows the table.
func TestHelpExitCodesTopic(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.mustRun(t, "help", "exit-codes")
	if !strings.Contains(r.stdout, exitCodesTable) {
		t.Errorf("dsmctl help exit-codes lacks the table:\n%s", r.stdout)
	}
	root := e.mustRun(t, "--help")
	if !regexp.MustCompile(`(?s)Additional help topics:\n.*exit-codes +The exit codes`).MatchString(root.stdout) {
		t.Errorf("the root help does not list exit-codes as a help topic:\n%s", root.stdout)
	}
	if !strings.Contains(root.stdout, exitCodesTable) {
		t.Errorf("the root help lacks the table:\n%s", root.stdout)
	}
}

// dsmIdentifiers returns the exported names of package dsm (types,
// functions, methods, constants, variables, struct fields): words a
// message for a person must not hold.
func dsmIdentifiers(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("..", "..", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				names[n.Name.Name] = true
			case *ast.TypeSpec:
				names[n.Name.Name] = true
			case *ast.ValueSpec:
				for _, id := range n.Names {
					names[id.Name] = true
				}
			case *ast.Field:
				for _, id := range n.Names {
					names[id.Name] = true
				}
			}
			return true
		})
	}
	for n := range names {
		if !ast.IsExported(n) {
			delete(names, n)
		}
	}
	if !names["ErrNoSuchUser"] || !names["Disabled"] {
		t.Fatalf("package dsm's names were not read: %d names", len(names))
	}
	return names
}

// Words of messages that are not Go names there: API names
// (SYNO.Core.User, whose parts are also type names), headers.
var apiName = regexp.MustCompile(`SYNO(\.[A-Za-z]+)+|X-SYNO-[A-Z-]+`)

// TestErrorMessages runs command lines that fail, each its own way,
// against a simulator, and checks the exit code of each against the one
// table, and every message for a doubled "dsm:" and for Go names of
// package dsm.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	e = e.with(newPasswordEnv, "Fresh-Pw-4242")
	e.mustRun(t, "group", "create", "staff")
	idents := dsmIdentifiers(t)
	word := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	for _, tc := range []struct {
		args  []string
		stdin string
		code  int
	}{
		{[]string{"bogus"}, "", ExitUsage},
		{[]string{"user", "create", "x1", "--expire", "2020-01-01"}, "", ExitUsage},
		{[]string{"user", "create", "x1", "--expire", "tomorrow"}, "", ExitUsage},
		{[]string{"user", "update", "alice", "--expire", "2020-01-01"}, "", ExitUsage},
		{[]string{"user", "update", "alice", "--expire", "tomorrow"}, "", ExitUsage},
		{[]string{"user", "create", "bad/name"}, "", ExitUsage},
		{[]string{"user", "list", "--limit", "-1"}, "", ExitUsage},
		{[]string{"user", "list", "--sort", "bogus"}, "", ExitUsage},
		{[]string{"user", "list", "--fields", "bogus"}, "", ExitUsage},
		{[]string{"user", "delete", "alice"}, "", ExitUsage}, // no terminal, no --yes
		{[]string{"group", "create", "bad/name"}, "", ExitUsage},
		{[]string{"policy", "password", "set", "--min-length", "200"}, "", ExitUsage},
		{[]string{"policy", "expiry", "set", "--max-age", "5000"}, "", ExitUsage},
		{[]string{"policy", "expiry", "set", "--min-age", "-1"}, "", ExitUsage},
		{[]string{"policy", "expiry", "set", "--login-prompt-days", "200"}, "", ExitUsage},
		{[]string{"policy", "expiry", "set", "--mail-notification-days", "100"}, "", ExitUsage},
		{[]string{"plan"}, "", ExitUsage},
		{[]string{"whoami", "-o", "xml"}, "", ExitUsage},
		{[]string{"user", "get", "nosuch"}, "", ExitNotFound},
		{[]string{"user", "delete", "nosuch", "--yes"}, "", ExitNotFound},
		{[]string{"user", "join", "alice", "nosuch"}, "", ExitNotFound},
		{[]string{"group", "get", "nosuch"}, "", ExitNotFound},
		{[]string{"group", "delete", "nosuch", "--yes"}, "", ExitNotFound},
		{[]string{"group", "add", "nosuch", "alice"}, "", ExitNotFound},
		{[]string{"group", "add", "staff", "nobody"}, "", ExitNotFound},
		{[]string{"confirm-password", "--password-stdin"}, "Wrong-Password-1\n", ExitAuth},
		{[]string{"user", "create", "alice"}, "", ExitFailure}, // exists
		{[]string{"user", "leave", "alice", "users"}, "", ExitUsage},
		{[]string{"plan", "-f", filepath.Join(t.TempDir(), "none.yaml")}, "", ExitFailure},
		{[]string{"apply", "-f", filepath.Join(t.TempDir(), "none.yaml"), "--yes"}, "", ExitFailure},
		{[]string{"sim", "--listen", "bogus"}, "", ExitUsage},
	} {
		run := e.with()
		run.stdin = tc.stdin
		r := run.run(t, tc.args...)
		line := "dsmctl " + strings.Join(tc.args, " ")
		if r.code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstderr:\n%s", line, r.code, tc.code, r.stderr)
		}
		if r.stderr == "" {
			t.Errorf("%s: nothing on stderr", line)
		}
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.Contains(l, "dsm: dsm:") || strings.Count(l, "dsm: ") > 1 {
				t.Errorf("%s: a doubled dsm: prefix: %s", line, l)
			}
			if strings.Contains(l, "manifest: ") {
				t.Errorf("%s: a Go package prefix in: %s", line, l)
			}
			parts := strings.Split(l, ": ")
			for i := 1; i < len(parts); i++ {
				if parts[i] == parts[i-1] {
					t.Errorf("%s: %q said twice in: %s", line, parts[i], l)
				}
			}
			for _, w := range word.FindAllString(apiName.ReplaceAllString(l, ""), -1) {
				if idents[w] {
					t.Errorf("%s: the Go name %s of package dsm in: %s", line, w, l)
				}
			}
		}
	}
}
