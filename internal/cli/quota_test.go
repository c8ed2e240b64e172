package cli

import (
	"testing"

	"github.com/dsmkit/dsm"
)

func TestParseQuotaArg(t *testing.T) {
	t.Parallel()
	for arg, want := range map[string]dsm.Quota{
		"/volume1=20GiB":   {Volume: "/volume1", Limit: 20 * dsm.GiB},
		"/volume12=1TiB":   {Volume: "/volume12", Limit: dsm.TiB},
		"public=500MB":     {Share: "public", Limit: 500 * dsm.MiB},
		"share:volume9=1M": {Share: "volume9", Limit: dsm.MiB},
		"volumes=none":     {Share: "volumes"},
		"photo=NONE":       {Share: "photo"},
	} {
		got, err := parseQuotaArg(arg)
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", arg, got, err, want)
		}
	}
	// A bare volume name is refused as the library refuses it, not taken
	// for a shared folder's.
	for _, bad := range []string{"volume1=20GiB", "volume:volume3=0", "/=1GiB", "/volume1/x=1GiB", "volume1", "=1GiB", "public=", "public=-1GiB", "public=1.5GiB"} {
		if _, err := parseQuotaArg(bad); exitCode(err) != ExitUsage {
			t.Errorf("%s: %v, want a usage error", bad, err)
		}
	}
}

// TestGoldenOnboarding holds the tables of quota get, app list and speed
// get.
func TestGoldenOnboarding(t *testing.T) {
	t.Parallel()
	e := goldenEnv(t)
	for _, args := range [][]string{
		{"quota", "set", "--user", "alice", "public=20GiB", "/volume2=1536MiB"},
		{"app", "deny", "ftp", "--user", "alice"},
		{"app", "allow", "sftp", "--user", "alice", "--from", "10.0.0.0/8", "--from", "192.168.1.7"},
		{"speed", "set", "FTP", "--user", "alice", "--upload", "1024", "--download", "2048"},
	} {
		e.mustRun(t, args...)
	}
	goldenRun(t, e, "quota_get", "quota", "get", "--user", "alice")
	goldenRun(t, e, "app_list", "app", "list", "--user", "alice")
	goldenRun(t, e, "speed_get", "speed", "get", "--user", "alice")
}
