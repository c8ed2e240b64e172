package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

func newShareCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "share",
		Short: "List, create and delete shared folders, and say who may use them",
		Long: `List, create and delete the shared folders of DSM (SYNO.Core.Share), show
who has which right on one and why (SYNO.Core.Share.Permission), and give
a user or a group a right on one.

A user's right on a shared folder is the strongest of their own row and
their groups' rows: deny over read/write over read-only. Members of
administrators always have read/write, unless a row denies them.`,
		Example: `  dsmctl share list
  dsmctl share grant finance --group staff ro
  dsmctl share access finance`,
	}
	parentCmd(cmd)
	cmd.AddCommand(
		newShareListCmd(s, getenv, g),
		newShareGetCmd(s, getenv, g),
		newShareCreateCmd(s, getenv, g),
		newShareDeleteCmd(s, getenv, g),
		newShareAccessCmd(s, getenv, g),
		newShareGrantCmd(s, getenv, g),
	)
	return cmd
}

func shareRecord(sh dsm.Share) record {
	return record{{"name", sh.Name}, {"volume", sh.Volume}, {"path", sh.Path}, {"description", sh.Description},
		{"hidden", sh.Hidden}, {"recycle_bin", sh.RecycleBin}}
}

var shareKeys = []string{"name", "volume", "path", "description", "hidden", "recycle_bin"}

// checkShareNames refuses shared folder names DSM would refuse, before
// any call.
func checkShareNames(names ...string) error {
	for _, n := range names {
		if err := dsm.ValidateShareName(n); err != nil {
			return err
		}
	}
	return nil
}

// shareListOptions are the options of dsmctl share list.
type shareListOptions struct {
	conn   connOptions
	Output string
}

func newShareListCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &shareListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List shared folders",
		Long:  `List shared folders (SYNO.Core.Share list): name, volume, path, description, hidden, recycle bin.`,
		Example: `  dsmctl share list
  dsmctl share list -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runShareList(cmd.Context(), o, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func runShareList(ctx context.Context, o *shareListOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		shares, err := c.Shares.List(ctx)
		if err != nil {
			return err
		}
		records := make([]record, len(shares))
		for i, sh := range shares {
			records[i] = shareRecord(sh)
		}
		return printList(s.Out, o.Output, shareKeys, records)
	})
}

// shareOptions are the options of the share commands that name one
// shared folder.
type shareOptions = nameOptions

// shareCmd builds a command that takes one shared folder's name.
func shareCmd(s *IOStreams, getenv func(string) string, g *globalOptions, o *shareOptions, cmd *cobra.Command, run func(context.Context, *shareOptions, *IOStreams) error) *cobra.Command {
	return nameCmd(s, getenv, g, o, cmd, checkShareNames, run)
}

func newShareGetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &shareOptions{}
	return shareCmd(s, getenv, g, o, &cobra.Command{
		Use:     "get NAME",
		Short:   "Show one shared folder",
		Long:    `Show one shared folder (SYNO.Core.Share get). Exit code 3 when there is no such folder.`,
		Example: `  dsmctl share get finance -o yaml`,
	}, func(ctx context.Context, o *shareOptions, s *IOStreams) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			sh, err := c.Shares.Get(ctx, o.Name)
			if err != nil {
				return fmt.Errorf("shared folder %s: %w", o.Name, err)
			}
			return printRecord(s.Out, o.Output, shareRecord(sh))
		})
	})
}

func newShareCreateCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &shareOptions{}
	var req dsm.ShareCreateRequest
	cmd := shareCmd(s, getenv, g, o, &cobra.Command{
		Use:   "create NAME",
		Short: "Create a shared folder",
		Long: fmt.Sprintf(`Create a shared folder (SYNO.Core.Share create) on a volume, given by its
path (/volume1, not volume1). A name has at most %d characters, none of
these: %s
and does not start with "-" or a space. Only administrators have access
to a new folder: give others a right with "dsmctl share grant".`, dsm.MaxShareNameLength, dsm.ShareNameForbiddenChars),
		Example: `  dsmctl share create projects --volume /volume1 --recycle-bin
  dsmctl share create projects && dsmctl share grant projects --group staff rw`,
	}, func(ctx context.Context, o *shareOptions, s *IOStreams) error {
		req.Name = o.Name
		if err := dsm.ValidateVolume(req.Volume); err != nil {
			return usagef("--volume: %v", err)
		}
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			sh, err := c.Shares.Create(ctx, req)
			if err != nil {
				return fmt.Errorf("create shared folder %s: %w", o.Name, err)
			}
			if o.Output != formatText {
				return printRecord(s.Out, o.Output, shareRecord(sh))
			}
			fmt.Fprintf(s.Out, "created shared folder %s (%s)\n", sh.Name, sh.Path)
			return nil
		})
	})
	cmd.Flags().StringVar(&req.Volume, "volume", "/volume1", "the volume's path")
	cmd.Flags().StringVar(&req.Description, "description", "", "description")
	cmd.Flags().BoolVar(&req.Hidden, "hidden", false, `hide it in "My Network Places"`)
	cmd.Flags().BoolVar(&req.RecycleBin, "recycle-bin", false, "turn its recycle bin on")
	return cmd
}

func newShareDeleteCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	return newDeleteCmd(s, getenv, g, deleteKind{
		name:  "shared folder",
		short: "Delete shared folders and their data",
		long: `Delete shared folders (SYNO.Core.Share delete), with the files in them. On a
terminal dsmctl asks first, unless --yes; when standard input is not a
terminal it refuses to delete without --yes.`,
		example: `  dsmctl share delete projects --yes`,
		check:   checkShareNames,
		delete:  func(c *dsm.Client) func(context.Context, ...string) error { return c.Shares.Delete },
	})
}

// accessRecord is one user's effective right on one shared folder.
func accessRecord(key, name string, a dsm.Access) record {
	return record{{key, name}, {"access", a.Right.String()}, {"why", a.Reason()}}
}

var shareAccessKeys = []string{"user", "access", "why"}

func newShareAccessCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &shareOptions{}
	return shareCmd(s, getenv, g, o, &cobra.Command{
		Use:   "access NAME",
		Short: "Show every user's right on a shared folder, and why",
		Long: `Show every user's effective right on a shared folder and where it comes
from: the user's own row or a group's ("rw from group staff", "denied for
bob himself"). The right is computed as DSM does: deny over read/write
over read-only across the user's row and their groups' rows;
administrators always read/write.

DSM: SYNO.Core.Share.Permission list (users, then groups) and
SYNO.Core.User list for the users' groups.`,
		Example: `  dsmctl share access finance
  dsmctl share access finance -o json | jq -r '.[] | select(.access == "rw") | .user'`,
	}, func(ctx context.Context, o *shareOptions, s *IOStreams) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			if _, err := c.Shares.Get(ctx, o.Name); err != nil {
				return fmt.Errorf("shared folder %s: %w", o.Name, err)
			}
			users, err := c.Permissions.ListShare(ctx, o.Name, false)
			if err != nil {
				return fmt.Errorf("permissions of %s: %w", o.Name, err)
			}
			groups, err := c.Permissions.ListShare(ctx, o.Name, true)
			if err != nil {
				return fmt.Errorf("permissions of %s: %w", o.Name, err)
			}
			accounts, _, err := c.Users.List(ctx, dsm.ListOptions{Fields: []string{dsm.FieldGroups}})
			if err != nil {
				return err
			}
			grants := make([]dsm.Grant, 0, len(users)+len(groups))
			for _, r := range append(users, groups...) {
				if r.Right != dsm.RightNone {
					grants = append(grants, dsm.Grant{Principal: r.Principal, Right: r.Right})
				}
			}
			records := make([]record, 0, len(accounts))
			for _, u := range accounts {
				records = append(records, accessRecord("user", u.Name, dsm.EffectiveAccess(u.Name, u.Groups, grants)))
			}
			return printList(s.Out, o.Output, shareAccessKeys, records)
		})
	})
}

// shareGrantOptions are the options of dsmctl share grant.
type shareGrantOptions struct {
	conn      connOptions
	Share     string
	Principal principalFlags
	Right     dsm.Right
}

func newShareGrantCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &shareGrantOptions{}
	cmd := &cobra.Command{
		Use:   "grant SHARE (--user NAME | --group NAME) rw|ro|deny|default",
		Short: "Give a user or a group a right on a shared folder",
		Long: `Give a user or a group a right on a shared folder: rw (read/write), ro
(read-only), deny (no access, whatever their groups give), or default
(remove their own row: their groups decide). Only that row is written
(SYNO.Core.Share.Permission set_by_user_group); the others, and custom ACL
rights of the row, are kept. The administrators group always has
read/write and cannot be changed. A shared folder, user or group the NAS
does not have is exit code 3.`,
		Example: `  dsmctl share grant finance --group staff ro
  dsmctl share grant finance --user bob deny
  dsmctl share grant finance --user bob default`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Share = args[0]
			r, err := dsm.ParseRight(args[1])
			if err != nil {
				return usagef("%v", err)
			}
			o.Right = r
			_, err = o.Principal.principal()
			if err := errors.Join(err, checkShareNames(o.Share)); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runShareGrant(cmd.Context(), o, s)
		},
	}
	addPrincipalConnFlags(cmd, &o.conn)
	addPrincipalFlags(cmd, &o.Principal, "right to set")
	return cmd
}

func runShareGrant(ctx context.Context, o *shareGrantOptions, s *IOStreams) error {
	p, _ := o.Principal.principal()
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		if err := c.Permissions.Grant(ctx, o.Share, p, o.Right); err != nil {
			return fmt.Errorf("grant on %s to %s: %w", o.Share, p, err)
		}
		if o.Right == dsm.RightNone {
			fmt.Fprintf(s.Out, "%s has no row of its own on %s: its groups decide\n", p, o.Share)
			return nil
		}
		fmt.Fprintf(s.Out, "%s has %s on %s\n", p, o.Right, o.Share)
		return nil
	})
}

// userAccessOptions are the options of dsmctl user access.
type userAccessOptions = nameOptions

var userAccessKeys = []string{"share", "access", "why"}

func newUserAccessCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	return nameCmd(s, getenv, g, &userAccessOptions{}, &cobra.Command{
		Use:   "access NAME",
		Short: "Show a user's right on every shared folder, and why",
		Long: `Show a user's effective right on every shared folder and where it comes
from: their own row or a group's. The user and their rows are read in one
compound request (SYNO.Entry.Request), their groups' rows in a second.
Exit code 3 when there is no such user.`,
		Example: `  dsmctl user access alice
  dsmctl user access alice -o yaml`,
	}, checkUserNames, runUserAccess)
}

func runUserAccess(ctx context.Context, o *userAccessOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		p, err := c.Users.Profile(ctx, o.Name)
		if err != nil {
			return fmt.Errorf("user %s: %w", o.Name, err)
		}
		byShare, err := groupRows(ctx, c, p.User.Groups)
		if err != nil {
			return fmt.Errorf("rights of the groups of %s: %w", o.Name, err)
		}
		records := make([]record, 0, len(p.Shares))
		for _, row := range p.Shares {
			grants := slices.Clone(byShare[strings.ToLower(row.Share)])
			if row.Right != dsm.RightNone {
				grants = append(grants, dsm.Grant{Principal: dsm.UserPrincipal(p.User.Name), Right: row.Right})
			}
			records = append(records, accessRecord("share", row.Share, dsm.EffectiveAccess(p.User.Name, p.User.Groups, grants)))
		}
		return printList(s.Out, o.Output, userAccessKeys, records)
	})
}

// groupRows reads the rows of groups on every shared folder, in
// compound requests, and returns them by folded share name.
func groupRows(ctx context.Context, c *dsm.Client, groups []string) (map[string][]dsm.Grant, error) {
	byGroup, err := c.Permissions.ListGroups(ctx, groups...)
	if err != nil {
		return nil, err
	}
	out := map[string][]dsm.Grant{}
	for _, rows := range byGroup {
		for _, r := range rows {
			if r.Right != dsm.RightNone {
				key := strings.ToLower(r.Share)
				out[key] = append(out[key], dsm.Grant{Principal: r.Principal, Right: r.Right})
			}
		}
	}
	return out, nil
}
