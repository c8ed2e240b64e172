package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm/internal/sim"

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
	if out, err := stop(); err != nil || !strings.Contains(out, "state kept in "+filepath.Join(dir, sim.StateFile)) {
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

var fingerprintLine = regexp.MustCompile(`(?m)^[0-9a-f]{64}$`)

// TestSimTLS: sim --tls serves https with a certificate made at start,
// prints its fingerprint alone on a line, and login --fingerprint with
// that line trusts it.
func TestSimTLS(t *testing.T) {
	t.Parallel()
	const pw = "Tls-Admin-Pw-1"
	url, stop := startRunSimWith(t, &simOptions{AdminPassword: pw, TLS: true})
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Errorf("URL %q is not https", url)
	}
	cert, trusted, err := dsm.FetchCertificate(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	if trusted {
		t.Error("the system trusts the simulator's self-signed certificate")
	}
	e := newEnv(t, nil, "DSM_URL", url, "DSM_USER", "admin", "DSM_PASSWORD", pw)
	e.run(t, "login").wantCode(t, ExitFailure)
	fp := dsm.Fingerprint(cert)
	e.mustRun(t, "login", "--fingerprint", fp)
	e.with("DSM_PASSWORD", "").mustRun(t, "whoami")

	out, err := stop()
	if err != nil {
		t.Fatalf("runSim: %v\n%s", err, out)
	}
	if got := fingerprintLine.FindAllString(out, -1); len(got) != 1 || got[0] != fp {
		t.Errorf("fingerprint lines %q, want one: %s\n%s", got, fp, out)
	}
	for _, want := range []string{"listening on " + url + "\n", "certificate (made at start), SHA-256 fingerprint:\n", "dsmctl login --fingerprint " + fp + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	key, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Errorf("the key is a %T, want ECDSA P-256", cert.PublicKey)
	}
	var names []string
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	names = append(names, cert.DNSNames...)
	if diff := cmp.Diff([]string{"127.0.0.1", "::1", "localhost"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

// TestSimCertFiles: sim --cert FILE --key FILE serves that certificate.
func TestSimCertFiles(t *testing.T) {
	t.Parallel()
	cert, err := selfSignedCertificate("nas.example:5001", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop := startRunSimWith(t, &simOptions{AdminPassword: "Files-Admin-Pw-1", TLS: true, CertFile: certFile, KeyFile: keyFile})
	got, _, err := dsm.FetchCertificate(t.Context(), url)
	out, _ := stop()
	if err != nil {
		t.Fatal(err)
	}
	fp := dsm.Fingerprint(cert.Leaf)
	if dsm.Fingerprint(got) != fp {
		t.Errorf("served a certificate other than --cert")
	}
	if !strings.Contains(out, "certificate (from "+certFile+"), SHA-256 fingerprint:\n"+fp+"\n") {
		t.Errorf("output:\n%s", out)
	}

	e := newEnv(t, nil)
	for _, args := range [][]string{{"sim", "--cert", certFile}, {"sim", "--key", keyFile}} {
		r := e.run(t, args...)
		r.wantCode(t, ExitUsage)
		if !strings.Contains(r.stderr, "--cert and --key go together") {
			t.Errorf("%q: stderr:\n%s", args, r.stderr)
		}
	}
	r := e.run(t, "sim", "--cert", keyFile, "--key", certFile, "--listen", "127.0.0.1:0")
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "--cert "+keyFile) {
		t.Errorf("swapped files: stderr:\n%s", r.stderr)
	}
}

func TestCertificateHosts(t *testing.T) {
	t.Parallel()
	host, _ := os.Hostname()
	for _, tt := range []struct {
		listen string
		want   []string
	}{
		{"127.0.0.1:5001", []string{"127.0.0.1", "::1", "localhost"}},
		{"localhost:5001", []string{"127.0.0.1", "::1", "localhost"}},
		{"192.168.1.10:5001", []string{"127.0.0.1", "::1", "192.168.1.10", "localhost"}},
		{"[fd00::5]:5001", []string{"127.0.0.1", "::1", "fd00::5", "localhost"}},
		{"nas.example:5001", []string{"127.0.0.1", "::1", "localhost", "nas.example"}},
		{"0.0.0.0:5001", []string{"127.0.0.1", "::1", "localhost", host}},
		{":5001", []string{"127.0.0.1", "::1", "localhost", host}},
	} {
		ips, names := certificateHosts(tt.listen)
		var got []string
		for _, ip := range ips {
			got = append(got, ip.String())
		}
		got = append(got, names...)
		want := tt.want
		if host == "" || host == "localhost" {
			want = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == host })
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: names (-want +got):\n%s", tt.listen, diff)
		}
	}
}

// TestSimTLSDataKeepsCertificate: sim --tls --data keeps its certificate
// and key in the data directory (0600) and serves the same certificate,
// with the same fingerprint, after a restart; without --data each start
// makes a new one.
func TestSimTLSDataKeepsCertificate(t *testing.T) {
	t.Parallel()
	const pw = "Kept-Cert-Admin-1"
	dir := filepath.Join(t.TempDir(), "state")
	certPath, keyPath := filepath.Join(dir, simCertFile), filepath.Join(dir, simKeyFile)
	start := func(o *simOptions) (fp, out string) {
		t.Helper()
		url, stop := startRunSimWith(t, o)
		cert, _, err := dsm.FetchCertificate(t.Context(), url)
		out, serr := stop()
		if err != nil || serr != nil {
			t.Fatalf("fetch: %v; runSim: %v\n%s", err, serr, out)
		}
		printed := fingerprintLine.FindAllString(out, -1)
		if len(printed) != 1 || printed[0] != dsm.Fingerprint(cert) {
			t.Fatalf("printed fingerprints %q, served %s\n%s", printed, dsm.Fingerprint(cert), out)
		}
		return printed[0], out
	}

	first, out := start(&simOptions{AdminPassword: pw, TLS: true, DataDir: dir})
	if !strings.Contains(out, "certificate (made at start, kept in "+certPath+"), SHA-256 fingerprint:\n") {
		t.Errorf("first start:\n%s", out)
	}
	for _, path := range []string{certPath, keyPath} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", path, fi.Mode().Perm())
		}
	}
	second, out := start(&simOptions{TLS: true, DataDir: dir})
	if second != first {
		t.Errorf("the fingerprint changed across a restart: %s, then %s", first, second)
	}
	if !strings.Contains(out, "certificate (from "+certPath+", made at an earlier start), SHA-256 fingerprint:\n") {
		t.Errorf("second start:\n%s", out)
	}

	// Without --data, every start makes a new certificate.
	a, _ := start(&simOptions{AdminPassword: pw, TLS: true})
	b, _ := start(&simOptions{AdminPassword: pw, TLS: true})
	if a == b || a == first {
		t.Errorf("without --data two starts served the same certificate %s", a)
	}
}

// TestSimTLSDataRefusesOpenKey: a kept key that group or others can read
// is refused with the chmod that fixes it, and the fingerprint is the same
// once it is fixed.
func TestSimTLSDataRefusesOpenKey(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	url, stop := startRunSimWith(t, &simOptions{AdminPassword: "Open-Key-Admin-1", TLS: true, DataDir: dir})
	cert, _, err := dsm.FetchCertificate(t.Context(), url)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, simKeyFile)
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660} {
		if err := os.Chmod(keyPath, mode); err != nil {
			t.Fatal(err)
		}
		// A simulator that starts anyway is stopped at once, and fails
		// the test.
		ctx, cancel := context.WithCancel(t.Context())
		started := false
		o := &simOptions{TLS: true, DataDir: dir, Listen: "127.0.0.1:0", rsaKey: testKey(), ready: func(string) { started = true; cancel() }}
		var out bytes.Buffer
		err := runSim(ctx, o, &IOStreams{Out: &out, ErrOut: &out})
		cancel()
		want := fmt.Sprintf("%s holds the private key of the simulator's certificate but has mode %04o: group or others can read it; run \"chmod 600 %s\"", keyPath, mode, keyPath)
		if started || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("mode %04o: started %v, runSim = %v\n%s", mode, started, err, &out)
		}
	}
	if t.Failed() {
		return // the command below would serve until the test ends
	}
	// Through the command: exit code 1, the reason on stderr.
	r := newEnv(t, nil).run(t, "sim", "--tls", "--data", dir, "--listen", "127.0.0.1:0")
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "run \"chmod 600 "+keyPath+"\"") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if err := os.Chmod(keyPath, 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop = startRunSimWith(t, &simOptions{TLS: true, DataDir: dir})
	again, _, err := dsm.FetchCertificate(t.Context(), url)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if dsm.Fingerprint(again) != dsm.Fingerprint(cert) {
		t.Error("after chmod 600 the simulator served another certificate")
	}
}

// TestSimTLSDataBrokenPair: one kept file without the other is refused
// with what to do; an expired kept certificate is replaced.
func TestSimTLSDataBrokenPair(t *testing.T) {
	t.Parallel()
	now := time.Now()
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, simCertFile), filepath.Join(dir, simKeyFile)
	if _, _, err := keptCertificate(dir, "127.0.0.1:0", now); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{certPath, keyPath} {
		b, err := os.ReadFile(gone)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(gone)
		_, _, err = keptCertificate(dir, "127.0.0.1:0", now)
		if err == nil || !strings.Contains(err.Error(), "is there but "+gone+" is not") {
			t.Errorf("without %s: %v", gone, err)
		}
		if err := os.WriteFile(gone, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kept, made, err := keptCertificate(dir, "127.0.0.1:0", now)
	if err != nil || !strings.HasPrefix(made, "from ") {
		t.Fatalf("restored pair: %q, %v", made, err)
	}
	later := kept.Leaf.NotAfter.Add(time.Hour)
	renewed, made, err := keptCertificate(dir, "127.0.0.1:0", later)
	if err != nil {
		t.Fatal(err)
	}
	if dsm.Fingerprint(renewed.Leaf) == dsm.Fingerprint(kept.Leaf) || !strings.Contains(made, "the kept one expired on") {
		t.Errorf("an expired certificate was served again (%q)", made)
	}
	again, _, err := keptCertificate(dir, "127.0.0.1:0", later)
	if err != nil || dsm.Fingerprint(again.Leaf) != dsm.Fingerprint(renewed.Leaf) {
		t.Errorf("the renewed certificate was not kept: %v", err)
	}
}

func TestSimDSMVersion(t *testing.T) {
	t.Parallel()
	url, stop := startRunSimWith(t, &simOptions{AdminPassword: "Sim-Admin-Pw-1", DSMVersion: "7.2"})
	c, err := dsm.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: "Sim-Admin-Pw-1"}); err != nil {
		t.Fatal(err)
	}
	// DSM 7.2 lists groups as {name, inherited} objects.
	u, err := c.Users.Get(t.Context(), "admin", dsm.FieldGroups)
	if err != nil || !slices.Equal(u.InheritedGroups, []string{"users"}) {
		t.Errorf("admin on --dsm 7.2: %+v, %v; want users inherited", u, err)
	}
	if out, err := stop(); err != nil || !strings.Contains(out, "\nbehaving as DSM 7.2\n") {
		t.Errorf("runSim: %v\n%s", err, out)
	}

	e := newEnv(t, nil)
	r := e.run(t, "sim", "--dsm", "6.2")
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "--dsm 6.2: use one of 7.2, 7.3, 7.4") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// With --debug, dsmctl sim logs each call (API, method, code, duration)
// and never a parameter.
func TestSimDebugLogsCalls(t *testing.T) {
	t.Parallel()
	const adminPassword = "Sim-Debug-Admin-1"
	debug := true
	url, stop := startRunSimWith(t, &simOptions{AdminPassword: adminPassword, debug: &debug})
	c, err := dsm.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: "wrong-" + adminPassword}); !errors.Is(err, dsm.ErrWrongCredentials) {
		t.Fatalf("login: %v", err)
	}
	out, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`msg="sim call" api=SYNO.API.Auth method=login code=400 duration=`).MatchString(out) {
		t.Errorf("no debug line for the login:\n%s", out)
	}
	if strings.Contains(out, adminPassword) {
		t.Error("the log holds the password")
	}
}
