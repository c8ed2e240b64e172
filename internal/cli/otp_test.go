package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// writeSeed writes content to a file with mode perm and returns its path.
func writeSeed(t *testing.T, content string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seed")
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestReadOTPSecretFile(t *testing.T) {
	t.Parallel()
	now := time.Now()
	want := dsmtest.TOTP(bobOTPSecret, now)
	for _, tt := range []struct {
		name, content string
	}{
		{"base32", bobOTPSecret},
		{"newline, spaces, lower case", "  " + strings.ToLower(bobOTPSecret[:8]+" "+bobOTPSecret[8:]) + "\n"},
		{"otpauth URI", "otpauth://totp/DSM:bob?secret=" + bobOTPSecret + "&issuer=DSM&algorithm=SHA1&digits=6&period=30\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, err := readOTPSecretFile(writeSeed(t, tt.content, 0o600))
			if err != nil {
				t.Fatal(err)
			}
			if got := key.Code(now); got != want {
				t.Errorf("code %s, want %s", got, want)
			}
		})
	}
}

func TestReadOTPSecretFileRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, content string
		perm          os.FileMode
		want          string
	}{
		{"not base32", "this is not a seed!", 0o600, "is not base32 text"},
		{"empty", "\n", 0o600, "seed is empty"},
		{"too large", strings.Repeat(bobOTPSecret, 200), 0o600, "larger than 4096 bytes"},
		{"otpauth HOTP", "otpauth://hotp/DSM:bob?secret=" + bobOTPSecret, 0o600, "not a TOTP"},
		{"otpauth 8 digits", "otpauth://totp/DSM:bob?secret=" + bobOTPSecret + "&digits=8", 0o600, "digits=8"},
		{"otpauth no secret", "otpauth://totp/DSM:bob?issuer=DSM", 0o600, "no secret"},
		{"readable by others", bobOTPSecret, 0o644, "has mode 0644: group or others can read it"},
		{"readable by the group", bobOTPSecret, 0o640, "has mode 0640"},
		{"writable by the group", bobOTPSecret, 0o620, "has mode 0620"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.perm != 0o600 && runtime.GOOS == "windows" {
				t.Skip("no Unix permission bits")
			}
			path := writeSeed(t, tt.content, tt.perm)
			_, err := readOTPSecretFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), bobOTPSecret[:16]) {
				t.Errorf("the error quotes the seed: %v", err)
			}
			if tt.perm != 0o600 && !strings.Contains(err.Error(), `chmod 600 `+path) {
				t.Errorf("the error does not say how to fix the mode: %v", err)
			}
		})
	}
	if _, err := readOTPSecretFile(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
	if _, err := readOTPSecretFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// TestLoginOTPSecretFile: login computes the 2-step code from the seed
// file, without a terminal, and saves the device token (as --otp does).
func TestLoginOTPSecretFile(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	seed := writeSeed(t, bobOTPSecret+"\n", 0o600)
	e := newEnv(t, srv, "DSM_USER", "bob", "DSM_PASSWORD", bobPassword)
	r := e.mustRun(t, "login", "--otp-secret-file", seed)
	if !strings.Contains(r.stdout, "logged in to "+srv.URL()+" as bob") || !strings.Contains(r.stdout, "this device is now trusted") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	token, err := store{dir: e.configDir()}.deviceToken(srv.URL(), "bob")
	if err != nil || token == "" {
		t.Fatalf("no device token saved (err %v)", err)
	}
	r.noSecrets(t, bobOTPSecret, bobPassword, token, dsmtest.TOTP(bobOTPSecret, srv.Now()))

	// A readable seed file is refused before anything is sent.
	logins := srv.Logins()
	open := writeSeed(t, bobOTPSecret, 0o644)
	if runtime.GOOS != "windows" {
		r = e.run(t, "login", "--otp-secret-file", open)
		r.wantCode(t, ExitFailure)
		if !strings.Contains(r.stderr, "has mode 0644") || srv.Logins() != logins {
			t.Errorf("a seed file readable by others: logins %d -> %d, stderr:\n%s", logins, srv.Logins(), r.stderr)
		}
	}

	// --otp and --otp-secret-file exclude each other.
	r = e.run(t, "login", "--otp", "123456", "--otp-secret-file", seed)
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "--otp and --otp-secret-file exclude each other") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestOneShotOTPSecretFile: with DSM_URL, DSM_USER, DSM_PASSWORD and
// --otp-secret-file, a command runs unattended against a 2-step account,
// saving nothing.
func TestOneShotOTPSecretFile(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	seed := writeSeed(t, bobOTPSecret, 0o600)
	e := newEnv(t, srv, "DSM_USER", "bob", "DSM_PASSWORD", bobPassword)

	r := e.run(t, "whoami")
	r.wantCode(t, ExitAuth)
	if !strings.Contains(r.stderr, "--otp-secret-file FILE") {
		t.Errorf("a 2-step account without a code does not point at --otp-secret-file:\n%s", r.stderr)
	}
	r = e.mustRun(t, "whoami", "--otp-secret-file", seed)
	if !strings.Contains(r.stdout, "2-step:     on") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if _, err := os.Stat(e.configDir()); !os.IsNotExist(err) {
		t.Errorf("a one-shot command wrote the config directory (stat: %v)", err)
	}
	if n := openSessions(t, srv); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}

// TestTOTPWaitNotice: a login with --otp-secret-file says on stderr that
// it waits for the next 2-step window, and how long, instead of up to 30 s
// of silence; a login without a seed has no such hook.
func TestTOTPWaitNotice(t *testing.T) {
	t.Parallel()
	key, err := dsm.TOTP(bobOTPSecret)
	if err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	s := &IOStreams{ErrOut: &errOut}
	o := &connOptions{User: "bob", totp: key}
	cred := o.credentials("pw", "", s)
	if cred.TOTPWait == nil {
		t.Fatal("a login with --otp-secret-file has no TOTPWait")
	}
	cred.TOTPWait(19*time.Second + 300*time.Millisecond)
	if want := "waiting 20s for the next one\n"; !strings.HasSuffix(errOut.String(), want) || !strings.Contains(errOut.String(), "already used") {
		t.Errorf("stderr %q, want a line ending %q", errOut.String(), want)
	}
	if c := (&connOptions{User: "bob"}).credentials("pw", "", s); c.TOTPWait != nil {
		t.Error("a login without a seed has a TOTPWait")
	}
}
