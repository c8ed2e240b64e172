package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The users file of plan comes from -f FILE, the one argument, or
// standard input with -f -.
func TestPlanFileSources(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	const users = "users:\n  - name: mona\n    description: Mona Lisa\n    password: {generate: true}\n"
	path := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(path, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		args  []string
		stdin string
	}{
		{"-f FILE", []string{"plan", "-f", path}, ""},
		{"FILE", []string{"plan", path}, ""},
		{"-f -", []string{"plan", "-f", "-"}, users},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := e.with()
			env.stdin = tt.stdin
			r := env.mustRun(t, tt.args...)
			if !strings.Contains(r.stdout, "+ user mona") {
				t.Errorf("plan %v:\n%s", tt.args, r.stdout)
			}
		})
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "-f", path, path}, "give the users file once"},
		{[]string{"plan", "-f", "-", "--password-stdin"}, "both read standard input"},
		{[]string{"plan", path, path}, "accepts at most 1 arg"},
	} {
		r := e.run(t, tt.args...)
		r.wantCode(t, ExitUsage)
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: stderr %q, want %q", tt.args, r.stderr, tt.want)
		}
	}
	env := e.with()
	env.stdin = "users:\n  - name: mona\n    mail: x\n"
	r := env.run(t, "plan", "-f", "-")
	if r.code == ExitOK || !strings.Contains(r.stderr, "standard input:3") {
		t.Errorf("a bad file on standard input: exit %d, stderr %q, want its line named", r.code, r.stderr)
	}
}
