package cli

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manDefaultDate is the date of the man pages when neither
// SOURCE_DATE_EPOCH nor the build's commit time gives one: fixed, so that
// the pages of one source are the same bytes at every run.
var manDefaultDate = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// A hidden command of dsmctl itself rather than a generator in the
// source tree: the pages describe exactly the dsmctl installed, and
// whoever installed it with go install, from a release or a package
// makes them without the source. They are not kept in the repository,
// so none can go stale there.
func newManCmd(s *IOStreams, getenv func(string) string) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write the man pages of dsmctl to DIR",
		Long: `Write one man page (section 1) per dsmctl command to DIR, created when
missing: dsmctl.1, dsmctl-user.1, dsmctl-user-list.1, ... Their text is
the commands' --help. Their date is $SOURCE_DATE_EPOCH when set (as
reproducible builds set it), else the time of the commit dsmctl was built
from, else a fixed date: the same dsmctl writes the same bytes.`,
		Example: `  dsmctl man ~/.local/share/man/man1 && man dsmctl-user-create`,
		Hidden:  true,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			date, err := manDate(getenv, debug.ReadBuildInfo)
			if err != nil {
				return err
			}
			n, err := writeManPages(cmd.Root(), args[0], date)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "wrote %d man pages to %s\n", n, args[0])
			return nil
		},
	}
}

// manDate is the date of the man pages: SOURCE_DATE_EPOCH (seconds since
// 1970, https://reproducible-builds.org/specs/source-date-epoch/), else
// the build's commit time, else manDefaultDate.
func manDate(getenv func(string) string, read func() (*debug.BuildInfo, bool)) (time.Time, error) {
	if v := getenv("SOURCE_DATE_EPOCH"); v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil || sec < 0 {
			return time.Time{}, usagef("SOURCE_DATE_EPOCH=%q: want a number of seconds since 1970-01-01 UTC, or unset it", v)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	if b := readBuild(read); b.Time != "" {
		if t, err := time.Parse(time.RFC3339, b.Time); err == nil {
			return t.UTC(), nil
		}
	}
	return manDefaultDate, nil
}

// writeManPages writes a man page per available command of root to dir,
// dated date, and returns how many.
func writeManPages(root *cobra.Command, dir string, date time.Time) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("creating the man page directory: %w", err)
	}
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		// No "Auto generated" history line: its date would be the only
		// one in the page, and the header has it.
		c.DisableAutoGenTag = true
		if c.IsAvailableCommand() || c == root {
			n++
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				walk(sub)
			}
		}
	}
	walk(root)
	header := &doc.GenManHeader{
		Section: "1",
		Date:    &date,
		Source:  "dsmctl " + readBuild(debug.ReadBuildInfo).Version,
		Manual:  "dsmctl manual",
	}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return 0, fmt.Errorf("writing the man pages: %w", err)
	}
	return n, nil
}
