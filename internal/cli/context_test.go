package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
)

// saveTestLogin saves sess for url as login does: in its context, made
// current.
func saveTestLogin(st store, url string, sess dsm.Session) error {
	_, err := saveLogin(st, "", url, sess)
	return err
}

// currentSession returns the URL and the saved session of the current
// context.
func currentSession(st store) (string, dsm.Session, bool, error) {
	l, err := st.load()
	if err != nil {
		return "", dsm.Session{}, false, err
	}
	c := l.current()
	if c == nil {
		return "", dsm.Session{}, false, nil
	}
	s := l.sessionAt(c.URL, c.Account)
	if s == nil {
		return c.URL, dsm.Session{}, false, nil
	}
	return c.URL, s.Session, true, nil
}

// writeConfigFile writes a config file by hand, 0600 in a 0700
// directory, as dsmctl writes them.
func writeConfigFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOldConfigDirConverted: a config directory written before contexts
// (sessions.json keyed by URL, logins.json with the latest logins) keeps
// working: its saved session is used as it is, without a login, and the
// files are converted into contexts, none lost.
func TestOldConfigDirConverted(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	c, err := dsm.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "alice", Password: alicePassword})
	if err != nil {
		t.Fatal(err)
	}
	sessJSON, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	dir := e.configDir()
	// The old format: one session per URL, the current URL beside them;
	// logins.json names the latest login and, per URL, its account (here
	// a second NAS whose session had ended).
	writeConfigFile(t, dir, sessionsFile, `{"current": "`+srv.URL()+`", "sessions": {"`+srv.URL()+`": `+string(sessJSON)+`}}`)
	writeConfigFile(t, dir, loginsFile, `{"latest": "`+srv.URL()+`", "accounts": {"`+srv.URL()+`": "alice", "https://nas2.example:5001": "bob"}}`)

	r := e.mustRun(t, "whoami")
	if !regexp.MustCompile(`(?m)^account: +alice$`).MatchString(r.stdout) {
		t.Fatalf("whoami with the old config directory:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, loginsFile)); !os.IsNotExist(err) {
		t.Errorf("logins.json is still there after the conversion (stat: %v)", err)
	}
	for _, name := range []string{sessionsFile, contextsFile} {
		if m := fileMode(t, filepath.Join(dir, name)); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, m)
		}
	}
	r = e.mustRun(t, "context", "list", "-o", "json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("context list -o json: %v\n%s", err, r.stdout)
	}
	host := strings.TrimPrefix(srv.URL(), "http://")
	want := []map[string]any{
		{"current": true, "name": "alice@" + host, "url": srv.URL(), "account": "alice", "session": "saved"},
		{"current": false, "name": "bob@nas2.example:5001", "url": "https://nas2.example:5001", "account": "bob", "session": "none"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("contexts after the conversion (-want +got):\n%s", diff)
	}
	// The session is the one saved before, not a new one.
	_, saved, ok, err := currentSession(store{dir: dir})
	if err != nil || !ok || saved.SID != sess.SID {
		t.Errorf("the converted session is not the saved one (ok %v, err %v)", ok, err)
	}
}

// TestConversionResumes: a conversion cut short after sessions.json was
// rewritten but before contexts.json was written (logins.json still
// there) is finished by the next command.
func TestConversionResumes(t *testing.T) {
	t.Parallel()
	st := store{dir: filepath.Join(t.TempDir(), "config")}
	writeConfigFile(t, st.dir, sessionsFile, `{"version": 1, "sessions": [{"url": "https://nas:5001", "session": {"account": "admin", "sid": "s1", "synotoken": "t1"}}]}`)
	writeConfigFile(t, st.dir, loginsFile, `{"latest": "https://nas:5001", "accounts": {"https://nas:5001": "admin"}}`)
	url, sess, ok, err := currentSession(st)
	if err != nil || !ok || url != "https://nas:5001" || sess.SID != "s1" {
		t.Errorf("current session = %s %v %v %v", url, sess, ok, err)
	}
	// Reading converts for good: logins.json goes, contexts.json holds
	// what it said.
	if _, err := os.Stat(filepath.Join(st.dir, loginsFile)); !os.IsNotExist(err) {
		t.Errorf("logins.json is still there after a read (stat: %v)", err)
	}
	var c savedContexts
	if err := st.read(contextsFile, &c); err != nil || c.Current != "admin@nas:5001" || len(c.Contexts) != 1 {
		t.Errorf("contexts.json after the conversion: %+v (err %v)", c, err)
	}
}

// TestNewerFormatRefused: a sessions.json or contexts.json of a newer
// dsmctl is refused with a clear message, not rewritten.
func TestNewerFormatRefused(t *testing.T) {
	t.Parallel()
	for _, name := range []string{sessionsFile, contextsFile} {
		st := store{dir: filepath.Join(t.TempDir(), "config")}
		writeConfigFile(t, st.dir, name, `{"version": 99}`)
		_, err := st.load()
		if err == nil || !strings.Contains(err.Error(), "format version 99, newer than this dsmctl knows") {
			t.Errorf("%s of version 99: %v", name, err)
		}
	}
}
