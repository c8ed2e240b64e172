package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

// loginOptions are the options of dsmctl login.
type loginOptions struct {
	conn connOptions
	// RequireSecureSignIn refuses a login without DSM 7's secure sign-in
	// (--require-secure-signin).
	RequireSecureSignIn bool
}

func newLoginCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to DSM and save the session",
		Long: `Log in to DSM and save the session, so that later commands need no password.

The password comes from DSM_PASSWORD, from the first line of standard input
with --password-stdin, or from a prompt on a terminal; there is no flag for
it.

2-step verification: when DSM asks for a code, login prompts for it on a
terminal, after asking whether to trust this device. A trusted device gets
a device token from DSM, saved in the config directory, so later logins of
that account on that DSM need no code (logout keeps the token). Without a
terminal, give the code with --otp CODE, or the account's TOTP seed with
--otp-secret-file FILE (base32 text or an otpauth:// URI, in a file only
you can read: mode 0600): dsmctl computes the code, and waits for the next
30-second window when DSM says the current code was already used. With
--otp or --otp-secret-file, login always asks DSM to trust this device and
saves the token.

Certificates: over https, login fetches the NAS's certificate before
anything is sent. One the system trusts is used as is. Any other (a NAS's
self-signed certificate) is shown (subject, issuer, validity, SHA-256
fingerprint) and, on a terminal, login asks whether to trust it (default
no); --fingerprint HEX trusts it without asking when it has that
fingerprint (colons and case ignored). The trusted fingerprint is saved
with the login (per URL) and every later command accepts only that
certificate: a different one is refused with a warning, until you accept
it deliberately with "dsmctl login --fingerprint NEW" (login accepts, and
says so, a new certificate that the system trusts). --insecure skips
the check entirely and warns each time. Over plain http the password
travels encrypted but the session does not: login warns.

Without --url and DSM_URL, login goes to the DSM of the latest login, and
without --user and DSM_USER as the same account: after "session expired",
"dsmctl login" alone logs in again.

Secure sign-in: on DSM 7, login does DSM's own secure sign-in (a Noise
handshake) and every later request of the session is signed with a number
used once. From an address DSM counts as remote (a NAS reached over the
internet), a session without it may only read. When the NAS does not offer
it (DSM 6, a proxy that drops its cookie), login goes on without it;
--require-secure-signin refuses instead, and says why. "dsmctl whoami"
tells which kind of session is saved. A signed session is used by one
dsmctl command at a time: another waits for it (at most a minute).

The session is saved in the config directory ($DSM_CONFIG_DIR, default the
user config directory + /dsmctl), which only its owner may read.`,
		Example: `  dsmctl login --url https://nas:5001 --user admin
  echo "$PASS" | dsmctl login --url http://127.0.0.1:5000 --user admin --password-stdin
  DSM_URL=https://nas:5001 DSM_USER=alice dsmctl login --otp 123456
  dsmctl login --url https://nas:5001 --user admin --fingerprint 3f9a...c2
  DSM_PASSWORD=... dsmctl login --url nas --user backup --otp-secret-file ~/.config/dsmctl/backup.totp
  dsmctl login --url https://nas.example.net:5001 --user admin --require-secure-signin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runLogin(cmd.Context(), o, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	cmd.Flags().BoolVar(&o.RequireSecureSignIn, "require-secure-signin", false, "refuse to log in without DSM 7's secure sign-in, whose absence limits a session from a remote address to reading")
	return cmd
}

// runLogin logs in, saves the session as the current one and the device
// token, and logs out the session it replaces.
func runLogin(ctx context.Context, o *loginOptions, s *IOStreams) error {
	st := o.conn.store()
	if o.conn.URL == "" {
		// Log in again where the latest login was (a logout or an expiry
		// included), by default as the same account: what "session
		// expired, run dsmctl login" needs.
		url, account, err := st.latest("")
		if err != nil {
			return err
		}
		if url == "" {
			return usagef("no DSM URL: pass --url or set DSM_URL")
		}
		o.conn.URL = url
		if o.conn.User == "" {
			o.conn.User = account
		}
	}
	if o.conn.User == "" {
		// The account of the latest login at this URL.
		url, err := baseURL(o.conn.URL)
		if err != nil {
			return err
		}
		if _, account, err := st.latest(url); err != nil {
			return err
		} else if account != "" {
			o.conn.User = account
		}
	}
	if o.conn.User == "" {
		return usagef("no account: pass --user or set DSM_USER")
	}
	url, err := baseURL(o.conn.URL)
	if err != nil {
		return err
	}
	saveFP, forgetFP := "", false
	switch {
	case strings.HasPrefix(url, "http://"):
		if o.conn.Fingerprint != "" {
			return usagef("--fingerprint: %s is plain http, it has no certificate", url)
		}
		// Once per login: the commands that use the session later stay
		// quiet.
		fmt.Fprintf(s.ErrOut, "warning: %s is plain http: the password travels encrypted, but the session "+
			"(its id and SynoToken) travels in clear, and anyone on the network path can use it until it ends; "+
			"use https where you can (DSM: https on port 5001)\n", url)
	case !o.conn.Insecure:
		if saveFP, forgetFP, err = o.conn.trustCertificate(ctx, url, s); err != nil {
			return err
		}
	}
	var extra []dsm.Option
	if o.RequireSecureSignIn {
		extra = append(extra, dsm.WithSecureSignIn(dsm.SecureSignInRequired))
	}
	c, err := o.conn.client(url, s, extra...)
	if err != nil {
		return err
	}
	_, old, hadOld, err := st.session(url)
	if err != nil {
		return err
	}
	pw, err := o.conn.password(s, url)
	if err != nil {
		return err
	}
	oldToken, err := st.deviceToken(url, o.conn.User)
	if err != nil {
		return err
	}
	sess, withCode, err := o.conn.login(ctx, c, pw, true, s)
	if err != nil {
		return err
	}
	if err := st.saveSession(url, sess); err != nil {
		c.Auth.Logout(context.WithoutCancel(ctx))
		return fmt.Errorf("saving the session: %w", err)
	}
	o.conn.rememberAPIs(c, s)
	fmt.Fprintf(s.Out, "logged in to %s as %s\n", url, sess.Account)
	switch {
	case saveFP != "":
		if err := st.saveFingerprint(url, saveFP); err != nil {
			return fmt.Errorf("saving the trusted certificate: %w", err)
		}
		fmt.Fprintf(s.Out, "trusted the certificate of %s (SHA-256 %s): later commands accept only it\n", url, dsm.FormatFingerprint(saveFP))
	case forgetFP:
		if err := st.removeFingerprint(url); err != nil {
			return fmt.Errorf("forgetting the trusted certificate: %w", err)
		}
	}
	if sess.DeviceID != "" && sess.DeviceID != oldToken {
		if err := st.saveDeviceToken(url, sess.Account, sess.DeviceID); err != nil {
			return fmt.Errorf("saving the device token: %w", err)
		}
		if withCode {
			fmt.Fprintf(s.Out, "this device is now trusted: later logins of %s here need no 2-step code\n", sess.Account)
		}
	}
	if hadOld && old.SID != sess.SID {
		// End the session this login replaces; it may be long gone.
		if prev, err := o.conn.client(url, s, dsm.WithSession(old)); err == nil {
			prev.Auth.Logout(ctx)
		}
	}
	return nil
}

// logoutOptions are the options of dsmctl logout.
type logoutOptions struct {
	conn connOptions
}

func newLogoutCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "End the saved session on DSM and forget it",
		Long: `End the saved session on DSM and remove it from the config directory.

The device token of a 2-step login is kept: the next login of that account
needs no code. Logging out when not logged in does nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runLogout(cmd.Context(), o, s)
		},
	}
	cmd.Flags().StringVar(&o.conn.URL, "url", "", "DSM address (default $DSM_URL, else the latest login)")
	addCertFlags(cmd, &o.conn)
	return cmd
}

// runLogout ends the saved session of the URL on DSM and forgets it.
func runLogout(ctx context.Context, o *logoutOptions, s *IOStreams) error {
	url := ""
	if o.conn.URL != "" {
		var err error
		if url, err = baseURL(o.conn.URL); err != nil {
			return err
		}
	}
	st := o.conn.store()
	url, sess, ok, err := st.session(url)
	if err != nil {
		return err
	}
	if !ok {
		if url == "" {
			fmt.Fprintln(s.ErrOut, "not logged in")
		} else {
			fmt.Fprintf(s.ErrOut, "not logged in to %s\n", url)
		}
		return nil
	}
	c, err := o.conn.client(url, s, dsm.WithSession(sess))
	if err != nil {
		return err
	}
	lerr := c.Auth.Logout(ctx)
	if err := st.removeSession(url); err != nil {
		return fmt.Errorf("removing the saved session: %w", err)
	}
	if lerr != nil {
		// Said before the error, which may come with a certificate
		// warning of its own.
		fmt.Fprintf(s.ErrOut, "the saved session of %s is removed, but DSM did not confirm the logout\n", url)
		return lerr
	}
	fmt.Fprintf(s.Out, "logged out of %s\n", url)
	return nil
}
