package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

func newSpeedCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "speed",
		Short: "Show and set the speed limits of users and groups",
		Long: `Show and set the speed limits of users and groups per protocol
(SYNO.Core.BandwidthControl): ` + strings.Join(dsm.SpeedProtocols, ", ") + `.
Limits are in KB/s, 0 for no limit.`,
		Example: `  dsmctl speed set FTP --user alice --upload 1024 --download 2048
  dsmctl speed get --user alice`,
	}
	parentCmd(cmd)
	cmd.AddCommand(newSpeedGetCmd(s, getenv, g), newSpeedSetCmd(s, getenv, g))
	return cmd
}

// speedOptions are the options of dsmctl speed get and set.
type speedOptions struct {
	conn      connOptions
	Output    string
	Principal principalFlags
}

var speedKeys = []string{"protocol", "policy", "upload", "download", "upload2", "download2", "schedule"}

// scheduleText sums a schedule up for a table: "always" when the first
// limits apply at every hour, else the hours of each kind; "-" when the
// policy uses no schedule.
func scheduleText(l dsm.SpeedLimit, full bool) string {
	if full {
		return l.Schedule
	}
	if l.Policy != dsm.SpeedScheduled {
		return "-"
	}
	if l.Schedule == dsm.AlwaysLimited {
		return "always"
	}
	return fmt.Sprintf("%dh none, %dh first, %dh second", strings.Count(l.Schedule, "0"), strings.Count(l.Schedule, "1"), strings.Count(l.Schedule, "2"))
}

func newSpeedGetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &speedOptions{}
	cmd := &cobra.Command{
		Use:   "get (--user NAME | --group NAME)",
		Short: "Show the speed limits of a user or a group",
		Long: `Show the speed limits of a user or a group, one row per protocol
(SYNO.Core.BandwidthControl get). The policy is notexist where the user
or group has no limit of its own, disabled, enabled (the first limits at
every hour) or scheduled (the schedule picks the limits hour by hour; the
table sums it up, -o json and yaml give its 168 characters). Exit code 3
when there is no such user or group.`,
		Example: `  dsmctl speed get --user alice
  dsmctl speed get --group staff -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			who, err := o.Principal.principal()
			if err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return withClient(cmd.Context(), &o.conn, s, func(c *dsm.Client) error {
				limits, err := c.Speed.Get(cmd.Context(), who)
				if err != nil {
					return notFound(who, err)
				}
				full := o.Output == formatJSON || o.Output == formatYAML
				records := make([]record, len(limits))
				for i, l := range limits {
					records[i] = record{{"protocol", l.Protocol}, {"policy", string(l.Policy)}, {"upload", l.Upload}, {"download", l.Download},
						{"upload2", l.Upload2}, {"download2", l.Download2}, {"schedule", scheduleText(l, full)}}
				}
				return printList(s.Out, o.Output, speedKeys, records)
			})
		},
	}
	addPrincipalConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	addPrincipalFlags(cmd, &o.Principal, "limits to show")
	return cmd
}

func newSpeedSetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &speedOptions{}
	var l dsm.SpeedLimit
	var off bool
	cmd := &cobra.Command{
		Use:   "set PROTOCOL (--user NAME | --group NAME) (--upload KBPS --download KBPS | --off) [--schedule PLAN --upload2 KBPS --download2 KBPS]",
		Short: "Set the speed limit of a user or a group for one protocol",
		Long: `Set the speed limit of a user or a group for one protocol
(SYNO.Core.BandwidthControl set); the other protocols keep theirs.
--upload and --download are in KB/s, 0 for no limit. --off turns the limit
off. --schedule makes it follow a weekly schedule: 168 characters, one per
hour from Sunday 00:00, each 0 (no limit), 1 (--upload and --download) or
2 (--upload2 and --download2).`,
		Example: `  dsmctl speed set FTP --user alice --upload 1024 --download 2048
  dsmctl speed set WebDAV --group staff --off`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			who, err := o.Principal.principal()
			if err != nil {
				return err
			}
			l.Protocol = args[0]
			switch {
			case off && (cmd.Flags().Changed("upload") || cmd.Flags().Changed("download") || l.Schedule != ""):
				return usagef("--off takes no limits and no schedule")
			case off:
				l.Policy = dsm.SpeedDisabled
			case l.Schedule != "":
				l.Policy = dsm.SpeedScheduled
				if err := dsm.ValidateSchedule(l.Schedule); err != nil {
					return usagef("--schedule: %v", err)
				}
			case !cmd.Flags().Changed("upload") && !cmd.Flags().Changed("download"):
				return usagef("give --upload and --download (KB/s), --schedule, or --off")
			default:
				l.Policy = dsm.SpeedEnabled
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return withClient(cmd.Context(), &o.conn, s, func(c *dsm.Client) error {
				if err := c.Speed.Set(cmd.Context(), who, l); err != nil {
					return notFound(who, err)
				}
				fmt.Fprintf(s.Out, "set the %s speed limit of %s: %s\n", l.Protocol, who, l.Policy)
				return nil
			})
		},
	}
	addPrincipalConnFlags(cmd, &o.conn)
	addPrincipalFlags(cmd, &o.Principal, "limit to set")
	cmd.Flags().IntVar(&l.Upload, "upload", 0, "upload limit, KB/s (0: none)")
	cmd.Flags().IntVar(&l.Download, "download", 0, "download limit, KB/s (0: none)")
	cmd.Flags().IntVar(&l.Upload2, "upload2", 0, "second upload limit, KB/s, for the hours the schedule marks 2")
	cmd.Flags().IntVar(&l.Download2, "download2", 0, "second download limit, KB/s, for the hours the schedule marks 2")
	cmd.Flags().StringVar(&l.Schedule, "schedule", "", "weekly schedule: 168 characters of 0, 1 and 2")
	cmd.Flags().BoolVar(&off, "off", false, "turn the limit off")
	return cmd
}
