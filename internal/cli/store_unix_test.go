//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsmkit/dsm"
)

// filledStore returns a store with a session, a device token, a trusted
// certificate and the session lock in it.
func filledStore(t *testing.T) store {
	t.Helper()
	st := store{dir: filepath.Join(t.TempDir(), "dsmctl")}
	if err := saveTestLogin(st, "https://nas:5001", dsm.Session{Account: "admin", SID: "sid"}); err != nil {
		t.Fatal(err)
	}
	if err := st.saveDeviceToken("https://nas:5001", "admin", "tok"); err != nil {
		t.Fatal(err)
	}
	if err := st.saveFingerprint("https://nas:5001", strings.Repeat("ab", 32)); err != nil {
		t.Fatal(err)
	}
	release, err := st.lockSessions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	release()
	return st
}

// storeUses runs each use of the store and returns the errors.
func storeUses(t *testing.T, st store) map[string]error {
	t.Helper()
	errs := map[string]error{}
	_, _, _, errs["session"] = currentSession(st)
	_, errs["deviceToken"] = st.deviceToken("https://nas:5001", "admin")
	_, errs["fingerprint"] = st.fingerprint("https://nas:5001")
	errs["saveFingerprint"] = st.saveFingerprint("https://other:5001", strings.Repeat("cd", 32))
	release, err := st.lockSessions(t.Context())
	if err == nil {
		release()
	}
	errs["lockSessions"] = err
	return errs
}

// TestStoreRefusesOpenDir: a config directory that group or others can
// write is refused by every use of the store, with the chmod that fixes
// it.
func TestStoreRefusesOpenDir(t *testing.T) {
	t.Parallel()
	for _, perm := range []os.FileMode{0o777, 0o770, 0o702} {
		st := filledStore(t)
		if err := os.Chmod(st.dir, perm); err != nil {
			t.Fatal(err)
		}
		for use, err := range storeUses(t, st) {
			if err == nil || !strings.Contains(err.Error(), `chmod 700 `+st.dir) {
				t.Errorf("mode %04o: %s: %v, want a refusal that says chmod 700", perm, use, err)
			}
		}
	}
	// 0755 is not writable by others: used as before.
	st := filledStore(t)
	if err := os.Chmod(st.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for use, err := range storeUses(t, st) {
		if err != nil {
			t.Errorf("mode 0755: %s: %v", use, err)
		}
	}
}

// TestStoreRefusesOthersFiles gives the config directory, then each of
// its files, to another user: every use of it is refused with the chown
// that fixes it. It needs root.
func TestStoreRefusesOthersFiles(t *testing.T) {
	t.Parallel()
	me := userName(os.Geteuid())
	for _, name := range []string{"", sessionsFile, contextsFile, devicesFile, certificatesFile, sessionLockFile} {
		t.Run("owned by another: "+name, func(t *testing.T) {
			t.Parallel()
			st := filledStore(t)
			path := filepath.Join(st.dir, name)
			asOtherUser(t, path)
			var uses map[string]error
			switch name {
			case "":
				uses = storeUses(t, st)
			case sessionsFile:
				_, _, _, err := currentSession(st)
				uses = map[string]error{"session": err, "saveSession": saveTestLogin(st, "https://x", dsm.Session{SID: "s"})}
			case contextsFile:
				_, err := st.load()
				uses = map[string]error{"load": err}
			case devicesFile:
				_, err := st.deviceToken("https://nas:5001", "admin")
				uses = map[string]error{"deviceToken": err}
			case certificatesFile:
				_, err := st.fingerprint("https://nas:5001")
				uses = map[string]error{"fingerprint": err}
			case sessionLockFile:
				release, err := st.lockSessions(t.Context())
				if err == nil {
					release()
				}
				uses = map[string]error{"lockSessions": err}
			}
			for use, err := range uses {
				want := "chown " + me + " " + filepath.Clean(path)
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "is owned by") {
					t.Errorf("%s: %v, want a refusal that says %q", use, err, want)
				}
			}
		})
	}
}

// TestCommandsRefuseReplacedConfig: after another local user opened the
// config directory to all or replaced sessions.json, a command that
// would use the saved session stops with the fix instead.
func TestCommandsRefuseReplacedConfig(t *testing.T) {
	t.Parallel()
	t.Run("directory 0777", func(t *testing.T) {
		t.Parallel()
		_, e := adminEnv(t)
		if err := os.Chmod(e.configDir(), 0o777); err != nil {
			t.Fatal(err)
		}
		r := e.run(t, "whoami")
		if r.code == 0 || !strings.Contains(r.stderr, "chmod 700 "+e.configDir()) {
			t.Errorf("whoami: exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("sessions.json of another user", func(t *testing.T) {
		t.Parallel()
		_, e := adminEnv(t)
		path := filepath.Join(e.configDir(), sessionsFile)
		if err := os.WriteFile(path, []byte(`{"current":"https://attacker.example:5001","sessions":{"https://attacker.example:5001":{"account":"admin","sid":"x"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		asOtherUser(t, path)
		r := e.with("DSM_URL", "").run(t, "whoami")
		if r.code == 0 || !strings.Contains(r.stderr, "chown "+userName(os.Geteuid())+" "+path) || strings.Contains(r.stdout, "attacker") {
			t.Errorf("whoami: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
}
