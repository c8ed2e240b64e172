package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

// Contexts follow kubectl's model (kubectl config get-contexts,
// use-context, rename-context, delete-context, current-context, and
// --context on every command): a context is a name for an account on a
// DSM, with what is saved for it (its session, the device token of a
// 2-step login, the certificate trusted for the URL). "dsmctl login"
// makes or updates one and makes it current.

// target is the login a command uses: a DSM URL and an account, and the
// context that names them ("" when none does yet).
type target struct {
	url, account string
	context      string
	current      bool // the context is the current one
}

// loginArgs are the arguments of the "dsmctl login" that logs in to t
// again, with a leading space, or "" when "dsmctl login" alone does.
func (t target) loginArgs() string {
	switch {
	case t.context == "":
		return " --url " + t.url + " --user " + t.account
	case !t.current:
		return " --context " + t.context
	}
	return ""
}

// resolve picks the DSM and the account a command uses, by precedence:
//
//   - the URL: --url, else DSM_URL, else the selected context's;
//   - the account: --user, else DSM_USER, else the selected context's
//     when it is on that URL, else the account of the only context on
//     that URL (several: an error asks for --user or --context);
//   - the selected context: --context, else DSM_CONTEXT, else the
//     current one.
//
// The saved session used is that of the URL and account. For login, a
// --context that names no context is the name of the one to make.
func (o *connOptions) resolve(l *logins, login bool) (target, error) {
	var sel *savedContext
	if o.Context != "" {
		if sel = l.context(o.Context); sel == nil && !login {
			return target{}, usagef("no context %q: \"dsmctl context list\" shows the saved ones", o.Context)
		}
	} else {
		sel = l.current()
	}
	var t target
	switch {
	case o.URL != "":
		u, err := baseURL(o.URL)
		if err != nil {
			return target{}, err
		}
		t.url = u
	case sel != nil:
		t.url = sel.URL
	}
	t.account = o.User
	if t.account == "" && t.url != "" {
		switch at := l.contextsAt(t.url); {
		case sel != nil && sel.URL == t.url:
			t.account = sel.Account
		case len(at) == 1:
			t.account = at[0].Account
		case len(at) > 1:
			names := make([]string, len(at))
			for i, c := range at {
				names[i] = c.Name
			}
			return target{}, usagef("%s has several saved logins (contexts %s): pass --user NAME or --context NAME", t.url, strings.Join(names, ", "))
		}
	}
	if c := l.contextOf(t.url, t.account); c != nil {
		t.context, t.current = c.Name, c.Name == l.contexts.Current
	}
	return t, nil
}

// updateSession saves sess as the session of its account on url when the
// saved one is still the same session (same SID): a signed session's
// next nonce. It leaves the contexts as they are.
func (st store) updateSession(url string, sess dsm.Session) error {
	l, err := st.load()
	if err != nil {
		return err
	}
	saved := l.sessionAt(url, sess.Account)
	if saved == nil || saved.Session.SID != sess.SID {
		return nil // logged out or replaced meanwhile
	}
	saved.Session = sess
	l.sessionsDirty = true
	return st.save(l)
}

// noteExpired marks the saved session connect resumed as expired when
// err says DSM ended it, so that "dsmctl context list" can tell without
// asking DSM. A failure to mark is not the command's failure.
func (o *connOptions) noteExpired(err error) {
	if o.used.url == "" || !errors.Is(err, dsm.ErrSessionExpired) {
		return
	}
	st := o.store()
	l, lerr := st.load()
	if lerr != nil {
		return
	}
	if saved := l.sessionAt(o.used.url, o.used.account); saved != nil && !saved.Expired {
		saved.Expired = true
		l.sessionsDirty = true
		st.save(l)
	}
}

// removeDeviceToken forgets the device token of account on url.
func (st store) removeDeviceToken(url, account string) error {
	var d savedDevices
	if err := st.read(devicesFile, &d); err != nil {
		return err
	}
	if _, ok := d[url][strings.ToLower(account)]; !ok {
		return nil
	}
	delete(d[url], strings.ToLower(account))
	if len(d[url]) == 0 {
		delete(d, url)
	}
	if len(d) == 0 {
		return st.remove(devicesFile)
	}
	return st.write(devicesFile, d)
}

const contextLong = `A context is a saved login: a name for an account on a DSM, with what is
saved for it (its session, the device token of a 2-step login, the
certificate trusted for the URL). Several contexts keep logins to several
NAS boxes, or to several accounts of one NAS, each with its own session.

"dsmctl login" makes a context (named account@host[:port], or --context
NAME) or updates the one of that URL and account, and makes it current.
One context per URL and account.

Which login a command uses, highest first:
  1. --url and --user
  2. DSM_URL and DSM_USER
  3. --context NAME, else DSM_CONTEXT
  4. the current context ("dsmctl context use NAME" sets it)
The URL and the account are taken separately: what the flags and the
environment leave out comes from the context (the account only when the
context is on that URL; else from the only context on that URL). The
session used is the one saved for that URL and account.

"dsmctl logout" ends the session of the context and keeps the context, so
"dsmctl login" alone logs in there again; "dsmctl context delete" logs out
and removes the context, with its device token, and the trusted
certificate when no other context is on that URL.`

func newContextCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "context",
		Short: "List, switch, rename and delete saved logins (contexts)",
		Long:  contextLong,
		Example: `  dsmctl context list
  dsmctl context use admin@nas2:5001
  dsmctl --context alice@nas:5001 user list
  DSM_CONTEXT=backup dsmctl whoami
  dsmctl login --url https://nas:5001 --user backup --context backup`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newContextListCmd(s, getenv, g),
		newContextUseCmd(s, getenv),
		newContextCurrentCmd(s, getenv),
		newContextRenameCmd(s, getenv),
		newContextDeleteCmd(s, getenv, g),
	)
	return cmd
}

// contextStore returns the store of the config directory getenv names.
func contextStore(getenv func(string) string) (store, error) {
	dir, err := configDir(getenv)
	if err != nil {
		return store{}, err
	}
	return store{dir: dir}, nil
}

// Session states of dsmctl context list.
const (
	sessionNone    = "none"    // no session saved
	sessionSaved   = "saved"   // saved, not known to have ended (not checked)
	sessionExpired = "expired" // a command (or --check) found DSM had ended it
	sessionValid   = "valid"   // --check: DSM accepted it
	sessionUnknown = "unknown" // --check could not tell (see the note)
)

// contextListOptions are the options of dsmctl context list.
type contextListOptions struct {
	conn   connOptions
	Check  bool
	Output string
}

func newContextListCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &contextListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the contexts; * marks the current one",
		Long: `List the contexts: the current one (*), name, URL, account, and the state
of the saved session, from the config directory alone:
  none     no session is saved (never logged in, or logged out)
  saved    a session is saved, and no command has found it ended
  expired  a command found that DSM had ended it: dsmctl login again
With --check, dsmctl asks each DSM whether its saved session is still
valid (SYNO.Core.NormalUser get): valid or expired, or unknown with the
reason on standard error.`,
		Example: `  dsmctl context list
  dsmctl context list --check
  dsmctl context list -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runContextList(cmd.Context(), o, s)
		},
	}
	cmd.Flags().BoolVar(&o.Check, "check", false, "ask each DSM whether the saved session is still valid (a network call per context)")
	addCertFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func runContextList(ctx context.Context, o *contextListOptions, s *IOStreams) error {
	st := o.conn.store()
	l, err := st.load()
	if err != nil {
		return err
	}
	records := make([]record, 0, len(l.contexts.Contexts))
	for _, c := range l.contexts.Contexts {
		state := sessionNone
		if saved := l.sessionAt(c.URL, c.Account); saved != nil {
			state = sessionSaved
			if saved.Expired {
				state = sessionExpired
			}
		}
		if o.Check && state != sessionNone {
			state = o.check(ctx, c, s)
		}
		cur := any(c.Name == l.contexts.Current)
		if o.Output == formatText {
			cur = ""
			if c.Name == l.contexts.Current {
				cur = "*"
			}
		}
		records = append(records, record{{"current", cur}, {"name", c.Name}, {"url", c.URL}, {"account", c.Account}, {"session", state}})
	}
	if len(records) == 0 && o.Output == formatText {
		fmt.Fprintln(s.ErrOut, "no contexts: dsmctl login makes one")
		return nil
	}
	return printList(s.Out, o.Output, []string{"current", "name", "url", "account", "session"}, records)
}

// check asks the DSM of c whether its saved session is still valid.
func (o *contextListOptions) check(ctx context.Context, c savedContext, s *IOStreams) string {
	conn := o.conn
	conn.URL, conn.User, conn.Context = c.URL, c.Account, ""
	conn.Password, conn.PasswordStdin = "", false
	var state string
	err := withClient(ctx, &conn, s, func(dc *dsm.Client) error {
		_, err := dc.Auth.Whoami(ctx)
		return err
	})
	switch {
	case err == nil:
		state = sessionValid
	case errors.Is(err, dsm.ErrSessionExpired):
		state = sessionExpired
	default:
		fmt.Fprintf(s.ErrOut, "note: context %s: %v\n", c.Name, err)
		state = sessionUnknown
	}
	conn.noteExpired(err)
	return state
}

func newContextUseCmd(s *IOStreams, getenv func(string) string) *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make a context the current one",
		Long: `Make the context NAME the current one: commands run without --context,
DSM_CONTEXT, --url, DSM_URL, --user and DSM_USER use its login.`,
		Example: `  dsmctl context use alice@nas:5001`,
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			st, err := contextStore(getenv)
			if err != nil {
				return err
			}
			l, err := st.load()
			if err != nil {
				return err
			}
			c := l.context(args[0])
			if c == nil {
				return unknownContext(args[0], l)
			}
			l.setCurrent(c.Name)
			if err := st.save(l); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "switched to context %s (%s on %s)\n", c.Name, c.Account, c.URL)
			return nil
		},
	}
}

// unknownContext is the error for a context name that names none.
func unknownContext(name string, l *logins) error {
	if len(l.contexts.Contexts) == 0 {
		return usagef("no context %q: there are none yet; dsmctl login makes one", name)
	}
	return usagef("no context %q: \"dsmctl context list\" shows the saved ones", name)
}

func newContextCurrentCmd(s *IOStreams, getenv func(string) string) *cobra.Command {
	return &cobra.Command{
		Use:   "current",
		Short: "Show the name of the current context",
		Long: `Print the name of the current context: the latest login, or the one
"dsmctl context use" picked. Without one, it fails (exit 1).`,
		Example: `  dsmctl context current`,
		Args:    cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			st, err := contextStore(getenv)
			if err != nil {
				return err
			}
			l, err := st.load()
			if err != nil {
				return err
			}
			c := l.current()
			if c == nil {
				return errors.New("no current context: dsmctl login makes one, dsmctl context use NAME picks one")
			}
			fmt.Fprintln(s.Out, c.Name)
			return nil
		},
	}
}

func newContextRenameCmd(s *IOStreams, getenv func(string) string) *cobra.Command {
	return &cobra.Command{
		Use:     "rename OLD NEW",
		Short:   "Rename a context",
		Long:    `Rename the context OLD to NEW; its session stays, and it stays current if it was.`,
		Example: `  dsmctl context rename admin@192.168.1.20:5001 office`,
		Args:    cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			from, to := args[0], args[1]
			if err := validateContextName(to); err != nil {
				return err
			}
			st, err := contextStore(getenv)
			if err != nil {
				return err
			}
			l, err := st.load()
			if err != nil {
				return err
			}
			c := l.context(from)
			if c == nil {
				return unknownContext(from, l)
			}
			if from == to {
				return nil
			}
			if l.context(to) != nil {
				return usagef("a context named %q exists already: delete or rename it first", to)
			}
			renamed := *c
			renamed.Name = to
			current := l.contexts.Current == from
			l.dropContext(from)
			l.putContext(renamed)
			if current {
				l.setCurrent(to)
			}
			if err := st.save(l); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "renamed context %s to %s\n", from, to)
			return nil
		},
	}
}

// contextDeleteOptions are the options of dsmctl context delete.
type contextDeleteOptions struct {
	conn connOptions
}

func newContextDeleteCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &contextDeleteOptions{}
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Log out of contexts and remove them",
		Long: `End the saved session of each context on DSM, and remove the context, its
session and the device token of its account; the certificate trusted for
its URL goes too when no other context is on that URL. When DSM cannot be
reached the context is removed all the same, and a note says the session
may still be open on DSM until it expires. Nothing on the NAS changes.`,
		Example: `  dsmctl context delete alice@nas:5001`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runContextDelete(cmd.Context(), o, args, s)
		},
	}
	addCertFlags(cmd, &o.conn)
	return cmd
}

func runContextDelete(ctx context.Context, o *contextDeleteOptions, names []string, s *IOStreams) error {
	st := o.conn.store()
	l, err := st.load()
	if err != nil {
		return err
	}
	for _, name := range names {
		if l.context(name) == nil {
			return unknownContext(name, l)
		}
	}
	for _, name := range names {
		c := *l.context(name)
		if saved := l.sessionAt(c.URL, c.Account); saved != nil {
			if err := o.conn.endSession(ctx, c.URL, saved.Session, s); err != nil {
				fmt.Fprintf(s.ErrOut, "note: DSM did not confirm the logout of %s on %s (%v): the session may stay open there until it expires\n", c.Account, c.URL, err)
			}
		}
		l, err = st.load() // the logout took time: start from the files as they are now
		if err != nil {
			return err
		}
		l.dropSession(c.URL, c.Account)
		l.dropContext(c.Name)
		if err := st.save(l); err != nil {
			return err
		}
		if err := st.removeDeviceToken(c.URL, c.Account); err != nil {
			return fmt.Errorf("removing the device token: %w", err)
		}
		if len(l.contextsAt(c.URL)) == 0 {
			if err := st.removeFingerprint(c.URL); err != nil {
				return fmt.Errorf("forgetting the trusted certificate: %w", err)
			}
		}
		fmt.Fprintf(s.Out, "deleted context %s (%s on %s)\n", c.Name, c.Account, c.URL)
	}
	return nil
}

// endSession logs sess out on url, checking the certificate as every
// command does.
func (o *connOptions) endSession(ctx context.Context, url string, sess dsm.Session, s *IOStreams) error {
	c, err := o.client(url, s, dsm.WithSession(sess))
	if err != nil {
		return err
	}
	return c.Auth.Logout(ctx)
}
