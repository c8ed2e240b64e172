package cli

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// modulePath is the module dsmctl is built from.
const modulePath = "github.com/dsmkit/dsm"

// buildInfo is what dsmctl knows of its own build.
type buildInfo struct {
	// Version is the module version ("v1.2.3"), or "(devel)" for a build
	// from a checkout.
	Version string
	// Commit and Time are the VCS revision and its time, when the build
	// recorded them; Modified says the tree had uncommitted changes.
	Commit   string
	Time     string
	Modified bool
	// Go is the Go version dsmctl was built with.
	Go string
}

// readBuild reads the build information the Go linker embedded.
func readBuild(read func() (*debug.BuildInfo, bool)) buildInfo {
	bi, ok := read()
	if !ok {
		return buildInfo{Version: "(unknown)", Go: "(unknown)"}
	}
	out := buildInfo{Version: bi.Main.Version, Go: bi.GoVersion}
	if bi.Main.Path != modulePath {
		// Built as a dependency of another main module.
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				out.Version = d.Version
			}
		}
	}
	if out.Version == "" {
		out.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			out.Commit = s.Value
		case "vcs.time":
			out.Time = s.Value
		case "vcs.modified":
			out.Modified = s.Value == "true"
		}
	}
	return out
}

// String is the one line of "dsmctl version".
func (b buildInfo) String() string {
	var parts []string
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += "+modified"
		}
		parts = append(parts, "commit "+c)
	}
	if b.Time != "" {
		parts = append(parts, b.Time)
	}
	parts = append(parts, b.Go)
	return fmt.Sprintf("dsmctl %s (%s)", b.Version, strings.Join(parts, ", "))
}

// userAgent is the User-Agent of dsmctl's requests: its name and version.
func userAgent() string {
	return "dsmctl/" + readBuild(debug.ReadBuildInfo).Version
}

func newVersionCmd(s *IOStreams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show the version of dsmctl",
		Long: `Show the version of dsmctl: the module version (or "(devel)" for a build
from a checkout), the commit and its time when the build recorded them,
and the Go version. "dsmctl --version" prints the same line.`,
		Example: `  dsmctl version
  dsmctl version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(s.Out, output, readBuild(debug.ReadBuildInfo))
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func runVersion(w io.Writer, output string, b buildInfo) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	if output == formatText {
		_, err := fmt.Fprintln(w, b)
		return err
	}
	return printRecord(w, output, record{
		{"version", b.Version}, {"commit", b.Commit}, {"commit_time", b.Time}, {"modified", b.Modified}, {"go", b.Go},
	})
}
