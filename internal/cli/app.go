package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

func newAppCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "List DSM's applications and allow or deny them to users and groups",
		Long: `List the applications whose use DSM controls (SYNO.Core.AppPriv.App; the list
depends on the packages installed), and allow or deny them to users and
groups, from every address or from some (SYNO.Core.AppPriv.Rule). An
application is named by its ID (SYNO.FTP) or its name (ftp, "File
Station"), without regard to case.`,
		Example: `  dsmctl app list --user alice
  dsmctl app deny ftp --user alice
  dsmctl app default ftp --user alice`,
	}
	parentCmd(cmd)
	cmd.AddCommand(newAppListCmd(s, getenv, g),
		newAppRuleCmd(s, getenv, g, "allow"), newAppRuleCmd(s, getenv, g, "deny"), newAppRuleCmd(s, getenv, g, "default"))
	return cmd
}

// appListOptions are the options of dsmctl app list.
type appListOptions struct {
	conn      connOptions
	Output    string
	Principal principalFlags
}

func newAppListCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &appListOptions{}
	cmd := &cobra.Command{
		Use:   "list [--user NAME | --group NAME]",
		Short: "List the applications, and the rules of a user or a group",
		Long: `List the applications whose use DSM controls: ID, name, and whether a user
with no rule may use it. With --user or --group, add that user's or
group's own rule for each: allow, deny, custom (some addresses; the
addresses follow), or default (no rule: the groups' rules and the
application's default decide).`,
		Example: `  dsmctl app list
  dsmctl app list --user alice -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			withRules := o.Principal.given()
			if withRules {
				if _, err := o.Principal.principal(); err != nil {
					return err
				}
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return withClient(cmd.Context(), &o.conn, s, func(c *dsm.Client) error {
				return runAppList(cmd.Context(), c, o, withRules, s)
			})
		},
	}
	addPrincipalConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	addPrincipalFlags(cmd, &o.Principal, "rules to show")
	return cmd
}

func runAppList(ctx context.Context, c *dsm.Client, o *appListOptions, withRules bool, s *IOStreams) error {
	apps, err := c.Apps.List(ctx)
	if err != nil {
		return err
	}
	rules := map[string]dsm.AppRule{}
	if withRules {
		who, _ := o.Principal.principal()
		rs, err := c.Apps.Rules(ctx, who)
		if err != nil {
			return notFound(who, err)
		}
		for _, r := range rs {
			rules[r.App] = r
		}
	}
	keys := []string{"id", "name", "default"}
	if withRules {
		keys = append(keys, "rule", "allow_from", "deny_from")
	}
	records := make([]record, len(apps))
	for i, a := range apps {
		def := "deny"
		if a.GrantByDefault {
			def = "allow"
		}
		r := record{{"id", a.ID}, {"name", a.Name}, {"default", def}}
		if withRules {
			rule, ok := rules[a.ID]
			decision := "default"
			if ok {
				decision = rule.Decision()
			}
			r = append(r, field{"rule", decision}, field{"allow_from", rule.Allow}, field{"deny_from", rule.Deny})
		}
		records[i] = r
	}
	return printList(s.Out, o.Output, keys, records)
}

// findApp returns the ID of the application named by id or name.
func findApp(apps []dsm.App, name string) (string, error) {
	for _, a := range apps {
		if strings.EqualFold(a.ID, name) || strings.EqualFold(a.Name, name) {
			return a.ID, nil
		}
	}
	return "", usagef("no application %q on this NAS; dsmctl app list shows them", name)
}

// appRuleOptions are the options of dsmctl app allow, deny and default.
type appRuleOptions struct {
	conn      connOptions
	Principal principalFlags
	From      []string
}

func newAppRuleCmd(s *IOStreams, getenv func(string) string, g *globalOptions, verb string) *cobra.Command {
	o := &appRuleOptions{}
	cmd := &cobra.Command{
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			who, err := o.Principal.principal()
			if err != nil {
				return err
			}
			if verb == "default" && len(o.From) > 0 {
				return usagef("--from is for allow and deny; default removes the whole rule")
			}
			for _, a := range o.From {
				if err := dsm.ValidateAppAddress(a); err != nil {
					return usagef("--from %v", err)
				}
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return withClient(cmd.Context(), &o.conn, s, func(c *dsm.Client) error {
				ctx := cmd.Context()
				apps, err := c.Apps.List(ctx)
				if err != nil {
					return err
				}
				id, err := findApp(apps, args[0])
				if err != nil {
					return err
				}
				switch verb {
				case "allow":
					err = c.Apps.Allow(ctx, who, id, o.From...)
				case "deny":
					err = c.Apps.Deny(ctx, who, id, o.From...)
				default:
					err = c.Apps.Default(ctx, who, id)
				}
				if err != nil {
					return notFound(who, err)
				}
				from := "every address"
				if len(o.From) > 0 {
					from = strings.Join(o.From, ", ")
				}
				switch verb {
				case "allow":
					fmt.Fprintf(s.Out, "%s may use %s from %s\n", who, id, from)
				case "deny":
					fmt.Fprintf(s.Out, "%s may not use %s from %s\n", who, id, from)
				default:
					fmt.Fprintf(s.Out, "%s follows the default for %s\n", who, id)
				}
				return nil
			})
		},
	}
	switch verb {
	case "allow":
		cmd.Use = "allow APP (--user NAME | --group NAME) [--from ADDRESS]..."
		cmd.Short = "Let a user or a group use an application"
		cmd.Long = `Let a user or a group use an application (SYNO.Core.AppPriv.Rule set): from
every address, or with --from only from those given (an IP address or a
prefix such as 10.0.0.0/8). The rule replaces the one the user or group
had for the application.`
		cmd.Example = `  dsmctl app allow ftp --user alice
  dsmctl app allow SYNO.SFTP --group staff --from 10.0.0.0/8`
	case "deny":
		cmd.Use = "deny APP (--user NAME | --group NAME) [--from ADDRESS]..."
		cmd.Short = "Keep a user or a group from using an application"
		cmd.Long = `Keep a user or a group from using an application (SYNO.Core.AppPriv.Rule
set): from every address, or with --from only from those given. The rule
replaces the one the user or group had for the application.`
		cmd.Example = `  dsmctl app deny ftp --user alice`
	default:
		cmd.Use = "default APP (--user NAME | --group NAME)"
		cmd.Short = "Remove the rule of a user or a group for an application"
		cmd.Long = `Remove the rule of a user or a group for an application, which then follows
the groups' rules and its default (SYNO.Core.AppPriv.Rule delete: DSM has
no "no rule" value).`
		cmd.Example = `  dsmctl app default ftp --user alice`
	}
	addPrincipalConnFlags(cmd, &o.conn)
	addPrincipalFlags(cmd, &o.Principal, "rule to change")
	if verb != "default" {
		cmd.Flags().StringArrayVar(&o.From, "from", nil, "an address or prefix the rule is for (repeatable; default: every address)")
	}
	return cmd
}
