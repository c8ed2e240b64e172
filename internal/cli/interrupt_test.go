package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
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
