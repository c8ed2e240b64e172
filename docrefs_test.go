package dsm

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unshippedDoc matches a reference to the protocol notes this code was
// first written from, which are not in the repository: "PROTOCOL 3.1",
// "PROTOCOL §5", "PROTOCOL.md", "ADMIN-APIS". A comment says what DSM
// does and cites the public source instead (a repository and path, an
// issue number, Synology's documentation).
var unshippedDoc = regexp.MustCompile(`PROTOCOL(\.md|\s*§\s*\d|\s+\d)|ADMIN-APIS`)

// TestNoUnshippedDocReferences fails when a Go file or a Markdown file of
// the module refers to a document a reader of the repository cannot open.
func TestNoUnshippedDocReferences(t *testing.T) {
	t.Parallel()
	const self = "docrefs_test.go" // names the patterns it looks for
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git and the like
			}
			return nil
		}
		if path == self || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			if m := unshippedDoc.FindString(line); m != "" {
				t.Errorf("%s:%d refers to %q, a document that is not in the repository: say what DSM does and cite the public source", path, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked only %d files: the walk did not start at the module root", checked)
	}
}
