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
	sessionsFile = "sessions.json" // saved sessions, one per DSM URL
	devicesFile  = "devices.json"  // device tokens, per DSM URL and account
	loginsFile   = "logins.json"   // where and as whom the latest logins were
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

// savedSessions is the content of sessions.json.
type savedSessions struct {
	// Current is the URL of the latest login: commands run without
	// --url or DSM_URL use it.
	Current string `json:"current,omitempty"`
	// Sessions maps a DSM URL (as dsm.Client.BaseURL gives it) to its
	// session.
	Sessions map[string]dsm.Session `json:"sessions"`
	// APIs maps a DSM URL to what its SYNO.API.Info said, with the DSM
	// build when known (dsm.Client.APITable): clients of the URL are made
	// with it and send no discovery request. It outlives the session (it
	// holds no secret) and is replaced when a client reads it again.
	APIs map[string]dsm.APITable `json:"apis,omitempty"`
}

// savedLogins is the content of logins.json: where and as whom the
// latest logins were, kept after a logout or an expiry, so that
// "dsmctl login" alone logs in there again. It holds no secret.
type savedLogins struct {
	// Latest is the URL of the latest login.
	Latest string `json:"latest"`
	// Accounts maps a URL to the account of its latest login.
	Accounts map[string]string `json:"accounts"`
}

// savedDevices is the content of devices.json: URL -> lower-case
// account -> device token.
type savedDevices map[string]map[string]string

func (st store) sessions() (savedSessions, error) {
	var s savedSessions
	if err := st.read(sessionsFile, &s); err != nil {
		return savedSessions{}, err
	}
	if s.Sessions == nil {
		s.Sessions = map[string]dsm.Session{}
	}
	return s, nil
}

// session returns the session saved for url, or for the latest login when
// url is "", with its URL.
func (st store) session(url string) (string, dsm.Session, bool, error) {
	s, err := st.sessions()
	if err != nil {
		return "", dsm.Session{}, false, err
	}
	if url == "" {
		url = s.Current
	}
	sess, ok := s.Sessions[url]
	return url, sess, ok, nil
}

// apiTable returns the API table saved for url.
func (st store) apiTable(url string) (dsm.APITable, bool, error) {
	s, err := st.sessions()
	if err != nil {
		return dsm.APITable{}, false, err
	}
	t, ok := s.APIs[url]
	return t, ok && len(t.APIs) > 0, nil
}

// saveAPITable records t as the API table of url when url has a saved
// session, unless it is saved already.
func (st store) saveAPITable(url string, t dsm.APITable) error {
	s, err := st.sessions()
	if err != nil {
		return err
	}
	if _, ok := s.Sessions[url]; !ok {
		return nil // kept with a session only
	}
	if old, ok := s.APIs[url]; ok && old.Equal(t) {
		return nil
	}
	if s.APIs == nil {
		s.APIs = map[string]dsm.APITable{}
	}
	s.APIs[url] = t
	return st.write(sessionsFile, s)
}

// forgetAPITable removes the API table saved for url, if there is one.
func (st store) forgetAPITable(url string) error {
	s, err := st.sessions()
	if err != nil {
		return err
	}
	if _, ok := s.APIs[url]; !ok {
		return nil
	}
	delete(s.APIs, url)
	return st.write(sessionsFile, s)
}

// saveSession records sess as the session for url and makes url current.
func (st store) saveSession(url string, sess dsm.Session) error {
	s, err := st.sessions()
	if err != nil {
		return err
	}
	s.Sessions[url] = sess
	s.Current = url
	if err := st.write(sessionsFile, s); err != nil {
		return err
	}
	var l savedLogins
	if err := st.read(loginsFile, &l); err != nil {
		return err
	}
	if l.Accounts == nil {
		l.Accounts = map[string]string{}
	}
	l.Latest, l.Accounts[url] = url, sess.Account
	return st.write(loginsFile, l)
}

// latest returns where and as whom the latest login was, whether its
// session is still saved or not; with url not "", the account of url's
// latest login.
func (st store) latest(url string) (latestURL, account string, err error) {
	var l savedLogins
	if err := st.read(loginsFile, &l); err != nil {
		return "", "", err
	}
	if url == "" {
		url = l.Latest
	}
	return url, l.Accounts[url], nil
}

// removeSession forgets the session of url. The file goes when no session
// is left.
func (st store) removeSession(url string) error {
	s, err := st.sessions()
	if err != nil {
		return err
	}
	delete(s.Sessions, url)
	if s.Current == url {
		s.Current = ""
	}
	if len(s.Sessions) == 0 {
		err := os.Remove(filepath.Join(st.dir, sessionsFile))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return st.write(sessionsFile, s)
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

// updateSession saves sess as the session of url when the saved one is
// still the same session (same SID): a signed session's next nonce. It
// leaves the current URL as it is.
func (st store) updateSession(url string, sess dsm.Session) error {
	s, err := st.sessions()
	if err != nil {
		return err
	}
	if old, ok := s.Sessions[url]; !ok || old.SID != sess.SID {
		return nil // logged out or replaced meanwhile
	}
	s.Sessions[url] = sess
	return st.write(sessionsFile, s)
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
