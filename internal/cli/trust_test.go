package cli

import (
	"strings"
	"testing"
)

// TestURLPasswordNotShown gives dsmctl a DSM address with a password in
// it, in DSM_URL and in --url, on each command kind that reads it: the
// address is refused and the password is in no output.
func TestURLPasswordNotShown(t *testing.T) {
	t.Parallel()
	const pw = "Url-Secret-9"
	for _, addr := range []string{"ftp://admin:" + pw + "@h", "http://[admin:" + pw + "@h", "https://admin:" + pw + "@nas:5001"} {
		for _, args := range [][]string{
			{"login", "--user", "admin"},
			{"logout"},
			{"whoami"},
			{"user", "list"},
		} {
			t.Run(addr+" "+strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				env := newEnv(t, nil, "DSM_URL", addr, "DSM_USER", "admin", "DSM_PASSWORD", "x")
				r := env.run(t, args...)
				if r.code == 0 || !strings.Contains(r.stderr, "credentials") {
					t.Errorf("DSM_URL=%s: exit %d, stderr:\n%s", addr, r.code, r.stderr)
				}
				r.noSecrets(t, pw)
				r = newEnv(t, nil, "DSM_USER", "admin", "DSM_PASSWORD", "x").run(t, append(args, "--url", addr)...)
				if r.code == 0 || !strings.Contains(r.stderr, "credentials") {
					t.Errorf("--url %s: exit %d, stderr:\n%s", addr, r.code, r.stderr)
				}
				r.noSecrets(t, pw)
			})
		}
	}
}
