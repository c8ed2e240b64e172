package cli

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"rsc.io/qr"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/sim"
)

func newTwoFACmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "2fa",
		Short: "Set up 2-step verification for your own account, and list its trusted devices",
		Long: `Set up 2-step verification (a code from an authenticator app at each
login) for the account you are logged in as, as DSM's own wizard does
(SYNO.Core.OTP), and list or forget the devices it trusts
(SYNO.Core.TrustDevice). An administrator resets another user's with
"dsmctl user 2fa reset NAME"; "dsmctl policy 2fa" enforces it.`,
		Example: `  dsmctl 2fa setup
  dsmctl 2fa devices`,
	}
	parentCmd(cmd)
	cmd.AddCommand(newTwoFASetupCmd(s, getenv, g), newTwoFADevicesCmd(s, getenv, g), newTwoFAForgetCmd(s, getenv, g))
	return cmd
}

// twoFASetupOptions are the options of 2fa setup.
type twoFASetupOptions struct {
	conn       connOptions
	SecretFile string
	ShowURI    bool
}

// maxCodeTries is how many codes 2fa setup asks for before it gives up.
const maxCodeTries = 3

func newTwoFASetupCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &twoFASetupOptions{}
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Turn on 2-step verification for your account",
		Long: `Turn on 2-step verification for the account you are logged in as. DSM
makes a new seed; dsmctl draws its QR code on the terminal for the
authenticator app to scan, then asks for the code the app shows and
sends it to DSM, which turns 2-step verification on with that seed.
Until then nothing changes.

The seed is a secret: whoever has it can make codes. It goes only to
the terminal, never to standard output, a log line or an error.
--show-uri also prints the otpauth:// URI there, for apps that cannot
scan (it holds the seed). Both need standard input and standard error
to be a terminal.

Without a terminal, as a script setting up a service account,
--secret-file FILE writes the seed to a new file of mode 0600 and
dsmctl confirms it with a code it computes from the seed: "dsmctl login
--otp-secret-file FILE" then signs in with it. Keep the file as you
keep a password.`,
		Example: `  dsmctl 2fa setup
  dsmctl 2fa setup --show-uri
  dsmctl 2fa setup --secret-file ~/.config/dsmctl/svc.totp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			terminal := s.ReadLine != nil && s.ErrTerminal
			if o.ShowURI && !terminal {
				return usagef("--show-uri prints the seed, and only to a terminal: standard input or standard error is not one")
			}
			if !terminal && o.SecretFile == "" {
				return usagef("standard input or standard error is not a terminal, so dsmctl cannot show the QR code and ask for a code; " +
					"run it on a terminal, or give --secret-file FILE to keep the seed in a new file (mode 0600) and confirm with it")
			}
			if o.SecretFile != "" {
				if _, err := os.Lstat(o.SecretFile); err == nil {
					return usagef("--secret-file %s exists: give a new file (dsmctl does not overwrite a seed)", o.SecretFile)
				}
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runTwoFASetup(cmd.Context(), o, s, terminal)
		},
	}
	addConnFlags(cmd, &o.conn)
	cmd.Flags().StringVar(&o.SecretFile, "secret-file", "", "write the seed to this new file (mode 0600) and confirm with a code made from it, without a terminal")
	cmd.Flags().BoolVar(&o.ShowURI, "show-uri", false, "also print the otpauth:// URI (it holds the seed) on the terminal")
	return cmd
}

func runTwoFASetup(ctx context.Context, o *twoFASetupOptions, s *IOStreams, terminal bool) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		setup, err := c.TwoStep.Setup(ctx)
		if err != nil {
			return err
		}
		key, err := setup.Key()
		if err != nil {
			return err
		}
		if o.SecretFile != "" {
			if err := writeSecretFile(o.SecretFile, setup.Secret()); err != nil {
				return err
			}
		}
		confirmed := false
		defer func() {
			if !confirmed && o.SecretFile != "" {
				os.Remove(o.SecretFile) // a seed DSM never took is of no use
			}
		}()
		if !terminal {
			if err := c.TwoStep.Confirm(ctx, key.Code(time.Now())); err != nil {
				return fmt.Errorf("confirming the new seed: %w", err)
			}
		} else {
			fmt.Fprintf(s.ErrOut, "Scan this QR code with your authenticator app (account %s):\n\n", setup.Account)
			if err := drawQR(s.ErrOut, setup.URI()); err != nil {
				return err
			}
			if o.ShowURI {
				fmt.Fprintf(s.ErrOut, "\nor enter this URI in the app:\n%s\n", setup.URI())
			}
			fmt.Fprintln(s.ErrOut)
			for try := 1; ; try++ {
				code, err := s.ReadLine("Code the app shows: ")
				if err != nil {
					return err
				}
				err = c.TwoStep.Confirm(ctx, strings.TrimSpace(code))
				if err == nil {
					break
				}
				var ae *dsm.ArgError
				if try < maxCodeTries && (errors.Is(err, dsm.ErrOTPRejected) || errors.As(err, &ae)) {
					fmt.Fprintln(s.ErrOut, "That code was not accepted: type the 6 digits the app shows now.")
					continue
				}
				return fmt.Errorf("confirming the new seed: %w (2-step verification stays off: run dsmctl 2fa setup again)", err)
			}
		}
		confirmed = true
		fmt.Fprintf(s.Out, "2-step verification is on for %s\n", accountOf(setup.Account))
		if o.SecretFile != "" {
			fmt.Fprintf(s.Out, "the seed is in %s (mode 0600): dsmctl login --otp-secret-file %s signs in with it\n", o.SecretFile, o.SecretFile)
		}
		return nil
	})
}

// accountOf is the user name of DSM's "name@host" account label.
func accountOf(label string) string {
	if i := strings.LastIndex(label, "@"); i > 0 {
		return label[:i]
	}
	return label
}

// writeSecretFile writes seed to a new file of mode 0600.
func writeSecretFile(path, seed string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--secret-file: %w", err)
	}
	if _, err := fmt.Fprintln(f, seed); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("--secret-file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("--secret-file %s: %w", path, err)
	}
	return nil
}

// drawQR draws the QR code of text with half-block characters, two
// modules a line, dark on light whatever the terminal's colours (black
// on white set with ANSI codes), with a quiet zone of two modules.
func drawQR(w io.Writer, text string) error {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return fmt.Errorf("drawing the QR code: %w", err)
	}
	const quiet = 2
	dark := func(x, y int) bool {
		return x >= 0 && y >= 0 && x < code.Size && y < code.Size && code.Black(x, y)
	}
	var b strings.Builder
	for y := -quiet; y < code.Size+quiet; y += 2 {
		b.WriteString("\x1b[30;47m")
		for x := -quiet; x < code.Size+quiet; x++ {
			top, bottom := dark(x, y), dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString("\x1b[0m\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func newTwoFADevicesCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &policyOptions{}
	return securityCmd(s, getenv, g, o, &cobra.Command{
		Use:   "devices",
		Short: "List the devices your 2-step verification trusts",
		Long: `List the devices whose token lets your account sign in without a code
(SYNO.Core.TrustDevice get). "dsmctl 2fa forget ID" stops trusting one.`,
		Example: `  dsmctl 2fa devices`,
	}, cobra.NoArgs, func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			devs, err := c.TwoStep.Devices(ctx)
			if err != nil {
				return err
			}
			recs := make([]record, 0, len(devs))
			for _, d := range devs {
				recs = append(recs, record{{"id", d.ID}, {"name", d.Name}})
			}
			return printList(s.Out, o.Output, []string{"id", "name"}, recs)
		})
	})
}

func newTwoFAForgetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &policyOptions{}
	return securityCmd(s, getenv, g, o, &cobra.Command{
		Use:   "forget ID",
		Short: "Stop trusting a device of your account",
		Long: `Stop trusting the device ID ("dsmctl 2fa devices" lists them): its next
login needs a code (SYNO.Core.TrustDevice delete).`,
		Example: `  dsmctl 2fa forget 3f2a9c01d4e5b6a7`,
	}, cobra.ExactArgs(1), func(ctx context.Context, _ *cobra.Command, args []string) error {
		return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
			if err := c.TwoStep.ForgetDevice(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "device %s is no longer trusted\n", args[0])
			return nil
		})
	})
}

// newUserTwoFACmd is "dsmctl user 2fa": another user's 2-step
// verification, for administrators.
func newUserTwoFACmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "2fa",
		Short: "Show or reset a user's 2-step verification",
		Long: `Show whether a user has 2-step verification, or reset it
(SYNO.Core.OTP.Admin get and reset): after a reset the user signs in
with the password alone, and sets it up again with "dsmctl 2fa setup"
(or must, when "dsmctl policy 2fa" enforces it).`,
		Example: `  dsmctl user 2fa status alice
  dsmctl user 2fa reset alice`,
	}
	parentCmd(cmd)
	status := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, status, &cobra.Command{
		Use:   "status NAME",
		Short: "Show whether a user has 2-step verification",
		Long: `Show whether the user NAME has 2-step verification
(SYNO.Core.OTP.Admin get).`,
		Example: `  dsmctl user 2fa status alice`,
	}, cobra.ExactArgs(1), func(ctx context.Context, _ *cobra.Command, args []string) error {
		if err := checkUserNames(args...); err != nil {
			return usagef("%v", err)
		}
		return withClient(ctx, &status.conn, s, func(c *dsm.Client) error {
			on, err := c.TwoStep.Status(ctx, args[0])
			if err != nil {
				return err
			}
			return printRecord(s.Out, status.Output, record{{"name", args[0]}, {"2fa", on}})
		})
	}))
	reset := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, reset, &cobra.Command{
		Use:   "reset NAME",
		Short: "Turn off a user's 2-step verification, so they can set it up again",
		Long: `Turn off the 2-step verification of the user NAME and forget the devices
it trusted (SYNO.Core.OTP.Admin reset), as DSM's "reset 2-step
verification" does, for a user who lost the authenticator app.`,
		Example: `  dsmctl user 2fa reset alice`,
	}, cobra.ExactArgs(1), func(ctx context.Context, _ *cobra.Command, args []string) error {
		if err := checkUserNames(args...); err != nil {
			return usagef("%v", err)
		}
		return withClient(ctx, &reset.conn, s, func(c *dsm.Client) error {
			if err := c.TwoStep.Reset(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "2-step verification of %s is reset\n", args[0])
			return nil
		})
	}))
	return cmd
}

// enforceNames are the values of policy 2fa set --enforce, and what DSM
// calls them.
var enforceNames = []struct {
	flag string
	e    dsm.TwoStepEnforcement
}{{"none", dsm.EnforceNone}, {"admins", dsm.EnforceAdmins}, {"all", dsm.EnforceAll}, {"custom", dsm.EnforceCustom}}

func enforceFlag(e dsm.TwoStepEnforcement) string {
	for _, n := range enforceNames {
		if n.e == e {
			return n.flag
		}
	}
	return string(e)
}

// newPolicyTwoFACmd is "dsmctl policy 2fa": the 2-step enforcement policy.
func newPolicyTwoFACmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "2fa",
		Short: "Show and set whose accounts must have 2-step verification",
		Long: `Show and set the 2-step enforcement policy (SYNO.Core.OTP.EnforcePolicy):
none, admins (members of administrators) or all users. An account the
policy covers that has no 2-step verification cannot sign in until it
sets it up: set yours up first ("dsmctl 2fa setup"). DSM 7's custom
policy (chosen users and groups) is shown as custom; set it in DSM.`,
		Example: `  dsmctl policy 2fa get
  dsmctl policy 2fa set --enforce admins`,
	}
	parentCmd(cmd)
	get := &policyOptions{}
	cmd.AddCommand(securityCmd(s, getenv, g, get, &cobra.Command{
		Use:   "get",
		Short: "Show the 2-step enforcement policy",
		Long: `Show whose accounts must have 2-step verification: none, admins, all or
custom (SYNO.Core.OTP.EnforcePolicy get).`,
		Example: `  dsmctl policy 2fa get -o json`,
	}, cobra.NoArgs, func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return withClient(ctx, &get.conn, s, func(c *dsm.Client) error {
			e, err := c.TwoStep.Enforcement(ctx)
			if err != nil {
				return err
			}
			return printRecord(s.Out, get.Output, record{{"enforce", enforceFlag(e)}})
		})
	}))
	set := &policyOptions{}
	var enforce string
	var force bool
	setCmd := securityCmd(s, getenv, g, set, &cobra.Command{
		Use:   "set --enforce none|admins|all",
		Short: "Set whose accounts must have 2-step verification",
		Long: `Set whose accounts must have 2-step verification
(SYNO.Core.OTP.EnforcePolicy set), then show the policy. Covered accounts
without it cannot sign in until they set it up: set yours up first. Your
own account is always covered (only an administrator sets the policy), so
without 2-step of your own the change is refused unless --force.`,
		Example: `  dsmctl policy 2fa set --enforce admins
  dsmctl policy 2fa set --enforce none`,
	}, cobra.NoArgs, func(ctx context.Context, _ *cobra.Command, _ []string) error {
		var e dsm.TwoStepEnforcement
		for _, n := range enforceNames[:3] {
			if n.flag == enforce {
				e = n.e
			}
		}
		if e == "" {
			return usagef("--enforce %q: use none, admins or all", enforce)
		}
		return withClient(ctx, &set.conn, s, func(c *dsm.Client) error {
			// Only an administrator may set the policy, so admins and all
			// both cover the account doing it: without 2-step of its own
			// it could not sign in again (DSM answers 406).
			if e != dsm.EnforceNone && !force {
				on, err := c.TwoStep.Enabled(ctx)
				if err != nil {
					return fmt.Errorf("checking the 2-step verification of your own account first: %w", err)
				}
				if !on {
					sess, _ := c.Auth.Session()
					return fmt.Errorf("policy not changed: %s has no 2-step verification, and with --enforce %s it could not sign in again; run \"dsmctl 2fa setup\" first, or pass --force", sess.Account, enforce)
				}
			}
			if err := c.TwoStep.SetEnforcement(ctx, e); err != nil {
				return err
			}
			now, err := c.TwoStep.Enforcement(ctx)
			if err != nil {
				return fmt.Errorf("the policy is set, but reading it back failed: %w", err)
			}
			return printRecord(s.Out, set.Output, record{{"enforce", enforceFlag(now)}})
		})
	})
	setCmd.Flags().StringVar(&enforce, "enforce", "", "whose accounts must have 2-step verification: none, admins or all")
	setCmd.Flags().BoolVar(&force, "force", false, "set the policy even though your own account has no 2-step verification (you could not sign in again)")
	cmd.AddCommand(setCmd)
	return cmd
}

// simUser is an account of dsmctl sim --user.
type simUser struct {
	name, password string
	seed           string // base32; "" without 2-step verification
	madeUp         bool   // the seed was made up: printed once at start
	err            error  // malformed: the value is not kept
}

// simUserFlag is dsmctl sim --user NAME:PASSWORD[:otp|:otp=SEED]. The
// name ends at the first colon; a final ":otp" gives the user 2-step
// verification with a seed made up at start (printed once, as the admin
// password is), ":otp=SEED" with that base32 seed.
type simUserFlag struct{ users *[]simUser }

func (f simUserFlag) String() string {
	if f.users == nil {
		return ""
	}
	names := make([]string, len(*f.users))
	for i, u := range *f.users {
		names[i] = u.name // never the password or the seed
	}
	return strings.Join(names, ",")
}

// Set records the account; a malformed one is reported by checkSimUsers
// and not here, as pflag would quote the value (and its password) in
// the error.
func (f simUserFlag) Set(v string) error {
	*f.users = append(*f.users, parseSimUser(v))
	return nil
}

func parseSimUser(v string) simUser {
	name, rest, ok := strings.Cut(v, ":")
	if !ok || name == "" {
		return simUser{err: errors.New("--user: want NAME:PASSWORD, NAME:PASSWORD:otp or NAME:PASSWORD:otp=SEED")}
	}
	if err := dsm.ValidateUserName(name); err != nil {
		return simUser{err: fmt.Errorf("--user: %w", err)}
	}
	u := simUser{name: name, password: rest}
	if pw, found := strings.CutSuffix(rest, ":otp"); found {
		u.password, u.madeUp = pw, true
		seed := make([]byte, 10)
		rand.Read(seed)
		u.seed = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed)
	} else if i := strings.LastIndex(rest, ":otp="); i >= 0 {
		u.password, u.seed = rest[:i], strings.ToUpper(rest[i+len(":otp="):])
		if _, err := dsm.TOTP(u.seed); err != nil {
			return simUser{err: fmt.Errorf("--user %s: the seed after otp= is not base32", name)}
		}
	}
	if u.password == "" {
		return simUser{err: fmt.Errorf("--user %s: the password is empty", name)}
	}
	return u
}

// checkSimUsers returns the first malformed --user as a usage error.
func checkSimUsers(users []simUser) error {
	for _, u := range users {
		if u.err != nil {
			return usagef("%v", u.err)
		}
	}
	return nil
}

func (f simUserFlag) Type() string { return "USER" }

// simUsers are the sim.Users of --user.
func simUsers(users []simUser) []sim.User {
	var out []sim.User
	for _, u := range users {
		out = append(out, sim.User{Name: u.name, Password: u.password, OTPSecret: u.seed})
	}
	return out
}

// printSimUsers tells which --user accounts the simulator has, and the
// seeds it made up: like the admin password, the one place they are
// printed, since the user asked for a simulator and needs them to sign
// in. A stored state keeps its accounts and ignores --user.
func printSimUsers(w io.Writer, users []simUser, stored bool) {
	if len(users) == 0 {
		return
	}
	if stored {
		fmt.Fprintln(w, "users: as stored in the state from an earlier run (--user applies to a new state only)")
		return
	}
	for _, u := range users {
		switch {
		case u.madeUp:
			fmt.Fprintf(w, "user %s: 2-step seed %s (dsmctl login --otp-secret-file FILE reads it from a file)\n", u.name, u.seed)
		case u.seed != "":
			fmt.Fprintf(w, "user %s: 2-step verification with the given seed\n", u.name)
		default:
			fmt.Fprintf(w, "user %s\n", u.name)
		}
	}
}
