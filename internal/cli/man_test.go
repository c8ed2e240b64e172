package cli

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// manPages returns the man page file names dsmctl must write: one per
// command a user can run or that has such subcommands, hidden ones left
// out.
func manPages(t *testing.T) map[string]*cobra.Command {
	t.Helper()
	root := newRootCmd(&IOStreams{}, func(string) string { return "" }, new(bool))
	pages := map[string]*cobra.Command{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		pages[strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = c
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				walk(sub)
			}
		}
	}
	walk(root)
	return pages
}

// TestManPages: dsmctl man DIR writes a page per command, each with its
// NAME and SYNOPSIS, dated by the fixed date (or SOURCE_DATE_EPOCH), so
// that two runs write the same bytes.
func TestManPages(t *testing.T) {
	t.Parallel()
	pages := manPages(t)
	for _, want := range []string{"dsmctl.1", "dsmctl-user-create.1", "dsmctl-completion.1"} {
		if pages[want] == nil {
			t.Fatalf("no command for the page %s", want)
		}
	}
	for name := range pages {
		if strings.Contains(name, "-man.") || strings.Contains(name, cobra.ShellCompRequestCmd) {
			t.Errorf("the hidden command of %s gets a page", name)
		}
	}

	write := func(e *cliEnv) (string, map[string][]byte) {
		dir := filepath.Join(t.TempDir(), "man", "man1") // created by dsmctl
		r := e.mustRun(t, "man", dir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, ent := range entries {
			b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[ent.Name()] = b
		}
		return r.stdout, files
	}
	e := newEnv(t, nil)
	out, files := write(e)
	if want := "wrote " + strconv.Itoa(len(pages)) + " man pages to "; !strings.HasPrefix(out, want) {
		t.Errorf("dsmctl man said %q, want %q...", out, want)
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	var want []string
	for name := range pages {
		want = append(want, name)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("dsmctl man wrote %q, want %q", names, want)
	}
	th := `"` + manDefaultDate.Format("Jan 2006") + `"`
	for name, b := range files {
		c := pages[name]
		if c == nil {
			continue
		}
		page := string(b)
		title := strings.ToUpper(strings.TrimSuffix(name, ".1"))
		for _, want := range []string{
			`.TH "` + title + `" "1" ` + th + ` `,
			".SH NAME\n" + strings.ReplaceAll(c.CommandPath(), " ", "-") + " - ",
			".SH SYNOPSIS\n",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s has no %q:\n%.400s", name, want, page)
			}
		}
		if strings.Contains(page, "Auto generated") {
			t.Errorf("%s has cobra's dated history line", name)
		}
	}

	// Another run writes the same bytes; SOURCE_DATE_EPOCH sets the date.
	if _, again := write(e); !maps.EqualFunc(files, again, bytes.Equal) {
		t.Error("two runs of dsmctl man wrote different pages")
	}
	_, dated := write(e.with("SOURCE_DATE_EPOCH", "1710504000")) // 2024-03-15
	if page := dated["dsmctl.1"]; !bytes.Contains(page, []byte(`.TH "DSMCTL" "1" "Mar 2024" `)) {
		t.Errorf("with SOURCE_DATE_EPOCH=1710504000, dsmctl.1 begins:\n%.200s", page)
	}
	r := e.with("SOURCE_DATE_EPOCH", "yesterday").run(t, "man", t.TempDir())
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "SOURCE_DATE_EPOCH") {
		t.Errorf("a bad SOURCE_DATE_EPOCH: stderr %q does not name it", r.stderr)
	}
}

// TestManDate: the build's commit time dates the pages when
// SOURCE_DATE_EPOCH is unset, and the fixed date when there is none.
func TestManDate(t *testing.T) {
	t.Parallel()
	noEnv := func(string) string { return "" }
	withTime := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Path: modulePath}, Settings: []debug.BuildSetting{{Key: "vcs.time", Value: "2025-07-04T10:00:00Z"}}}, true
	}
	got, err := manDate(noEnv, withTime)
	if want := time.Date(2025, time.July, 4, 10, 0, 0, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("manDate with vcs.time = %v, %v; want %v", got, err, want)
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	if got, err := manDate(noEnv, none); err != nil || !got.Equal(manDefaultDate) {
		t.Errorf("manDate without build information = %v, %v; want %v", got, err, manDefaultDate)
	}
	epoch := func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "0"
		}
		return ""
	}
	if got, err := manDate(epoch, withTime); err != nil || !got.Equal(time.Unix(0, 0)) {
		t.Errorf("manDate with SOURCE_DATE_EPOCH=0 = %v, %v; want 1970-01-01", got, err)
	}
	bad := func(string) string { return "-5" }
	var ue *usageError
	if _, err := manDate(bad, withTime); !errors.As(err, &ue) {
		t.Errorf("manDate with SOURCE_DATE_EPOCH=-5: %v, want a usage error", err)
	}
}
