// Package atomicfile replaces files so that a crash or a failed write at
// any moment leaves the old file or the new one, never a mix of the two,
// and so that a file holding secrets is never readable by others, not
// even while it is written.
package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// tempSuffix ends the name of WriteFile's temporary files; they start
// with "." and the target's name, so they are hidden and tell what they
// were for.
const tempSuffix = ".tmp"

// testHookWrite, when set by a test, is called with the temporary file's
// path after its mode is set and before the data is written; an error
// fails WriteFile there.
var testHookWrite func(tmp string) error

// WriteFile replaces the file at path with data, with the permission bits
// perm (set as given, whatever the umask). It writes a temporary file in
// path's directory (".NAME.RANDOM.tmp"), sets its mode before it holds any
// data, writes and syncs it, renames it over path and syncs the directory,
// so that after a crash path holds the old content or the new one.
//
// When it fails before the rename, the temporary file is removed and the
// old file is untouched. A failure to sync the directory comes after the
// rename: the new content is in place but may not survive a crash. On
// Windows, which has no Unix modes and cannot sync a directory, those two
// steps are tried and their failures ignored.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// writeTemp writes data to a new temporary file in dir for the file name,
// with mode perm, synced and closed, and returns its path. On failure the
// file is removed.
func writeTemp(dir, name string, data []byte, perm os.FileMode) (tmp string, err error) {
	f, err := os.CreateTemp(dir, "."+name+".*"+tempSuffix)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close() // may be closed already; the first error is the one to report
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return "", err
	}
	if testHookWrite != nil {
		if err := testHookWrite(f.Name()); err != nil {
			return "", err
		}
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err == nil {
		err = d.Sync()
		if cerr := d.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil && runtime.GOOS != "windows" {
		return err
	}
	return nil
}

// RemoveTemps removes the temporary files that WriteFile(path, ...) left
// behind when the process died before the rename. Call it when no
// WriteFile of path can be running, such as at start: it would remove the
// temporary file of one under way and make it fail. It removes only names
// that WriteFile makes for path, and returns the first error.
func RemoveTemps(path string) error {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+"."
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var first error
	for _, e := range entries {
		if !isTemp(e.Name(), prefix) || e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// isTemp reports whether name is a temporary file of os.CreateTemp with
// the pattern prefix+"*"+tempSuffix: the random part is decimal digits.
func isTemp(name, prefix string) bool {
	mid, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, tempSuffix)
	return ok && mid != "" && strings.Trim(mid, "0123456789") == ""
}
