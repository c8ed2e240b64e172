package cli

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dsmkit/dsm"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitFailure},
		{usagef("bad"), ExitUsage},
		{fmt.Errorf("wrapped: %w", usagef("bad")), ExitUsage},
		{&authError{err: errors.New("not logged in")}, ExitAuth},
		{&dsm.APIError{Code: 400, API: "SYNO.API.Auth", Method: "login"}, ExitAuth},
		{fmt.Errorf("login: %w", &dsm.APIError{Code: 403, API: "SYNO.API.Auth", Method: "login"}), ExitAuth},
		{&dsm.APIError{Code: 119, API: "SYNO.Core.NormalUser", Method: "get"}, ExitAuth},
		{dsm.ErrNotLoggedIn, ExitAuth},
		{&dsm.APIError{Code: 105, API: "SYNO.Core.User", Method: "list"}, ExitFailure},
		{&dsm.APIError{Code: 3106, API: "SYNO.Core.User", Method: "get"}, ExitNotFound},
		{fmt.Errorf("user bob: %w", &dsm.APIError{Code: 3106, API: "SYNO.Core.User", Method: "set"}), ExitNotFound},
		{&dsm.APIError{Code: 3204, API: "SYNO.Core.Group", Method: "get"}, ExitNotFound},
		{&dsm.APIError{Code: 3121, API: "SYNO.Core.User", Method: "create"}, ExitFailure},
		{dsm.ValidateUserName("-bob"), ExitUsage},
		{fmt.Errorf("create user bob: %w", &dsm.ArgError{Op: "create user", Reason: "the password is empty"}), ExitUsage},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{"bogus"},
		{"whoami", "--nope"},
		{"whoami", "extra"},
		{"sim", "--listen"},
		{"demo", "now"},
		{"user", "bogus"},
		{"group", "bogus"},
		{"policy", "bogus"},
		{"policy", "password", "bogus"},
		{"user", "get"},
		{"user", "list", "extra"},
	}
	for _, args := range tests {
		r := newEnv(t, nil).run(t, args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "--help' for usage") {
			t.Errorf("dsmctl %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	t.Parallel()
	r := newEnv(t, nil).mustRun(t, "--help")
	for _, want := range []string{"Exit codes:", "0    success", "1    failure", "2    plan --detailed-exitcode: changes pending", "3    not found", "4    authentication", "64   usage error", "130  interrupted",
		"login", "logout", "whoami", "user", "group", "policy", "confirm-password", "sim", "demo"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestNoPasswordFlag checks that no flag of any command takes a secret as
// its value: flags whose name says password, token or secret are
// switches (user update --password asks for the password; it does not
// hold it), or name a file that holds it (--otp-secret-file).
func TestNoPasswordFlag(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&IOStreams{}, func(string) string { return "" }, new(bool))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			name := strings.ToLower(f.Name)
			secret := name == "pw" || name == "pass" || strings.Contains(name, "passw") || strings.Contains(name, "token") || strings.Contains(name, "secret")
			if strings.HasSuffix(name, "-file") {
				// It names a file that holds the secret (--otp-secret-file).
				secret = false
			}
			if secret && f.Value.Type() != "bool" {
				t.Errorf("%s --%s takes a %s value: a secret in a flag shows in ps and the shell history", c.CommandPath(), f.Name, f.Value.Type())
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// TestEveryCommandHasHelp checks that each command has a summary, a long
// description and, when it does something, examples.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&IOStreams{}, func(string) string { return "" }, new(bool))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" {
			t.Errorf("%s has no short help", c.CommandPath())
		}
		if c.Runnable() && c != root && c.Long == "" {
			t.Errorf("%s has no long help", c.CommandPath())
		}
		switch c.Name() {
		case "user", "group", "policy", "logout", "whoami", "demo", "dsmctl":
		default:
			if c.Runnable() && c.Example == "" {
				t.Errorf("%s has no examples", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// TestConnectingCommandsHaveCertificateFlags checks that every command
// that connects to DSM (it has --url) has --insecure and --fingerprint,
// and that those that log in have --otp and --otp-secret-file.
func TestConnectingCommandsHaveCertificateFlags(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&IOStreams{}, func(string) string { return "" }, new(bool))
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("url") != nil {
			n++
			want := []string{"insecure", "fingerprint"}
			if c.Name() != "logout" {
				want = append(want, "otp", "otp-secret-file")
			}
			for _, name := range want {
				if c.Flags().Lookup(name) == nil {
					t.Errorf("%s has --url but no --%s", c.CommandPath(), name)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 10 {
		t.Errorf("only %d commands have --url", n)
	}
}

// The arguments the library refuses are refused before dsmctl connects at
// all, one-shot login included, with exit code 64 and what to do.
func TestArgErrorsBeforeAnyConnection(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	var conns atomic.Int64
	nas := httptest.NewUnstartedServer(srv.Handler())
	nas.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	nas.Config.ErrorLog = log.New(io.Discard, "", 0)
	nas.StartTLS()
	t.Cleanup(nas.Close)
	e := newEnv(t, nil, "DSM_URL", nas.URL, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword(), newPasswordEnv, "Some-Pass-w0rd")

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"user", "list", "--sort", "uid"}, `cannot sort by "uid"; use name, description, email or expired`},
		{[]string{"user", "list", "--offset", "-1"}, "offset -1 is negative"},
		{[]string{"user", "create", "carl", "--send-password"}, "SendPassword needs NotifyByEmail"},
		{[]string{"user", "create", "carl", "--expire", "2001-01-01"}, "in the past"},
		{[]string{"user", "create", "--", "-carl"}, `starts with "-"`},
		{[]string{"user", "create", "carl", "--description", strings.Repeat("d", dsm.MaxDescriptionLength+1)}, "DSM allows at most 64"},
		{[]string{"user", "create", "carl", "--groups", "a:b"}, `contains ':'`},
		{[]string{"user", "leave", "bob", "users"}, `every user belongs to "users" and cannot leave it`},
		{[]string{"user", "leave", "bob", "staff", "Users"}, `cannot leave it`},
		{[]string{"group", "create", "--", "-staff"}, `starts with "-"`},
		{[]string{"login", "--otp", "12a456"}, "--otp: the 2-step code must be digits only"},
		{[]string{"user", "list", "--otp", "12a456"}, "--otp: the 2-step code must be digits only"},
	}
	for _, tt := range tests {
		r := e.run(t, tt.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "--help' for usage.") {
			t.Errorf("dsmctl %s: exit %d, want %d with %q and the usage hint\nstderr:\n%s", strings.Join(tt.args, " "), r.code, ExitUsage, tt.want, r.stderr)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections to the NAS for arguments refused before any call", n)
	}
	// The same environment does reach the NAS when the arguments are right.
	e.mustRun(t, "user", "list", "--insecure")
	if conns.Load() == 0 {
		t.Error("no connection for a valid command: the count proves nothing")
	}
}
