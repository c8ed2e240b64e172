package cli

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want buildInfo
		line string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T09:00:00Z"}}}, true,
			buildInfo{Version: "v1.2.3", Commit: "0123456789abcdef0123", Time: "2026-12-01T09:00:00Z", Go: "go1.26.8"},
			"dsmctl v1.2.3 (commit 0123456789ab, 2026-12-01T09:00:00Z, go1.26.8)"},
		{"checkout with changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: modulePath, Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}}, true,
			buildInfo{Version: "(devel)", Commit: "abc", Modified: true, Go: "go1.26.8"},
			"dsmctl (devel) (commit abc+modified, go1.26.8)"},
		{"dependency of another module", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/tool"},
			Deps: []*debug.Module{{Path: "golang.org/x/term", Version: "v0.48.0"}, {Path: modulePath, Version: "v0.9.0"}}}, true,
			buildInfo{Version: "v0.9.0", Go: "go1.26.8"}, "dsmctl v0.9.0 (go1.26.8)"},
		{"no build information", nil, false, buildInfo{Version: "(unknown)", Go: "(unknown)"}, "dsmctl (unknown) ((unknown))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := readBuild(func() (*debug.BuildInfo, bool) { return tt.bi, tt.ok })
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("build info (-want +got):\n%s", d)
			}
			if got.String() != tt.line {
				t.Errorf("line %q, want %q", got.String(), tt.line)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	b := buildInfo{Version: "v1.2.3", Commit: "abc", Go: "go1.26.8"}
	var out bytes.Buffer
	if err := runVersion(&out, formatJSON, b); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"version": "v1.2.3", "commit": "abc", "commit_time": "", "modified": false, "go": "go1.26.8"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("version -o json (-want +got):\n%s", d)
	}
	if err := runVersion(&out, "xml", b); exitCode(err) != ExitUsage {
		t.Errorf("-o xml: %v, want a usage error", err)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var o, e bytes.Buffer
		if code := Run(t.Context(), args, &IOStreams{In: &bytes.Buffer{}, Out: &o, ErrOut: &e}, func(string) string { return "" }); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, e.String())
		}
		if want := readBuild(debug.ReadBuildInfo).String() + "\n"; o.String() != want {
			t.Errorf("%v printed %q, want %q", args, o.String(), want)
		}
	}
}

func TestUserAgentNamesTheVersion(t *testing.T) {
	t.Parallel()
	if want := "dsmctl/" + readBuild(debug.ReadBuildInfo).Version; userAgent() != want {
		t.Errorf("User-Agent %q, want %q", userAgent(), want)
	}
}
