package cli

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm/manifest"
)

// Formats of user import.
const (
	importCSV = "csv"
	importDSM = "dsm"
)

func newUserImportCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &applyOptions{}
	var format string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Create or update users from a CSV file or DSM's user list",
		Long: `Import users through the same engine as "dsmctl apply": the whole file is
checked first (every problem listed with its line, nothing changed), the
plan is shown and confirmed, then the users are created or updated with
progress and a summary.

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
  dsmctl user import users.txt --format dsm --yes --parallel 8`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
	return cmd
}
