package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/manifest"
)

// exportOptions are the options of dsmctl export.
type exportOptions struct {
	conn   connOptions
	Output string
}

func newExportCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the NAS's users, groups and password policies as a users file",
		Long: `Write every local user (all fields, no password), group, the password
policy and expiry settings and the security section (2-step enforcement,
auto-block, account protection, the allow list) in the format of
"dsmctl plan" and "dsmctl apply": planning the output against the same
NAS shows no changes.`,
		Example: `  dsmctl export > users.yaml
  dsmctl export -o json > users.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Output != manifest.FormatYAML && o.Output != manifest.FormatJSON {
				return usagef("-o %s: use yaml or json", o.Output)
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runExport(cmd.Context(), o, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	cmd.Flags().StringVarP(&o.Output, "output", "o", manifest.FormatYAML, "output format: yaml or json")
	return cmd
}

func runExport(ctx context.Context, o *exportOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		f, err := manifest.Export(ctx, c)
		if err != nil {
			return err
		}
		return f.Write(s.Out, o.Output)
	})
}
