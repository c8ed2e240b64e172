package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// whoamiOptions are the options of dsmctl whoami.
type whoamiOptions struct {
	conn   connOptions
	Output string
}

func newWhoamiCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &whoamiOptions{}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who is logged in, on which DSM",
		Long: `Show the account, the DSM URL and what DSM says about the user
(SYNO.Core.NormalUser get): full name, email, 2-step verification.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runWhoami(cmd.Context(), o, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	return cmd
}

// whoami is what dsmctl whoami prints.
type whoami struct {
	Account    string `json:"account"`
	URL        string `json:"url"`
	Fullname   string `json:"fullname"`
	Email      string `json:"email"`
	OTPEnabled bool   `json:"otp_enabled"`
}

// runWhoami asks DSM who the session belongs to.
func runWhoami(ctx context.Context, o *whoamiOptions, s *IOStreams) (err error) {
	c, done, err := o.conn.connect(ctx, s)
	if err != nil {
		return err
	}
	defer func() {
		if derr := done(); derr != nil && err == nil {
			err = derr
		}
	}()
	me, err := c.Auth.Whoami(ctx)
	if err != nil {
		return err
	}
	sess, _ := c.Auth.Session()
	w := whoami{Account: sess.Account, URL: c.BaseURL(), Fullname: me.Fullname, Email: me.Email, OTPEnabled: me.OTPEnabled}
	if w.Account == "" {
		w.Account = me.Account
	}
	if o.Output != formatText {
		return printRecord(s.Out, o.Output, record{
			{"account", w.Account}, {"url", w.URL}, {"fullname", w.Fullname},
			{"email", w.Email}, {"otp_enabled", w.OTPEnabled},
		})
	}
	tw := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "account:\t%s\n", w.Account)
	fmt.Fprintf(tw, "url:\t%s\n", w.URL)
	fmt.Fprintf(tw, "full name:\t%s\n", orDash(w.Fullname))
	fmt.Fprintf(tw, "email:\t%s\n", orDash(w.Email))
	fmt.Fprintf(tw, "2-step:\t%s\n", onOff(w.OTPEnabled))
	return tw.Flush()
}

// orDash shows an empty value as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
