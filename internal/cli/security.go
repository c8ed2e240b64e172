package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

func newSecurityCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "security",
		Short: "Show and change sign-in protection: auto-block, blocked and allowed addresses, locked accounts",
		Long: `Show and change DSM's sign-in protection (Control Panel > Security >
Protection): auto-block, which blocks a client address after failed
logins (SYNO.Core.Security.AutoBlock), its block and allow lists
(SYNO.Core.Security.AutoBlock.Rules), and the accounts account
protection has locked after failed logins (SYNO.Core.SmartBlock).`,
		Example: `  dsmctl security autoblock get
  dsmctl security blocked list
  dsmctl security allow add 192.168.1.0/24
  dsmctl security locked unlock alice`,
	}
	parentCmd(cmd)
	cmd.AddCommand(
		newSecurityAutoBlockCmd(s, getenv, g),
		newSecurityBlockedCmd(s, getenv, g),
		newSecurityAllowCmd(s, getenv, g),
		newSecurityLockedCmd(s, getenv, g),
		newSecurityProtectionCmd(s, getenv, g),
	)
	return cmd
}

// securityCmd completes cmd with the connection and output flags and a
// RunE that checks them and calls run with the arguments.
func securityCmd(s *IOStreams, getenv func(string) string, g *globalOptions, o *policyOptions, cmd *cobra.Command, args cobra.PositionalArgs, run func(context.Context, *cobra.Command, []string) error) *cobra.Command {
	cmd.Args = args
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := checkOutput(o.Output); err != nil {
			return err
		}
		if err := o.conn.complete(getenv, g); err != nil {
			return err
		}
		return run(cmd.Context(), cmd, args)
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func autoBlockRecord(a dsm.AutoBlock) record {
	return record{{"enabled", a.Enabled}, {"attempts", a.Attempts}, {"within_minutes", a.WithinMinutes}, {"expire_days", a.ExpireDays}}
}

func newSecurityAutoBlockCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "autoblock",
		Short: "Show and change auto-block of client addresses",
		Long: `Show and change auto-block (SYNO.Core.Security.AutoBlock): after ATTEMPTS
failed logins within MINUTES, a client address is blocked for DAYS days
(0: until unblocked with "dsmctl security blocked unblock").`,
		Example: `  dsmctl security autoblock get
  dsmctl security autoblock set --attempts 5 --within 10 --expire-days 7`,
	}
	parentCmd(cmd)
	get := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, get, &cobra.Command{
		Use:   "get",
		Short: "Show the auto-block settings",
		Long: `Show the auto-block settings (SYNO.Core.Security.AutoBlock get): whether it
is on, how many failed logins within how many minutes block an address,
and for how many days (0: until unblocked).`,
		Example: `  dsmctl security autoblock get
  dsmctl security autoblock get -o json`,
	}, cobra.NoArgs, func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return withClient(ctx, &get.conn, s, func(c *dsm.Client) error {
			a, err := c.Security.AutoBlock(ctx)
			if err != nil {
				return err
			}
			return printRecord(s.Out, get.Output, autoBlockRecord(a))
		})
	}))

	set := &policyOptions{}
	var want dsm.AutoBlock
	setCmd := securityCmd(s, getenv, g, set, &cobra.Command{
		Use:   "set",
		Short: "Change auto-block settings",
		Long: fmt.Sprintf(`Change the settings given as flags; the others keep their values
(SYNO.Core.Security.AutoBlock get, then set). Then show the settings.
--attempts is 1 to %d, --within 1 to %d minutes, --expire-days 0 (never)
to %d. DSM keeps the thresholds of a disabled auto-block as they were:
change them together with --enable.`, dsm.AutoBlockMaxAttempts, dsm.AutoBlockMaxWithinMinutes, dsm.AutoBlockMaxExpireDays),
		Example: `  dsmctl security autoblock set --enable --attempts 5 --within 10 --expire-days 7
  dsmctl security autoblock set --enable=false`,
	}, cobra.NoArgs, func(ctx context.Context, cmd *cobra.Command, _ []string) error {
		f := cmd.Flags()
		if !anyChanged(f, "enable", "attempts", "within", "expire-days") {
			return usagef("nothing to change: give at least one of --enable, --attempts, --within, --expire-days")
		}
		return withClient(ctx, &set.conn, s, func(c *dsm.Client) error {
			cur, err := c.Security.AutoBlock(ctx)
			if err != nil {
				return err
			}
			setIf(f, "enable", &cur.Enabled, want.Enabled)
			setIf(f, "attempts", &cur.Attempts, want.Attempts)
			setIf(f, "within", &cur.WithinMinutes, want.WithinMinutes)
			setIf(f, "expire-days", &cur.ExpireDays, want.ExpireDays)
			if err := cur.Validate(); err != nil {
				return usagef("%v", err)
			}
			if err := c.Security.SetAutoBlock(ctx, cur); err != nil {
				return err
			}
			now, err := c.Security.AutoBlock(ctx)
			if err != nil {
				return fmt.Errorf("auto-block is set, but reading it back failed: %w", err)
			}
			return printRecord(s.Out, set.Output, autoBlockRecord(now))
		})
	})
	setCmd.Flags().BoolVar(&want.Enabled, "enable", false, "turn auto-block on (--enable=false: off)")
	setCmd.Flags().IntVar(&want.Attempts, "attempts", 0, "failed logins that block an address")
	setCmd.Flags().IntVar(&want.WithinMinutes, "within", 0, "minutes the failed logins must fall within")
	setCmd.Flags().IntVar(&want.ExpireDays, "expire-days", 0, "days a block lasts (0: until unblocked)")
	cmd.AddCommand(setCmd)
	return cmd
}

// timeCell shows a time as RFC 3339 (UTC), or nil (a dash) when zero.
func timeCell(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func addressRecords(rules []dsm.AddressRule, expires bool) []record {
	out := make([]record, 0, len(rules))
	for _, r := range rules {
		rec := record{{"address", r.Address}, {"since", timeCell(r.Since)}}
		if expires {
			rec = append(rec, field{"expires", timeCell(r.Expires)})
		}
		out = append(out, rec)
	}
	return out
}

func newSecurityBlockedCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "blocked",
		Short: "List and unblock blocked client addresses",
		Long: `List the client addresses whose logins DSM refuses (auto-block's blocks
and the block list), and lift blocks (SYNO.Core.Security.AutoBlock.Rules,
type deny). EXPIRES is when a block ends; "-": never.`,
		Example: `  dsmctl security blocked list
  dsmctl security blocked unblock 192.0.2.7`,
	}
	parentCmd(cmd)
	list := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, list, &cobra.Command{
		Use:   "list",
		Short: "List the blocked addresses",
		Long: `List the addresses whose logins DSM refuses, with when the block began
and when it ends (SYNO.Core.Security.AutoBlock.Rules list, type deny).`,
		Example: `  dsmctl security blocked list`,
	}, cobra.NoArgs, func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return withClient(ctx, &list.conn, s, func(c *dsm.Client) error {
			rules, err := c.Security.BlockedAddresses(ctx)
			if err != nil {
				return err
			}
			return printList(s.Out, list.Output, []string{"address", "since", "expires"}, addressRecords(rules, true))
		})
	}))
	unblock := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, unblock, &cobra.Command{
		Use:   "unblock IP...",
		Short: "Lift the blocks of addresses",
		Long: `Lift the blocks of the addresses given, whether auto-block or the block
list made them (SYNO.Core.Security.AutoBlock.Rules delete, type deny):
their next login is checked again. Give addresses, not networks.`,
		Example: `  dsmctl security blocked unblock 192.0.2.7 2001:db8::7`,
	}, cobra.MinimumNArgs(1), func(ctx context.Context, _ *cobra.Command, args []string) error {
		ips, err := checkAddresses(args, false)
		if err != nil {
			return err
		}
		return withClient(ctx, &unblock.conn, s, func(c *dsm.Client) error {
			if err := c.Security.Unblock(ctx, ips...); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "unblocked %s\n", strings.Join(ips, ", "))
			return nil
		})
	}))
	return cmd
}

// checkAddresses refuses what is no address (or, with networks, no CIDR
// network) before any call, and returns them canonical.
func checkAddresses(args []string, networks bool) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, a := range args {
		n, err := dsm.ParseAddressRule(a)
		if err != nil {
			return nil, usagef("%v", err)
		}
		if !networks && strings.Contains(n, "/") {
			return nil, usagef("%s is a network: give the blocked addresses one by one (dsmctl security blocked list)", n)
		}
		out = append(out, n)
	}
	return out, nil
}

func newSecurityAllowCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "allow",
		Short: "List and change the addresses auto-block never blocks",
		Long: `List, add and remove the addresses and networks of the allow list
(SYNO.Core.Security.AutoBlock.Rules, type allow): auto-block never
blocks them, even after failed logins. Add your own network before
tightening auto-block.`,
		Example: `  dsmctl security allow list
  dsmctl security allow add 192.168.1.0/24`,
	}
	parentCmd(cmd)
	list := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, list, &cobra.Command{
		Use:   "list",
		Short: "List the allow list",
		Long: `List the addresses and networks auto-block never blocks, with when each
was added (SYNO.Core.Security.AutoBlock.Rules list, type allow).`,
		Example: `  dsmctl security allow list -o json`,
	}, cobra.NoArgs, func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return withClient(ctx, &list.conn, s, func(c *dsm.Client) error {
			rules, err := c.Security.AllowList(ctx)
			if err != nil {
				return err
			}
			return printList(s.Out, list.Output, []string{"address", "since"}, addressRecords(rules, false))
		})
	}))
	for _, add := range []bool{true, false} {
		o := &policyOptions{}
		use, short, example, verb := "add CIDR...", "Add addresses or networks to the allow list", `  dsmctl security allow add 192.168.1.0/24 2001:db8::/32`, "added"
		if !add {
			use, short, example, verb = "remove CIDR...", "Remove addresses or networks from the allow list", `  dsmctl security allow remove 192.168.1.0/24`, "removed"
		}
		cmd.AddCommand(securityCmd(s, getenv, g, o, &cobra.Command{
			Use: use, Short: short, Example: example,
			Long: short + ` (SYNO.Core.Security.AutoBlock.Rules ` + map[bool]string{true: "create", false: "delete"}[add] + `). An address
alone is one host; a network is CIDR (192.168.1.0/24).`,
		}, cobra.MinimumNArgs(1), func(ctx context.Context, _ *cobra.Command, args []string) error {
			nets, err := checkAddresses(args, true)
			if err != nil {
				return err
			}
			return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
				change := c.Security.Allow
				if !add {
					change = c.Security.Disallow
				}
				if err := change(ctx, nets...); err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "%s %s\n", verb, strings.Join(nets, ", "))
				return nil
			})
		}))
	}
	return cmd
}

func newSecurityLockedCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "locked",
		Short: "List and unlock the accounts account protection locked",
		Long: `List the accounts account protection has locked after failed logins,
and unlock them (SYNO.Core.SmartBlock.Untrusted list and pardon).`,
		Example: `  dsmctl security locked list
  dsmctl security locked unlock alice`,
	}
	parentCmd(cmd)
	list := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, list, &cobra.Command{
		Use:   "list",
		Short: "List the locked accounts",
		Long: `List the accounts account protection has locked, with when the lock
began and the address of the failed logins
(SYNO.Core.SmartBlock.Untrusted list).`,
		Example: `  dsmctl security locked list`,
	}, cobra.NoArgs, func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return withClient(ctx, &list.conn, s, func(c *dsm.Client) error {
			locked, err := c.Security.LockedAccounts(ctx)
			if err != nil {
				return err
			}
			recs := make([]record, 0, len(locked))
			for _, l := range locked {
				recs = append(recs, record{{"name", l.Name}, {"uid", l.UID}, {"since", timeCell(l.Since)}, {"address", l.Address}})
			}
			return printList(s.Out, list.Output, []string{"name", "uid", "since", "address"}, recs)
		})
	}))
	unlock := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, unlock, &cobra.Command{
		Use:   "unlock USER...",
		Short: "Unlock locked accounts",
		Long: `Unlock the accounts named: their next login with the right password
works. A name that is not locked is an error, and nothing is unlocked.`,
		Example: `  dsmctl security locked unlock alice bob`,
	}, cobra.MinimumNArgs(1), func(ctx context.Context, _ *cobra.Command, args []string) error {
		if err := checkUserNames(args...); err != nil {
			return usagef("%v", err)
		}
		return withClient(ctx, &unlock.conn, s, func(c *dsm.Client) error {
			locked, err := c.Security.LockedAccounts(ctx)
			if err != nil {
				return err
			}
			var uids []int
			for _, name := range args {
				i := slices.IndexFunc(locked, func(l dsm.LockedAccount) bool { return strings.EqualFold(l.Name, name) })
				if i < 0 {
					return fmt.Errorf("%s is not locked (dsmctl security locked list shows the locked accounts); nothing was unlocked", name)
				}
				uids = append(uids, locked[i].UID)
			}
			if err := c.Security.Unlock(ctx, uids...); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "unlocked %s\n", strings.Join(args, ", "))
			return nil
		})
	}))
	return cmd
}
