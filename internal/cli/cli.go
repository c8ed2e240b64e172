// Package cli implements dsmctl, the command line of package dsm: log in
// to a DSM, ask who is logged in, manage users, groups and the password
// policies, serve the simulator, and take the tour.
//
// Each command has an options struct filled from flags and environment
// variables, and a run function that takes the options and the I/O
// streams, so it can be tested without a process.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dsmkit/dsm"
)

// Exit codes of dsmctl: exitCode maps every error to one of them, and
// exitCodesTable documents them (dsmctl help exit-codes, the root help,
// the README). ExitChanges (plan.go) is the one code a flag asks for.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitFailure: anything else went wrong (network, DSM error, file),
	// or a confirmation was declined (nothing changed).
	ExitFailure = 1
	// ExitUsage: unknown command or flag, bad flag value, a missing URL,
	// account or password, or an argument the library refuses before
	// sending it (any *dsm.ArgError). 64 is EX_USAGE of BSD's sysexits.h,
	// so that it differs from ExitChanges (2, terraform's "changes
	// pending" of plan --detailed-exitcode).
	ExitUsage = 64
	// ExitNotFound: the user, group or shared folder named does not exist.
	ExitNotFound = 3
	// ExitAuth: authentication failed (wrong password, 2-step code needed
	// or rejected, account disabled or blocked), or not logged in (no
	// saved session, or it expired).
	ExitAuth = 4
	// ExitInterrupted: Ctrl-C (SIGINT) or SIGTERM ended the command, at a
	// prompt or while it worked, as a shell reports a process ended by
	// SIGINT (128 + 2).
	ExitInterrupted = 130
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	// In is standard input (--password-stdin reads its first line).
	In io.Reader
	// Out receives results.
	Out io.Writer
	// ErrOut receives errors, prompts and --debug traces.
	ErrOut io.Writer
	// ReadSecret shows prompt on the terminal and reads a line without
	// echo. It is nil when standard input is not a terminal: commands
	// then never prompt.
	ReadSecret func(prompt string) (string, error)
	// ReadLine shows prompt and reads a line, with echo, from the
	// terminal (a yes/no question). It is nil when standard input is not
	// a terminal.
	ReadLine func(prompt string) (string, error)
	// ErrTerminal says ErrOut is a terminal: commands may draw progress
	// there.
	ErrTerminal bool

	// conn is the DSM the command connected to, for the report of a
	// certificate error.
	conn connNote
	// quiet is --quiet: confirmf prints nothing.
	quiet bool
	// noColor: NO_COLOR or TERM=dumb; see colorOut.
	noColor bool
}

// confirmf prints a confirmation of a change ("deleted user bob") on
// s.Out, unless --quiet. Data a user must learn (a generated password, a
// task id), -o output, warnings and errors do not go through it.
func (s *IOStreams) confirmf(format string, args ...any) {
	if !s.quiet {
		fmt.Fprintf(s.Out, format, args...)
	}
}

// Main runs dsmctl with the process's arguments, streams and environment,
// and returns the exit code. SIGINT and SIGTERM cancel the command. The
// process writes no core file (see disableCoreDumps).
func Main() int {
	// First, before any secret is in memory (see disableCoreDumps).
	if err := disableCoreDumps(); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v: a crash may write a core file holding secrets\n", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		// A prompt ends at Ctrl-C: the read goes on in its goroutine (the
		// process exits soon after), the terminal gets its echo back.
		restore := func() {}
		if st, err := term.GetState(fd); err == nil {
			restore = func() { term.Restore(fd, st) }
		}
		s.ReadSecret = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			line, err := interruptible(ctx, func() (string, error) {
				b, err := term.ReadPassword(fd)
				return string(b), err
			}, restore)
			fmt.Fprintln(os.Stderr)
			return line, err
		}
		in := bufio.NewReader(os.Stdin)
		s.ReadLine = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			line, err := interruptible(ctx, func() (string, error) {
				line, err := in.ReadString('\n')
				if err != nil && !(errors.Is(err, io.EOF) && line != "") {
					return "", err
				}
				return strings.TrimRight(line, "\r\n"), nil
			}, func() {})
			if errors.Is(err, errInterrupted) {
				fmt.Fprintln(os.Stderr)
			}
			return line, err
		}
	}
	s.ErrTerminal = term.IsTerminal(int(os.Stderr.Fd()))
	if fd := int(os.Stdout.Fd()); term.IsTerminal(fd) {
		// Tables fit the terminal; a pipe or a file gets them whole.
		if w, _, err := term.GetSize(fd); err == nil && w > 0 {
			s.Out = terminalOut{Writer: os.Stdout, width: w}
		}
	}
	return Run(ctx, os.Args[1:], s, os.Getenv)
}

// Run runs dsmctl with args (without the program name), the streams s and
// the environment getenv, and returns the exit code. Errors are written
// to s.ErrOut.
func Run(ctx context.Context, args []string, s *IOStreams, getenv func(string) string) int {
	started := false // set once cobra has parsed flags and arguments
	s.noColor = noColor(getenv)
	root := newRootCmd(s, getenv, &started)
	root.SetArgs(terraformOut(args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) && !errors.Is(err, errInterrupted) {
		// The signal cancelled the work: report it as the interruption
		// it is, with what the command said of it.
		err = &interruptedError{err: err}
	}
	if !started && !errors.Is(err, errInterrupted) {
		err = &usageError{err: err}
	}
	return report(s.ErrOut, cmd, explainCertificateError(err, s))
}

const rootLong = `dsmctl manages a Synology DSM (DiskStation Manager) through its Web API.

Start with "dsmctl demo": a tour against an in-process simulator.

Connecting: give the DSM address with --url or DSM_URL and the account with
--user or DSM_USER. "dsmctl login" asks for the password (DSM_PASSWORD,
--password-stdin, or a prompt on a terminal; never a flag) and saves the
session under the config directory ($DSM_CONFIG_DIR, default the user
config directory + /dsmctl); later commands use it without a password.
When DSM_PASSWORD is set or --password-stdin is given, a command logs in
for itself and logs out when done, ignoring any saved session.
Each login is kept as a context (several NAS boxes, several accounts):
--context NAME or DSM_CONTEXT picks one, "dsmctl context" lists and
switches them; --url/--user, then DSM_URL/DSM_USER, win over the context.

Output: tables for people; -o json, -o yaml or -o csv for scripts. Dates
are YYYY-MM-DD. Errors go to stderr with DSM's reason.

` + exitCodesTable

func newRootCmd(s *IOStreams, getenv func(string) string, started *bool) *cobra.Command {
	var g globalOptions
	root := &cobra.Command{
		Use:           "dsmctl",
		Short:         "Manage a Synology DSM from the command line",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			*started = true
			s.quiet = g.Quiet
			return nil
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	// --quiet is global, as --debug: one meaning on every command (no
	// confirmation of a change), set once in a script or an alias; a
	// command that only reads has no confirmation to drop.
	root.PersistentFlags().BoolVarP(&g.Quiet, "quiet", "q", false, "print no confirmation of a change (errors, warnings, generated passwords, task ids and -o output still print)")
	root.PersistentFlags().BoolVar(&g.Debug, "debug", false, "trace each DSM call (API, method, version, HTTP status, DSM code, duration; never parameters) to stderr")
	root.PersistentFlags().StringVar(&g.Context, "context", "", "the saved login (context) to use (default $DSM_CONTEXT, else the current one; see dsmctl context)")
	root.CompletionOptions.DisableDefaultCmd = true

	root.AddCommand(
		newLoginCmd(s, getenv, &g),
		newLogoutCmd(s, getenv, &g),
		newWhoamiCmd(s, getenv, &g),
		newSimCmd(s, getenv, &g),
		newUserCmd(s, getenv, &g),
		newGroupCmd(s, getenv, &g),
		newPolicyCmd(s, getenv, &g),
		newConfirmPasswordCmd(s, getenv, &g),
		newDemoCmd(s, &g),
		newPlanCmd(s, getenv, &g),
		newApplyCmd(s, getenv, &g),
		newExportCmd(s, getenv, &g),
		newVersionCmd(s),
		newTaskCmd(s, getenv, &g),
		newCompletionCmd(s),
		newManCmd(s, getenv),
		newExitCodesHelpCmd(),
		newContextCmd(s, getenv, &g),
		newShareCmd(s, getenv, &g), newHomeCmd(s, getenv, &g),
		newQuotaCmd(s, getenv, &g), newAppCmd(s, getenv, &g), newSpeedCmd(s, getenv, &g),
		newSecurityCmd(s, getenv, &g), newTwoFACmd(s, getenv, &g),
		newAuditCmd(s, getenv, &g),
	)
	registerCompletions(root, getenv)
	root.Version = readBuild(debug.ReadBuildInfo).String()
	root.SetVersionTemplate("{{.Version}}\n")
	return root
}

// globalOptions are the flags every command has.
type globalOptions struct {
	Debug bool
	Quiet bool
	// Context is --context: the saved login to use.
	Context string
}

// errInterrupted matches an interruption by Ctrl-C or SIGTERM: exit code
// 130.
var errInterrupted = errors.New("interrupted")

// interruptedError is a command ended by Ctrl-C or SIGTERM. err says what
// the command had done, when it said so.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string {
	switch {
	case e.err == nil || e.err == context.Canceled:
		return "interrupted"
	case strings.HasPrefix(e.err.Error(), "interrupted"):
		return e.err.Error() // the command said what it had done
	}
	return "interrupted: " + e.err.Error()
}
func (e *interruptedError) Unwrap() error        { return e.err }
func (e *interruptedError) Is(target error) bool { return target == errInterrupted }

// interruptible runs read, a blocking read of the terminal, until it
// returns or ctx ends (Ctrl-C): then restore gives the terminal back its
// settings and the read's answer is dropped.
func interruptible(ctx context.Context, read func() (string, error), restore func()) (string, error) {
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := read()
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		return r.line, r.err
	case <-ctx.Done():
		restore()
		return "", &interruptedError{}
	}
}

// usageError is a mistake in the command line: exit code 64.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// authError is an authentication failure or a missing session that the
// CLI itself detects: exit code 4.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// authErrors are the DSM errors that mean "authentication failed" or
// "not logged in": exit code 4.
var authErrors = []error{
	dsm.ErrWrongCredentials, dsm.ErrAccountDisabled, dsm.ErrOTPRequired,
	dsm.ErrOTPRejected, dsm.ErrOTPEnforced, dsm.ErrIPBlocked,
	dsm.ErrPasswordExpired, dsm.ErrAccountLocked, dsm.ErrSessionExpired,
	dsm.ErrNotLoggedIn, dsm.ErrSecureSignInUnavailable,
}

// exitCode maps an error to dsmctl's exit code.
func exitCode(err error) int {
	var ue *usageError
	var ae *authError
	var es *exitStatus
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errInterrupted):
		return ExitInterrupted
	case errors.As(err, &es):
		return es.code
	case errors.As(err, &ue), errors.Is(err, dsm.ErrInvalidArgument):
		// The library refused an argument (*dsm.ArgError) before
		// sending it: a mistake in the command line, like the others.
		return ExitUsage
	case errors.As(err, &ae):
		return ExitAuth
	case errors.Is(err, dsm.ErrNoSuchUser), errors.Is(err, dsm.ErrNoSuchGroup), errors.Is(err, dsm.ErrNoSuchShare):
		return ExitNotFound
	}
	for _, target := range authErrors {
		if errors.Is(err, target) {
			return ExitAuth
		}
	}
	return ExitFailure
}

// report writes err to w, with a hint where one helps, and returns the
// exit code.
func report(w io.Writer, cmd *cobra.Command, err error) int {
	code := exitCode(err)
	msg := err.Error()
	if msg == "" {
		return code // an exitStatus: the output said it all
	}
	var ae *authError
	if errors.Is(err, dsm.ErrSessionExpired) && !errors.As(err, &ae) {
		msg = "session expired, run dsmctl login (" + msg + ")"
	}
	fmt.Fprintf(w, "dsmctl: %s\n", tidyMessage(msg))
	if code == ExitUsage && cmd != nil {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", strings.TrimSpace(cmd.CommandPath()))
	}
	return code
}
