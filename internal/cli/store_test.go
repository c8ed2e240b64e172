package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
)

func TestStoreSessions(t *testing.T) {
	t.Parallel()
	st := store{dir: filepath.Join(t.TempDir(), "a", "b")}
	a := dsm.Session{Account: "admin", SID: "sid-a", SynoToken: "tok-a"}
	b := dsm.Session{Account: "alice", SID: "sid-b", SynoToken: "tok-b", DeviceID: "dev-b"}
	// A second account on the same NAS: a session of its own.
	a2 := dsm.Session{Account: "alice", SID: "sid-a2", SynoToken: "tok-a2"}

	if _, _, ok, err := currentSession(st); ok || err != nil {
		t.Fatalf("empty store: ok %v, err %v", ok, err)
	}
	for _, l := range []struct {
		url  string
		sess dsm.Session
	}{{"http://a", a}, {"http://a", a2}, {"http://b", b}} {
		if err := saveTestLogin(st, l.url, l.sess); err != nil {
			t.Fatal(err)
		}
	}
	url, got, ok, err := currentSession(st)
	if err != nil || !ok || url != "http://b" {
		t.Fatalf("latest session: %s %v %v", url, ok, err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("session b (-want +got):\n%s", diff)
	}
	l, err := st.load()
	if err != nil {
		t.Fatal(err)
	}
	if s := l.sessionAt("http://a", "admin"); s == nil || s.Session != a {
		t.Errorf("session of admin on a = %v", s)
	}
	if s := l.sessionAt("http://a", "ALICE"); s == nil || s.Session != a2 {
		t.Errorf("session of alice on a = %v", s)
	}
	var names []string
	for _, c := range l.contexts.Contexts {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"admin@a", "alice@a", "alice@b"}, names); diff != "" {
		t.Errorf("contexts (-want +got):\n%s", diff)
	}

	for _, s := range []struct{ url, account string }{{"http://b", "alice"}, {"http://a", "admin"}, {"http://a", "alice"}} {
		l.dropSession(s.url, s.account)
	}
	if err := st.save(l); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(st.dir, sessionsFile)); !os.IsNotExist(err) {
		t.Errorf("the sessions file outlived its last session (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(st.dir, contextsFile)); err != nil {
		t.Errorf("logging out removed the contexts: %v", err)
	}
}

func TestStoreDeviceTokens(t *testing.T) {
	t.Parallel()
	st := store{dir: t.TempDir()}
	if err := st.saveDeviceToken("http://a", "Bob", "tok1"); err != nil {
		t.Fatal(err)
	}
	if err := st.saveDeviceToken("http://b", "bob", "tok2"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ url, account, want string }{
		{"http://a", "bob", "tok1"}, // account names are case-insensitive
		{"http://a", "BOB", "tok1"},
		{"http://b", "bob", "tok2"},
		{"http://b", "alice", ""},
		{"http://c", "bob", ""},
	} {
		got, err := st.deviceToken(tt.url, tt.account)
		if err != nil || got != tt.want {
			t.Errorf("deviceToken(%s, %s) = %q, %v; want %q", tt.url, tt.account, got, err, tt.want)
		}
	}
}

func TestStoreRefusesOpenFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	t.Parallel()
	st := store{dir: t.TempDir()}
	if err := st.saveDeviceToken("http://a", "bob", "tok"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(st.dir, devicesFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := st.deviceToken("http://a", "bob"); err == nil {
		t.Error("a device token file readable by others was read")
	}
	if err := st.saveDeviceToken("http://a", "bob", "tok2"); err == nil {
		t.Error("a device token file readable by others was rewritten")
	}
}

func TestStoreCorruptFile(t *testing.T) {
	t.Parallel()
	st := store{dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(st.dir, sessionsFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := currentSession(st); err == nil {
		t.Error("a corrupt sessions file was accepted")
	}
}

func TestConfigDir(t *testing.T) {
	t.Parallel()
	got, err := configDir(func(k string) string {
		if k == "DSM_CONFIG_DIR" {
			return "/somewhere/else"
		}
		return ""
	})
	if err != nil || got != "/somewhere/else" {
		t.Errorf("configDir with DSM_CONFIG_DIR = %q, %v", got, err)
	}
	base, err := os.UserConfigDir()
	if err != nil {
		t.Skipf("no user config directory here: %v", err)
	}
	got, err = configDir(func(string) string { return "" })
	if want := filepath.Join(base, "dsmctl"); err != nil || got != want {
		t.Errorf("configDir = %q, %v; want %q", got, err, want)
	}
}
