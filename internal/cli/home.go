package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

func newHomeCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "home",
		Short: "Show, turn on and turn off the user home service",
		Long: `Show, turn on and turn off DSM's user home service (SYNO.Core.User.Home):
a home folder for every user in the shared folder homes.`,
		Example: `  dsmctl home get
  dsmctl home enable --volume /volume1`,
	}
	parentCmd(cmd)
	cmd.AddCommand(newHomeGetCmd(s, getenv, g), newHomeEnableCmd(s, getenv, g), newHomeDisableCmd(s, getenv, g))
	return cmd
}

func homeRecord(h dsm.HomeSettings) record {
	return record{{"enabled", h.Enabled}, {"location", h.Location}, {"recycle_bin", h.RecycleBin}}
}

// homeOptions are the options of the home commands.
type homeOptions struct {
	conn       connOptions
	Output     string
	Volume     string
	RecycleBin bool
}

// homeCmd completes a home command: flags, checks, then run.
func homeCmd(s *IOStreams, getenv func(string) string, g *globalOptions, o *homeOptions, cmd *cobra.Command, run func(context.Context, *homeOptions, *IOStreams) error) *cobra.Command {
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutput(o.Output); err != nil {
			return err
		}
		if err := o.conn.complete(getenv, g); err != nil {
			return err
		}
		return run(cmd.Context(), o, s)
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func newHomeGetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &homeOptions{}
	return homeCmd(s, getenv, g, o, &cobra.Command{
		Use:     "get",
		Short:   "Show whether the home service is on, and where",
		Long:    `Show whether the user home service is on, the volume of homes and its recycle bin (SYNO.Core.User.Home get).`,
		Example: `  dsmctl home get -o json`,
	}, func(ctx context.Context, o *homeOptions, s *IOStreams) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			h, err := c.Home.Get(ctx)
			if err != nil {
				return err
			}
			return printRecord(s.Out, o.Output, homeRecord(h))
		})
	})
}

func newHomeEnableCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &homeOptions{}
	cmd := homeCmd(s, getenv, g, o, &cobra.Command{
		Use:   "enable",
		Short: "Turn the home service on",
		Long: `Turn the user home service on, with homes on the volume given by its
path (/volume1, not volume1), and wait for the task DSM may run for it
(SYNO.Core.User.Home set, then status).`,
		Example: `  dsmctl home enable --volume /volume1 --recycle-bin`,
	}, func(ctx context.Context, o *homeOptions, s *IOStreams) error {
		if err := dsm.ValidateVolume(o.Volume); err != nil {
			return usagef("--volume: %v", err)
		}
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			task, err := c.Home.Enable(ctx, o.Volume, o.RecycleBin)
			if err == nil && task != nil {
				err = task.Wait(ctx)
			}
			if err != nil {
				return fmt.Errorf("enable the home service: %w", err)
			}
			return printHome(ctx, c, o, s, "home service on")
		})
	})
	cmd.Flags().StringVar(&o.Volume, "volume", "/volume1", "the volume's path for homes")
	cmd.Flags().BoolVar(&o.RecycleBin, "recycle-bin", false, "turn the recycle bin of homes on")
	return cmd
}

func newHomeDisableCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &homeOptions{}
	return homeCmd(s, getenv, g, o, &cobra.Command{
		Use:   "disable",
		Short: "Turn the home service off",
		Long: `Turn the user home service off (SYNO.Core.User.Home set). The shared
folder homes and the files in it stay.`,
		Example: `  dsmctl home disable`,
	}, func(ctx context.Context, o *homeOptions, s *IOStreams) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			task, err := c.Home.Disable(ctx)
			if err == nil && task != nil {
				err = task.Wait(ctx)
			}
			if err != nil {
				return fmt.Errorf("disable the home service: %w", err)
			}
			return printHome(ctx, c, o, s, "home service off")
		})
	})
}

// printHome reads the settings back: a line for people, the record for
// scripts.
func printHome(ctx context.Context, c *dsm.Client, o *homeOptions, s *IOStreams, line string) error {
	h, err := c.Home.Get(ctx)
	if err != nil {
		return err
	}
	if o.Output != formatText {
		return printRecord(s.Out, o.Output, homeRecord(h))
	}
	if h.Enabled {
		line += ", homes on " + h.Location
	}
	fmt.Fprintln(s.Out, line)
	return nil
}
