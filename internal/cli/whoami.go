package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
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
		Long: `Show the account, the DSM URL, what DSM says about the user
(SYNO.Core.NormalUser get): full name, email, 2-step verification, and
what it says about the NAS (SYNO.DSM.Info getinfo): model and DSM version.
When DSM does not tell this account the model and version, they show as
"-" (null in json) and a note on standard error says why.`,
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
	// Model and DSMVersion are "" when DSM did not tell.
	Model      string `json:"model"`
	DSMVersion string `json:"dsm_version"`
	// SecureSignIn: the session was opened with DSM 7's secure sign-in
	// (a full session wherever the client is); without it, a session
	// from an address DSM counts as remote may only read.
	SecureSignIn bool `json:"secure_sign_in"`
}

// whoamiLine is one line of dsmctl whoami: its label and value for
// people, its key and value for programs.
type whoamiLine struct {
	label, text string
	key         string
	value       any
}

// lines are what whoami prints, in order, in every format. Each fact is
// one line here.
func (w whoami) lines() []whoamiLine {
	session := "full: DSM 7's secure sign-in (every request signed)"
	if !w.SecureSignIn {
		session = "without DSM 7's secure sign-in: limited to reading from an address DSM counts as remote"
	}
	return []whoamiLine{
		{"account", w.Account, "account", w.Account},
		{"url", w.URL, "url", w.URL},
		{"full name", orDash(w.Fullname), "fullname", w.Fullname},
		{"email", orDash(w.Email), "email", w.Email},
		{"2-step", onOff(w.OTPEnabled), "otp_enabled", w.OTPEnabled},
		{"model", orDash(w.Model), "model", orNil(w.Model)},
		{"dsm", orDash(w.DSMVersion), "dsm_version", orNil(w.DSMVersion)},
		{"session", session, "secure_sign_in", w.SecureSignIn},
	}
}

// runWhoami asks DSM who the session belongs to, and what the NAS is.
func runWhoami(ctx context.Context, o *whoamiOptions, s *IOStreams) (err error) {
	c, done, err := o.conn.connect(ctx, s)
	if err != nil {
		return err
	}
	defer func() {
		if derr := done(); derr != nil && err == nil {
			err = derr
		}
		o.conn.noteExpired(err)
	}()
	me, err := c.Auth.Whoami(ctx)
	if err != nil {
		return err
	}
	sess, _ := c.Auth.Session()
	w := whoami{Account: sess.Account, URL: c.BaseURL(), Fullname: me.Fullname, Email: me.Email, OTPEnabled: me.OTPEnabled,
		SecureSignIn: sess.SecureSignIn}
	if w.Account == "" {
		w.Account = me.Account
	}
	// DSM's own table lets every user read SYNO.DSM.Info, but a DSM that
	// refuses it, or lacks it, should not hide who is logged in.
	switch sys, err := c.System.Info(ctx); {
	case err == nil:
		w.Model, w.DSMVersion = sys.Model, sys.VersionString
	case errors.Is(err, dsm.ErrPermissionDenied):
		fmt.Fprintf(s.ErrOut, "note: DSM does not tell %s the model and DSM version (SYNO.DSM.Info getinfo: permission denied)\n", w.Account)
	case errors.Is(err, dsm.ErrUnsupported):
		fmt.Fprintf(s.ErrOut, "note: this DSM does not tell the model and DSM version (SYNO.DSM.Info getinfo is not supported)\n")
	default:
		return err
	}
	lines := w.lines()
	if o.Output != formatText {
		r := make(record, len(lines))
		for i, l := range lines {
			r[i] = field{l.key, l.value}
		}
		return printRecord(s.Out, o.Output, r)
	}
	tw := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintf(tw, "%s:\t%s\n", l.label, l.text)
	}
	return tw.Flush()
}

// orNil is nil for an empty string: none, for programs.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
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
