package cli

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// completeRun runs cobra's hidden __complete command, as the shell
// scripts do when Tab is pressed, and returns the choices (without their
// descriptions) and the directive. It fails the test unless __complete
// exits 0 and writes to stderr only cobra's note of the directive: the
// shell would show anything else.
func completeRun(t *testing.T, e *cliEnv, args ...string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	r := e.run(t, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("dsmctl __complete %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	if rest := strings.TrimPrefix(r.stderr, "Completion ended with directive: "); strings.Contains(strings.TrimSpace(rest), "\n") || rest == r.stderr {
		t.Errorf("dsmctl __complete %s wrote more than cobra's directive to stderr:\n%s", strings.Join(args, " "), r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	d, err := strconv.Atoi(strings.TrimPrefix(last, ":"))
	if !strings.HasPrefix(last, ":") || err != nil {
		t.Fatalf("dsmctl __complete %s: no directive at the end of\n%s", strings.Join(args, " "), r.stdout)
	}
	var choices []string
	for _, l := range lines[:len(lines)-1] {
		choice, _, _ := strings.Cut(l, "\t")
		choices = append(choices, choice)
	}
	return choices, cobra.ShellCompDirective(d)
}

// TestCompletionNamesFromNAS: with a saved session, the arguments and
// flag values that are user or group names complete from the NAS, once
// over a plain session and once over a signed one (a remote client's,
// whose nonce the completion must save for the next command). A password
// in the environment is not used: completion never logs in.
func TestCompletionNamesFromNAS(t *testing.T) {
	t.Parallel()
	for _, remote := range []bool{false, true} {
		t.Run("remote="+strconv.FormatBool(remote), func(t *testing.T) {
			t.Parallel()
			opts := []dsmtest.Option{dsmtest.WithGroup(dsmtest.Group{Name: "staff"})}
			if remote {
				opts = append(opts, dsmtest.WithRemoteClients())
			}
			srv := startSim(t, opts...)
			login := newEnv(t, srv, "DSM_USER", "admin")
			login.stdin = srv.AdminPassword() + "\n"
			login.mustRun(t, "login", "--password-stdin")
			login.mustRun(t, "user", "join", "alice", "staff")
			// A password in the environment would make a command log in
			// for itself: completion must use the saved session instead.
			e := login.with("DSM_PASSWORD", "not-the-password")
			sessions := openSessions(t, srv)

			tests := []struct {
				args []string
				want []string
			}{
				{[]string{"user", "get", ""}, []string{"admin", "alice", "bob", "guest"}},
				{[]string{"user", "get", "a"}, []string{"admin", "alice"}},
				{[]string{"user", "get", "A"}, []string{"admin", "alice"}},
				{[]string{"user", "get", "alice", ""}, nil},
				{[]string{"user", "delete", "alice", "guest", ""}, []string{"admin", "bob"}},
				{[]string{"user", "update", "b"}, []string{"bob"}},
				{[]string{"user", "check-password", "bo"}, []string{"bob"}},
				{[]string{"user", "join", "bob", ""}, []string{"administrators", "http", "staff", "users"}},
				{[]string{"user", "join", "bob", "staff", ""}, []string{"administrators", "http", "users"}},
				{[]string{"user", "leave", "alice", ""}, []string{"staff", "users"}},
				{[]string{"group", "get", "s"}, []string{"staff"}},
				{[]string{"group", "delete", "staff", ""}, []string{"administrators", "http", "users"}},
				{[]string{"group", "members", ""}, []string{"administrators", "http", "staff", "users"}},
				{[]string{"group", "add", "staff", ""}, []string{"admin", "alice", "bob", "guest"}},
				{[]string{"group", "remove", "staff", ""}, []string{"alice"}},
				{[]string{"task", "wait", "@administrators/groupbatch1", ""}, []string{"admin", "alice", "bob", "guest"}},
				{[]string{"task", "wait", ""}, nil},
				{[]string{"user", "create", "carol", "--groups", ""}, []string{"administrators", "http", "staff", "users"}},
				{[]string{"user", "create", "carol", "--groups", "staff,"}, []string{"staff,administrators", "staff,http", "staff,users"}},
				{[]string{"user", "create", "carol", "--groups", "staff,h"}, []string{"staff,http"}},
				{[]string{"policy", "expiry", "set", "--never-expire", "alice,b"}, []string{"alice,bob"}},
			}
			for _, tt := range tests {
				got, dir := completeRun(t, e, tt.args...)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("dsmctl __complete %q: (-want +got)\n%s", tt.args, diff)
				}
				if dir&cobra.ShellCompDirectiveNoFileComp == 0 {
					t.Errorf("dsmctl __complete %q: directive %d offers file names", tt.args, dir)
				}
			}
			if n := openSessions(t, srv); n != sessions {
				t.Errorf("the simulator holds %d sessions after the completions, %d before: a completion logged in", n, sessions)
			}
			// The session still works: a signed one's next nonce was saved.
			login.mustRun(t, "user", "get", "bob")
		})
	}
}

// TestCompletionWithoutSession: without a saved session, a name completes
// to nothing, silently, and without logging in, even with a password in
// the environment.
func TestCompletionWithoutSession(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	for _, args := range [][]string{
		{"user", "get", ""},
		{"group", "add", ""},
		{"user", "create", "carol", "--groups", ""},
	} {
		got, _ := completeRun(t, e, args...)
		if len(got) != 0 {
			t.Errorf("dsmctl __complete %q without a session = %q, want nothing", args, got)
		}
	}
	if n := openSessions(t, srv); n != 0 {
		t.Errorf("the simulator holds %d sessions: a completion logged in", n)
	}
	// Another NAS than the saved session's: nothing either.
	login := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	login.mustRun(t, "login")
	other := login.with("DSM_PASSWORD", "", "DSM_URL", "http://127.0.0.1:1")
	if got, _ := completeRun(t, other, "user", "get", ""); len(got) != 0 {
		t.Errorf("completion with DSM_URL of a NAS without a saved session = %q, want nothing", got)
	}
}

// TestCompletionNASNotAnswering: a NAS that takes the connection and
// never answers holds a completion for completionTimeout, no longer, and
// it completes nothing. (The watchdog is ten times the deadline: it only
// turns a missing deadline into a failure rather than a hung test.)
func TestCompletionNASNotAnswering(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 16) // taken, never answered
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-held:
				c.Close()
			default:
				return
			}
		}
	})
	url := "http://" + ln.Addr().String()
	e := newEnv(t, nil, "DSM_URL", url)
	st := store{dir: e.configDir()}
	l, err := st.load()
	if err != nil {
		t.Fatal(err)
	}
	l.putSession(url, dsm.Session{SID: "sid-of-test", Account: "admin"})
	if err := st.save(l); err != nil {
		t.Fatal(err)
	}
	// The run in a goroutine, checked here: t.Fatal belongs to the test's.
	done := make(chan result, 1)
	go func() { done <- e.run(t, cobra.ShellCompRequestCmd, "user", "get", "") }()
	select {
	case r := <-done:
		if r.code != ExitOK || r.stdout != ":4\n" || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("completion from a NAS that does not answer: exit %d, stdout %q, stderr %q; want 0, no names, only cobra's directive", r.code, r.stdout, r.stderr)
		}
	case <-time.After(10 * completionTimeout):
		t.Fatalf("completion still waits for the NAS after %v: it has no deadline", 10*completionTimeout)
	}
}

// TestCompletionFlagValues: flag values that are fixed lists complete
// to them, and -o to the formats each command documents.
func TestCompletionFlagValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"user", "list", "-o", ""}, []string{"text", "json", "yaml", "csv"}},
		{[]string{"user", "list", "--output", "j"}, []string{"json"}},
		{[]string{"export", "-o", ""}, []string{"yaml", "json"}},
		{[]string{"plan", "-o", ""}, []string{"text", "json"}},
		{[]string{"user", "list", "--sort", ""}, []string{"name", "description", "email", "expired"}},
		{[]string{"user", "list", "--fields", "e"}, []string{"email", "expired"}},
		{[]string{"user", "list", "--fields", "a"}, []string{"all"}},
		{[]string{"user", "list", "--fields", "uid,email,"}, []string{
			"uid,email,description", "uid,email,expired", "uid,email,cannot_change_password",
			"uid,email,password_never_expires", "uid,email,password_last_change",
			"uid,email,password_pending", "uid,email,groups", "uid,email,two_factor",
		}},
		{[]string{"user", "create", "carol", "--expire", ""}, []string{"never", "disabled", "YYYY-MM-DD"}},
		{[]string{"user", "update", "carol", "--expire", "n"}, []string{"never"}},
		{[]string{"user", "import", "--format", ""}, []string{"csv", "dsm"}},
		{[]string{"sim", "--dsm", ""}, []string{"7.2", "7.3", "7.4"}},
		{[]string{"sim", "--local-net", ""}, []string{"none"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
	}
	for _, tt := range tests {
		got, _ := completeRun(t, e, tt.args...)
		// cobra filters fixed lists by prefix itself only for ValidArgs;
		// the shells filter the rest, so compare the matching ones.
		prefix := tt.args[len(tt.args)-1]
		got = slices.DeleteFunc(got, func(c string) bool { return !strings.HasPrefix(c, prefix) })
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("dsmctl __complete %q: (-want +got)\n%s", tt.args, diff)
		}
	}
}

// TestCompletionOutputFormats: every command with -o completes it to the
// formats its help names, each one dsmctl knows, so that a command whose
// help changes shape does not silently complete nothing.
func TestCompletionOutputFormats(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&IOStreams{}, func(string) string { return "" }, new(bool))
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("output"); f != nil {
			n++
			choices := outputChoices(f.Usage)
			if len(choices) == 0 {
				t.Errorf("%s: -o completes to nothing: its usage %q names no format after a colon", c.CommandPath(), f.Usage)
			}
			for _, ch := range choices {
				// markdown is audit's alone, for a report.
				if !slices.Contains(outputFormats, ch) && ch != formatMarkdown {
					t.Errorf("%s: -o completes to %q, not a format (usage %q)", c.CommandPath(), ch, f.Usage)
				}
			}
			if _, ok := c.GetFlagCompletionFunc("output"); !ok {
				t.Errorf("%s: -o has no completion", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n == 0 {
		t.Fatal("no command has -o")
	}
}

// TestCompletionScripts: each shell gets a script that completes dsmctl,
// and an unknown or missing shell is a usage error.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for shell, marker := range map[string]string{
		"bash":       "complete -o default -F __start_dsmctl dsmctl",
		"zsh":        "#compdef dsmctl",
		"fish":       "complete -c dsmctl",
		"powershell": "Register-ArgumentCompleter -CommandName 'dsmctl'",
	} {
		r := e.mustRun(t, "completion", shell)
		if !strings.Contains(r.stdout, marker) || !strings.Contains(r.stdout, cobra.ShellCompRequestCmd) {
			t.Errorf("dsmctl completion %s: the script has no %q or no call of %s:\n%.500s", shell, marker, cobra.ShellCompRequestCmd, r.stdout)
		}
		if r.stderr != "" {
			t.Errorf("dsmctl completion %s wrote to stderr:\n%s", shell, r.stderr)
		}
	}
	for _, args := range [][]string{{"completion", "nosuch"}, {"completion"}, {"completion", "bash", "zsh"}} {
		r := e.run(t, args...)
		r.wantCode(t, ExitUsage)
		if r.stdout != "" || !strings.Contains(r.stderr, "bash, zsh, fish, powershell") {
			t.Errorf("dsmctl %s: stdout %q, stderr %q; want no script and the shells named", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
}
