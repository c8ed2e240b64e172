package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

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
		{&dsm.APIError{Code: 3106, API: "SYNO.Core.User", Method: "get"}, ExitFailure},
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
	for _, want := range []string{"Exit codes:", "0  success", "1  failure", "2  usage error", "4  authentication failure", "login", "logout", "whoami", "sim", "demo"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestNoPasswordFlag(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&IOStreams{}, func(string) string { return "" }, new(bool))
	for _, c := range root.Commands() {
		for _, name := range []string{"password", "pass", "passwd", "pw"} {
			if c.Flags().Lookup(name) != nil {
				t.Errorf("dsmctl %s has a --%s flag: a password in a flag shows in ps and the shell history", c.Name(), name)
			}
		}
	}
}
