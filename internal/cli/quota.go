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

// ownerFlags are --user and --group, of which a command takes exactly one.
type ownerFlags struct {
	User, Group string
}

// addOwnerConnFlags declares the connection flags of a command with
// --user and --group: there --user names the user whose quota, rule or
// limit it is, so the DSM account to log in with is -u/--account ($DSM_USER
// as everywhere).
func addOwnerConnFlags(cmd *cobra.Command, o *connOptions) {
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "DSM address, e.g. https://nas:5001 (default $DSM_URL, else the latest login)")
	f.StringVarP(&o.User, "account", "u", "", "DSM account to log in with (default $DSM_USER)")
	f.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	addSecurityFlags(cmd, o)
}

func addOwnerFlags(cmd *cobra.Command, f *ownerFlags, what string) {
	cmd.Flags().StringVar(&f.User, "user", "", "the user whose "+what)
	cmd.Flags().StringVar(&f.Group, "group", "", "the group whose "+what)
}

// owner checks the flags and returns the owner they name.
func (f ownerFlags) owner() (dsm.Principal, error) {
	switch {
	case f.User != "" && f.Group != "":
		return dsm.Principal{}, usagef("give --user or --group, not both")
	case f.User != "":
		return dsm.UserPrincipal(f.User), checkUserNames(f.User)
	case f.Group != "":
		return dsm.GroupPrincipal(f.Group), checkGroupNames(f.Group)
	}
	return dsm.Principal{}, usagef("give --user NAME or --group NAME")
}

// notFound adds the owner to an error of a call about it.
func notFound(o dsm.Principal, err error) error { return fmt.Errorf("%s: %w", o, err) }

func newQuotaCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quota",
		Short: "Show and set the quotas of users and groups",
		Long: `Show and set the quotas of users and groups (SYNO.Core.Quota): on a volume,
or on a shared folder where the volume keeps quotas per shared folder
(Btrfs). ` + "\n\n" + sizeHelp,
		Example: `  dsmctl quota set --user alice public=20GiB volume2=500MB
  dsmctl quota get --user alice`,
	}
	parentCmd(cmd)
	cmd.AddCommand(newQuotaGetCmd(s, getenv, g), newQuotaSetCmd(s, getenv, g))
	return cmd
}

// quotaOptions are the options of dsmctl quota get and set.
type quotaOptions struct {
	conn   connOptions
	Output string
	Owner  ownerFlags
	Share  string
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
			if o.Share != "" && (o.Owner.User != "" || o.Owner.Group != "") {
				return usagef("give --share alone, or --user or --group")
			}
			if o.Share == "" {
				if _, err := o.Owner.owner(); err != nil {
					return err
				}
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runQuotaGet(cmd.Context(), o, s)
		},
	}
	addOwnerConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	addOwnerFlags(cmd, &o.Owner, "quotas to show")
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
		owner, _ := o.Owner.owner()
		return printQuotas(ctx, c, owner, o.Output, s)
	})
}

// printQuotas prints the quotas of owner.
func printQuotas(ctx context.Context, c *dsm.Client, owner dsm.Principal, format string, s *IOStreams) error {
	qs, err := c.Quotas.Get(ctx, owner)
	if err != nil {
		return notFound(owner, err)
	}
	records := make([]record, len(qs))
	for i, q := range qs {
		records[i] = record{{"volume", q.Volume}, {"share", q.Share}, {"limit", limitText(q.Limit)}, {"bytes", int64(q.Limit)}}
	}
	return printList(s.Out, format, quotaKeys, records)
}

// parseQuotaArg reads TARGET=SIZE: a target of the form volumeN is a
// volume, share:NAME or any other name a shared folder.
func parseQuotaArg(arg string) (dsm.Quota, error) {
	target, size, ok := strings.Cut(arg, "=")
	if !ok || target == "" {
		return dsm.Quota{}, usagef("%q: want TARGET=SIZE, such as volume1=20GiB or public=500MiB", arg)
	}
	limit, err := parseLimit(size)
	if err != nil {
		return dsm.Quota{}, usagef("%s: %v", target, err)
	}
	if name, ok := strings.CutPrefix(target, "share:"); ok {
		return dsm.Quota{Share: name, Limit: limit}, nil
	}
	if name, ok := strings.CutPrefix(target, "volume:"); ok {
		return dsm.Quota{Volume: name, Limit: limit}, nil
	}
	if n, ok := strings.CutPrefix(strings.TrimPrefix(target, "/"), "volume"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return dsm.Quota{Volume: target, Limit: limit}, nil
	}
	return dsm.Quota{Share: target, Limit: limit}, nil
}

func newQuotaSetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &quotaOptions{}
	var quotas []dsm.Quota
	cmd := &cobra.Command{
		Use:   "set (--user NAME | --group NAME) TARGET=SIZE...",
		Short: "Set quotas of a user or a group",
		Long: `Set quotas of a user or a group (SYNO.Core.Quota set); the quotas not named
keep theirs. A TARGET of the form volumeN is a volume (its quota for
volumes that keep one per volume); share:NAME, or any other name, is a
shared folder. DSM refuses a quota above the volume's free space (code
3117).

` + sizeHelp,
		Example: `  dsmctl quota set --user alice public=20GiB
  dsmctl quota set --group staff volume2=500MB photo=none`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			owner, err := o.Owner.owner()
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
				if err := c.Quotas.Set(cmd.Context(), owner, quotas...); err != nil {
					var ae *dsm.ArgError
					if errors.As(err, &ae) {
						return err
					}
					return notFound(owner, err)
				}
				if o.Output != formatText {
					return printQuotas(cmd.Context(), c, owner, o.Output, s)
				}
				parts := make([]string, len(quotas))
				for i, q := range quotas {
					parts[i] = q.Volume + q.Share + " " + limitText(q.Limit)
				}
				fmt.Fprintf(s.Out, "set the quotas of %s: %s\n", owner, strings.Join(parts, ", "))
				return nil
			})
		},
	}
	addOwnerConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	addOwnerFlags(cmd, &o.Owner, "quotas to set")
	return cmd
}
