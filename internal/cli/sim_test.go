package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startRunSim runs runSim on a free port until the test cancels it. It
// returns the URL and a function that stops the server and returns what
// runSim returned and printed.
func startRunSim(t *testing.T, adminPassword string) (url string, stop func() (string, error)) {
	t.Helper()
	return startRunSimWith(t, &simOptions{AdminPassword: adminPassword})
}

// startRunSimWith is startRunSim with options o (Listen, rsaKey and ready
// are set here).
func startRunSimWith(t *testing.T, o *simOptions) (url string, stop func() (string, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	ready := make(chan string, 1)
	o.Listen, o.rsaKey, o.ready = "127.0.0.1:0", testKey(), func(u string) { ready <- u }
	done := make(chan error, 1)
	go func() { done <- runSim(ctx, o, &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out}) }()
	select {
	case url = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("runSim returned early: %v\n%s", err, out)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("runSim did not start listening")
	}
	return url, func() (string, error) {
		cancel()
		select {
		case err := <-done:
			return out.String(), err
		case <-time.After(10 * time.Second):
			t.Fatal("runSim did not stop")
			return "", nil
		}
	}
}

var listeningLine = regexp.MustCompile(`(?m)^listening on (http://127\.0\.0\.1:([0-9]+))$`)

func TestSimGeneratedPassword(t *testing.T) {
	t.Parallel()
	url, stop := startRunSim(t, "")
	c, err := dsm.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.APIs(t.Context()); err != nil {
		t.Errorf("the simulator does not answer: %v", err)
	}
	out, err := stop()
	if err != nil {
		t.Fatalf("runSim: %v\n%s", err, out)
	}
	m := listeningLine.FindStringSubmatch(out)
	if m == nil || m[1] != url || m[2] == "0" {
		t.Errorf("no line 'listening on %s' with the real port:\n%s", url, out)
	}
	pw := regexp.MustCompile(`(?m)^admin password: (\S+) \(set DSM_SIM_ADMIN_PASSWORD`).FindStringSubmatch(out)
	if pw == nil {
		t.Fatalf("the generated admin password is not printed:\n%s", out)
	}
	if n := strings.Count(out, pw[1]); n != 1 {
		t.Errorf("the admin password shows %d times, want once", n)
	}
	if !strings.HasSuffix(out, "simulator stopped\n") {
		t.Errorf("no 'simulator stopped' at the end:\n%s", out)
	}
}

// TestSimDataDir checks that sim --data keeps users across restarts, and
// that a restart on a stored state does not print a made-up password
// that would not work.
func TestSimDataDir(t *testing.T) {
	t.Parallel()
	const pw = "Data-Admin-Pw-1"
	dir := filepath.Join(t.TempDir(), "state")
	url, stop := startRunSimWith(t, &simOptions{AdminPassword: pw, DataDir: dir})
	e := newEnv(t, nil, "DSM_URL", url, "DSM_USER", "admin", "DSM_PASSWORD", pw, newPasswordEnv, "Kept-Across-1")
	e.mustRun(t, "user", "create", "keeper", "--email", "keeper@example.com")
	if out, err := stop(); err != nil || !strings.Contains(out, "state kept in "+filepath.Join(dir, "state.json")) {
		t.Fatalf("runSim: %v\n%s", err, out)
	}

	url, stop = startRunSimWith(t, &simOptions{DataDir: dir})
	e = newEnv(t, nil, "DSM_URL", url, "DSM_USER", "admin", "DSM_PASSWORD", pw)
	r := e.mustRun(t, "user", "get", "keeper", "-o", "json")
	if !strings.Contains(r.stdout, `"email": "keeper@example.com"`) {
		t.Errorf("after a restart:\n%s", r.stdout)
	}
	newEnv(t, nil, "DSM_URL", url, "DSM_USER", "keeper", "DSM_PASSWORD", "Kept-Across-1").mustRun(t, "whoami")
	out, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "admin password: as stored in the state from an earlier run\n") {
		t.Errorf("a restart on a stored state:\n%s", out)
	}

	// Without --data the state is in memory: a new simulator has no keeper.
	url, stop = startRunSim(t, pw)
	newEnv(t, nil, "DSM_URL", url, "DSM_USER", "admin", "DSM_PASSWORD", pw).run(t, "user", "get", "keeper").wantCode(t, ExitNotFound)
	stop()
}

func TestSimPasswordFromEnv(t *testing.T) {
	t.Parallel()
	const pw = "From-The-Env-1"
	url, stop := startRunSim(t, pw)
	c, err := dsm.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: pw}); err != nil {
		t.Errorf("login with DSM_SIM_ADMIN_PASSWORD: %v", err)
	}
	out, err := stop()
	if err != nil {
		t.Fatalf("runSim: %v", err)
	}
	if strings.Contains(out, pw) {
		t.Errorf("the admin password from the environment is printed:\n%s", out)
	}
}

func TestSimLoginWithPrintedPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	o := &simOptions{Listen: "127.0.0.1:0", rsaKey: testKey()}
	done := make(chan error, 1)
	go func() { done <- runSim(ctx, o, &IOStreams{Out: pw, ErrOut: io.Discard}); pw.Close() }()
	var url, password string
	sc := bufio.NewScanner(pr)
	for sc.Scan() && (url == "" || password == "") {
		line := sc.Text()
		if u, ok := strings.CutPrefix(line, "listening on "); ok {
			url = u
		}
		if p, ok := strings.CutPrefix(line, "admin password: "); ok {
			password, _, _ = strings.Cut(p, " ")
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" || password == "" {
		t.Fatalf("runSim printed no URL or password (url %q)", url)
	}
	r := newEnv(t, nil, "DSM_URL", url, "DSM_USER", "admin", "DSM_PASSWORD", password).run(t, "whoami")
	r.wantCode(t, ExitOK)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runSim: %v", err)
	}
}

func TestSimListenError(t *testing.T) {
	t.Parallel()
	r := newEnv(t, nil).run(t, "sim", "--listen", "256.0.0.1:99999")
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "--listen 256.0.0.1:99999") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestSimStopsOnSignal runs "dsmctl sim" as a process (the test binary
// as dsmctl, see TestMain) and stops it with SIGINT and SIGTERM.
func TestSimStopsOnSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send on Windows")
	}
	t.Parallel()
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), "dsmctl", "sim", "--listen", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "DSM_SIM_ADMIN_PASSWORD=Signal-Test-1", "DSM_CONFIG_DIR="+t.TempDir())
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			sc := bufio.NewScanner(stdout)
			listening := false
			for !listening && sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				listening = strings.HasPrefix(sc.Text(), "listening on ")
			}
			if !listening {
				cmd.Wait()
				t.Fatalf("dsmctl sim never listened\nstdout:\n%s\nstderr:\n%s", &out, &stderr)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stdout)
			out.Write(rest)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("dsmctl sim after %v: %v\nstdout:\n%s\nstderr:\n%s", sig, err, &out, &stderr)
			}
			if !strings.HasSuffix(out.String(), "simulator stopped\n") {
				t.Errorf("stdout does not end with 'simulator stopped':\n%s", &out)
			}
		})
	}
}
