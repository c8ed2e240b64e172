package manifest

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
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

// writeWhole is the export's writer before it wrote item by item: the
// node tree of the whole file, encoded at once. It is the reference the
// item-by-item writer is held to, and the "before" of
// BenchmarkExportWrite.
func writeWhole(f *File, w io.Writer, format string) error {
	root := f.headNode()
	groups := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for i := range f.Groups {
		groups.Content = append(groups.Content, groupNode(&f.Groups[i]))
	}
	users := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for i := range f.Users {
		users.Content = append(users.Content, userNode(&f.Users[i]))
	}
	root.Content = append(root.Content, strNode("groups"), groups, strNode("users"), users)
	switch format {
	case FormatYAML:
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(root); err != nil {
			return err
		}
		return enc.Close()
	case FormatJSON:
		bw := bufio.NewWriter(w)
		writeJSON(bw, root, "")
		bw.WriteString("\n")
		return bw.Flush()
	}
	return fmt.Errorf("unknown format %q", format)
}

// TestWriteItemByItemIsWholeTree holds Write to the bytes of the whole
// node tree encoded at once, for files of every shape: empty, without
// groups or users, with one, with password sources, secrets and
// never_expire, and an export with profiles and awkward strings.
func TestWriteItemByItemIsWholeTree(t *testing.T) {
	t.Parallel()
	srv := startOnboardNAS(t, awkwardUsers()...)
	c := srv.Client()
	seedProfiles(t, c)
	exported, err := Export(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*File{
		"empty":    {},
		"export":   exported,
		"no users": {Groups: exported.Groups},
		"no groups": mustParse(t, `secrets_file: secrets.env
password_expiry:
  never_expire: [carol]
users:
  - {name: carol, password: {from_env: CAROL_PW}, groups: []}
  - {name: dave, password: {from_file: dave.pw}}
  - {name: erin, password: {generate: true}, email: erin@example.com}
`),
		"one user and one group": mustParse(t, "groups:\n  - name: staff\nusers:\n  - name: carol\n"),
	}
	// Load refuses control characters; Write writes what it is given.
	files["no groups"].Users[1].Description = dsm.Ptr("two\nlines\n  indented")
	for name, f := range files {
		for _, format := range []string{FormatYAML, FormatJSON} {
			var want, got bytes.Buffer
			if err := writeWhole(f, &want, format); err != nil {
				t.Fatal(err)
			}
			if err := f.Write(&got, format); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("%s, %s: Write differs from the whole tree encoded at once (-want +got):\n%s", name, format, diff)
			}
			for _, batch := range []int{1, 2, 3} { // lists of more items than a batch, and of a part of one
				got.Reset()
				if err := f.write(&got, format, batch); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want.String(), got.String()); diff != "" {
					t.Errorf("%s, %s, %d items to an encoder: Write differs from the whole tree encoded at once (-want +got):\n%s", name, format, batch, diff)
				}
			}
		}
	}
}

// BenchmarkExportWrite writes the export of a simulator of 16,000 users
// (DSM 7's maximum; each with a description, an email and a group) to
// io.Discard, as the whole node tree encoded at once (the writer before)
// and a few items at a time (Write), and one item to a YAML encoder, side
// by side (JSON has no encoder: its batches-of-100 and
// one-item-an-encoder are the same writer, run twice), and reports the
// peak heap above the heap before the write (sampled every millisecond,
// the exported File held throughout) beside -benchmem's bytes allocated.
//
//	go test ./manifest -run '^$' -bench ExportWrite -benchmem -benchtime 5x
func BenchmarkExportWrite(b *testing.B) {
	opts := []dsmtest.Option{dsmtest.WithGroup(dsmtest.Group{Name: "staff", Description: "Everyone"})}
	for i := range 16_000 - 2 {
		opts = append(opts, dsmtest.WithUser(dsmtest.User{Name: fmt.Sprintf("user%05d", i), Password: "Seeded-pw-1",
			Description: fmt.Sprintf("User number %d", i), Email: fmt.Sprintf("user%05d@school.example", i), Groups: []string{"staff"}}))
	}
	srv, err := dsmtest.NewServer(opts...)
	if err != nil {
		b.Fatal(err)
	}
	f, err := Export(b.Context(), srv.Client())
	srv.Close()
	if err != nil {
		b.Fatal(err)
	}
	writers := []struct {
		name  string
		write func(io.Writer, string) error
	}{
		{"whole-tree", func(w io.Writer, format string) error { return writeWhole(f, w, format) }},
		{"batches-of-100", f.Write},
		{"one-item-an-encoder", func(w io.Writer, format string) error { return f.write(w, format, 1) }},
	}
	for _, format := range []string{FormatYAML, FormatJSON} {
		for _, wr := range writers {
			b.Run(format+"/"+wr.name, func(b *testing.B) {
				var peak uint64
				for b.Loop() {
					b.StopTimer()
					runtime.GC()
					base := heapObjects()
					var top atomic.Uint64
					stop, done := make(chan struct{}), make(chan struct{})
					go func() {
						defer close(done)
						t := time.NewTicker(time.Millisecond)
						defer t.Stop()
						for {
							if h := heapObjects(); h > top.Load() {
								top.Store(h)
							}
							select {
							case <-stop:
								return
							case <-t.C:
							}
						}
					}()
					b.StartTimer()
					if err := wr.write(io.Discard, format); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					close(stop)
					<-done
					if h := heapObjects(); h > top.Load() {
						top.Store(h)
					}
					peak = max(peak, top.Load()-min(base, top.Load()))
					b.StartTimer()
				}
				b.ReportMetric(float64(peak)/(1<<20), "MiB-peak")
			})
		}
	}
}

// heapObjects is the memory held by live and not yet collected heap
// objects.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
