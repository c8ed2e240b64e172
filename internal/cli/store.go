package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/atomicfile"
)

// Files in the config directory. They hold secrets, or decide which
// server dsmctl trusts: the directory is made 0700, the files 0600. On
// Unix a directory that is not the user's own or that group or others
// can write, and a file (sessions.lock too) that is not the user's own
// or that group or others can read, are refused with the command that
// fixes them, as ssh does for ~/.ssh: another local user could have put
// their server's URL and certificate there. Windows has no Unix owner
// and mode: there the files are used as they are.
const (
	sessionsFile = "sessions.json" // saved sessions, one per DSM URL and account
	contextsFile = "contexts.json" // the contexts: named logins, and the current one
	devicesFile  = "devices.json"  // device tokens, per DSM URL and account
	// loginsFile is where dsmctl kept the latest logins before contexts:
	// read once, converted into contexts.json, then removed.
	loginsFile = "logins.json"
	// certificatesFile holds the certificates trusted at login, per DSM
	// URL (SHA-256 fingerprints): not secret, but whoever can change it
	// can make dsmctl trust another server, so it is kept like the others.
	certificatesFile = "certificates.json"
)

// configDir returns dsmctl's config directory: $DSM_CONFIG_DIR, else the
// user config directory (os.UserConfigDir) + /dsmctl.
func configDir(getenv func(string) string) (string, error) {
	if d := getenv("DSM_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config directory: %w; set DSM_CONFIG_DIR", err)
	}
	return filepath.Join(base, "dsmctl"), nil
}

// store keeps dsmctl's saved sessions and device tokens in a directory.
// It reads the files at each call and replaces them atomically; two
// dsmctl processes saving at the same instant may lose one update.
type store struct {
	dir string
}

// savedSessions is the content of sessions.json: one saved session per
// DSM URL and account.
type savedSessions struct {
	Version  int            `json:"version"`
	Sessions []savedSession `json:"sessions"`
	// APIs maps a DSM URL to what its SYNO.API.Info said, with the DSM
	// build when known (dsm.Client.APITable): clients of the URL are made
	// with it and send no discovery request. It holds no secret, is kept
	// only while a session of the URL is saved, and is replaced when a
	// client reads it again.
	APIs map[string]dsm.APITable `json:"apis,omitempty"`
}

// savedSession is a session saved for an account on a DSM. State that
// belongs to one session (as the library's own session struct holds it)
// is a field here: it goes when the session goes.
type savedSession struct {
	// URL is the DSM address as dsm.Client.BaseURL gives it.
	URL string `json:"url"`
	// Session is the session as the library gives it (Auth.Session).
	Session dsm.Session `json:"session"`
	// Expired: a command found that DSM had ended the session; "dsmctl
	// context list" says so, without asking DSM, until a login replaces
	// the session.
	Expired bool `json:"expired,omitempty"`
}

// savedDevices is the content of devices.json: URL -> lower-case
// account -> device token.
type savedDevices map[string]map[string]string

// apiTable returns the API table saved for url.
func (st store) apiTable(url string) (dsm.APITable, bool, error) {
	l, err := st.load()
	if err != nil {
		return dsm.APITable{}, false, err
	}
	t, ok := l.sessions.APIs[url]
	return t, ok && len(t.APIs) > 0, nil
}

// saveAPITable records t as the API table of url when a session of url
// is saved, unless it is saved already.
func (st store) saveAPITable(url string, t dsm.APITable) error {
	l, err := st.load()
	if err != nil {
		return err
	}
	if l.sessionAt(url, "") == nil {
		return nil // kept with a session only
	}
	if old, ok := l.sessions.APIs[url]; ok && old.Equal(t) {
		return nil
	}
	if l.sessions.APIs == nil {
		l.sessions.APIs = map[string]dsm.APITable{}
	}
	l.sessions.APIs[url] = t
	l.sessionsDirty = true
	return st.save(l)
}

// forgetAPITable removes the API table saved for url, if there is one.
func (st store) forgetAPITable(url string) error {
	l, err := st.load()
	if err != nil {
		return err
	}
	if _, ok := l.sessions.APIs[url]; !ok {
		return nil
	}
	delete(l.sessions.APIs, url)
	l.sessionsDirty = true
	return st.save(l)
}

// deviceToken returns the device token saved for account on url, or "".
func (st store) deviceToken(url, account string) (string, error) {
	var d savedDevices
	if err := st.read(devicesFile, &d); err != nil {
		return "", err
	}
	return d[url][strings.ToLower(account)], nil
}

// saveDeviceToken records the device token of account on url.
func (st store) saveDeviceToken(url, account, token string) error {
	var d savedDevices
	if err := st.read(devicesFile, &d); err != nil {
		return err
	}
	if d == nil {
		d = savedDevices{}
	}
	if d[url] == nil {
		d[url] = map[string]string{}
	}
	d[url][strings.ToLower(account)] = token
	return st.write(devicesFile, d)
}

// savedCertificates is the content of certificates.json: URL -> SHA-256
// fingerprint (64 lower-case hex digits) of the certificate trusted there.
type savedCertificates map[string]string

// fingerprint returns the fingerprint of the certificate trusted for url,
// or "".
func (st store) fingerprint(url string) (string, error) {
	var c savedCertificates
	if err := st.read(certificatesFile, &c); err != nil {
		return "", err
	}
	return c[url], nil
}

// saveFingerprint records fp as the certificate trusted for url.
func (st store) saveFingerprint(url, fp string) error {
	var c savedCertificates
	if err := st.read(certificatesFile, &c); err != nil {
		return err
	}
	if c == nil {
		c = savedCertificates{}
	}
	c[url] = fp
	return st.write(certificatesFile, c)
}

// removeFingerprint forgets the certificate trusted for url.
func (st store) removeFingerprint(url string) error {
	var c savedCertificates
	if err := st.read(certificatesFile, &c); err != nil {
		return err
	}
	if _, ok := c[url]; !ok {
		return nil
	}
	delete(c, url)
	return st.write(certificatesFile, c)
}

// read decodes the JSON file name into v; a missing file leaves v alone.
// A file that group or others may read is refused: it holds secrets.
func (st store) read(name string, v any) error {
	if err := st.checkDir(); err != nil {
		return err
	}
	path := filepath.Join(st.dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	why := "another user may have put their own sessions there"
	if name == certificatesFile {
		why = "another user may have made dsmctl trust their server"
	}
	if err := notOwnedError(path, fi, why); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		if name == certificatesFile {
			return fmt.Errorf("%s lists the certificates dsmctl trusts but has mode %04o: only its owner may have access; "+
				"run \"chmod 600 %s\" and check its content", path, perm, path)
		}
		return fmt.Errorf("%s holds secrets but has mode %04o: group or others can read it; "+
			"run \"chmod 600 %s\" (and consider the session compromised: run dsmctl logout and log in again)", path, perm, path)
	}
	if err := json.NewDecoder(f).Decode(v); err != nil {
		return fmt.Errorf("%s is not valid: %v; remove it and log in again", path, err)
	}
	return nil
}

// write replaces the file name with v as JSON, atomically and with mode
// 0600 (atomicfile.WriteFile).
func (st store) write(name string, v any) error {
	if err := st.makeDir(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(st.dir, name), append(b, '\n'), 0o600)
}

// sessionLockFile is locked while a command uses a signed session.
const sessionLockFile = "sessions.lock"

// sessionLockWait bounds how long a command waits for another that uses
// the saved signed session; sessionLockPoll is how often it looks.
const (
	sessionLockWait = time.Minute
	sessionLockPoll = 20 * time.Millisecond
)

// errSessionBusy: another dsmctl command holds the saved signed session.
var errSessionBusy = errors.New("another dsmctl command is using the saved session (a session opened with DSM 7's secure sign-in signs each request with a number used once, so one command at a time uses it); wait for it to end, or log in separately with DSM_PASSWORD")

// lockSessions takes the lock of the signed sessions, waiting at most
// sessionLockWait for a command that holds it, and returns its release.
func (st store) lockSessions(ctx context.Context) (release func(), err error) {
	if err := st.makeDir(); err != nil {
		return nil, err
	}
	path := filepath.Join(st.dir, sessionLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|openPrivateFlags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the session lock: %w", err)
	}
	if err := checkLockFile(path, f); err != nil {
		f.Close()
		return nil, err
	}
	deadline := time.Now().Add(sessionLockWait)
	for {
		busy, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking the saved session: %w", err)
		}
		if !busy {
			return func() { unlock(f); f.Close() }, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, errSessionBusy
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(sessionLockPoll):
		}
	}
}

// makeDir creates the config directory (0700) when it is missing and
// checks it (checkDir).
func (st store) makeDir() error {
	if err := os.MkdirAll(st.dir, 0o700); err != nil {
		return fmt.Errorf("creating the config directory: %w", err)
	}
	return st.checkDir()
}

// checkDir refuses a config directory that is not the user's own or that
// group or others can write: whoever can write it can replace its files.
// A missing directory is fine (nothing is read from it).
func (st store) checkDir() error {
	fi, err := os.Stat(st.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("the config directory %s is not a directory; remove it or set DSM_CONFIG_DIR", st.dir)
	}
	if err := notOwnedError(st.dir, fi, "another user may have put their own sessions and certificates in it"); err != nil {
		return fmt.Errorf("the config directory %w, or set DSM_CONFIG_DIR to a directory of your own", err)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("the config directory %s has mode %04o: group or others can write it and replace the files dsmctl trusts; "+
			"run \"chmod 700 %s\" and check its files (or remove them and log in again)", st.dir, perm, st.dir)
	}
	return nil
}

// checkLockFile refuses a session lock (opened as f) that is not a
// regular file, not the user's own, or open to group or others: another
// user holding it could stop every signed command.
func checkLockFile(path string, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("opening the session lock: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("the session lock %s is not a regular file; remove it", path)
	}
	if err := notOwnedError(path, fi, "another user could hold it and stop every command that uses the saved session"); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("the session lock %s has mode %04o: only its owner may have access; run \"chmod 600 %s\"", path, perm, path)
	}
	return nil
}
