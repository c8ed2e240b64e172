package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// names lists dir, hidden files included, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return // no Unix modes
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("mode of %s is %04o, want %04o", path, got, want)
	}
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		old  []byte // nil: no file before
		mode fs.FileMode
		data []byte
		perm fs.FileMode
	}{
		{name: "new file", data: []byte("secret\n"), perm: 0o600},
		{name: "replaces a file", old: []byte("the old content, longer than the new"), mode: 0o644, data: []byte("new"), perm: 0o600},
		{name: "replaces a file that only its owner may read", old: []byte("old"), mode: 0o400, data: []byte("new"), perm: 0o600},
		// Not the mode a temporary file has anyway: the mode must be set.
		{name: "other mode", data: []byte("shared"), perm: 0o640},
		{name: "read-only mode", data: []byte("kept"), perm: 0o400},
		{name: "empty", old: []byte("old"), mode: 0o600, data: []byte{}, perm: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tt.old != nil {
				if err := os.WriteFile(path, tt.old, tt.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.mode); err != nil { // whatever the umask
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, tt.data, tt.perm); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(tt.data), string(got)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			checkMode(t, path, tt.perm)
			if diff := cmp.Diff([]string{"state.json"}, names(t, dir)); diff != "" {
				t.Errorf("files in the directory (-want +got), a temporary file left behind?\n%s", diff)
			}
		})
	}
}

// TestWriteFileFails makes WriteFile fail before and at the rename: what
// was at the path is untouched and no temporary file is left.
func TestWriteFileFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup prepares dir and returns the path to write.
		setup func(t *testing.T, dir string) string
	}{
		{"directory missing", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "missing", "state.json")
		}},
		{"parent is a file", func(t *testing.T, dir string) string {
			writeOld(t, filepath.Join(dir, "file"))
			return filepath.Join(dir, "file", "state.json")
		}},
		// The temporary file is written, the rename fails.
		{"target is a directory", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "state.json")
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			writeOld(t, filepath.Join(path, "inside"))
			return path
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := tt.setup(t, dir)
			before := tree(t, dir)
			if err := WriteFile(path, []byte("new"), 0o600); err == nil {
				t.Fatal("WriteFile succeeded, want an error")
			}
			if diff := cmp.Diff(before, tree(t, dir)); diff != "" {
				t.Errorf("the directory changed (-before +after):\n%s", diff)
			}
		})
	}
}

// TestWriteFileFailsWriting fails WriteFile after the temporary file is
// made and its mode set: the mode is already perm while the file is still
// empty, and the file is removed. Not parallel: it sets testHookWrite.
func TestWriteFileFailsWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tls-key.pem")
	writeOld(t, path)
	before := tree(t, dir)
	errWrite := errors.New("disk full")
	var seen string
	testHookWrite = func(tmp string) error {
		seen = tmp
		fi, err := os.Stat(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != 0 {
			t.Errorf("temporary file holds %d bytes before the write", fi.Size())
		}
		checkMode(t, tmp, 0o640) // not the 0600 of a new temporary file
		return errWrite
	}
	t.Cleanup(func() { testHookWrite = nil })
	if err := WriteFile(path, []byte("new"), 0o640); !errors.Is(err, errWrite) {
		t.Fatalf("WriteFile: %v, want %v", err, errWrite)
	}
	if !isTemp(filepath.Base(seen), ".tls-key.pem.") || filepath.Dir(seen) != dir {
		t.Errorf("temporary file %s, want a hidden .tls-key.pem.*.tmp in %s", seen, dir)
	}
	if diff := cmp.Diff(before, tree(t, dir)); diff != "" {
		t.Errorf("the directory changed (-before +after):\n%s", diff)
	}
}

func TestRemoveTemps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		files, want []string
	}{
		{"none", []string{"state.json"}, []string{"state.json"}},
		{"a crash left two", []string{"state.json", ".state.json.123.tmp", ".state.json.4567890.tmp"}, []string{"state.json"}},
		{"only state.json's", []string{".state.json.1.tmp", ".sessions.json.2.tmp", ".state.json.bak.tmp", ".state.json..tmp", "state.json.3.tmp"},
			[]string{".sessions.json.2.tmp", ".state.json..tmp", ".state.json.bak.tmp", "state.json.3.tmp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, f := range tt.files {
				writeOld(t, filepath.Join(dir, f))
			}
			if err := RemoveTemps(filepath.Join(dir, "state.json")); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(t, dir)); diff != "" {
				t.Errorf("files left (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRemoveTempsMatchesWriteFile holds RemoveTemps to the names WriteFile
// gives its temporary files: one left by a crash is removed. Not
// parallel: it sets testHookWrite.
func TestRemoveTempsMatchesWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sessions.json")
	writeOld(t, path)
	before := tree(t, dir)
	var made string
	testHookWrite = func(tmp string) error {
		made = tmp
		return errors.New("crash")
	}
	t.Cleanup(func() { testHookWrite = nil })
	if err := WriteFile(path, []byte("new"), 0o600); err == nil {
		t.Fatal("WriteFile succeeded, want the hook's error")
	}
	writeOld(t, made) // what the crash would have left
	if err := RemoveTemps(path); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, tree(t, dir)); diff != "" {
		t.Errorf("after RemoveTemps (-want +got):\n%s", diff)
	}
}

func writeOld(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tree maps every file under dir to its content ("/" for a directory).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			out[rel] = "/"
			return nil
		}
		b, err := os.ReadFile(path)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
