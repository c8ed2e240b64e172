package cli

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/dsmkit/dsm"
)

// maxOTPSecretFile bounds what --otp-secret-file reads: a seed is a few
// dozen characters, an otpauth:// URI a few hundred.
const maxOTPSecretFile = 4096

// readOTPSecretFile reads the 2-step seed of --otp-secret-file: base32
// text (spaces and case ignored) or an otpauth://totp/ URI as authenticator
// apps export it. Like the session file, a file that group or others may
// read is refused. No error quotes the file's content.
func readOTPSecretFile(path string) (*dsm.TOTPKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--otp-secret-file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("--otp-secret-file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("--otp-secret-file: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("--otp-secret-file: %s holds a 2-step seed but has mode %04o: group or others can read it; "+
			"run \"chmod 600 %s\" (and consider the seed compromised: whoever read it can make codes; set up 2-step verification again in DSM)",
			path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxOTPSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("--otp-secret-file: %w", err)
	}
	if len(b) > maxOTPSecretFile {
		return nil, fmt.Errorf("--otp-secret-file: %s is larger than %d bytes: it should hold only a base32 seed", path, maxOTPSecretFile)
	}
	seed := strings.TrimSpace(string(b))
	if strings.HasPrefix(strings.ToLower(seed), "otpauth://") {
		if seed, err = otpauthSecret(seed); err != nil {
			return nil, fmt.Errorf("--otp-secret-file %s: %w", path, err)
		}
	}
	key, err := dsm.TOTP(seed)
	if err != nil {
		return nil, fmt.Errorf("--otp-secret-file %s: %w", path, err)
	}
	return key, nil
}

// otpauthSecret returns the secret parameter of an otpauth://totp/ URI.
// Only the defaults DSM uses (SHA1, 6 digits, 30 seconds) are accepted.
func otpauthSecret(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", errors.New("the otpauth:// URI does not parse") // err quotes the URI
	}
	if !strings.EqualFold(u.Host, "totp") {
		return "", errors.New("the otpauth:// URI is not a TOTP (otpauth://totp/...) one")
	}
	q := u.Query()
	for k, want := range map[string]string{"algorithm": "SHA1", "digits": "6", "period": "30"} {
		if v := q.Get(k); v != "" && !strings.EqualFold(v, want) {
			return "", fmt.Errorf("the otpauth:// URI has %s=%s; DSM's codes use %s", k, v, want)
		}
	}
	secret := q.Get("secret")
	if secret == "" {
		return "", errors.New("the otpauth:// URI has no secret parameter")
	}
	return secret, nil
}

// totpWaitNotice returns what a login with --otp-secret-file calls before
// it waits for the next 2-step window: a line on w saying why and for how
// long (whole seconds, rounded up), where the wait would otherwise be up
// to 30 s of silence.
func totpWaitNotice(w io.Writer) func(time.Duration) {
	return func(d time.Duration) {
		secs := max(1, int((d+time.Second-1)/time.Second))
		fmt.Fprintf(w, "the 2-step code of this 30-second window was already used (DSM accepts each code once): waiting %ds for the next one\n", secs)
	}
}
