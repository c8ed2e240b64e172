package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/audit"
)

// ExitFindings is the exit code of dsmctl audit when a finding is at or
// above --fail-on: 5, the first free code of the table (2 is plan's
// pending changes, which CI reads in its own way).
const ExitFindings = 5

// auditFormatVersion is the version of "dsmctl audit -o json". A change
// that removes or retypes a key raises it; new keys may be added without.
const auditFormatVersion = 1

// formatMarkdown is audit's -o markdown, a report.
const formatMarkdown = "markdown"

type auditOptions struct {
	conn       connOptions
	Output     string
	FailOn     string
	Ignore     []string
	IgnoreFile string
}

// auditDoc is "dsmctl audit -o json": every list present ([] when
// empty), findings in Check's order.
type auditDoc struct {
	FormatVersion int             `json:"format_version"`
	Date          string          `json:"date"`
	Counts        auditCounts     `json:"counts"`
	Ignored       int             `json:"ignored"`
	Findings      []audit.Finding `json:"findings"`
}

type auditCounts struct {
	High   int `json:"high"`
	Medium int `json:"medium"`
	Low    int `json:"low"`
}

func newAuditCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Report the risks of the NAS's accounts, each with the command that fixes it",
		Long: fmt.Sprintf(`Read the NAS's accounts and sign-in settings and report their risks; it
changes nothing. Each finding has a severity, the accounts it concerns,
why it matters and the dsmctl command that fixes it.

The checks: %s.

The password baseline is NIST SP 800-63B-4 section 3.1.1.2: a minimum
length of %d (%d when 2-step is enforced for all) and common passwords
refused. DSM keeps no date of joining a group: many-admins lists the
members of administrators newest account (highest uid) first.

--fail-on low|medium|high exits %d when a finding is at or above that
severity, for CI. --ignore CHECK or CHECK:ACCOUNT accepts a risk (it can
be repeated); --ignore-file reads one entry per line (# starts a comment).`,
			wrapWords(strings.Join(audit.Checks, ", "), 72-len("The checks: ")), audit.BaselineSingleFactorLength, audit.BaselineMultiFactorLength, ExitFindings),
		Example: `  dsmctl audit
  dsmctl audit -o markdown > audit.md
  dsmctl audit -o json --fail-on high --ignore guest-enabled --ignore password-never-expires:backup`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch o.Output {
			case formatText, formatJSON, formatMarkdown:
			default:
				return usagef("-o %s: use text, json or markdown", o.Output)
			}
			var failOn audit.Severity
			if o.FailOn != "" {
				var err error
				if failOn, err = audit.ParseSeverity(o.FailOn); err != nil {
					return usagef("--fail-on: %v", err)
				}
			}
			ig := audit.Ignore{}
			for _, e := range o.Ignore {
				if err := ig.Add(e); err != nil {
					return usagef("--ignore: %v", err)
				}
			}
			if o.IgnoreFile != "" {
				if err := readIgnoreFile(o.IgnoreFile, ig); err != nil {
					return err
				}
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runAudit(cmd.Context(), o, s, ig, failOn)
		},
	}
	addConnFlags(cmd, &o.conn)
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", formatText, "output format: text, json or markdown")
	f.StringVar(&o.FailOn, "fail-on", "", fmt.Sprintf("exit %d when a finding is at or above this severity: low, medium or high", ExitFindings))
	f.StringArrayVar(&o.Ignore, "ignore", nil, "accept a risk: CHECK or CHECK:ACCOUNT (repeatable)")
	f.StringVar(&o.IgnoreFile, "ignore-file", "", "read --ignore entries from this file, one per line (# comments)")
	return cmd
}

// wrapWords breaks text into lines of at most width columns (the first
// line first columns), at spaces.
func wrapWords(text string, first int) string {
	var b strings.Builder
	n, limit := 0, first
	for i, w := range strings.Fields(text) {
		if i > 0 {
			if n+1+len(w) > limit {
				b.WriteString("\n")
				n, limit = 0, 72
			} else {
				b.WriteString(" ")
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// readIgnoreFile adds the entries of path to ig.
func readIgnoreFile(path string, ig audit.Ignore) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--ignore-file: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := ig.Add(line); err != nil {
			return usagef("--ignore-file %s:%d: %v", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("--ignore-file %s: %w", path, err)
	}
	return nil
}

func runAudit(ctx context.Context, o *auditOptions, s *IOStreams, ig audit.Ignore, failOn audit.Severity) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		snap, err := audit.Read(ctx, c)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		findings, ignored := ig.Filter(audit.Check(snap))
		doc := auditDoc{FormatVersion: auditFormatVersion, Date: snap.Today.String(), Ignored: ignored, Findings: findings}
		worst := 0
		for _, f := range findings {
			switch f.Severity {
			case audit.High:
				doc.Counts.High++
			case audit.Medium:
				doc.Counts.Medium++
			case audit.Low:
				doc.Counts.Low++
			}
			worst = max(worst, f.Severity.Rank())
		}
		switch o.Output {
		case formatJSON:
			err = writeJSON(s.Out, doc)
		case formatMarkdown:
			err = writeAuditMarkdown(s.Out, doc)
		default:
			err = writeAuditTable(s.Out, doc)
		}
		if err != nil {
			return err
		}
		if failOn != "" && worst >= failOn.Rank() {
			return &exitStatus{code: ExitFindings, msg: fmt.Sprintf("audit: findings at or above %s", failOn)}
		}
		return nil
	})
}

func auditSummary(d auditDoc) string {
	msg := fmt.Sprintf("%d findings: %d high, %d medium, %d low", len(d.Findings), d.Counts.High, d.Counts.Medium, d.Counts.Low)
	if len(d.Findings) == 0 {
		msg = "no findings"
	}
	if d.Ignored > 0 {
		msg += fmt.Sprintf("; %d ignored", d.Ignored)
	}
	return msg
}

// writeAuditTable writes the findings as a table, numbered, and under it
// the fix of each by its number: a fix is never cut to fit a terminal,
// as a table's cells may be.
func writeAuditTable(w io.Writer, d auditDoc) error {
	if len(d.Findings) > 0 {
		rows := [][]string{{"#", "SEVERITY", "CHECK", "ACCOUNTS", "FINDING"}}
		for i, f := range d.Findings {
			rows = append(rows, []string{fmt.Sprint(i + 1), string(f.Severity), f.Check, strings.Join(f.Accounts, ","), f.Summary})
		}
		if err := writeTable(w, rows, outputWidth(w)); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nFixes:")
		for i, f := range d.Findings {
			fmt.Fprintf(w, "%3d  %s\n", i+1, f.Fix)
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, auditSummary(d)+` ("dsmctl audit -o markdown" says why each matters)`)
	return err
}

// mdEscape keeps a value inside one Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

func writeAuditMarkdown(w io.Writer, d auditDoc) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "# Account security audit, %s\n\n%s.\n", d.Date, auditSummary(d))
	if len(d.Findings) > 0 {
		b.WriteString("\n| Severity | Check | Accounts | Finding | Why it matters | Fix |\n|---|---|---|---|---|---|\n")
		for _, f := range d.Findings {
			fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | `%s` |\n", f.Severity, f.Check, mdEscape(strings.Join(f.Accounts, ", ")),
				mdEscape(f.Summary), mdEscape(f.Why), mdEscape(f.Fix))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
