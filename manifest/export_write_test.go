package manifest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm/dsmtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// awkwardUsers are users whose descriptions and emails the YAML encoder
// has to quote, fold or escape.
func awkwardUsers() []dsmtest.Option {
	var opts []dsmtest.Option
	for i, d := range []string{
		"yes", "null", "~", "0755", "1e3", "- dash", "key: value", "# hash", "trailing space ", " leading space",
		"'single' and \"double\"", "tab\there", "ünïcödé ✓", "a long description that goes on well past eighty columns, the width at which an encoder might fold a line",
		"@at", "*star", "&amp", "!bang", "%percent", "[bracket]", "{brace}", ">", "|", "",
	} {
		opts = append(opts, dsmtest.WithUser(dsmtest.User{Name: "awk" + string(rune('a'+i)), Password: "Awkward-pw-1",
			Description: d, Email: "", Groups: []string{"staff"}}))
	}
	return opts
}

// TestExportGolden holds the bytes of an export of a seeded simulator
// (shared folders, rights, quotas, rules, limits, awkward strings) to
// testdata/export.yaml and testdata/export.json. The files were written by
// the export that built the node tree of the whole file before encoding
// it; the export that writes the users one by one must give the same
// bytes.
func TestExportGolden(t *testing.T) {
	t.Parallel()
	srv := startOnboardNAS(t, awkwardUsers()...)
	c := srv.Client()
	seedProfiles(t, c)
	f, err := Export(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{FormatYAML, FormatJSON} {
		var b bytes.Buffer
		if err := f.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "export."+format)
		if *update {
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), b.String()); diff != "" {
			t.Errorf("%s export differs from %s (-want +got):\n%s", format, golden, diff)
		}
	}
}
