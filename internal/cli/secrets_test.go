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
	"strings"
	"sync"
	"testing"
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
	secrets := append([]string{gen[1]}, passwords...)
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
		if k == "sid" || k == "synotoken" || k == "did" || k == "device_id" {
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
