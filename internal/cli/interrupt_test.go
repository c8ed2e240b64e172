package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dsmkit/dsm"
)

// interruptAtPrompt is a terminal on which Ctrl-C is pressed while a
// prompt waits; the answer "y" typed after it must not count.
func interruptAtPrompt(ctx context.Context, cancel context.CancelFunc, prompts *[]string) func(string) (string, error) {
	return func(prompt string) (string, error) {
		*prompts = append(*prompts, prompt)
		restored := make(chan struct{})
		return interruptible(ctx, func() (string, error) {
			cancel() // Ctrl-C while the read waits
			<-restored
			return "y", nil
		}, func() { close(restored) })
	}
}

// Ctrl-C at a prompt ends the command at once with exit code 130, and
// changes nothing.
func TestInterruptAtPrompt(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	tests := []struct {
		name string
		args []string
		vars []string
	}{
		{"delete confirmation", []string{"user", "delete", "alice"}, nil},
		{"login password", []string{"login", "--user", "admin"}, []string{"DSM_PASSWORD", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var prompts []string
			var out, errOut bytes.Buffer
			s := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
			s.ReadSecret = interruptAtPrompt(ctx, cancel, &prompts)
			s.ReadLine = s.ReadSecret
			env := e.with(tt.vars...)
			code := Run(ctx, tt.args, s, func(k string) string { return env.vars[k] })
			if code != ExitInterrupted {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitInterrupted, out.String(), errOut.String())
			}
			if len(prompts) != 1 {
				t.Errorf("prompts %q, want one", prompts)
			}
			if !strings.Contains(errOut.String(), "interrupted") || strings.Contains(errOut.String(), "context canceled") {
				t.Errorf("stderr %q: want an interruption, not a cancelled context", errOut.String())
			}
		})
	}
	if _, err := srv.Client().Users.Get(t.Context(), "alice"); err != nil {
		t.Errorf("alice after an interrupted delete: %v", err)
	}
}

// An interruption while the command works exits 130 and keeps what the
// command said of its progress.
func TestInterruptedWorkExitCode(t *testing.T) {
	t.Parallel()
	err := &interruptedError{err: errors.New("interrupted after 3 of 10 changes (apply again to finish): context canceled")}
	if got := exitCode(fmtWrap(err)); got != ExitInterrupted {
		t.Errorf("exit code %d, want %d", got, ExitInterrupted)
	}
	if err.Error() != "interrupted after 3 of 10 changes (apply again to finish): context canceled" {
		t.Errorf("message %q: want what was done, said once", err)
	}
	if got := exitCode(dsm.ErrNoSuchUser); got != ExitNotFound {
		t.Errorf("exit code of a missing user %d", got)
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("apply"), err) }

// cancelOnWrite cancels when its text shows up: Ctrl-C once apply has
// made progress.
type cancelOnWrite struct {
	mu     sync.Mutex
	b      strings.Builder
	text   string
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.text) {
		w.cancel()
	}
	return len(p), nil
}

// Ctrl-C during apply ends with one summary (done, cut short, not
// started) and exit code 130; the next apply finishes the work.
func TestInterruptedApplySummary(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	env := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	var file strings.Builder
	file.WriteString("users:\n")
	for i := range 30 {
		fmt.Fprintf(&file, "  - name: crowd%02d\n    password: {generate: true}\n", i)
	}
	path := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out bytes.Buffer
	errOut := &cancelOnWrite{text: " done,", cancel: cancel}
	args := []string{"apply", "-f", path, "--yes", "--parallel", "1", "--passwords-file", filepath.Join(t.TempDir(), "pw.tsv")}
	code := Run(ctx, args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: errOut}, func(k string) string { return env.vars[k] })
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitInterrupted, out.String(), errOut.b.String())
	}
	got := out.String()
	if strings.Count(got, "Interrupted after ") != 1 || strings.Contains(got, "Applied ") || !strings.Contains(got, "apply again to finish") {
		t.Errorf("want one summary of an interrupted apply:\n%s", got)
	}
	if strings.Contains(errOut.b.String(), "interrupted after") {
		t.Errorf("the interruption is told twice:\n%s", errOut.b.String())
	}
	r := env.mustRun(t, "apply", "-f", path, "--yes", "--passwords-file", filepath.Join(t.TempDir(), "pw2.tsv"))
	if !strings.Contains(r.stdout, "; 0 failed.") {
		t.Errorf("the second apply:\n%s", r.stdout)
	}
	if r := env.mustRun(t, "plan", "-f", path); !strings.Contains(r.stdout, "No changes") {
		t.Errorf("plan after the second apply:\n%s", r.stdout)
	}
}
