package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dsmkit/dsm"
)

func newPolicyCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Show and change the password policy, password expiry and reserved user names",
		Long: `Show and change the password strength policy
(SYNO.Core.User.PasswordPolicy), the password expiry settings
(SYNO.Core.User.PasswordExpiry), and list the reserved user names
(SYNO.Core.User.UsernamePolicy). The "set" commands read the current
settings and change only the flags given.`,
	}
	parentCmd(cmd)
	cmd.AddCommand(
		newPolicyPasswordCmd(s, getenv, g),
		newPolicyExpiryCmd(s, getenv, g),
		newPolicyReservedCmd(s, getenv, g),
		newPolicyTwoFACmd(s, getenv, g),
	)
	return cmd
}

// policyOptions are the options of the policy commands.
type policyOptions struct {
	conn   connOptions
	Output string
}

// policyCmd completes cmd with the connection and output flags and a RunE
// that checks them and calls run.
func policyCmd(s *IOStreams, getenv func(string) string, g *globalOptions, o *policyOptions, cmd *cobra.Command, run func(context.Context, *cobra.Command) error) *cobra.Command {
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkOutput(o.Output); err != nil {
			return err
		}
		if err := o.conn.complete(getenv, g); err != nil {
			return err
		}
		return run(cmd.Context(), cmd)
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func passwordPolicyRecord(p dsm.PasswordPolicy) record {
	st := p.Strong
	return record{
		{"min_length_enabled", st.MinLengthEnabled}, {"min_length", st.MinLength},
		{"mixed_case", st.MixedCase}, {"digit", st.Digit}, {"special", st.Special},
		{"exclude_username", st.ExcludeUsername}, {"exclude_common", st.ExcludeCommon},
		{"exclude_history", st.ExcludeHistory}, {"history_count", st.HistoryCount},
		{"must_change", p.MustChange}, {"reset_by_email", p.ResetByEmail},
	}
}

func newPolicyPasswordCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &policyOptions{}
	cmd := policyCmd(s, getenv, g, o, &cobra.Command{
		Use:   "password",
		Short: "Show the password strength policy",
		Long: `Show the password strength policy (SYNO.Core.User.PasswordPolicy get): the
rules a new password must meet. Change it with "dsmctl policy password set".`,
		Example: `  dsmctl policy password
  dsmctl policy password -o json`,
	}, func(ctx context.Context, _ *cobra.Command) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			p, err := c.Policy.PasswordPolicy(ctx)
			if err != nil {
				return err
			}
			return printRecord(s.Out, o.Output, passwordPolicyRecord(p))
		})
	})
	cmd.AddCommand(newPolicyPasswordSetCmd(s, getenv, g))
	return cmd
}

func newPolicyPasswordSetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &policyOptions{}
	var p dsm.PasswordPolicy // the flags' values; only changed ones apply
	var minLength int
	cmd := policyCmd(s, getenv, g, o, &cobra.Command{
		Use:   "set",
		Short: "Change rules of the password strength policy",
		Long: `Change the rules given as flags; every other rule keeps its value
(SYNO.Core.User.PasswordPolicy get, then set). Then show the policy.
--min-length 0 turns the minimum length off.`,
		Example: `  dsmctl policy password set --min-length 12 --special
  dsmctl policy password set --mixed-case=false
  dsmctl policy password set --exclude-history --history-count 5`,
	}, func(ctx context.Context, cmd *cobra.Command) error {
		f := cmd.Flags()
		if !anyChanged(f, "min-length", "mixed-case", "digit", "special", "exclude-username", "exclude-common", "exclude-history", "history-count", "must-change", "reset-by-email") {
			return usagef("nothing to change: give at least one rule as a flag; see --help")
		}
		if err := checkRange(f, "min-length", minLength, 0, dsm.MaxPasswordLength); err != nil {
			return err
		}
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			cur, err := c.Policy.PasswordPolicy(ctx)
			if err != nil {
				return err
			}
			st := &cur.Strong
			if f.Changed("min-length") {
				st.MinLengthEnabled = minLength > 0
				if minLength > 0 {
					st.MinLength = minLength
				}
			}
			setIf(f, "mixed-case", &st.MixedCase, p.Strong.MixedCase)
			setIf(f, "digit", &st.Digit, p.Strong.Digit)
			setIf(f, "special", &st.Special, p.Strong.Special)
			setIf(f, "exclude-username", &st.ExcludeUsername, p.Strong.ExcludeUsername)
			setIf(f, "exclude-common", &st.ExcludeCommon, p.Strong.ExcludeCommon)
			setIf(f, "exclude-history", &st.ExcludeHistory, p.Strong.ExcludeHistory)
			setIf(f, "history-count", &st.HistoryCount, p.Strong.HistoryCount)
			setIf(f, "must-change", &cur.MustChange, p.MustChange)
			setIf(f, "reset-by-email", &cur.ResetByEmail, p.ResetByEmail)
			if err := c.Policy.SetPasswordPolicy(ctx, cur); err != nil {
				return err
			}
			now, err := c.Policy.PasswordPolicy(ctx)
			if err != nil {
				return fmt.Errorf("the policy is set, but reading it back failed: %w", err)
			}
			return printSettings(s, o.Output, passwordPolicyRecord(now))
		})
	})
	f := cmd.Flags()
	f.IntVar(&minLength, "min-length", 0, "minimum length (0: no minimum)")
	f.BoolVar(&p.Strong.MixedCase, "mixed-case", false, "require upper and lower case letters")
	f.BoolVar(&p.Strong.Digit, "digit", false, "require a digit")
	f.BoolVar(&p.Strong.Special, "special", false, "require a special character")
	f.BoolVar(&p.Strong.ExcludeUsername, "exclude-username", false, "refuse passwords that contain the user name")
	f.BoolVar(&p.Strong.ExcludeCommon, "exclude-common", false, "refuse common passwords")
	f.BoolVar(&p.Strong.ExcludeHistory, "exclude-history", false, "refuse passwords used before (see --history-count)")
	f.IntVar(&p.Strong.HistoryCount, "history-count", 0, fmt.Sprintf("how many earlier passwords --exclude-history remembers (0-%d)", dsm.MaxPasswordHistory))
	f.BoolVar(&p.MustChange, "must-change", false, "new users must change their password at first login")
	f.BoolVar(&p.ResetByEmail, "reset-by-email", false, "let users reset a forgotten password by email")
	return cmd
}

// anyChanged reports whether any of the flags was given.
func anyChanged(f *pflag.FlagSet, names ...string) bool {
	for _, n := range names {
		if f.Changed(n) {
			return true
		}
	}
	return false
}

// setIf sets *dst to v when the flag name was given.
func setIf[T any](f *pflag.FlagSet, name string, dst *T, v T) {
	if f.Changed(name) {
		*dst = v
	}
}

func passwordExpiryRecord(e dsm.PasswordExpiry) record {
	return record{
		{"enabled", e.Enabled}, {"max_age", e.MaxAge},
		{"min_age_enabled", e.MinAgeEnabled}, {"min_age", e.MinAge},
		{"login_prompt", e.LoginPrompt}, {"login_prompt_days", e.LoginPromptDays},
		{"allow_reset_after_expired", e.AllowResetAfterExpired},
		{"mail_notification", e.MailNotification}, {"mail_notification_days", e.MailNotificationDays},
	}
}

func newPolicyExpiryCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &policyOptions{}
	cmd := policyCmd(s, getenv, g, o, &cobra.Command{
		Use:   "expiry",
		Short: "Show the password expiry settings",
		Long: `Show the password expiry settings (SYNO.Core.User.PasswordExpiry get): how
many days a password is valid, the minimum age, the login prompt and the
mail notification. Ages and prompts are in days. Change them with
"dsmctl policy expiry set".`,
		Example: `  dsmctl policy expiry
  dsmctl policy expiry -o yaml`,
	}, func(ctx context.Context, _ *cobra.Command) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			e, err := c.Policy.PasswordExpiry(ctx)
			if err != nil {
				return err
			}
			never, err := neverExpiring(ctx, c)
			if err != nil {
				return err
			}
			return printRecord(s.Out, o.Output, append(passwordExpiryRecord(e), field{"never_expire", never}))
		})
	})
	cmd.AddCommand(newPolicyExpirySetCmd(s, getenv, g))
	return cmd
}

func newPolicyExpirySetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &policyOptions{}
	var e dsm.PasswordExpiry // the flags' values; only changed ones apply
	var minAge, promptDays, mailDays int
	var never []string
	cmd := policyCmd(s, getenv, g, o, &cobra.Command{
		Use:   "set",
		Short: "Change the password expiry settings",
		Long: `Change the settings given as flags; every other setting keeps its value
(SYNO.Core.User.PasswordExpiry get, then set). Then show the settings.
--min-age, --login-prompt-days and --mail-notification-days 0 turn that
setting off. --never-expire names the users whose password never expires:
the whole list, so that the named users are exempt and every other user is
not ("" exempts nobody); dsmctl sets each user's flag that differs
(SYNO.Core.User set). Without it nobody's exemption changes.`,
		Example: `  dsmctl policy expiry set --enable --max-age 90 --login-prompt-days 7
  dsmctl policy expiry set --enable=false
  dsmctl policy expiry set --never-expire admin,backup`,
	}, func(ctx context.Context, cmd *cobra.Command) error {
		f := cmd.Flags()
		if !anyChanged(f, "enable", "max-age", "min-age", "login-prompt-days", "allow-reset-after-expired", "mail-notification-days", "never-expire") {
			return usagef("nothing to change: give at least one setting as a flag; see --help")
		}
		// Every value out of DSM's range is a usage error, before any
		// call, whether or not its setting is on.
		if err := errors.Join(
			checkRange(f, "max-age", e.MaxAge, 1, dsm.MaxPasswordAge),
			checkRange(f, "min-age", minAge, 0, dsm.MaxPasswordMinAge),
			checkRange(f, "login-prompt-days", promptDays, 0, dsm.MaxLoginPromptDays),
			checkRange(f, "mail-notification-days", mailDays, 0, dsm.MaxMailNotificationDays),
		); err != nil {
			return err
		}
		var neverList []string
		if f.Changed("never-expire") {
			neverList = []string{}
			for _, n := range never {
				if n = strings.TrimSpace(n); n != "" {
					if err := checkUserNames(n); err != nil {
						return err
					}
					neverList = append(neverList, n)
				}
			}
		}
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			cur, err := c.Policy.PasswordExpiry(ctx)
			if err != nil {
				return err
			}
			setIf(f, "enable", &cur.Enabled, e.Enabled)
			setIf(f, "max-age", &cur.MaxAge, e.MaxAge)
			setIf(f, "allow-reset-after-expired", &cur.AllowResetAfterExpired, e.AllowResetAfterExpired)
			days := func(flag string, n int, on *bool, dst *int) {
				if f.Changed(flag) {
					*on = n > 0
					if n > 0 {
						*dst = n
					}
				}
			}
			days("min-age", minAge, &cur.MinAgeEnabled, &cur.MinAge)
			days("login-prompt-days", promptDays, &cur.LoginPrompt, &cur.LoginPromptDays)
			days("mail-notification-days", mailDays, &cur.MailNotification, &cur.MailNotificationDays)
			var changes map[string]bool
			if neverList != nil {
				// Every name must exist before anything changes.
				if changes, err = neverExpireChanges(ctx, c, neverList); err != nil {
					return err
				}
			}
			if err := c.Policy.SetPasswordExpiry(ctx, cur, nil); err != nil {
				return err
			}
			for _, name := range slices.Sorted(maps.Keys(changes)) {
				if _, err := c.Users.Update(ctx, name, dsm.UserUpdateRequest{PasswordNeverExpires: dsm.Ptr(changes[name])}); err != nil {
					return fmt.Errorf("the settings are set, but exempting %s failed: %w", name, err)
				}
			}
			now, err := c.Policy.PasswordExpiry(ctx)
			if err != nil {
				return fmt.Errorf("the settings are set, but reading them back failed: %w", err)
			}
			never, err := neverExpiring(ctx, c)
			if err != nil {
				return fmt.Errorf("the settings are set, but reading them back failed: %w", err)
			}
			return printSettings(s, o.Output, append(passwordExpiryRecord(now), field{"never_expire", never}))
		})
	})
	f := cmd.Flags()
	f.BoolVar(&e.Enabled, "enable", false, "passwords expire (after --max-age days)")
	f.IntVar(&e.MaxAge, "max-age", 0, fmt.Sprintf("days a password is valid (1-%d)", dsm.MaxPasswordAge))
	f.IntVar(&minAge, "min-age", 0, fmt.Sprintf("days before a password may be changed again (1-%d, below --max-age; 0: off)", dsm.MaxPasswordMinAge))
	f.IntVar(&promptDays, "login-prompt-days", 0, fmt.Sprintf("tell users at login this many days before expiry (1-%d; 0: off)", dsm.MaxLoginPromptDays))
	f.BoolVar(&e.AllowResetAfterExpired, "allow-reset-after-expired", false, "let users change an expired password at login")
	f.IntVar(&mailDays, "mail-notification-days", 0, fmt.Sprintf("mail users this many days before expiry (1-%d; 0: off)", dsm.MaxMailNotificationDays))
	f.StringSliceVar(&never, "never-expire", nil, "the users whose password never expires, comma separated: exactly these (\"\": nobody)")
	return cmd
}

// neverExpiring returns the users whose password never expires, sorted.
func neverExpiring(ctx context.Context, c *dsm.Client) ([]string, error) {
	var out []string
	for u, err := range c.Users.All(ctx, dsm.ListOptions{Fields: []string{dsm.FieldPasswordNeverExpires}}) {
		if err != nil {
			return nil, err
		}
		if u.PasswordNeverExpires {
			out = append(out, u.Name)
		}
	}
	return out, nil
}

// neverExpireChanges returns the users whose exemption from expiry must
// change for exactly want to be exempt: name -> the new value. A name of
// want that is no user is ErrNoSuchUser.
func neverExpireChanges(ctx context.Context, c *dsm.Client, want []string) (map[string]bool, error) {
	wanted := map[string]string{} // lower-case -> as given
	for _, n := range want {
		wanted[strings.ToLower(n)] = n
	}
	changes := map[string]bool{}
	for u, err := range c.Users.All(ctx, dsm.ListOptions{Fields: []string{dsm.FieldPasswordNeverExpires}}) {
		if err != nil {
			return nil, err
		}
		k := strings.ToLower(u.Name)
		_, exempt := wanted[k]
		delete(wanted, k)
		if u.PasswordNeverExpires != exempt {
			changes[u.Name] = exempt
		}
	}
	for _, n := range wanted {
		return nil, fmt.Errorf("--never-expire: %s: %w (nothing changed)", n, dsm.ErrNoSuchUser)
	}
	return changes, nil
}

func newPolicyReservedCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &policyOptions{}
	return policyCmd(s, getenv, g, o, &cobra.Command{
		Use:   "reserved-names",
		Short: "List the names DSM refuses for new users",
		Long:  `List the user names DSM reserves (SYNO.Core.User.UsernamePolicy get).`,
		Example: `  dsmctl policy reserved-names
  dsmctl policy reserved-names -o json | jq -r '.[].name'`,
	}, func(ctx context.Context, _ *cobra.Command) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			names, err := c.Policy.ReservedNames(ctx)
			if err != nil {
				return err
			}
			records := make([]record, len(names))
			for i, n := range names {
				records[i] = record{{"name", n}}
			}
			return printList(s.Out, o.Output, []string{"name"}, records)
		})
	})
}

// confirmOptions are the options of dsmctl confirm-password.
type confirmOptions struct {
	conn      connOptions
	Output    string
	Stdin     bool
	ShowToken bool

	now func() time.Time // tests: the clock
}

func newConfirmPasswordCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &confirmOptions{}
	cmd := &cobra.Command{
		Use:   "confirm-password",
		Short: "Type the logged-in user's password again for a short-lived confirmation token",
		Long: `Check the logged-in user's password again (SYNO.Core.User.PasswordConfirm)
and get the token some root-level DSM APIs want in the
X-SYNO-CONFIRM-PW-TOKEN header. dsmctl prints when the token expires (about
5 minutes); the token itself only with --show-token, since it is a secret.

The password comes from the first line of standard input with
--password-stdin, from DSM_PASSWORD (which also logs in for this command),
or from a prompt on a terminal.`,
		Example: `  dsmctl confirm-password
  TOKEN=$(dsmctl confirm-password --show-token -o json | jq -r .token)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runConfirmPassword(cmd.Context(), o, s)
		},
	}
	addConnFlagsNoStdin(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	cmd.Flags().BoolVar(&o.Stdin, "password-stdin", false, "read the password from the first line of standard input")
	cmd.Flags().BoolVar(&o.ShowToken, "show-token", false, "print the token (a secret)")
	return cmd
}

func runConfirmPassword(ctx context.Context, o *confirmOptions, s *IOStreams) error {
	var pw string
	switch {
	case o.Stdin:
		p, err := readStdinLine(s.In)
		if err != nil {
			return err
		}
		pw = p
	case o.conn.Password != "":
		pw = o.conn.Password
	}
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		if pw == "" {
			if s.ReadSecret == nil {
				return usagef("no password: pass --password-stdin or set DSM_PASSWORD (standard input is not a terminal, so dsmctl cannot ask)")
			}
			sess, _ := c.Auth.Session()
			p, err := s.ReadSecret(fmt.Sprintf("Password of %s: ", sess.Account))
			if err != nil {
				return fmt.Errorf("reading the password: %w", err)
			}
			pw = p
		}
		tok, err := c.Auth.ConfirmPassword(ctx, pw)
		if err != nil {
			// DSM answers a wrong password here with 3124, "invalid
			// password", a code the library files with the passwords
			// a policy refuses (ErrWeakPassword): at this call it is a
			// failed authentication, exit code 4 as documented.
			if errors.Is(err, dsm.ErrWeakPassword) || errors.Is(err, dsm.ErrWrongCredentials) {
				return &authError{err: fmt.Errorf("confirm password: the password is wrong: %w", err)}
			}
			return fmt.Errorf("confirm password: %w", err)
		}
		now := time.Now
		if o.now != nil {
			now = o.now
		}
		left := tok.Expires.Sub(now()).Round(time.Second)
		r := record{{"expires", tok.Expires.Format(time.RFC3339)}}
		if o.ShowToken {
			r = append(r, field{"token", tok.Token}) // asked for
		}
		if o.Output != formatText {
			return printRecord(s.Out, o.Output, r)
		}
		s.confirmf("password confirmed; the token expires at %s (in %s)\n", tok.Expires.Format(time.TimeOnly), left)
		if o.ShowToken {
			fmt.Fprintf(s.Out, "token: %s\n", tok.Token)
		}
		return nil
	})
}

// checkRange refuses the value v of flag name, when given, outside lo to
// hi (a usage error); 0, when lo is 0, turns the setting off.
func checkRange(f *pflag.FlagSet, name string, v, lo, hi int) error {
	if !f.Changed(name) || (v >= lo && v <= hi) {
		return nil
	}
	if lo == 0 {
		return usagef("--%s %d: want 0 (off) or 1 to %d", name, v, hi)
	}
	return usagef("--%s %d: want %d to %d", name, v, lo, hi)
}

// printSettings shows the settings a set command left, which confirm the
// change: not at all with --quiet, unless -o asks for them.
func printSettings(s *IOStreams, format string, r record) error {
	if s.quiet && format == formatText {
		return nil
	}
	return printRecord(s.Out, format, r)
}
