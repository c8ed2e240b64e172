//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobodyUID is the uid that the owner tests give to a file: "nobody" on
// Linux and the BSDs.
const nobodyUID = 65534

// asOtherUser changes the owner of path to nobodyUID, or skips the test
// when this process may not (only root may give a file away).
func asOtherUser(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("only root may chown a file to another user, which this check of the owner test needs; run the tests as root (CI does) to include it")
	}
	if err := os.Lchown(path, nobodyUID, nobodyUID); err != nil {
		t.Fatal(err)
	}
}

// TestPasswordsFileRefusesOthersFiles: --passwords-file appends only to a
// private regular file of the user running dsmctl, with one link, never
// through a symbolic link; each refusal leaves the file as it was.
func TestPasswordsFileRefusesOthersFiles(t *testing.T) {
	t.Parallel()
	const old = "alice\told-pw\n"
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // makes path
		refused string                          // "" when appending is right
	}{
		{"private file of mine", func(t *testing.T, path string) { write(t, path, 0o600) }, ""},
		{"readable by others", func(t *testing.T, path string) { write(t, path, 0o644) }, "mode 0644"},
		{"readable by group", func(t *testing.T, path string) { write(t, path, 0o640) }, "mode 0640"},
		{"owned by another user", func(t *testing.T, path string) {
			write(t, path, 0o600)
			asOtherUser(t, path)
		}, "is owned by "},
		{"second hard link", func(t *testing.T, path string) {
			write(t, path+".other", 0o600)
			if err := os.Link(path+".other", path); err != nil {
				t.Fatal(err)
			}
		}, "2 hard links"},
		{"symbolic link to a private file", func(t *testing.T, path string) {
			write(t, path+".target", 0o600)
			if err := os.Symlink(path+".target", path); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"dangling symbolic link", func(t *testing.T, path string) {
			if err := os.Symlink(path+".target", path); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"FIFO", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "first.tsv")
			tt.prepare(t, path)
			p, err := openPasswordsOut(path)
			if tt.refused == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := p.record("bob", "new-pw"); err != nil {
					t.Fatal(err)
				}
				p.Close()
				if b, _ := os.ReadFile(path); string(b) != old+"bob\tnew-pw\tpending\n" {
					t.Errorf("file holds %q", b)
				}
				return
			}
			if err == nil {
				p.Close()
				t.Fatalf("--passwords-file appended to a file that %s", tt.name)
			}
			if !strings.Contains(err.Error(), tt.refused) || !strings.Contains(err.Error(), "give a new file") {
				t.Errorf("error %q does not say %q and what to do", err, tt.refused)
			}
			if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
				return // nothing to read (a FIFO would block)
			}
			if b, rerr := os.ReadFile(path); rerr == nil && string(b) != old {
				t.Errorf("a refused file now holds %q", b)
			}
		})
	}
}

// write writes the old passwords to path with mode perm.
func write(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("alice\told-pw\n"), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}
