package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

func newGroupCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, create, change and delete local groups and their members",
		Long: `List, create, change and delete the local groups of DSM (SYNO.Core.Group),
and list and change their members (SYNO.Core.Group.Member).`,
	}
	parentCmd(cmd)
	cmd.AddCommand(
		newGroupListCmd(s, getenv, g),
		newGroupGetCmd(s, getenv, g),
		newGroupCreateCmd(s, getenv, g),
		newGroupUpdateCmd(s, getenv, g),
		newGroupDeleteCmd(s, getenv, g),
		newGroupMembersCmd(s, getenv, g),
		newGroupMemberChangeCmd(s, getenv, g, true),
		newGroupMemberChangeCmd(s, getenv, g, false),
	)
	return cmd
}

func groupRecord(gr dsm.Group) record {
	return record{{"name", gr.Name}, {"gid", gr.GID}, {"description", gr.Description}}
}

var groupKeys = []string{"name", "gid", "description"}

// groupListOptions are the options of dsmctl group list.
type groupListOptions struct {
	conn   connOptions
	Output string
	Offset int
	Limit  int
}

func newGroupListCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &groupListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List local groups",
		Long:    `List local groups (SYNO.Core.Group list): name, gid and description.`,
		Example: `  dsmctl group list
  dsmctl group list -o csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			if o.Offset < 0 || o.Limit < 0 {
				return usagef("--offset and --limit must not be negative")
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runGroupList(cmd.Context(), o, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	cmd.Flags().IntVar(&o.Offset, "offset", 0, "index of the first group to list")
	cmd.Flags().IntVar(&o.Limit, "limit", 0, "number of groups to list (0: all)")
	return cmd
}

func runGroupList(ctx context.Context, o *groupListOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		groups, _, err := c.Groups.List(ctx, dsm.GroupListOptions{Offset: o.Offset, Limit: o.Limit})
		if err != nil {
			return err
		}
		records := make([]record, len(groups))
		for i, gr := range groups {
			records[i] = groupRecord(gr)
		}
		return printList(s.Out, o.Output, groupKeys, records)
	})
}

// groupOptions are the options of the group commands that name one group.
type groupOptions = nameOptions

// groupCmd builds a command that takes one group name and prints.
func groupCmd(s *IOStreams, getenv func(string) string, g *globalOptions, o *groupOptions, cmd *cobra.Command, run func(context.Context, *groupOptions, *IOStreams) error) *cobra.Command {
	return nameCmd(s, getenv, g, o, cmd, checkGroupNames, run)
}

func newGroupGetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &groupOptions{}
	return groupCmd(s, getenv, g, o, &cobra.Command{
		Use:     "get NAME",
		Short:   "Show one group",
		Long:    `Show one group (SYNO.Core.Group get). Exit code 3 when there is no such group.`,
		Example: `  dsmctl group get staff -o yaml`,
	}, func(ctx context.Context, o *groupOptions, s *IOStreams) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			gr, err := c.Groups.Get(ctx, o.Name)
			if err != nil {
				return fmt.Errorf("group %s: %w", o.Name, err)
			}
			return printRecord(s.Out, o.Output, groupRecord(gr))
		})
	})
}

func newGroupCreateCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &groupOptions{}
	var description string
	cmd := groupCmd(s, getenv, g, o, &cobra.Command{
		Use:   "create NAME",
		Short: "Create a local group",
		Long: fmt.Sprintf("Create a local group (SYNO.Core.Group create). A group name has at most %d\n"+
			"characters, none of these: %s\nand does not start with \"-\" or a space.", dsm.MaxGroupNameLength, dsm.GroupNameForbiddenChars),
		Example: `  dsmctl group create staff --description "Office staff"
  dsmctl group create staff && dsmctl group add staff alice bob`,
	}, func(ctx context.Context, o *groupOptions, s *IOStreams) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			gr, err := c.Groups.Create(ctx, dsm.GroupCreateRequest{Name: o.Name, Description: description})
			if err != nil {
				return fmt.Errorf("create group %s: %w", o.Name, err)
			}
			if o.Output != formatText {
				return printRecord(s.Out, o.Output, groupRecord(gr))
			}
			s.confirmf("created group %s (gid %d)\n", gr.Name, gr.GID)
			return nil
		})
	})
	cmd.Flags().StringVar(&description, "description", "", "description")
	return cmd
}

func newGroupUpdateCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &groupOptions{}
	var rename, description string
	var req dsm.GroupUpdateRequest
	cmd := groupCmd(s, getenv, g, o, &cobra.Command{
		Use:   "update NAME",
		Short: "Rename a group or change its description",
		Long: `Rename a group or change its description (SYNO.Core.Group get, then set).
Only the flags given change.`,
		Example: `  dsmctl group update staff --description "All staff"
  dsmctl group update staff --rename employees`,
	}, func(ctx context.Context, o *groupOptions, s *IOStreams) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			gr, err := c.Groups.Update(ctx, o.Name, req)
			if err != nil {
				return fmt.Errorf("update group %s: %w", o.Name, err)
			}
			if o.Output != formatText {
				return printRecord(s.Out, o.Output, groupRecord(gr))
			}
			s.confirmf("updated group %s\n", gr.Name)
			return nil
		})
	})
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if cmd.Flags().Changed("rename") {
			if err := checkGroupNames(rename); err != nil {
				return err
			}
			req.NewName = &rename
		}
		if cmd.Flags().Changed("description") {
			req.Description = &description
		}
		if req.NewName == nil && req.Description == nil {
			return usagef("nothing to change: give --rename or --description")
		}
		return run(cmd, args)
	}
	cmd.Flags().StringVar(&rename, "rename", "", "new group name")
	cmd.Flags().StringVar(&description, "description", "", "description (empty clears it)")
	return cmd
}

func newGroupDeleteCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	return newDeleteCmd(s, getenv, g, deleteKind{
		name:  "group",
		short: "Delete local groups",
		long: `Delete local groups (SYNO.Core.Group delete). On a terminal dsmctl asks
first, unless --yes; when standard input is not a terminal it refuses to
delete without --yes. The built-in groups ` + dsm.GroupAdministrators + `, ` + dsm.GroupUsers + ` and ` + dsm.GroupHTTP + `
cannot be deleted.`,
		example: `  dsmctl group delete staff
  dsmctl group delete staff dev --yes`,
		check:  checkGroupNames,
		delete: func(c *dsm.Client) func(context.Context, ...string) error { return c.Groups.Delete },
	})
}

func newGroupMembersCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &groupOptions{}
	var not bool
	cmd := groupCmd(s, getenv, g, o, &cobra.Command{
		Use:   "members NAME",
		Short: "List the members of a group",
		Long: `List the users in a group (SYNO.Core.Group.Member list), or with --not
the users outside it.`,
		Example: `  dsmctl group members staff
  dsmctl group members administrators --not -o json`,
	}, func(ctx context.Context, o *groupOptions, s *IOStreams) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			list := c.Groups.Members
			if not {
				list = c.Groups.NonMembers
			}
			members, err := list(ctx, o.Name)
			if err != nil {
				return fmt.Errorf("group %s: %w", o.Name, err)
			}
			records := make([]record, len(members))
			for i, m := range members {
				records[i] = record{{"name", m.Name}, {"uid", m.UID}, {"description", m.Description}}
			}
			return printList(s.Out, o.Output, []string{"name", "uid", "description"}, records)
		})
	})
	cmd.Flags().BoolVar(&not, "not", false, "list the users who are not members")
	return cmd
}

// memberChangeOptions are the options of dsmctl group add and remove.
type memberChangeOptions struct {
	conn   connOptions
	Output string
	Group  string
	Users  []string
}

func newGroupMemberChangeCmd(s *IOStreams, getenv func(string) string, g *globalOptions, add bool) *cobra.Command {
	o := &memberChangeOptions{}
	verb, short, api := "add", "Add users to a group", "add"
	if !add {
		verb, short, api = "remove", "Remove users from a group", "remove"
	}
	cmd := &cobra.Command{
		Use:   verb + " GROUP USER...",
		Short: short,
		Long: short + ` (SYNO.Core.Group.Member ` + api + `), then read the
members back: DSM answers success to membership changes it did not apply,
and dsmctl then fails naming the users concerned. To change one user's
groups, see "dsmctl user join" and "dsmctl user leave".`,
		Example: "  dsmctl group " + verb + " staff alice bob",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Group, o.Users = args[0], args[1:]
			if err := errors.Join(checkOutput(o.Output), checkGroupNames(o.Group), checkUserNames(o.Users...)); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return withClient(cmd.Context(), &o.conn, s, func(c *dsm.Client) error {
				change, done, already, before, key := c.Groups.AddMembers, "added to", "already in", "already in", "added"
				if !add {
					change, done, already, before, key = c.Groups.RemoveMembers, "removed from", "not in", "were not in", "removed"
				}
				// -o: one record, the same shape as user join's: what
				// changed and what did not, both lists always there.
				result := func(changed, unchanged []string) error {
					return printRecord(s.Out, o.Output, record{{"group", o.Group}, {key, orEmpty(changed)}, {"unchanged", orEmpty(unchanged)}})
				}
				ctx := cmd.Context()
				var todo, unchanged []string
				if add || !strings.EqualFold(o.Group, dsm.GroupUsers) {
					// What would change nothing is said, not done.
					members, err := c.Groups.Members(ctx, o.Group)
					if err != nil {
						return fmt.Errorf("group %s: %s %s: %w", o.Group, verb, strings.Join(o.Users, ", "), err)
					}
					names := make([]string, len(members))
					for i, m := range members {
						names[i] = m.Name
					}
					todo, unchanged = splitByMembership(o.Users, names, add)
				} else {
					todo = o.Users // refused by the library, with the rule
				}
				if len(todo) == 0 {
					if o.Output != formatText {
						return result(nil, unchanged)
					}
					s.confirmf("%s %s %s: nothing changed\n", strings.Join(unchanged, ", "), already, o.Group)
					return nil
				}
				if err := change(ctx, o.Group, todo...); err != nil {
					return fmt.Errorf("group %s: %s %s: %w", o.Group, verb, strings.Join(todo, ", "), err)
				}
				if o.Output != formatText {
					return result(todo, unchanged)
				}
				line := fmt.Sprintf("%s %s %s", strings.Join(todo, ", "), done, o.Group)
				if len(unchanged) > 0 {
					line += fmt.Sprintf(" (%s %s)", strings.Join(unchanged, ", "), before)
				}
				s.confirmf("%s\n", line)
				return nil
			})
		},
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	return cmd
}
