package cli

import (
	"strings"
	"testing"
)

// TestColor: a plan on a terminal has its + ~ - lines green, yellow and
// red, and a warning on a terminal is yellow; piped, or with NO_COLOR or
// TERM=dumb, no escape sequence is written.
func TestColor(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	file := usersFile(t, "groups:\n  - name: team\nusers:\n  - name: alice\n    email: alice@example.org\n")
	tty := e.with()
	tty.outWidth = 120
	r := tty.mustRun(t, "plan", "-f", file)
	for _, want := range []string{ansiGreen + "+ group team" + ansiReset + "\n", ansiYellow + "~ user alice" + ansiReset + "\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("a plan on a terminal lacks %q:\n%q", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "    email:"+ansiReset) || strings.Count(r.stdout, "\x1b[") != 4 {
		t.Errorf("a plan on a terminal colors more than its two change lines:\n%q", r.stdout)
	}
	for name, env := range map[string]*cliEnv{"piped": e.with(), "NO_COLOR": tty.with("NO_COLOR", "1"), "TERM=dumb": tty.with("TERM", "dumb")} {
		env.outWidth = tty.outWidth
		if name == "piped" {
			env.outWidth = 0
		}
		if r := env.mustRun(t, "plan", "-f", file); strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("%s: the plan holds escape sequences:\n%q", name, r.stdout)
		}
	}

	// The plain-http warning of login: yellow on a terminal only.
	login := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	login.errTerminal = true
	r = login.mustRun(t, "login")
	if !strings.HasPrefix(r.stderr, ansiYellow+"warning: ") || !strings.Contains(r.stderr, ansiReset+"\n") {
		t.Errorf("the warning on a terminal is not yellow:\n%q", r.stderr)
	}
	for name, env := range map[string]*cliEnv{"piped": newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword()), "NO_COLOR": login.with("NO_COLOR", "x")} {
		if r := env.mustRun(t, "login"); strings.Contains(r.stderr, "\x1b[") || !strings.Contains(r.stderr, "warning: ") {
			t.Errorf("%s: the warning holds escape sequences or is gone:\n%q", name, r.stderr)
		}
	}
}
