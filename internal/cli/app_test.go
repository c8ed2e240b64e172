package cli

import (
	"testing"

	"github.com/dsmkit/dsm"
)

func TestFindApp(t *testing.T) {
	t.Parallel()
	apps := []dsm.App{{ID: "SYNO.FTP", Name: "FTP"}, {ID: "SYNO.SDS.App.FileStation3.Instance", Name: "File Station"}}
	for name, want := range map[string]string{"ftp": "SYNO.FTP", "SYNO.FTP": "SYNO.FTP", "syno.ftp": "SYNO.FTP", "file station": "SYNO.SDS.App.FileStation3.Instance"} {
		if got, err := findApp(apps, name); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := findApp(apps, "files"); exitCode(err) != ExitUsage {
		t.Errorf("an unknown app: %v, want a usage error", err)
	}
}

// TestAppAndSpeedUsage: the flags are checked before any call (no
// simulator runs here).
func TestAppAndSpeedUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"app", "allow", "ftp"},
		{"app", "allow", "ftp", "--user", "a", "--group", "g"},
		{"app", "allow", "ftp", "--user", "a:b"},
		{"app", "deny", "ftp", "--user", "a", "--from", "10.0.0.1/8"},
		{"app", "default", "ftp", "--user", "a", "--from", "10.0.0.0/8"},
		{"app", "list", "--group", "a/b"},
		{"speed", "set", "FTP", "--user", "a"},
		{"speed", "set", "FTP", "--user", "a", "--off", "--upload", "1"},
		{"speed", "set", "FTP", "--user", "a", "--schedule", "01"},
		{"speed", "get"},
		{"quota", "get", "--share", "public", "--user", "a"},
		{"quota", "set", "--user", "a", "public"},
	} {
		newEnv(t, nil).run(t, args...).wantCode(t, ExitUsage)
	}
}
