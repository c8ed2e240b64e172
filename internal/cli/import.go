package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/manifest"
)

// Formats of user import.
const (
	importCSV = "csv"
	importDSM = "dsm"
)

func newUserImportCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &applyOptions{}
	n := &nativeImportOptions{}
	var format string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Create or update users from a CSV file or DSM's user list",
		Long: `Import users through the same engine as "dsmctl apply": the whole file is
checked first (every problem listed with its line, nothing changed), the
plan is shown and confirmed, then the users are created or updated with
progress and a summary.

With --native, DSM's own import does it instead, as Control Panel >
User > Create > Import Users does: the file (DSM's user list, tab,
comma or semicolon between fields) is uploaded, DSM's preview is shown
with its verdict on each row, and after confirmation DSM imports the rows
in one background task, waited on with its progress. The differences:
DSM checks the file by its own rules (the preview's statuses are DSM's),
sets the quotas of the file's quota columns (volumes whose quotas are
per shared folder, such as Btrfs ones, refuse them), creates the groups
the file names, can send the welcome mail (--new-user-mail,
--send-password) and make each user change the password at the first
login (--password-must-change), and takes one call for the whole list.
But it does not plan: it creates users and, with --overwrite, replaces
existing ones (a row of an existing user is refused without it); it sets
the password of each row as written (no generated passwords), and it
imports nothing while any row is refused. The default import shows a
plan of every change, leaves existing passwords alone unless
--set-passwords, and can be interrupted and run again.

Formats (--format, default from the extension: .csv is csv, anything else
dsm):
  csv  a header row naming the columns among name, password, description,
       email, groups (name is required; several groups in one quoted
       cell, separated by commas)
  dsm  DSM's own user list (Control Panel > User > Create > Import Users):
       one user a line, fields separated by tabs: name, password,
       description, email, groups, then quotas in MB per volume, which
       are ignored (a fifth field of digits alone is a quota: older DSM
       lists had no groups field)

An empty field leaves that field of an existing user alone; the groups of
a user, when given, are all its groups (besides users), and each must
exist. An existing user's password is only set with --set-passwords. A new
user with an empty password gets a generated one, written to
--passwords-file (its format: see "dsmctl apply --help") or in the JSON
of -o json.`,
		Example: `  dsmctl user import staff.csv --passwords-file first-passwords.tsv
  dsmctl user import users.txt --format dsm --yes --parallel 8
  dsmctl user import users.txt --native --password-must-change`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n.Native {
				if err := n.check(cmd); err != nil {
					return err
				}
				n.conn, n.Output, n.Yes, n.File = o.conn, o.Output, o.Yes, args[0]
				if n.Output != formatText && n.Output != formatJSON {
					return usagef("-o %s: use text or json", n.Output)
				}
				if err := n.conn.complete(getenv, g); err != nil {
					return err
				}
				return runNativeImport(cmd.Context(), n, s)
			}
			if err := n.checkNotNative(cmd); err != nil {
				return err
			}
			if format == "" {
				format = importDSM
				if strings.EqualFold(filepath.Ext(args[0]), ".csv") {
					format = importCSV
				}
			}
			if format != importCSV && format != importDSM {
				return usagef("--format %s: use csv or dsm", format)
			}
			o.File = args[0]
			if err := o.complete(getenv, g); err != nil {
				return err
			}
			if err := o.check(); err != nil {
				return err
			}
			in, err := os.Open(o.File)
			if err != nil {
				return err
			}
			defer in.Close()
			var f *manifest.File
			if format == importCSV {
				f, err = manifest.LoadCSV(o.File, in)
			} else {
				f, err = manifest.LoadUserList(o.File, in)
			}
			if err != nil {
				return err
			}
			return runApply(cmd.Context(), o, f, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "csv or dsm (default: csv for a .csv file, else dsm)")
	f.BoolVar(&o.SetPasswords, "set-passwords", false, "set the passwords of existing users too")
	f.StringVarP(&o.Output, "output", "o", formatText, "output format: text or json")
	addApplyFlags(cmd, o)
	addNativeImportFlags(cmd, n)
	return cmd
}

// nativeImportOptions are the options of user import --native: DSM's own
// import (SYNO.Core.User parse_user_list, import, import_status,
// import_stop).
type nativeImportOptions struct {
	conn   connOptions
	Output string
	Yes    bool
	File   string
	Native bool
	dsm.ImportOptions
}

// nativeOnly are the flags of DSM's import, and clientOnly those of the
// client-side import, each refused with the other.
var (
	nativeOnly = []string{"overwrite", "new-user-mail", "send-password", "password-must-change"}
	clientOnly = []string{"format", "set-passwords", "passwords-file", "parallel"}
)

func addNativeImportFlags(cmd *cobra.Command, n *nativeImportOptions) {
	f := cmd.Flags()
	f.BoolVar(&n.Native, "native", false, "use DSM's own import: DSM's preview, then one DSM task (see above)")
	f.BoolVar(&n.Overwrite, "overwrite", false, "with --native: replace existing users of the file's names")
	f.BoolVar(&n.NewUserMail, "new-user-mail", false, "with --native: DSM mails each new user")
	f.BoolVar(&n.SendPassword, "send-password", false, "with --native: the mail holds the password")
	f.BoolVar(&n.PasswordMustChange, "password-must-change", false, "with --native: each user changes the password at the first login")
}

func (n *nativeImportOptions) check(cmd *cobra.Command) error {
	for _, name := range clientOnly {
		if cmd.Flags().Changed(name) {
			return usagef("--%s is for the default import, not --native", name)
		}
	}
	return nil
}

func (n *nativeImportOptions) checkNotNative(cmd *cobra.Command) error {
	for _, name := range nativeOnly {
		if cmd.Flags().Changed(name) {
			return usagef("--%s needs --native (DSM's own import)", name)
		}
	}
	return nil
}

// nativeImportJSON is the JSON of user import --native -o json.
type nativeImportJSON struct {
	Rows     []nativeImportRow `json:"rows"`
	TaskID   string            `json:"task_id,omitempty"`
	Imported int               `json:"imported"`
}

type nativeImportRow struct {
	Row     int      `json:"row"`
	Name    string   `json:"name"`
	Groups  []string `json:"groups,omitempty"`
	Quota   string   `json:"quota,omitempty"`
	Status  int      `json:"status"`
	Message string   `json:"message"`
}

func runNativeImport(ctx context.Context, n *nativeImportOptions, s *IOStreams) error {
	content, err := readImportFile(n.File)
	if err != nil {
		return err
	}
	return withClient(ctx, &n.conn, s, func(c *dsm.Client) error {
		p, err := c.Users.PreviewImport(ctx, filepath.Base(n.File), content, n.ImportOptions)
		if err != nil {
			return explainImportError(err, n.File, content)
		}
		out := nativeImportJSON{Rows: []nativeImportRow{}}
		table := [][]string{{"ROW", "NAME", "GROUPS", "QUOTA", "STATUS"}}
		for i, r := range p.Rows {
			out.Rows = append(out.Rows, nativeImportRow{Row: i + 1, Name: r.Name, Groups: r.Groups, Quota: r.Quota, Status: int(r.Status), Message: r.Status.String()})
			table = append(table, []string{strconv.Itoa(i + 1), r.Name, textCell(r.Groups), textCell(r.Quota), r.Status.String()})
		}
		jsonOut := n.Output == formatJSON
		if !jsonOut && (!s.quiet || !n.Yes) {
			if err := writeTable(s.Out, table, outputWidth(s.Out)); err != nil {
				return err
			}
		}
		if refused := p.Refused(); len(refused) > 0 {
			if jsonOut {
				if err := writeJSON(s.Out, out); err != nil {
					return err
				}
			}
			return fmt.Errorf("DSM refuses %d of %d rows, and imports none while one is refused: fix them in %s and run again (nothing changed)", len(refused), len(p.Rows), n.File)
		}
		if !n.Yes {
			if s.ReadLine == nil {
				return usagef("standard input is not a terminal: pass --yes to import")
			}
			answer, err := s.ReadLine(fmt.Sprintf("Import %d users into %s? [y/N] ", len(p.Rows), c.BaseURL()))
			if err != nil {
				return fmt.Errorf("reading the answer: %w", err)
			}
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				return declined("nothing changed")
			}
		}
		task, err := c.Users.Import(ctx, p)
		if err != nil {
			return err
		}
		out.TaskID = task.ID
		drawn := false
		_, err = task.WaitProgress(ctx, func(st dsm.ImportStatus) {
			if s.ErrTerminal && st.Total > 0 {
				drawn = true
				fmt.Fprintf(s.ErrOut, "\rDSM is importing: %d/%d", st.Progress, st.Total)
			}
		})
		if drawn {
			fmt.Fprintln(s.ErrOut)
		}
		if err != nil {
			return fmt.Errorf("import task %s: %w (the rows before the failure may be imported: see dsmctl user list)", task.ID, err)
		}
		out.Imported = len(p.Rows)
		if jsonOut {
			return writeJSON(s.Out, out)
		}
		if !s.quiet {
			fmt.Fprintf(s.Out, "imported %d users (DSM task %s)\n", len(p.Rows), task.ID)
		}
		return nil
	})
}

// readImportFile reads the user list, "-" for standard input, refusing
// one larger than DSM's import takes here.
func readImportFile(name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, dsm.MaxImportFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > dsm.MaxImportFileSize {
		return nil, usagef("%s is larger than %d bytes, more than DSM's import takes here: split it", name, dsm.MaxImportFileSize)
	}
	return b, nil
}

// explainImportError adds to DSM's refusal of the file's syntax the line
// of the field DSM names. The field itself is not shown: it may be a
// password.
func explainImportError(err error, name string, content []byte) error {
	var ae *dsm.APIError
	if !errors.As(err, &ae) {
		return err
	}
	field := ae.InvalidField()
	if field == "" {
		return err
	}
	for i, line := range strings.Split(string(content), "\n") {
		if strings.Contains(line, field) {
			return fmt.Errorf("%w: %s line %d (check its double quotes)", err, name, i+1)
		}
	}
	return err
}
