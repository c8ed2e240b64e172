package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

// connOptions say which DSM to talk to and as whom. Every command that
// talks to DSM has them.
type connOptions struct {
	// URL is the DSM address (--url, else DSM_URL). Empty: the URL of
	// the latest login.
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
	// DeviceName is what DSM shows for the device token a login asks for.
	DeviceName string
	// Debug traces DSM calls to the error stream.
	Debug bool
}

// addConnFlags declares the connection flags on cmd.
func addConnFlags(cmd *cobra.Command, o *connOptions) {
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "DSM address, e.g. https://nas:5001 (default $DSM_URL, else the latest login)")
	f.StringVarP(&o.User, "user", "u", "", "DSM account (default $DSM_USER)")
	f.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&o.OTP, "otp", "", "2-step verification code, for an account that has it")
}

// addConnFlagsNoStdin declares the connection flags but --password-stdin,
// for commands where standard input carries another password (a new
// user's): they log in with DSM_PASSWORD or the saved session.
func addConnFlagsNoStdin(cmd *cobra.Command, o *connOptions) {
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "DSM address, e.g. https://nas:5001 (default $DSM_URL, else the latest login)")
	f.StringVarP(&o.User, "user", "u", "", "DSM account (default $DSM_USER)")
	f.StringVar(&o.OTP, "otp", "", "2-step verification code, for an account that has it")
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
	if o.OTP != "" && strings.TrimFunc(o.OTP, unicode.IsDigit) != "" {
		return usagef("--otp: the 2-step code is digits only")
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

// client returns a dsm client for url with the options every command
// shares (the --debug logger) and extra.
func (o *connOptions) client(url string, s *IOStreams, extra ...dsm.Option) (*dsm.Client, error) {
	opts := []dsm.Option{dsm.WithUserAgent("dsmctl")}
	if o.Debug {
		opts = append(opts, dsm.WithLogger(debugLogger(s.ErrOut)))
	}
	c, err := dsm.NewClient(url, append(opts, extra...)...)
	if err != nil {
		return nil, &usageError{err: err}
	}
	return c, nil
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
	cred := dsm.Credentials{Account: o.User, Password: pw, OTPCode: o.OTP, DeviceID: token}
	if trust {
		cred.DeviceName = o.DeviceName
	}
	sess, err = c.Auth.Login(ctx, cred)
	if errors.Is(err, dsm.ErrOTPRequired) && o.OTP == "" {
		if s.ReadSecret == nil {
			return dsm.Session{}, false, &authError{err: fmt.Errorf("%w\n%s has 2-step verification: pass the code from the authenticator app with --otp CODE", err, o.User)}
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
	return sess, cred.OTPCode != "", nil
}

// connect returns a client ready for calls, and a function to call when
// done. With a password (DSM_PASSWORD or --password-stdin) it logs in now
// and the done function logs out: the saved session is not used. Without
// one it resumes the saved session of the URL.
func (o *connOptions) connect(ctx context.Context, s *IOStreams) (c *dsm.Client, done func() error, err error) {
	if o.hasPassword() {
		if o.URL == "" {
			return nil, nil, usagef("no DSM URL: pass --url or set DSM_URL")
		}
		if o.User == "" {
			return nil, nil, usagef("no account: pass --user or set DSM_USER")
		}
		c, err := o.client(o.URL, s)
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

	url := ""
	if o.URL != "" {
		probe, err := o.client(o.URL, s)
		if err != nil {
			return nil, nil, err
		}
		url = probe.BaseURL()
	}
	url, sess, ok, err := o.store().session(url)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		if url == "" {
			return nil, nil, &authError{err: errors.New("not logged in: run dsmctl login --url URL --user NAME, or set DSM_URL, DSM_USER and DSM_PASSWORD")}
		}
		return nil, nil, &authError{err: fmt.Errorf("not logged in to %s: run dsmctl login, or set DSM_USER and DSM_PASSWORD", url)}
	}
	if o.User != "" && !strings.EqualFold(o.User, sess.Account) {
		return nil, nil, &authError{err: fmt.Errorf("the saved session on %s is %s's, not %s's: run dsmctl login --user %s, or set DSM_PASSWORD", url, sess.Account, o.User, o.User)}
	}
	c, err = o.client(url, s, dsm.WithSession(sess))
	if err != nil {
		return nil, nil, err
	}
	return c, func() error { return nil }, nil
}
