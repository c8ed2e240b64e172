package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

// connOptions say which DSM to talk to and as whom. Every command that
// talks to DSM has them.
type connOptions struct {
	// URL is the DSM address (--url, else DSM_URL). Empty: the URL of
	// the context (see resolve).
	URL string
	// User is the account (--user, else DSM_USER).
	User string
	// Password comes from DSM_PASSWORD. There is no flag for it: a flag
	// value shows in the process list and the shell history.
	Password string
	// PasswordStdin reads the password from the first line of standard
	// input (--password-stdin); it wins over DSM_PASSWORD.
	PasswordStdin bool
	// OTP is a 2-step verification code (--otp).
	OTP string
	// ConfigDir holds saved sessions and device tokens.
	ConfigDir string
	// Context names the saved login to use (--context, else
	// DSM_CONTEXT); see resolve for how it combines with URL and User.
	Context string
	// used is the saved login connect resumed, if it did.
	used target
	// DeviceName is what DSM shows for the device token a login asks for.
	DeviceName string
	// Debug traces DSM calls to the error stream.
	Debug bool
	// Insecure turns the certificate check off (--insecure); each use
	// prints a warning.
	Insecure bool
	// Fingerprint trusts exactly the certificate with this SHA-256
	// fingerprint (--fingerprint): 64 lower-case hex digits once
	// complete has run.
	Fingerprint string
	// OTPSecretFile names a file holding the account's base32 TOTP seed
	// (--otp-secret-file); complete reads it into totp.
	OTPSecretFile string
	totp          *dsm.TOTPKey

	// pinSet says login has decided how to check the certificate: pin
	// is the fingerprint to trust, or "" for the system's roots.
	pinSet bool
	pin    string
	// warnedInsecure: the --insecure warning is printed once per command.
	warnedInsecure bool
}

// addConnFlags declares the connection flags on cmd.
func addConnFlags(cmd *cobra.Command, o *connOptions) {
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "DSM address, e.g. https://nas:5001 (default $DSM_URL, else the context's)")
	f.StringVarP(&o.User, "user", "u", "", "DSM account (default $DSM_USER, else the context's)")
	f.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	addSecurityFlags(cmd, o)
}

// addSecurityFlags declares the 2-step and certificate flags.
func addSecurityFlags(cmd *cobra.Command, o *connOptions) {
	f := cmd.Flags()
	f.StringVar(&o.OTP, "otp", "", "2-step verification code, for an account that has it")
	f.StringVar(&o.OTPSecretFile, "otp-secret-file", "", "file (mode 0600) holding the account's base32 2-step (TOTP) seed: codes are computed, for unattended runs")
	addCertFlags(cmd, o)
}

// addCertFlags declares --fingerprint and --insecure.
func addCertFlags(cmd *cobra.Command, o *connOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Fingerprint, "fingerprint", "", "trust exactly the https certificate with this SHA-256 fingerprint (64 hex digits; colons and case ignored)")
	f.BoolVar(&o.Insecure, "insecure", false, "do not check the https certificate at all (unsafe: anyone on the network path can pose as the NAS); prefer --fingerprint")
}

// addConnFlagsNoStdin declares the connection flags but --password-stdin,
// for commands where standard input carries another password (a new
// user's): they log in with DSM_PASSWORD or the saved session.
func addConnFlagsNoStdin(cmd *cobra.Command, o *connOptions) {
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "DSM address, e.g. https://nas:5001 (default $DSM_URL, else the context's)")
	f.StringVarP(&o.User, "user", "u", "", "DSM account (default $DSM_USER, else the context's)")
	addSecurityFlags(cmd, o)
}

// complete fills what flags left unset from the environment.
func (o *connOptions) complete(getenv func(string) string, g *globalOptions) error {
	if o.URL == "" {
		o.URL = getenv("DSM_URL")
	}
	if o.User == "" {
		o.User = getenv("DSM_USER")
	}
	o.Password = getenv("DSM_PASSWORD")
	if o.Context = g.Context; o.Context == "" {
		o.Context = getenv("DSM_CONTEXT")
	}
	if err := dsm.ValidateOTPCode(o.OTP); err != nil {
		return fmt.Errorf("--otp: %w", err)
	}
	if o.OTP != "" && o.OTPSecretFile != "" {
		return usagef("--otp and --otp-secret-file exclude each other: give a code or the seed to compute it from")
	}
	if o.Insecure && o.Fingerprint != "" {
		return usagef("--insecure and --fingerprint exclude each other: --fingerprint checks the certificate, --insecure does not")
	}
	if o.Fingerprint != "" {
		b, err := dsm.ParseFingerprint(o.Fingerprint)
		if err != nil {
			return usagef("--fingerprint: %v", err)
		}
		o.Fingerprint = hex.EncodeToString(b)
	}
	if o.OTPSecretFile != "" {
		key, err := readOTPSecretFile(o.OTPSecretFile)
		if err != nil {
			return err
		}
		o.totp = key
	}
	o.Debug = g.Debug
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	o.DeviceName = "dsmctl on " + host
	dir, err := configDir(getenv)
	if err != nil {
		return err
	}
	o.ConfigDir = dir
	return nil
}

func (o *connOptions) store() store { return store{dir: o.ConfigDir} }

// hasPassword reports whether the command line or the environment gives a
// password, which makes a command log in for itself.
func (o *connOptions) hasPassword() bool { return o.PasswordStdin || o.Password != "" }

// password returns the password from standard input (--password-stdin),
// DSM_PASSWORD, or a prompt on the terminal, in that order.
func (o *connOptions) password(s *IOStreams, url string) (string, error) {
	if o.PasswordStdin {
		line, err := bufio.NewReader(s.In).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usagef("--password-stdin: standard input has no password on its first line")
		}
		return pw, nil
	}
	if o.Password != "" {
		return o.Password, nil
	}
	if s.ReadSecret == nil {
		return "", usagef("no password: set DSM_PASSWORD or pass --password-stdin (standard input is not a terminal, so dsmctl cannot ask)")
	}
	pw, err := s.ReadSecret(fmt.Sprintf("Password for %s on %s: ", o.User, url))
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if pw == "" {
		return "", usagef("empty password")
	}
	return pw, nil
}

// baseURL returns the DSM address raw as the library writes it: the key
// of everything saved per DSM.
func baseURL(raw string) (string, error) {
	u, err := dsm.ParseURL(raw)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// client returns a dsm client for url with the options every command
// shares (the --debug logger, the certificate check) and extra.
//
// The certificate of an https URL is checked against, in order: nothing
// with --insecure (and a warning), the decision of login, --fingerprint,
// the fingerprint trusted at an earlier login, the system's roots.
func (o *connOptions) client(url string, s *IOStreams, extra ...dsm.Option) (*dsm.Client, error) {
	base, err := baseURL(url)
	if err != nil {
		return nil, err
	}
	opts := []dsm.Option{dsm.WithUserAgent(userAgent())}
	if o.Debug {
		opts = append(opts, dsm.WithLogger(debugLogger(s.ErrOut)))
	}
	pin, from, err := o.certificateCheck(base, s)
	if err != nil {
		return nil, err
	}
	switch {
	case from == pinInsecure:
		opts = append(opts, dsm.WithInsecureSkipVerify())
	case pin != "":
		opts = append(opts, dsm.WithCertificateFingerprint(pin))
	}
	s.conn = connNote{url: base, pinFrom: from}
	opts = append(opts, extra...)
	// The API table saved for the NAS spares the discovery request; one
	// the library refuses (edited by hand) is left out.
	if t, ok, err := o.store().apiTable(base); err != nil {
		return nil, err
	} else if ok {
		if c, err := dsm.NewClient(base, append(opts, dsm.WithAPIInfo(t))...); err == nil {
			return c, nil
		}
	}
	c, err := dsm.NewClient(base, opts...)
	if err != nil {
		return nil, &usageError{err: err}
	}
	return c, nil
}

// rememberAPIs saves the API table c holds for its NAS, when it differs
// from the saved one, and removes the saved one when c dropped it (it
// saw another DSM build) without reading it again. A failure to save
// costs the next command a discovery request, no more: it is logged with
// --debug, not returned.
func (o *connOptions) rememberAPIs(c *dsm.Client, s *IOStreams) {
	t, ok := c.APITable()
	var err error
	if ok {
		err = o.store().saveAPITable(c.BaseURL(), t)
	} else {
		err = o.store().forgetAPITable(c.BaseURL())
	}
	if err != nil && o.Debug {
		debugLogger(s.ErrOut).Debug("saving the API table failed", "error", err.Error())
	}
}

// Where the trusted fingerprint of a connection comes from.
const (
	pinNone     = ""         // the system's roots (or plain http)
	pinInsecure = "insecure" // --insecure: no check
	pinFlag     = "flag"     // --fingerprint
	pinSaved    = "saved"    // trusted at an earlier login
	pinLogin    = "login"    // decided by this login
)

// certificateCheck returns the fingerprint to trust for base ("" for the
// system's roots) and where it comes from.
func (o *connOptions) certificateCheck(base string, s *IOStreams) (pin, from string, err error) {
	https := strings.HasPrefix(base, "https://")
	switch {
	case o.Insecure:
		if !o.warnedInsecure {
			o.warnedInsecure = true
			if https {
				s.warnf("--insecure: the certificate of %s is not checked: anyone on the network path can pose as the NAS "+
					"and take the session; trust the certificate instead (dsmctl login shows it; see --fingerprint)", base)
			} else {
				s.warnf("--insecure: %s is plain http, there is no certificate to check", base)
			}
		}
		if !https {
			return "", pinNone, nil
		}
		return "", pinInsecure, nil
	case !https:
		if o.Fingerprint != "" {
			return "", "", usagef("--fingerprint: %s is plain http, it has no certificate", base)
		}
		return "", pinNone, nil
	case o.pinSet:
		if o.pin == "" {
			return "", pinNone, nil
		}
		return o.pin, pinLogin, nil
	case o.Fingerprint != "":
		return o.Fingerprint, pinFlag, nil
	}
	fp, err := o.store().fingerprint(base)
	if err != nil {
		return "", "", err
	}
	if fp == "" {
		return "", pinNone, nil
	}
	return fp, pinSaved, nil
}

// debugLogger is the --debug logger: text, debug level, to w.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// login logs c in as o.User with the password pw, presenting the device
// token saved for this account when there is one. When DSM wants a 2-step
// code that --otp did not give, it asks on the terminal, or fails with a
// hint when there is no terminal. trust asks DSM for a device token.
// withCode tells whether the login needed a 2-step code.
func (o *connOptions) login(ctx context.Context, c *dsm.Client, pw string, trust bool, s *IOStreams) (sess dsm.Session, withCode bool, err error) {
	url := c.BaseURL()
	token, err := o.store().deviceToken(url, o.User)
	if err != nil {
		return dsm.Session{}, false, err
	}
	cred := o.credentials(pw, token, s)
	if trust {
		cred.DeviceName = o.DeviceName
	}
	sess, err = c.Auth.Login(ctx, cred)
	if errors.Is(err, dsm.ErrOTPRequired) && o.OTP == "" && o.totp == nil {
		if s.ReadSecret == nil {
			return dsm.Session{}, false, &authError{err: fmt.Errorf("%w\n%s has 2-step verification: pass the code from the authenticator app with --otp CODE, "+
				"or the seed in a file with --otp-secret-file FILE", err, o.User)}
		}
		if trust && s.ReadLine != nil {
			yes, rerr := askYesNo(s, fmt.Sprintf("%s has 2-step verification. Trust this device, so that later logins of %s here need no code? [y/N] ", o.User, o.User))
			if rerr != nil {
				return dsm.Session{}, false, fmt.Errorf("reading the answer: %w", rerr)
			}
			if !yes {
				cred.DeviceName = ""
			}
		}
		code, rerr := s.ReadSecret(fmt.Sprintf("2-step verification code for %s: ", o.User))
		if rerr != nil {
			return dsm.Session{}, false, fmt.Errorf("reading the 2-step code: %w", rerr)
		}
		cred.OTPCode = strings.TrimSpace(code)
		sess, err = c.Auth.Login(ctx, cred)
	}
	if err != nil {
		return dsm.Session{}, false, fmt.Errorf("login as %s on %s failed: %w", o.User, url, err)
	}
	return sess, cred.OTPCode != "" || cred.TOTP != nil, nil
}

// connect returns a client ready for calls, and a function to call when
// done. With a password (DSM_PASSWORD or --password-stdin) it logs in now
// and the done function logs out: the saved session is not used. Without
// one it resumes the session saved for the URL and account that resolve
// picks.
func (o *connOptions) connect(ctx context.Context, s *IOStreams) (c *dsm.Client, done func() error, err error) {
	st := o.store()
	l, err := st.load()
	if err != nil {
		return nil, nil, err
	}
	t, err := o.resolve(l, false)
	if err != nil {
		return nil, nil, err
	}
	if o.hasPassword() {
		if t.url == "" {
			return nil, nil, usagef("no DSM URL: pass --url or set DSM_URL")
		}
		if t.account == "" {
			return nil, nil, usagef("no account: pass --user or set DSM_USER")
		}
		o.User = t.account
		c, err := o.client(t.url, s)
		if err != nil {
			return nil, nil, err
		}
		pw, err := o.password(s, c.BaseURL())
		if err != nil {
			return nil, nil, err
		}
		if _, _, err := o.login(ctx, c, pw, false, s); err != nil {
			return nil, nil, err
		}
		done = func() error {
			if err := c.Auth.Logout(context.WithoutCancel(ctx)); err != nil {
				return fmt.Errorf("logout: %w", err)
			}
			return nil
		}
		return c, done, nil
	}

	url := t.url
	if url == "" {
		return nil, nil, &authError{err: errors.New("not logged in: run dsmctl login --url URL --user NAME, or set DSM_URL, DSM_USER and DSM_PASSWORD")}
	}
	if t.account == "" {
		return nil, nil, &authError{err: fmt.Errorf("not logged in to %s: run dsmctl login --user NAME, or set DSM_USER and DSM_PASSWORD", url)}
	}
	saved := l.sessionAt(url, t.account)
	if saved == nil {
		return nil, nil, &authError{err: fmt.Errorf("not logged in to %s as %s: run dsmctl login%s, or set DSM_PASSWORD", url, t.account, t.loginArgs())}
	}
	sess := saved.Session
	o.used = t
	if !sess.SecureSignIn {
		c, err = o.client(url, s, dsm.WithSession(sess))
		if err != nil {
			return nil, nil, err
		}
		return c, func() error { o.rememberAPIs(c, s); return nil }, nil
	}
	// A session opened with DSM 7's secure sign-in signs each request
	// with the next of its nonces, and DSM refuses a nonce used before
	// (DSM 7.3.2, N4S4/synology-api issue #448): one command at a time
	// uses it, reading the nonce
	// the previous one saved, and saving its own when it ends.
	release, err := st.lockSessions(ctx)
	if err != nil {
		return nil, nil, err
	}
	if l, err = st.load(); err != nil || l.sessionAt(url, t.account) == nil {
		release()
		if err == nil {
			err = &authError{err: fmt.Errorf("not logged in to %s as %s: run dsmctl login%s", url, t.account, t.loginArgs())}
		}
		return nil, nil, err
	}
	sess = l.sessionAt(url, t.account).Session
	c, err = o.client(url, s, dsm.WithSession(sess))
	if err != nil {
		release()
		return nil, nil, err
	}
	done = func() error {
		defer release()
		o.rememberAPIs(c, s)
		cur, ok := c.Auth.Session()
		if !ok {
			return nil // the command logged out
		}
		if err := st.updateSession(url, cur); err != nil {
			return fmt.Errorf("saving the session's signing state: %w", err)
		}
		return nil
	}
	return c, done, nil
}

// credentials are the credentials of a login with password pw and the
// device token token. With --otp-secret-file, a wait for the next 2-step
// window (DSM accepts each code once) is said on s.ErrOut.
func (o *connOptions) credentials(pw, token string, s *IOStreams) dsm.Credentials {
	cred := dsm.Credentials{Account: o.User, Password: pw, OTPCode: o.OTP, DeviceID: token, TOTP: o.totp}
	if o.totp != nil {
		cred.TOTPWait = totpWaitNotice(s.ErrOut)
	}
	return cred
}

// nameOptions are the options of a command that names one user, group
// or shared folder: its connection, -o and the name.
type nameOptions struct {
	conn   connOptions
	Output string
	Name   string
}

// nameCmd builds a command that takes one name, checked by check before
// any connection, and runs run.
func nameCmd(s *IOStreams, getenv func(string) string, g *globalOptions, o *nameOptions, cmd *cobra.Command, check func(...string) error, run func(context.Context, *nameOptions, *IOStreams) error) *cobra.Command {
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		o.Name = args[0]
		if err := errors.Join(checkOutput(o.Output), check(o.Name)); err != nil {
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
