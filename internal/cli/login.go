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

Contexts: a login is saved as a context (see "dsmctl context"), named
account@host[:port] or --context NAME, and made current; logging in again
to the same URL as the same account updates that context. Without --url
and DSM_URL, login goes to the DSM of the context (--context, DSM_CONTEXT,
else the current one: the latest login), and without --user and DSM_USER
as its account: after "session expired", "dsmctl login" alone logs in
again. Another account on the same NAS is another context, with its own
session.

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
  dsmctl login --url https://nas.example.net:5001 --user admin --require-secure-signin
  dsmctl login --url https://nas2:5001 --user admin --context office`,
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

// runLogin logs in, saves the session and the context (made or
// updated, and current) and the device token, and logs out the session
// it replaces.
func runLogin(ctx context.Context, o *loginOptions, s *IOStreams) error {
	st := o.conn.store()
	l, err := st.load()
	if err != nil {
		return err
	}
	name := o.conn.Context
	if name != "" {
		if err := validateContextName(name); err != nil {
			return fmt.Errorf("--context: %w", err)
		}
	}
	// Without --url and DSM_URL, login goes where the context is (the
	// latest login, a logout or an expiry included), by default as the
	// same account: what "session expired, run dsmctl login" needs.
	t, err := o.conn.resolve(l, true)
	if err != nil {
		return err
	}
	if t.url == "" {
		if name != "" {
			return usagef("no DSM URL: context %q is new; pass --url or set DSM_URL", name)
		}
		return usagef("no DSM URL: pass --url or set DSM_URL")
	}
	if t.account == "" {
		return usagef("no account: pass --user or set DSM_USER")
	}
	if name != "" && t.context != "" && t.context != name {
		return usagef("%s on %s is the context %q already (one context per URL and account): use --context %s, or rename it: dsmctl context rename %s %s",
			t.account, t.url, t.context, t.context, t.context, name)
	}
	o.conn.URL, o.conn.User = t.url, t.account
	url := t.url
	saveFP, forgetFP := "", false
	switch {
	case strings.HasPrefix(url, "http://"):
		if o.conn.Fingerprint != "" {
			return usagef("--fingerprint: %s is plain http, it has no certificate", url)
		}
		// Once per login: the commands that use the session later stay
		// quiet.
		s.warnf("%s is plain http: the password travels encrypted, but the session "+
			"(its id and SynoToken) travels in clear, and anyone on the network path can use it until it ends; "+
			"use https where you can (DSM: https on port 5001)", url)
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
	var old dsm.Session
	saved := l.sessionAt(url, o.conn.User)
	hadOld := saved != nil
	if hadOld {
		old = saved.Session
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
	replaced, err := saveLogin(st, name, url, sess)
	if err != nil {
		c.Auth.Logout(context.WithoutCancel(ctx))
		return fmt.Errorf("saving the session: %w", err)
	}
	o.conn.rememberAPIs(c, s)
	s.confirmf("logged in to %s as %s\n", url, sess.Account)
	s.confirmf("current context: %s\n", replaced.name)
	switch {
	case saveFP != "":
		if err := st.saveFingerprint(url, saveFP); err != nil {
			return fmt.Errorf("saving the trusted certificate: %w", err)
		}
		s.confirmf("trusted the certificate of %s (SHA-256 %s): later commands accept only it\n", url, dsm.FormatFingerprint(saveFP))
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
			s.confirmf("this device is now trusted: later logins of %s here need no 2-step code\n", sess.Account)
		}
	}
	if hadOld && old.SID != sess.SID {
		// End the session this login replaces; it may be long gone.
		o.conn.endSession(ctx, url, old, s)
	}
	if replaced.session != nil {
		// The context pointed at another login, whose session is
		// dropped: end it too.
		o.conn.endSession(ctx, replaced.url, *replaced.session, s)
	}
	return nil
}

// loginSaved is what saveLogin did: the context's name, and the session
// of the login the context named before, when it named another.
type loginSaved struct {
	name    string
	url     string
	session *dsm.Session
}

// saveLogin saves sess as the session of its account on url, and the
// context name (made when new; "" names it account@host[:port], or finds
// the context of that URL and account) as the current one. It reads the
// files again first: the login took time, another command may have
// saved meanwhile.
func saveLogin(st store, name, url string, sess dsm.Session) (loginSaved, error) {
	l, err := st.load()
	if err != nil {
		return loginSaved{}, err
	}
	var out loginSaved
	switch c := l.contextOf(url, sess.Account); {
	case name == "" && c != nil:
		name = c.Name
	case name == "":
		name = l.newName(url, sess.Account)
	case c != nil && c.Name != name:
		return loginSaved{}, fmt.Errorf("%s on %s became the context %q meanwhile", sess.Account, url, c.Name)
	}
	if prev := l.context(name); prev != nil && (prev.URL != url || !strings.EqualFold(prev.Account, sess.Account)) {
		if ps := l.sessionAt(prev.URL, prev.Account); ps != nil {
			out.url, out.session = prev.URL, &ps.Session
		}
		l.dropSession(prev.URL, prev.Account)
	}
	l.putSession(url, sess)
	l.putContext(savedContext{Name: name, URL: url, Account: sess.Account})
	l.setCurrent(name)
	out.name = name
	return out, st.save(l)
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
		Long: `End the saved session of the context on DSM and remove it from the config
directory. The context stays (its session shows as none in "dsmctl context
list"), so "dsmctl login" alone logs in there again; "dsmctl context
delete" removes it. --url, --user, --context and their variables pick the
login as for every command.

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
	cmd.Flags().StringVar(&o.conn.URL, "url", "", "DSM address (default $DSM_URL, else the context's)")
	cmd.Flags().StringVarP(&o.conn.User, "user", "u", "", "DSM account (default $DSM_USER, else the context's)")
	addCertFlags(cmd, &o.conn)
	return cmd
}

// runLogout ends the saved session of the context on DSM and forgets it;
// the context stays.
func runLogout(ctx context.Context, o *logoutOptions, s *IOStreams) error {
	st := o.conn.store()
	l, err := st.load()
	if err != nil {
		return err
	}
	t, err := o.conn.resolve(l, false)
	if err != nil {
		return err
	}
	var saved *savedSession
	if t.url != "" && t.account != "" {
		saved = l.sessionAt(t.url, t.account)
	}
	if saved == nil {
		switch {
		case t.url == "":
			fmt.Fprintln(s.ErrOut, "not logged in")
		case t.account == "":
			fmt.Fprintf(s.ErrOut, "not logged in to %s\n", t.url)
		default:
			fmt.Fprintf(s.ErrOut, "not logged in to %s as %s\n", t.url, t.account)
		}
		return nil
	}
	url, sess := t.url, saved.Session
	c, err := o.conn.client(url, s, dsm.WithSession(sess))
	if err != nil {
		return err
	}
	lerr := c.Auth.Logout(ctx)
	if l, err = st.load(); err == nil {
		l.dropSession(url, sess.Account)
		err = st.save(l)
	}
	if err != nil {
		return fmt.Errorf("removing the saved session: %w", err)
	}
	if lerr != nil {
		// Said before the error, which may come with a certificate
		// warning of its own.
		fmt.Fprintf(s.ErrOut, "the saved session of %s is removed, but DSM did not confirm the logout\n", url)
		return lerr
	}
	s.confirmf("logged out of %s\n", url)
	return nil
}
