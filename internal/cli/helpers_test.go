package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dsmkit/dsm/dsmtest"
	"github.com/dsmkit/dsm/internal/sim"
)

// Accounts of the test simulators, besides admin.
const (
	alicePassword = "alice-Secret-1" // alice: no 2-step verification
	bobPassword   = "bob-Secret-2"   // bob: 2-step verification with bobOTPSecret
	bobOTPSecret  = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
)

// testKey is the simulator's RSA key, made once per test process: a
// 4096-bit key takes a second to make.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, sim.RSAKeyBits)
	if err != nil {
		panic(err)
	}
	return k
})

// startSim starts a simulator with admin, alice and bob, stopped when the
// test ends.
func startSim(t *testing.T, opts ...dsmtest.Option) *dsmtest.Server {
	t.Helper()
	base := []dsmtest.Option{
		dsmtest.WithRSAKey(testKey()),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: alicePassword, Description: "Alice Liddell", Email: "alice@example.com"}),
		dsmtest.WithUser(dsmtest.User{Name: "bob", Password: bobPassword, OTPSecret: bobOTPSecret}),
	}
	return dsmtest.Start(t, append(base, opts...)...)
}

// openSessions returns how many sessions the simulator holds.
func openSessions(t *testing.T, srv *dsmtest.Server) int {
	t.Helper()
	s, ok := srv.Handler().(*sim.Server)
	if !ok {
		t.Fatalf("the dsmtest handler is a %T, not a *sim.Server", srv.Handler())
	}
	return s.Sessions()
}

// cliEnv is the environment of a dsmctl run in a test: variables, the
// standard input, and a terminal when terminal is non-nil.
type cliEnv struct {
	vars  map[string]string
	stdin string
	// terminal answers prompts (secret or not) in order when set;
	// prompts records them.
	terminal []string
	prompts  []string
	// errTerminal makes standard error a terminal (progress is drawn).
	errTerminal bool
	// outWidth, when not 0, makes standard output a terminal of that
	// many columns.
	outWidth int
}

// newEnv returns an environment with its own config directory, the DSM
// URL of srv (when not nil) and the given variables (name, value, ...).
func newEnv(t *testing.T, srv *dsmtest.Server, kv ...string) *cliEnv {
	t.Helper()
	e := &cliEnv{vars: map[string]string{
		"DSM_CONFIG_DIR": filepath.Join(t.TempDir(), "config"),
		"HOME":           filepath.Join(t.TempDir(), "home"),
	}}
	if srv != nil {
		e.vars["DSM_URL"] = srv.URL()
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.vars[kv[i]] = kv[i+1]
	}
	return e
}

func (e *cliEnv) configDir() string { return e.vars["DSM_CONFIG_DIR"] }

// with returns a copy of e with more variables.
func (e *cliEnv) with(kv ...string) *cliEnv {
	cp := &cliEnv{vars: map[string]string{}, stdin: e.stdin, errTerminal: e.errTerminal}
	for k, v := range e.vars {
		cp.vars[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		cp.vars[kv[i]] = kv[i+1]
	}
	return cp
}

// result is what a dsmctl run did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs dsmctl with args in e, in the test's process.
func (e *cliEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &IOStreams{In: strings.NewReader(e.stdin), Out: &out, ErrOut: &errOut, ErrTerminal: e.errTerminal}
	if e.outWidth > 0 {
		s.Out = terminalOut{Writer: &out, width: e.outWidth}
	}
	if e.terminal != nil {
		answers := e.terminal
		s.ReadSecret = func(prompt string) (string, error) {
			e.prompts = append(e.prompts, prompt)
			if len(answers) == 0 {
				return "", errors.New("test terminal: no more answers")
			}
			a := answers[0]
			answers = answers[1:]
			return a, nil
		}
		s.ReadLine = s.ReadSecret
	}
	getenv := func(k string) string { return e.vars[k] }
	code := Run(t.Context(), args, s, getenv)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mustRun runs dsmctl and fails the test unless it exits 0.
func (e *cliEnv) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := e.run(t, args...)
	if r.code != 0 {
		t.Fatalf("dsmctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// wantCode fails the test unless r exited with code.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// noSecrets fails the test when any of secrets shows in r's output.
func (r result) noSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("a secret (%d bytes) shows in the output\nstdout:\n%s\nstderr:\n%s", len(s), r.stdout, r.stderr)
		}
	}
}

// fileMode returns the permission bits of path.
func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
