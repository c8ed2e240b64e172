package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

// sizeHelp says how sizes are written on the command line: dsm.ParseBytes
// reads them and dsm.Bytes.String writes them, so what dsmctl prints it
// also reads.
const sizeHelp = `Sizes are a whole number and a unit: B, KiB, MiB, GiB, TiB or PiB (KB, MB,
GB, TB, PB, K, M, G, T and P mean the same binary units, as DSM's own
quota fields do: 500MB is 500 x 1,048,576 bytes); "none" or 0 means no
limit. DSM keeps these quotas in MB, so a quota must be a whole number of
MiB.`

func newQuotaCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quota",
		Short: "Show and set the quotas of users and groups",
		Long: `Show and set the quotas of users and groups (SYNO.Core.Quota): on a volume,
or on a shared folder where the volume keeps quotas per shared folder
(Btrfs). ` + "\n\n" + sizeHelp,
		Example: `  dsmctl quota set --user alice public=20GiB /volume2=500MB
  dsmctl quota get --user alice`,
	}
	parentCmd(cmd)
	cmd.AddCommand(newQuotaGetCmd(s, getenv, g), newQuotaSetCmd(s, getenv, g))
	return cmd
}

// quotaOptions are the options of dsmctl quota get and set.
type quotaOptions struct {
	conn      connOptions
	Output    string
	Principal principalFlags
	Share     string
}

var quotaKeys = []string{"volume", "share", "limit", "bytes"}

// limitText is a quota as dsmctl prints it: "none" for no limit.
func limitText(b dsm.Bytes) string {
	if b == 0 {
		return "none"
	}
	return b.String()
}

// parseLimit reads a size of the command line ("none" is 0).
func parseLimit(s string) (dsm.Bytes, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return 0, nil
	}
	return dsm.ParseBytes(s)
}

func newQuotaGetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &quotaOptions{}
	cmd := &cobra.Command{
		Use:   "get (--user NAME | --group NAME | --share NAME)",
		Short: "Show the quotas of a user or a group, or the user quotas of a shared folder",
		Long: `Show the quotas of a user or a group (SYNO.Core.Quota get): one row per
volume, or per shared folder on volumes that keep quotas per shared folder.
With --share, show the users' quotas on that shared folder, in bytes as
SYNO.Core.Share.Quota reports them (a DSM that does not serve it answers
that it is not supported). Exit code 3 when there is no such user or group.`,
		Example: `  dsmctl quota get --user alice
  dsmctl quota get --group staff -o json
  dsmctl quota get --share public`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			if o.Share != "" && (o.Principal.given()) {
				return usagef("give --share alone, or --user or --group")
			}
			if o.Share == "" {
				if _, err := o.Principal.principal(); err != nil {
					return err
				}
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runQuotaGet(cmd.Context(), o, s)
		},
	}
	addPrincipalConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	addPrincipalFlags(cmd, &o.Principal, "quotas to show")
	cmd.Flags().StringVar(&o.Share, "share", "", "the shared folder whose user quotas to show")
	return cmd
}

func runQuotaGet(ctx context.Context, o *quotaOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		if o.Share != "" {
			qs, err := c.Quotas.ListShare(ctx, o.Share)
			if err != nil {
				return fmt.Errorf("shared folder %s: %w", o.Share, err)
			}
			records := make([]record, len(qs))
			for i, q := range qs {
				records[i] = record{{"user", q.User}, {"limit", limitText(q.Limit)}, {"bytes", int64(q.Limit)}, {"used", int64(q.Used)}}
			}
			return printList(s.Out, o.Output, []string{"user", "limit", "bytes", "used"}, records)
		}
		who, _ := o.Principal.principal()
		return printQuotas(ctx, c, who, o.Output, s)
	})
}

// printQuotas prints the quotas of who.
func printQuotas(ctx context.Context, c *dsm.Client, who dsm.Principal, format string, s *IOStreams) error {
	qs, err := c.Quotas.Get(ctx, who)
	if err != nil {
		return notFound(who, err)
	}
	records := make([]record, len(qs))
	for i, q := range qs {
		records[i] = record{{"volume", q.Volume}, {"share", q.Share}, {"limit", limitText(q.Limit)}, {"bytes", int64(q.Limit)}}
	}
	return printList(s.Out, format, quotaKeys, records)
}

// parseQuotaArg reads TARGET=SIZE: a target that starts with "/" is a
// volume, by its path as DSM names it (/volume1, as share create
// --volume and home enable --volume take it); share:NAME, or any other
// name, is a shared folder. A bare volume name (volume1) is refused with
// the library's message, the same as for those commands.
func parseQuotaArg(arg string) (dsm.Quota, error) {
	target, size, ok := strings.Cut(arg, "=")
	if !ok || target == "" {
		return dsm.Quota{}, usagef("%q: want TARGET=SIZE, such as /volume2=20GiB or public=500MiB", arg)
	}
	limit, err := parseLimit(size)
	if err != nil {
		return dsm.Quota{}, usagef("%s: %v", target, err)
	}
	share, named := strings.CutPrefix(target, "share:")
	if !named && (strings.HasPrefix(target, "/") || isVolumeName(target)) {
		if err := dsm.ValidateVolume(target); err != nil {
			return dsm.Quota{}, usagef("%s: %v (for a shared folder of that name, write share:%s)", arg, err, target)
		}
		return dsm.Quota{Volume: target, Limit: limit}, nil
	}
	if !named {
		share = target
	}
	if err := checkShareNames(share); err != nil {
		return dsm.Quota{}, usagef("%s: %v", arg, err)
	}
	return dsm.Quota{Share: share, Limit: limit}, nil
}

// isVolumeName says whether s looks like a volume's name rather than a
// shared folder's: volume and digits.
func isVolumeName(s string) bool {
	n, ok := strings.CutPrefix(s, "volume")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

func newQuotaSetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &quotaOptions{}
	var quotas []dsm.Quota
	cmd := &cobra.Command{
		Use:   "set (--user NAME | --group NAME) TARGET=SIZE...",
		Short: "Set quotas of a user or a group",
		Long: `Set quotas of a user or a group (SYNO.Core.Quota set); the quotas not named
keep theirs. A TARGET is a volume by its path, /volume2 (its quota, for
volumes that keep one per volume), as share create --volume takes it;
share:NAME, or any other name, is a shared folder. DSM refuses a quota
above the volume's free space (code 3117); a shared folder the NAS does
not have is exit code 3.

` + sizeHelp,
		Example: `  dsmctl quota set --user alice public=20GiB
  dsmctl quota set --group staff /volume2=500MB finance=none`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			who, err := o.Principal.principal()
			if err != nil {
				return err
			}
			quotas = quotas[:0]
			for _, a := range args {
				q, err := parseQuotaArg(a)
				if err != nil {
					return err
				}
				quotas = append(quotas, q)
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return withClient(cmd.Context(), &o.conn, s, func(c *dsm.Client) error {
				if err := c.Quotas.Set(cmd.Context(), who, quotas...); err != nil {
					var ae *dsm.ArgError
					if errors.As(err, &ae) {
						return err
					}
					return notFound(who, err)
				}
				if o.Output != formatText {
					return printQuotas(cmd.Context(), c, who, o.Output, s)
				}
				parts := make([]string, len(quotas))
				for i, q := range quotas {
					parts[i] = q.Volume + q.Share + " " + limitText(q.Limit)
				}
				fmt.Fprintf(s.Out, "set the quotas of %s: %s\n", who, strings.Join(parts, ", "))
				return nil
			})
		},
	}
	addPrincipalConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	addPrincipalFlags(cmd, &o.Principal, "quotas to set")
	return cmd
}
