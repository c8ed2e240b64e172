package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/manifest"
)

// applyOptions are the options of apply and user import.
type applyOptions struct {
	manifestOptions
	Parallel     int
	Yes          bool
	PasswordsOut string
	// saved is the plan file apply was given, nil with -f.
	saved *savedPlan
}

func addApplyFlags(cmd *cobra.Command, o *applyOptions) {
	f := cmd.Flags()
	f.IntVar(&o.Parallel, "parallel", manifest.DefaultParallel, "how many changes to make at once")
	f.BoolVarP(&o.Yes, "yes", "y", false, "apply without asking (required when standard input is not a terminal)")
	f.StringVar(&o.PasswordsOut, "passwords-file", "", "write generated first passwords to this file: name, password, state (pending, created, failed) a line; created 0600, a rerun appends to it when it is your own private file")
}

func (o *applyOptions) check() error {
	if o.Parallel < 1 || o.Parallel > 64 {
		return usagef("--parallel %d: use 1 to 64", o.Parallel)
	}
	return nil
}

func newApplyCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply -f FILE | apply PLANFILE",
		Short: "Make the NAS match a users file",
		Long: `Plan as "dsmctl plan" does, show the plan, ask for confirmation (on a
terminal, unless --yes; without a terminal --yes is required), then make
the changes: the password policies first, then groups, then each user
(create, update, join its groups, in that order), then each user's and
group's rights, quotas, application rules and speed limits (one compound
request each, as DSM's own dialog applies them; shared folders and the
home service first), then deletions (only with --prune). --parallel changes run at once; a failure does not stop the
others. A progress bar with counts and rate is drawn on a terminal, plain
progress lines otherwise, and a summary ends the run.

Applying again is safe: a second plan after apply is empty, and a run that
was interrupted (even killed) is completed by the next apply.

Generated first passwords ({generate: true}) are written only to
--passwords-file (a new file, mode 0600; a rerun appends to the same file)
or, with -o json, in the JSON on standard output. Without either, a plan
that generates passwords is refused.

` + passwordsFileHelp + `

A saved plan ("dsmctl plan -f FILE --out PLANFILE"): "dsmctl apply
PLANFILE" makes exactly the changes that plan showed, without asking
again: it logs in as the plan was made (its DSM and account, unless
--url, --user, --context or their variables say otherwise, which must
then be the same), makes the plan again from the users file saved in it,
and refuses (nothing changed, exit 1) when any user, group or setting the
plan touches changed on the NAS, when the plan would now differ, or when
the file was edited. Passwords are not in the file: from_env and
from_file are read when apply runs, generated ones generated then.

Exit codes: 0 all changes made, 1 some failed (each is listed with its
reason), the file has problems, a saved plan is refused or the
confirmation was declined (nothing changed), 64 usage (e.g. no --yes off a
terminal); see "dsmctl help exit-codes".`,
		Example: `  dsmctl apply -f users.yaml
  dsmctl apply -f users.yaml --yes --parallel 8 --passwords-file first-passwords.tsv
  dsmctl apply -f users.yaml --prune --yes -o json > result.json
  dsmctl plan -f users.yaml --out plan.json && dsmctl apply plan.json --passwords-file first-passwords.tsv`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return runApplySaved(cmd, o, args[0], getenv, g, s)
			}
			if err := o.complete(getenv, g); err != nil {
				return err
			}
			if err := o.check(); err != nil {
				return err
			}
			f, err := o.load(s)
			if err != nil {
				return err
			}
			return runApply(cmd.Context(), o, f, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	addManifestFlags(cmd, &o.manifestOptions)
	addApplyFlags(cmd, o)
	return cmd
}

// runApply plans f, shows the plan, asks, applies with progress, and
// sums up.
func runApply(ctx context.Context, o *applyOptions, f *manifest.File, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		var plan *manifest.Plan
		var err error
		if o.saved != nil {
			plan, err = o.saved.replan(ctx, c, o.getenv)
		} else {
			plan, err = f.Plan(ctx, c, o.planOptions())
		}
		if err != nil {
			return err
		}
		jsonOut := o.Output == formatJSON
		if !s.quiet || !o.Yes {
			// --quiet drops the plan, unless it is asked about.
			s.printPlan(plan.String(), jsonOut)
		}
		if plan.Empty() {
			if jsonOut {
				return writeJSON(s.Out, planJSON{Plan: plan, Result: &manifest.Result{Failures: []manifest.Failure{}}})
			}
			return nil
		}
		if n := plan.Generated(); n > 0 && o.PasswordsOut == "" && !jsonOut {
			return usagef("%d new user(s) get a generated password: pass --passwords-file FILE to keep them (or -o json to get them on standard output)", n)
		}
		if !o.Yes && o.saved == nil { // a saved plan was reviewed already
			if s.ReadLine == nil {
				return usagef("standard input is not a terminal: pass --yes to apply")
			}
			answer, err := s.ReadLine(fmt.Sprintf("Apply these changes to %s? [y/N] ", c.BaseURL()))
			if err != nil {
				return fmt.Errorf("reading the answer: %w", err)
			}
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				return declined("nothing changed")
			}
		}
		opts := manifest.ApplyOptions{Parallel: o.Parallel}
		if o.PasswordsOut != "" {
			pf, err := openPasswordsOut(o.PasswordsOut)
			if err != nil {
				return err
			}
			defer func() {
				if cerr := pf.Close(); cerr != nil {
					s.warnf("%v (its pending lines stand for the users DSM created)", cerr)
				}
			}()
			opts.RecordPassword = pf.record
			opts.CreateDone = pf.createDone
		}
		create, update, del := plan.Counts()
		total := plan.Items()
		prog := newProgress(s, total)
		opts.Progress = prog.update
		start := time.Now()
		res, err := plan.Apply(ctx, c, opts)
		prog.finish()
		elapsed := time.Since(start)
		interrupted := err != nil && ctx.Err() != nil
		if jsonOut {
			if werr := writeJSON(s.Out, planJSON{Plan: plan, Result: res}); werr != nil && err == nil {
				err = werr
			}
		} else if !s.quiet || interrupted || !res.OK() {
			// --quiet keeps the summary of what did not go as planned.
			if interrupted {
				summarizeInterrupted(s.Out, res, elapsed)
			} else {
				summarize(s.Out, res, elapsed, create, update, del)
			}
			if o.PasswordsOut != "" && plan.Generated() > 0 {
				fmt.Fprintf(s.Out, "generated passwords are in %s (mode 0600)\n", o.PasswordsOut)
			}
		}
		if interrupted {
			// The summary said it all, once; the exit code says how it
			// ended.
			msg := ""
			if jsonOut {
				msg = fmt.Sprintf("interrupted after %d of %d changes (apply again to finish)", res.Succeeded, res.Total)
			}
			return &exitStatus{code: ExitInterrupted, msg: msg}
		}
		if err != nil {
			return fmt.Errorf("apply stopped after %d of %d changes (apply again to finish): %w", res.Succeeded+len(res.Failures), res.Total, err)
		}
		if !res.OK() {
			return &exitStatus{code: ExitFailure, msg: fmt.Sprintf("%d of %d changes failed", len(res.Failures), res.Total)}
		}
		return nil
	})
}

// summarizeInterrupted writes the end of an apply that Ctrl-C stopped,
// once: what was done, what was cut short, what was not started, and
// what failed for another reason.
func summarizeInterrupted(w io.Writer, res *manifest.Result, elapsed time.Duration) {
	var cut, failed []manifest.Failure
	for _, f := range res.Failures {
		if errors.Is(f.Err, context.Canceled) {
			cut = append(cut, f)
		} else {
			failed = append(failed, f)
		}
	}
	notStarted := res.Total - res.Succeeded - len(res.Failures)
	fmt.Fprintf(w, "Interrupted after %s: %d of %d changes done, %d cut short, %d not started, %d failed; apply again to finish.\n",
		elapsed.Round(time.Millisecond), res.Succeeded, res.Total, len(cut), notStarted, len(failed))
	for _, f := range cut {
		fmt.Fprintf(w, "  cut short: %s: %s\n", f.Item, f.Step)
	}
	for _, f := range failed {
		fmt.Fprintf(w, "  failed: %s: %s: %s\n", f.Item, f.Step, f.Reason)
	}
}

// summarize writes the end of an apply: counts, time, rate, failures.
func summarize(w io.Writer, res *manifest.Result, elapsed time.Duration, create, update, del int) {
	fmt.Fprintf(w, "Applied %d of %d changes (%d to create, %d to change, %d to delete) in %s%s; %d failed.\n",
		res.Succeeded, res.Total, create, update, del, elapsed.Round(time.Millisecond), rate(res.Succeeded+len(res.Failures), elapsed), len(res.Failures))
	for _, f := range res.Failures {
		fmt.Fprintf(w, "  failed: %s: %s: %s\n", f.Item, f.Step, f.Reason)
	}
}

// minRateWindow is how long apply must have run before it shows a rate:
// over the first moments a rate says nothing (3 changes in 3 ms read as
// "1000.0/s"). One second is a choice: DSM answers a change in tens of
// milliseconds, so a second holds enough of them to mean something.
const minRateWindow = time.Second

// rate returns ", N.N/s" for done changes in elapsed, or "" while elapsed
// is below minRateWindow.
func rate(done int, elapsed time.Duration) string {
	if elapsed < minRateWindow {
		return ""
	}
	return fmt.Sprintf(", %.1f/s", float64(done)/elapsed.Seconds())
}

// progress shows how far apply is: a bar on a terminal, else a line at
// every tenth of the way and one per failure.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	bar   *progressbar.ProgressBar
	total int
	next  int // the count at which the next plain line is due
	start time.Time
	now   func() time.Time
	quiet bool // --quiet: failures only
}

func newProgress(s *IOStreams, total int) *progress {
	p := &progress{w: s.ErrOut, total: total, start: time.Now(), now: time.Now, quiet: s.quiet}
	if s.ErrTerminal && !s.quiet {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(s.ErrOut),
			progressbar.OptionSetDescription("applying"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("changes"),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) update(e manifest.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		if e.Err != nil {
			p.bar.Clear()
			fmt.Fprintf(p.w, "failed: %s: %v\n", e.Item, e.Err)
		}
		p.bar.Add(1)
		return
	}
	if e.Err != nil {
		fmt.Fprintf(p.w, "apply: failed: %s: %v\n", e.Item, e.Err)
	}
	if p.quiet {
		return
	}
	if e.Done >= p.next || e.Done == e.Total {
		fmt.Fprintf(p.w, "apply: %d/%d done, %d failed%s\n", e.Done, e.Total, e.Failed, rate(e.Done, p.now().Sub(p.start)))
		for p.next <= e.Done {
			p.next += max(1, p.total/10)
		}
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// passwordsFile receives generated passwords, in lines of three
// tab-separated fields, name, password and state, each synced to disk
// before dsmctl goes on:
//
//	pending  written before the create is sent, so that a crash (even
//	         kill -9) after DSM created the user cannot lose its password
//	created  DSM confirmed the create: this is the user's password
//	failed   DSM refused the create: this password is not in use
//
// A rerun appends, so a user whose create failed has its failed
// password, then the new one; the last line of a user says its state,
// and its one "created" line its password. A pending line with nothing
// after it means dsmctl stopped before DSM answered: if the user exists,
// that is its password. passwordsFileHelp tells users the same.
type passwordsFile struct {
	mu      sync.Mutex
	f       *os.File
	pending map[string]string // user -> password, create not answered yet
	err     error             // the first write that failed
}

// openPasswordsOut creates path with mode 0600, or appends to it when it
// is a private file of the user running dsmctl (a rerun after an
// interruption keeps the passwords of the first run). An existing file
// is opened without following a symbolic link and checked once open: a
// regular file, owned by this user, with no permission for group or
// others and no other hard link; anything else (e.g. a file another user
// left in a shared /tmp, to read what is appended) is refused.
func openPasswordsOut(path string) (*passwordsFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|openPrivateFlags, 0o600)
	if err == nil {
		return &passwordsFile{f: f}, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("--passwords-file: %w", err)
	}
	refuse := func(problem string) error {
		return usagef("--passwords-file %s exists and %s: the passwords appended to it could be read by others; "+
			"give a new file (dsmctl creates it, mode 0600) or the file of an earlier run, of your own", path, problem)
	}
	// A first look by name, for a clear reason (a FIFO with no reader
	// fails the open with ENXIO); the opened file is what is checked.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, refuse("is a symbolic link")
		}
		if !fi.Mode().IsRegular() {
			return nil, refuse("is not a regular file")
		}
	}
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|openPrivateFlags, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, refuse("is a symbolic link")
		}
		return nil, fmt.Errorf("--passwords-file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("--passwords-file: %w", err)
	}
	uid, nlink, known := fileOwner(fi)
	switch {
	case !fi.Mode().IsRegular():
		err = refuse("is not a regular file")
	case known && uid != os.Geteuid():
		err = refuse(fmt.Sprintf("is owned by %s, not by %s", userName(uid), userName(os.Geteuid())))
	case fi.Mode().Perm()&0o077 != 0:
		err = refuse(fmt.Sprintf("has mode %04o (group or others have access)", fi.Mode().Perm()))
	case known && nlink > 1:
		err = refuse(fmt.Sprintf("has %d hard links (another name may be readable by others)", nlink))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &passwordsFile{f: f}, nil
}

// The states of a line of the passwords file.
const (
	passwordPending = "pending"
	passwordCreated = "created"
	passwordFailed  = "failed"
)

// passwordsFileHelp is the format of --passwords-file, for the help of
// apply and user import and for the README.
const passwordsFileHelp = `--passwords-file FILE gets one line per generated password, three fields
separated by tabs: name, password, state. "pending" is written before the
user is created, "created" once DSM confirmed the create (this is the
user's password), "failed" when DSM refused it (the password is not in
use). A rerun appends; the last line of a user says its state. A pending
line with nothing after it means dsmctl was stopped before DSM answered:
if the user exists, that is its password. The current passwords:
awk -F'\t' '$3 == "created"' FILE`

// record writes user's generated password as pending, before its create.
func (p *passwordsFile) record(user, password string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]string{}
	}
	p.pending[user] = password
	return p.write(user, password, passwordPending)
}

// createDone writes the outcome of user's create: created when DSM
// created it, failed when DSM (or the library, before sending) refused
// it. Any other error (the network, an interruption) leaves the outcome
// unknown, and the pending line says so. A write that fails is reported
// on the next record or at Close: the pending line is on disk.
func (p *passwordsFile) createDone(user string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pw, ok := p.pending[user]
	if !ok {
		return
	}
	var apiErr *dsm.APIError
	state := passwordCreated
	switch {
	case err == nil:
	case errors.As(err, &apiErr), errors.Is(err, dsm.ErrInvalidArgument):
		state = passwordFailed
	default:
		return
	}
	delete(p.pending, user)
	if werr := p.write(user, pw, state); werr != nil && p.err == nil {
		p.err = werr
	}
}

// write appends one line and syncs it.
func (p *passwordsFile) write(user, password, state string) error {
	if p.err != nil {
		return p.err
	}
	if _, err := fmt.Fprintf(p.f, "%s\t%s\t%s\n", user, password, state); err != nil {
		return err
	}
	return p.f.Sync()
}

// Close closes the file, and reports a state line it could not write.
func (p *passwordsFile) Close() error {
	err := p.f.Close()
	if p.err != nil {
		return fmt.Errorf("--passwords-file: %w", p.err)
	}
	return err
}
