package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsmkit/dsm/dsmtest"
)

// secretRecorder passes requests to a DSM handler and keeps every secret
// DSM hands out in its answers: session ids, SynoTokens, device tokens,
// confirmation tokens.
type secretRecorder struct {
	h       http.Handler
	mu      sync.Mutex
	secrets map[string]string // value -> the key it came under
}

// secretKeys are the answer keys whose values are secrets.
var secretKeys = map[string]bool{"sid": true, "synotoken": true, "did": true, "device_id": true, "SynoConfirmPWToken": true}

func (sr *secretRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	sr.h.ServeHTTP(rec, r)
	var v any
	if json.Unmarshal(rec.Body.Bytes(), &v) == nil {
		sr.mu.Lock()
		sr.collect(v)
		sr.mu.Unlock()
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	io.Copy(w, rec.Body)
}

func (sr *secretRecorder) collect(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && secretKeys[k] && s != "" {
				sr.secrets[s] = k
			}
			sr.collect(x)
		}
	case []any:
		for _, x := range v {
			sr.collect(x)
		}
	}
}

// TestNoSecretsLeak runs every user, group, policy and confirm-password
// command with --debug and checks that no secret shows in its output or
// in any file it wrote, except where dsmctl prints one on purpose: a
// generated password in the stdout of the command that made it, a
// confirmation token with --show-token. Saved sessions hold the session
// id and SynoToken by design (sessions.json, 0600) and nothing else.
func TestNoSecretsLeak(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	sr := &secretRecorder{h: srv.Handler(), secrets: map[string]string{}}
	proxy := httptest.NewServer(sr)
	t.Cleanup(proxy.Close)

	const (
		stdinPw  = "Stdin-Secret-Pw-1"
		envPw    = "Env-Secret-Pw-2"
		ttyPw    = "Tty-Secret-Pw-3"
		updatePw = "Update-Secret-Pw-4"
		checkPw  = "Check-Secret-Pw-5"
		weakPw   = "weaksecret"
	)
	passwords := []string{srv.AdminPassword(), alicePassword, stdinPw, envPw, ttyPw, updatePw, checkPw, weakPw}

	workDir := t.TempDir()
	e := newEnv(t, nil, "DSM_URL", proxy.URL, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.vars["TMPDIR"] = workDir
	e.mustRun(t, "login", "--debug")
	e = e.with("DSM_PASSWORD", "")
	// The session's signing key (DSM 7's secure sign-in) is a session
	// secret: only sessions.json may hold it.
	_, signed := loggedInSession(t, e)
	if !signed.SecureSignIn || signed.Signing.Key == "" {
		t.Fatal("the login did no secure sign-in: the test would not cover its key")
	}

	type run struct {
		args     []string
		env      []string
		stdin    string
		terminal []string
		fails    bool
	}
	runs := []run{
		{args: []string{"user", "list", "--fields", "all"}},
		{args: []string{"user", "get", "alice", "-o", "yaml"}},
		{args: []string{"group", "create", "staff"}},
		{args: []string{"user", "create", "sec1", "--password-stdin", "--groups", "staff"}, stdin: stdinPw + "\n"},
		{args: []string{"user", "create", "sec2", "-o", "json"}, env: []string{newPasswordEnv, envPw}},
		{args: []string{"user", "create", "sec3"}, terminal: []string{ttyPw, ttyPw}},
		{args: []string{"user", "create", "sec5"}, env: []string{newPasswordEnv, weakPw}, fails: true},
		{args: []string{"user", "update", "sec1", "--password"}, env: []string{newPasswordEnv, updatePw}},
		{args: []string{"user", "update", "sec2", "--password-stdin", "--email", "s@example.com"}, stdin: stdinPw + "\n"},
		{args: []string{"user", "update", "sec3", "--password"}, env: []string{newPasswordEnv, weakPw}, fails: true},
		{args: []string{"user", "join", "sec2", "staff"}},
		{args: []string{"user", "leave", "sec2", "staff", "-o", "csv"}},
		{args: []string{"user", "join", "sec3", "staff", "--no-wait"}},
		{args: []string{"user", "check-password", "sec1", "--password-stdin"}, stdin: checkPw + "\n"},
		{args: []string{"user", "check-password", "sec1"}, env: []string{newPasswordEnv, weakPw}, fails: true},
		{args: []string{"group", "list", "-o", "json"}},
		{args: []string{"group", "get", "staff"}},
		{args: []string{"group", "update", "staff", "--description", "S"}},
		{args: []string{"group", "add", "staff", "alice"}},
		{args: []string{"group", "members", "staff", "-o", "csv"}},
		{args: []string{"group", "remove", "staff", "alice"}},
		{args: []string{"policy", "password"}},
		{args: []string{"policy", "password", "set", "--min-length", "10"}},
		{args: []string{"policy", "expiry", "-o", "yaml"}},
		{args: []string{"policy", "expiry", "set", "--enable", "--max-age", "30", "--never-expire", "sec1"}},
		{args: []string{"policy", "reserved-names"}},
		{args: []string{"confirm-password", "--password-stdin"}, stdin: srv.AdminPassword() + "\n"},
		{args: []string{"confirm-password", "-o", "json"}, terminal: []string{srv.AdminPassword()}},
		{args: []string{"confirm-password", "--password-stdin"}, stdin: "Wrong-Secret-Pw\n", fails: true},
		{args: []string{"user", "list"}, env: []string{"DSM_PASSWORD", srv.AdminPassword()}},
		{args: []string{"user", "list"}, env: []string{"DSM_USER", "alice", "DSM_PASSWORD", alicePassword}, fails: true}, // not an admin
		{args: []string{"confirm-password"}, env: []string{"DSM_USER", "alice", "DSM_PASSWORD", alicePassword}},
		{args: []string{"user", "delete", "sec2", "--yes"}},
		{args: []string{"group", "delete", "staff", "--yes"}},
	}
	var results []result
	for _, rn := range runs {
		re := e.with(rn.env...)
		re.stdin = rn.stdin
		re.terminal = rn.terminal
		r := re.run(t, append(rn.args, "--debug")...)
		if (r.code != 0) != rn.fails {
			t.Errorf("dsmctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(rn.args, " "), r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "level=DEBUG") {
			t.Errorf("dsmctl %s --debug traced nothing", strings.Join(rn.args, " "))
		}
		results = append(results, r)
	}

	// Printed on purpose, once, on stdout only.
	genRun := e.run(t, "user", "create", "sec4", "--generate-password", "--debug")
	confirmRun := e.with().run(t, "confirm-password", "--show-token", "--debug", "-o", "json")
	gen := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(genRun.stdout)
	if genRun.code != 0 || gen == nil {
		t.Fatalf("user create --generate-password: exit %d\n%s%s", genRun.code, genRun.stdout, genRun.stderr)
	}
	if confirmRun.code == 0 {
		t.Errorf("confirm-password without a password source ran: %s", confirmRun.stdout)
	}
	tokenRun := func() result {
		re := e.with()
		re.stdin = srv.AdminPassword() + "\n"
		return re.run(t, "confirm-password", "--password-stdin", "--show-token", "--debug", "-o", "json")
	}()
	var tok struct{ Token string }
	json.Unmarshal([]byte(tokenRun.stdout), &tok)
	if tok.Token == "" {
		t.Fatalf("confirm-password --show-token printed no token:\n%s", tokenRun.stdout)
	}
	if strings.Contains(tokenRun.stderr, tok.Token) || strings.Contains(genRun.stderr, gen[1]) {
		t.Error("a secret printed on purpose also shows on stderr (the --debug trace)")
	}
	genRun.stdout = strings.Replace(genRun.stdout, gen[1], "(generated)", 1)
	tokenRun.stdout = strings.Replace(tokenRun.stdout, tok.Token, "(token)", 1)
	results = append(results, genRun, tokenRun)

	sr.mu.Lock()
	var kinds = map[string]int{}
	secrets := append([]string{gen[1], signed.Signing.Key}, passwords...)
	sr.secrets[signed.Signing.Key] = "signing key"
	for s, k := range sr.secrets {
		secrets = append(secrets, s)
		kinds[k]++
	}
	sr.mu.Unlock()
	for _, k := range []string{"sid", "synotoken", "SynoConfirmPWToken"} {
		if kinds[k] == 0 {
			t.Fatalf("the recorder saw no %s: the test would prove nothing", k)
		}
	}
	for _, r := range results {
		r.noSecrets(t, secrets...)
	}

	// Files: only sessions.json may hold a session id or SynoToken, and
	// no file holds a password or a confirmation token.
	sessionSecrets := map[string]bool{}
	sr.mu.Lock()
	for s, k := range sr.secrets {
		if k == "sid" || k == "synotoken" || k == "did" || k == "device_id" || k == "signing key" {
			sessionSecrets[s] = true
		}
	}
	sr.mu.Unlock()
	files := 0
	for _, dir := range []string{e.configDir(), e.vars["HOME"], workDir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			files++
			b, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
				return nil
			}
			for _, s := range secrets {
				if !bytes.Contains(b, []byte(s)) {
					continue
				}
				base := filepath.Base(path)
				if sessionSecrets[s] && (base == sessionsFile || base == devicesFile) {
					continue
				}
				t.Errorf("%s holds a secret (%s, %d bytes)", path, sr.secrets[s], len(s))
			}
			return nil
		})
	}
	if files == 0 {
		t.Error("no file found: the saved session should be there")
	}
}

// Accounts with 2-step verification for TestNoSecretsLeakLogin, besides
// bob: one each, since a code is accepted once per account.
const (
	carolPassword = "carol-Secret-3"
	carolOTPSeed  = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	davePassword  = "dave-Secret-4"
	daveOTPSeed   = "KRUGS4ZANFZSAYJAORSXG5BAONSWK3DA"
	erinPassword  = "erin-Secret-5"
	erinOTPSeed   = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"
)

// codeShows reports whether a 6-digit 2-step code that stands alone: not
// part of a longer number or of a decimal fraction (a --debug duration
// such as 2.306601ms holds six digits by chance).
func codeShows(text, code string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], code)
		if j < 0 {
			return false
		}
		j += i
		before, after := byte(' '), byte(' ')
		if j > 0 {
			before = text[j-1]
		}
		if end := j + len(code); end < len(text) {
			after = text[end]
		}
		if !isDigitOrDot(before) && !isDigitOrDot(after) {
			return true
		}
		i = j + 1
	}
}

func isDigitOrDot(b byte) bool { return b == '.' || b >= '0' && b <= '9' }

// TestNoSecretsLeakLogin runs the login flows with --debug: a 2-step
// login with --otp, with a prompted code, with --otp-secret-file (login
// and one-shot), the certificate trust flow over https (refused, trusted
// with --fingerprint, changed, accepted again), --insecure, and logout.
// No password, session id, SynoToken, device token, TOTP seed or 2-step
// code may show in stdout or stderr, nor in any file but the saved
// sessions and device tokens (which hold session ids and device tokens by
// design) and the seed files the user gave.
func TestNoSecretsLeakLogin(t *testing.T) {
	t.Parallel()
	start := time.Now()
	srv := startSim(t,
		dsmtest.WithUser(dsmtest.User{Name: "carol", Password: carolPassword, OTPSecret: carolOTPSeed}),
		dsmtest.WithUser(dsmtest.User{Name: "dave", Password: davePassword, OTPSecret: daveOTPSeed}),
		dsmtest.WithUser(dsmtest.User{Name: "erin", Password: erinPassword, OTPSecret: erinOTPSeed}),
	)
	sr := &secretRecorder{h: srv.Handler(), secrets: map[string]string{}}
	plain := httptest.NewServer(sr)
	t.Cleanup(plain.Close)
	front := startTLSFront(t, sr) // https, as dsmctl sim --tls serves it

	seedDir := t.TempDir()
	seedFile := func(name, seed string) string {
		path := filepath.Join(seedDir, name)
		if err := os.WriteFile(path, []byte(seed+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	carolSeedFile, daveSeedFile := seedFile("carol.totp", carolOTPSeed), seedFile("dave.totp", daveOTPSeed)

	workDir := t.TempDir()
	e := newEnv(t, nil, "TMPDIR", workDir)
	oneShot := newEnv(t, nil, "TMPDIR", workDir) // a config directory of its own
	firstFP := front.fingerprint()

	type run struct {
		env      *cliEnv
		vars     []string
		terminal []string
		args     []string
		fails    bool
		noTrace  bool   // fails before any DSM call
		before   func() // runs first
	}
	otpNow := func(seed string) string { return dsmtest.TOTP(seed, srv.Now()) }
	var newFP string
	runs := []run{
		// Plain http: bob with --otp, erin with a prompted code.
		{env: e, vars: []string{"DSM_URL", plain.URL, "DSM_USER", "bob", "DSM_PASSWORD", bobPassword}, args: []string{"login", "--otp", otpNow(bobOTPSecret)}},
		{env: e, vars: []string{"DSM_URL", plain.URL}, args: []string{"whoami"}},
		{env: e, vars: []string{"DSM_URL", plain.URL}, args: []string{"logout"}},
		{env: e, vars: []string{"DSM_URL", plain.URL, "DSM_USER", "erin"}, terminal: []string{erinPassword, "y", otpNow(erinOTPSeed)}, args: []string{"login"}},
		{env: e, vars: []string{"DSM_URL", plain.URL}, args: []string{"logout"}},
		// https with a certificate the system does not trust.
		{env: e, vars: []string{"DSM_URL", front.url, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword()}, args: []string{"login"}, fails: true, noTrace: true},
		{env: e, vars: []string{"DSM_URL", front.url, "DSM_USER", "admin"}, terminal: []string{"y", srv.AdminPassword()}, args: []string{"login"}},
		{env: e, vars: []string{"DSM_URL", front.url, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword()}, args: []string{"login", "--fingerprint", firstFP}},
		{env: e, vars: []string{"DSM_URL", front.url}, args: []string{"whoami"}},
		{env: e, vars: []string{"DSM_URL", front.url, "DSM_USER", "carol", "DSM_PASSWORD", carolPassword}, args: []string{"login", "--otp-secret-file", carolSeedFile}},
		{env: e, vars: []string{"DSM_URL", front.url}, args: []string{"user", "get", "carol"}, fails: true}, // not an admin
		// A script: one-shot with the seed, nothing saved.
		{env: oneShot, vars: []string{"DSM_URL", front.url, "DSM_USER", "dave", "DSM_PASSWORD", davePassword}, args: []string{"whoami", "--otp-secret-file", daveSeedFile, "--fingerprint", firstFP}},
		{env: oneShot, vars: []string{"DSM_URL", front.url, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword()}, args: []string{"user", "list", "--insecure"}},
		// The certificate changes: refused, then accepted deliberately.
		{env: e, vars: []string{"DSM_URL", front.url}, args: []string{"whoami"}, fails: true, noTrace: true, before: func() {
			if err := front.rotate(); err != nil {
				t.Fatal(err)
			}
			newFP = front.fingerprint()
		}},
		{env: e, vars: []string{"DSM_URL", front.url, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword()}, args: []string{"login"}, fails: true, noTrace: true},
		{env: e, vars: []string{"DSM_URL", front.url, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword()}, args: []string{"login", "--fingerprint", "NEW"}},
		{env: e, vars: []string{"DSM_URL", front.url}, args: []string{"logout"}},
		// carol's login is a context of its own, with its own session.
		{env: e, vars: []string{"DSM_URL", front.url, "DSM_USER", "carol"}, args: []string{"logout"}},
	}
	var results []result
	for _, rn := range runs {
		if rn.before != nil {
			rn.before()
		}
		args := slices.Clone(rn.args)
		for i, a := range args {
			if a == "NEW" {
				args[i] = newFP
			}
		}
		re := rn.env.with(rn.vars...)
		re.terminal = rn.terminal
		r := re.run(t, append(args, "--debug")...)
		if (r.code != 0) != rn.fails {
			t.Errorf("dsmctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		if !rn.noTrace && !strings.Contains(r.stderr, "level=DEBUG") {
			t.Errorf("dsmctl %s --debug traced nothing", strings.Join(args, " "))
		}
		results = append(results, r)
	}
	if n := openSessions(t, srv); n != 0 {
		t.Errorf("%d sessions left open after the logouts", n)
	}

	// Every code valid while the test ran, for each seed.
	var codes []string
	for _, seed := range []string{bobOTPSecret, carolOTPSeed, daveOTPSeed, erinOTPSeed} {
		for at := start.Add(-time.Minute); at.Before(time.Now().Add(time.Minute)); at = at.Add(30 * time.Second) {
			codes = append(codes, dsmtest.TOTP(seed, at))
		}
	}
	sr.mu.Lock()
	kinds := map[string]int{}
	secrets := []string{srv.AdminPassword(), bobPassword, carolPassword, davePassword, erinPassword,
		bobOTPSecret, carolOTPSeed, daveOTPSeed, erinOTPSeed, strings.ToLower(carolOTPSeed)}
	sessionSecrets := map[string]bool{}
	for s, k := range sr.secrets {
		secrets = append(secrets, s)
		kinds[k]++
		sessionSecrets[s] = true
	}
	sr.mu.Unlock()
	for _, k := range []string{"sid", "synotoken", "device_id"} {
		if kinds[k] == 0 {
			t.Fatalf("the recorder saw no %s: the test would prove nothing", k)
		}
	}
	for _, r := range results {
		r.noSecrets(t, secrets...)
		for _, c := range codes {
			if codeShows(r.stdout, c) || codeShows(r.stderr, c) {
				t.Errorf("a 2-step code shows in the output\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			}
		}
	}

	files := map[string]bool{}
	for _, dir := range []string{e.configDir(), oneShot.configDir(), e.vars["HOME"], oneShot.vars["HOME"], workDir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			base := filepath.Base(path)
			files[base] = true
			b, err := os.ReadFile(path)
			if err != nil {
				t.Error(err)
				return nil
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) && !(sessionSecrets[s] && (base == sessionsFile || base == devicesFile)) {
					t.Errorf("%s holds a secret (%d bytes)", path, len(s))
				}
			}
			for _, c := range codes {
				if codeShows(string(b), c) {
					t.Errorf("%s holds a 2-step code", path)
				}
			}
			return nil
		})
	}
	if !files[devicesFile] || !files[certificatesFile] {
		t.Errorf("files written: %v; want the device tokens and the trusted certificates among them", files)
	}
	if _, err := os.Stat(oneShot.configDir()); !os.IsNotExist(err) {
		t.Errorf("the one-shot commands wrote a config directory (stat: %v)", err)
	}
}
