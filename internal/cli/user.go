package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

func newUserCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "List, create, change and delete local users",
		Long: `List, create, change and delete the local users of DSM (SYNO.Core.User),
change the groups they belong to, and check a password against the NAS's
password policy.

A new password (user create, user update --password) never comes from a
flag value: it comes from the first line of standard input with
--password-stdin, from DSM_NEW_PASSWORD, from a prompt on a terminal
(asked twice), or is made up with --generate-password and printed once.
On these commands standard input is the new password's: log in with
"dsmctl login" first, or set DSM_PASSWORD.`,
	}
	parentCmd(cmd)
	cmd.AddCommand(
		newUserListCmd(s, getenv, g),
		newUserGetCmd(s, getenv, g),
		newUserCreateCmd(s, getenv, g),
		newUserUpdateCmd(s, getenv, g),
		newUserDeleteCmd(s, getenv, g),
		newUserJoinCmd(s, getenv, g, true),
		newUserJoinCmd(s, getenv, g, false),
		newUserCheckPasswordCmd(s, getenv, g),
		newUserImportCmd(s, getenv, g),
		newUserAccessCmd(s, getenv, g), // share.go
		newUserTwoFACmd(s, getenv, g),
	)
	return cmd
}

// parentCmd makes cmd, a command that only groups subcommands, show its
// help when run alone and fail with a usage error (ExitUsage) on an
// unknown subcommand, where cobra would show the help and exit 0.
func parentCmd(cmd *cobra.Command) {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return cmd.Help()
	}
}

// withClient connects as o says, runs f with the client, and ends a
// one-shot login afterwards.
func withClient(ctx context.Context, o *connOptions, s *IOStreams, f func(*dsm.Client) error) (err error) {
	c, done, err := o.connect(ctx, s)
	if err != nil {
		return err
	}
	defer func() {
		if derr := done(); derr != nil && err == nil {
			err = derr
		}
		o.noteExpired(err)
	}()
	return f(c)
}

// checkUserNames refuses names DSM would refuse, before any call.
func checkUserNames(names ...string) error {
	for _, n := range names {
		if err := dsm.ValidateUserName(n); err != nil {
			return err
		}
	}
	return nil
}

// checkGroupNames refuses group names DSM would refuse, before any call.
func checkGroupNames(names ...string) error {
	for _, n := range names {
		if err := dsm.ValidateGroupName(n); err != nil {
			return err
		}
	}
	return nil
}

// userColumn is a column of user list and a field of user get.
type userColumn struct {
	key   string // the column name, and the key in json, yaml and csv
	field string // the DSM field to fetch; "" for name
	value func(dsm.User) any
}

// userColumns are the columns user list can show, in their order.
var userColumns = []userColumn{
	{"name", "", func(u dsm.User) any { return u.Name }},
	{"uid", dsm.FieldUID, func(u dsm.User) any { return u.UID }},
	{"description", dsm.FieldDescription, func(u dsm.User) any { return u.Description }},
	{"email", dsm.FieldEmail, func(u dsm.User) any { return u.Email }},
	{"expired", dsm.FieldExpired, func(u dsm.User) any { return u.Expired.String() }},
	{"cannot_change_password", dsm.FieldCannotChangePassword, func(u dsm.User) any { return u.CannotChangePassword }},
	{"password_never_expires", dsm.FieldPasswordNeverExpires, func(u dsm.User) any { return u.PasswordNeverExpires }},
	{"password_last_change", dsm.FieldPasswordLastChange, func(u dsm.User) any { return u.PasswordLastChange }},
	{"password_pending", dsm.FieldPasswordPending, func(u dsm.User) any { return u.PasswordPending }},
	{"groups", dsm.FieldGroups, func(u dsm.User) any { return u.Groups }},
	{"two_factor", dsm.Field2FA, func(u dsm.User) any { return u.TwoFactor }},
}

// defaultUserColumns are the columns of user list without --fields.
var defaultUserColumns = []string{"name", "description", "email", "expired"}

// parseUserColumns reads --fields: column names (or DSM's field names),
// comma separated, or "all". name always comes first.
func parseUserColumns(spec string) ([]userColumn, error) {
	if spec == "" {
		spec = strings.Join(defaultUserColumns, ",")
	}
	var names []string
	for _, c := range userColumns[1:] {
		names = append(names, c.key)
	}
	if spec == "all" {
		spec = strings.Join(names, ",")
	}
	out := []userColumn{userColumns[0]}
	for _, f := range strings.Split(spec, ",") {
		f = strings.ReplaceAll(strings.TrimSpace(strings.ToLower(f)), "-", "_")
		if f == "" || f == "name" {
			continue
		}
		i := slices.IndexFunc(userColumns, func(c userColumn) bool {
			return c.key == f || (c.field != "" && c.field == f)
		})
		if i < 0 {
			return nil, usagef("--fields: unknown field %q; use all or some of %s", f, strings.Join(names, ","))
		}
		if !slices.ContainsFunc(out, func(c userColumn) bool { return c.key == userColumns[i].key }) {
			out = append(out, userColumns[i])
		}
	}
	return out, nil
}

func userRecord(u dsm.User, cols []userColumn) record {
	r := make(record, len(cols))
	for i, c := range cols {
		r[i] = field{c.key, c.value(u)}
	}
	return r
}

// userListOptions are the options of dsmctl user list.
type userListOptions struct {
	conn   connOptions
	Output string
	Offset int
	Limit  int
	Sort   string
	Desc   bool
	Fields string

	cols []userColumn
}

// listOptions are the library's options for the flags.
func (o *userListOptions) listOptions() dsm.ListOptions {
	return dsm.ListOptions{Offset: o.Offset, Limit: o.Limit, SortBy: dsm.SortField(o.Sort), Descending: o.Desc}
}

func newUserListCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &userListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List local users",
		Long: `List local users (SYNO.Core.User list): all of them, in one request,
unless --offset or --limit asks for one page.

--fields picks the columns after the name, comma separated, or "all":
uid, description, email, expired (never, disabled or YYYY-MM-DD),
cannot_change_password, password_never_expires, password_last_change,
password_pending, groups, two_factor. Default: description,email,expired.`,
		Example: `  dsmctl user list
  dsmctl user list --sort email --desc --fields email,groups
  dsmctl user list --fields uid
  dsmctl user list --offset 100 --limit 50 -o csv
  dsmctl user list --fields all -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			if err := o.listOptions().Validate(); err != nil {
				return err
			}
			cols, err := parseUserColumns(o.Fields)
			if err != nil {
				return err
			}
			o.cols = cols
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runUserList(cmd.Context(), o, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	f := cmd.Flags()
	f.IntVar(&o.Offset, "offset", 0, "index of the first user to list (asks for one page)")
	f.IntVar(&o.Limit, "limit", 0, "number of users to list (asks for one page; 0: all from --offset on)")
	f.StringVar(&o.Sort, "sort", "name", "sort by name, description, email or expired")
	f.BoolVar(&o.Desc, "desc", false, "sort from last to first")
	f.StringVar(&o.Fields, "fields", "", `columns after the name, comma separated, or "all"`)
	return cmd
}

// runUserList lists users: all with Users.All, or one page with
// Users.List when an offset or a limit is given.
func runUserList(ctx context.Context, o *userListOptions, s *IOStreams) error {
	opts := o.listOptions()
	opts.Fields = []string{}
	var keys []string
	for _, c := range o.cols {
		keys = append(keys, c.key)
		if c.field != "" {
			opts.Fields = append(opts.Fields, c.field)
		}
	}
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		var users []dsm.User
		if o.Offset > 0 || o.Limit > 0 {
			page, _, err := c.Users.List(ctx, opts)
			if err != nil {
				return err
			}
			users = page
		} else {
			for u, err := range c.Users.All(ctx, opts) {
				if err != nil {
					return err
				}
				users = append(users, u)
			}
		}
		records := make([]record, len(users))
		for i, u := range users {
			records[i] = userRecord(u, o.cols)
		}
		return printList(s.Out, o.Output, keys, records)
	})
}

// userGetOptions are the options of dsmctl user get.
type userGetOptions = nameOptions

func newUserGetCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	return nameCmd(s, getenv, g, &userGetOptions{}, &cobra.Command{
		Use:   "get NAME",
		Short: "Show one user with every field, their shares, quotas, applications and speed limits",
		Long: `Show one user (SYNO.Core.User get) with every field DSM has: uid,
description, email, expiry, password settings, groups and 2-step
verification; then, as DSM's user dialog shows them, their effective
right on every shared folder and where it comes from (their own row or a
group's, as dsmctl user access), their quotas, their own application
rules and their own speed limits. The user and all of that are read in
one compound request (SYNO.Entry.Request); the rows of their groups, to
say where a right comes from, in a second. -o json and yaml add the
lists shares, quotas, apps and speed to the user's fields; -o csv has
the user's fields only. Exit code 3 when there is no such user.`,
		Example: `  dsmctl user get alice
  dsmctl user get alice -o json | jq -r .email`,
	}, checkUserNames, runUserGet)
}

func runUserGet(ctx context.Context, o *userGetOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		u, p, err := readUserProfile(ctx, c, o.Name)
		if err != nil {
			return err
		}
		r := userRecord(u, userColumns)
		switch o.Output {
		case formatJSON, formatYAML:
			return printRecord(s.Out, o.Output, p.withProfile(r))
		case formatCSV:
			return printRecord(s.Out, o.Output, r)
		}
		if err := printRecord(s.Out, o.Output, r); err != nil {
			return err
		}
		return p.printText(s.Out)
	})
}

// userCreateOptions are the options of dsmctl user create.
type userCreateOptions struct {
	conn     connOptions
	password newPasswordOptions
	Output   string

	Name                 string
	Description          string
	Email                string
	Expire               string
	CannotChangePassword bool
	PasswordNeverExpires bool
	Notify               bool
	SendPassword         bool
	Groups               []string

	// req is the request the flags make, without the password.
	req dsm.UserCreateRequest
}

func newUserCreateCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &userCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a local user",
		Long: `Create a local user (SYNO.Core.User create), then, with --groups, put it
into those groups and wait until DSM has done so (SYNO.Core.User.Group join).

The password comes from the first line of standard input with
--password-stdin, from ` + newPasswordEnv + `, from a prompt on a terminal
(asked twice), or is generated with --generate-password: 20 random
characters (more if the policy asks) from the system's secure random
source, meeting the NAS's password policy, printed once on standard output.
There is no flag that takes the password. Since standard input may carry
the new password, log in with "dsmctl login" first or set DSM_PASSWORD.

When DSM refuses the password as too weak, dsmctl lists the rules of the
NAS's password policy it breaks.`,
		Example: `  dsmctl user create bob --description "Bob Smith" --email bob@example.com
  printf '%s\n' "$BOB_PW" | dsmctl user create bob --password-stdin --groups staff,dev
  dsmctl user create carol --generate-password --expire 2030-12-31
  DSM_NEW_PASSWORD=... dsmctl user create dave --password-never-expires`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			e, err := dsm.ParseExpiry(o.Expire)
			if err != nil {
				return usagef("--expire: %v", err)
			}
			o.req = dsm.UserCreateRequest{
				Name: o.Name, Description: o.Description, Email: o.Email,
				Expiry: e, CannotChangePassword: o.CannotChangePassword,
				PasswordNeverExpires: o.PasswordNeverExpires, NotifyByEmail: o.Notify, SendPassword: o.SendPassword,
			}
			if err := errors.Join(checkOutput(o.Output), o.req.Validate(), checkGroupNames(o.Groups...), o.password.check()); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			o.password.Env = getenv(newPasswordEnv)
			return runUserCreate(cmd.Context(), o, s)
		},
	}
	addConnFlagsNoStdin(cmd, &o.conn)
	addNewPasswordFlags(cmd, &o.password, true)
	addOutputFlag(cmd, &o.Output)
	f := cmd.Flags()
	f.StringVar(&o.Description, "description", "", "description (DSM shows it as the full name)")
	f.StringVar(&o.Email, "email", "", "email address")
	f.StringVar(&o.Expire, "expire", "never", "when the account expires: never, disabled or YYYY-MM-DD")
	f.BoolVar(&o.CannotChangePassword, "cannot-change-password", false, "the user may not change their own password")
	f.BoolVar(&o.PasswordNeverExpires, "password-never-expires", false, "exempt the user from password expiry")
	f.BoolVar(&o.Notify, "notify", false, "send the new user a notification mail")
	f.BoolVar(&o.SendPassword, "send-password", false, "include the password in the notification mail (needs --notify)")
	f.StringSliceVar(&o.Groups, "groups", nil, "groups to join after creating, comma separated")
	return cmd
}

func runUserCreate(ctx context.Context, o *userCreateOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		// Everything that can be checked comes before the first change:
		// the groups to join must exist.
		for _, g := range o.Groups {
			if _, err := c.Groups.Get(ctx, g); err != nil {
				return fmt.Errorf("create user %s: group %s: %w (nothing created)", o.Name, g, err)
			}
		}
		pw, generated, err := o.password.newPassword(ctx, c, o.Name, s)
		if err != nil {
			return err
		}
		req := o.req
		req.Password = pw
		created, err := c.Users.Create(ctx, req)
		if err != nil {
			return fmt.Errorf("create user %s: %w", o.Name, explainWeak(ctx, c, o.Name, pw, err))
		}
		r := record{{"name", created.Name}, {"uid", created.UID}}
		if generated {
			// The one place dsmctl prints a password: the user asked
			// for one to be made up and must learn it.
			r = append(r, field{"password", pw})
		}
		if len(o.Groups) > 0 {
			task, err := c.Users.JoinGroups(ctx, created.Name, o.Groups, nil)
			if err == nil {
				err = waitTask(ctx, task, s)
			}
			if err != nil {
				// The user exists: whoever runs this must still learn its
				// password, whatever the output format.
				switch {
				case o.Output != formatText:
					if perr := printRecord(s.Out, o.Output, append(r, field{"groups", []string{}})); perr != nil {
						return perr
					}
				case generated:
					fmt.Fprintf(s.Out, "created user %s (uid %d) with password: %s\n", created.Name, created.UID, pw)
				default:
					fmt.Fprintf(s.Out, "created user %s (uid %d)\n", created.Name, created.UID)
				}
				return fmt.Errorf("user %s is created, but joining %s failed: %w", created.Name, strings.Join(o.Groups, ", "), err)
			}
			r = append(r, field{"groups", o.Groups})
		}
		if o.Output != formatText {
			return printRecord(s.Out, o.Output, r)
		}
		s.confirmf("created user %s (uid %d)\n", created.Name, created.UID)
		if generated {
			fmt.Fprintf(s.Out, "password: %s\n", pw) // data, even with --quiet
		}
		if len(o.Groups) > 0 {
			s.confirmf("joined %s\n", strings.Join(o.Groups, ", "))
		}
		return nil
	})
}

// waitTask waits for a group task to finish, showing its progress on a
// terminal.
func waitTask(ctx context.Context, task *dsm.GroupTask, s *IOStreams) error {
	if !s.ErrTerminal {
		_, err := task.Wait(ctx)
		return err
	}
	drawn := false
	_, err := task.WaitProgress(ctx, func(st dsm.TaskStatus) {
		drawn = true
		fmt.Fprintf(s.ErrOut, "\rwaiting for DSM to change the groups of %s: %d/%d", task.User, st.Progress, st.Total)
	})
	if drawn {
		fmt.Fprintln(s.ErrOut)
	}
	return err
}

// userUpdateOptions are the options of dsmctl user update.
type userUpdateOptions struct {
	conn     connOptions
	password newPasswordOptions
	Output   string

	Name string
	// Password asks for a new password (DSM_NEW_PASSWORD or a prompt).
	Password bool
	req      dsm.UserUpdateRequest
	changed  []string
}

func newUserUpdateCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &userUpdateOptions{}
	var rename, description, email, expire string
	var cannotChange, neverExpires bool
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change fields of a user; the others keep their values",
		Long: `Change the fields of a user given as flags (SYNO.Core.User get, then set).
Only the flags given change; every other field keeps its value.

A new password: --password reads it from ` + newPasswordEnv + ` or a prompt on a
terminal (asked twice); --password-stdin from the first line of standard
input; --generate-password makes one that meets the NAS's password policy
and prints it once. ` + newPasswordEnv + ` alone changes nothing.`,
		Example: `  dsmctl user update bob --email bob@example.org
  dsmctl user update bob --rename robert --description "Robert Smith"
  dsmctl user update bob --expire disabled
  dsmctl user update bob --password-never-expires=false
  dsmctl user update bob --password
  dsmctl user update bob --generate-password`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := errors.Join(checkOutput(o.Output), checkUserNames(o.Name), o.password.check()); err != nil {
				return err
			}
			f := cmd.Flags()
			set := func(flag string) bool {
				if f.Changed(flag) {
					o.changed = append(o.changed, strings.ReplaceAll(flag, "-", "_"))
					return true
				}
				return false
			}
			if set("rename") {
				if err := checkUserNames(rename); err != nil {
					return err
				}
				o.req.NewName = &rename
			}
			if set("description") {
				o.req.Description = &description
			}
			if set("email") {
				o.req.Email = &email
			}
			if set("expire") {
				e, err := dsm.ParseExpiry(expire)
				if err != nil {
					return usagef("--expire: %v", err)
				}
				o.req.Expiry = &e
			}
			if set("cannot-change-password") {
				o.req.CannotChangePassword = &cannotChange
			}
			if set("password-never-expires") {
				o.req.PasswordNeverExpires = &neverExpires
			}
			if o.Password || o.password.Stdin || o.password.Generate {
				o.changed = append(o.changed, "password")
			}
			if len(o.changed) == 0 {
				return usagef("nothing to change: give at least one of --rename, --description, --email, --expire, --cannot-change-password, --password-never-expires, --password")
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			o.password.Env = getenv(newPasswordEnv)
			return runUserUpdate(cmd.Context(), o, s)
		},
	}
	addConnFlagsNoStdin(cmd, &o.conn)
	addNewPasswordFlags(cmd, &o.password, true)
	addOutputFlag(cmd, &o.Output)
	f := cmd.Flags()
	f.StringVar(&rename, "rename", "", "new user name")
	f.StringVar(&description, "description", "", "description (empty clears it)")
	f.StringVar(&email, "email", "", "email address (empty clears it)")
	f.StringVar(&expire, "expire", "", "when the account expires: never, disabled or YYYY-MM-DD")
	f.BoolVar(&cannotChange, "cannot-change-password", false, "the user may not change their own password (=false allows it)")
	f.BoolVar(&neverExpires, "password-never-expires", false, "exempt the user from password expiry (=false ends the exemption)")
	f.BoolVar(&o.Password, "password", false, "set a new password, read from "+newPasswordEnv+" or a prompt")
	return cmd
}

func runUserUpdate(ctx context.Context, o *userUpdateOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		req := o.req
		var pw string
		var generated bool
		if slices.Contains(o.changed, "password") {
			var err error
			if pw, generated, err = o.password.newPassword(ctx, c, o.Name, s); err != nil {
				return err
			}
			req.Password = &pw
		}
		up, err := c.Users.Update(ctx, o.Name, req)
		if err != nil {
			return fmt.Errorf("update user %s: %w", o.Name, explainWeak(ctx, c, o.Name, pw, err))
		}
		r := record{{"name", up.Name}, {"uid", up.UID}, {"changed", o.changed}}
		if generated {
			r = append(r, field{"password", pw}) // asked for: printed once
		}
		if o.Output != formatText {
			return printRecord(s.Out, o.Output, r)
		}
		s.confirmf("updated user %s: %s\n", up.Name, strings.Join(o.changed, ", "))
		if generated {
			fmt.Fprintf(s.Out, "password: %s\n", pw)
		}
		return nil
	})
}

// deleteOptions are the options of dsmctl user delete and group delete.
type deleteOptions struct {
	conn   connOptions
	Output string
	Names  []string
	// Yes deletes without asking.
	Yes bool
}

func newUserDeleteCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	return newDeleteCmd(s, getenv, g, deleteKind{
		name:  "user",
		short: "Delete local users",
		long: `Delete local users (SYNO.Core.User delete). On a terminal dsmctl asks
first, unless --yes; when standard input is not a terminal it refuses to
delete without --yes. DSM deletes what it can and names the users it could
not delete.`,
		example: `  dsmctl user delete bob
  dsmctl user delete bob carol --yes`,
		check:  checkUserNames,
		delete: func(c *dsm.Client) func(context.Context, ...string) error { return c.Users.Delete },
	})
}

// deleteKind is what differs between user delete and group delete.
type deleteKind struct {
	name, short, long, example string
	check                      func(...string) error
	delete                     func(*dsm.Client) func(context.Context, ...string) error
}

// newDeleteCmd builds the delete command of a kind of account.
func newDeleteCmd(s *IOStreams, getenv func(string) string, g *globalOptions, k deleteKind) *cobra.Command {
	o := &deleteOptions{}
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   k.short,
		Long:    k.long,
		Example: k.example,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if err := errors.Join(checkOutput(o.Output), k.check(o.Names...)); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runDelete(cmd.Context(), o, s, k)
		},
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "delete without asking")
	return cmd
}

// confirmDelete asks on the terminal whether to delete the kind (user or
// group) names, unless o.Yes. Without a terminal and without --yes it
// refuses.
func confirmDelete(o *deleteOptions, s *IOStreams, kind string) error {
	if o.Yes {
		return nil
	}
	what := kind + " " + o.Names[0]
	if len(o.Names) > 1 {
		what = fmt.Sprintf("%d %ss (%s)", len(o.Names), kind, strings.Join(o.Names, ", "))
	}
	if s.ReadLine == nil {
		return usagef("refusing to delete %s without --yes: standard input is not a terminal, so dsmctl cannot ask", what)
	}
	answer, err := s.ReadLine(fmt.Sprintf("Delete %s? This cannot be undone. [y/N] ", what))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return declined("nothing deleted")
}

// runDelete asks, then deletes names with the delete function k gives.
// When DSM refuses some of several, it says which were deleted and which
// were not, and why.
func runDelete(ctx context.Context, o *deleteOptions, s *IOStreams, k deleteKind) error {
	if err := confirmDelete(o, s, k.name); err != nil {
		return err
	}
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		err := k.delete(c)(ctx, o.Names...)
		if err == nil {
			return o.printDeleted(s, k, o.Names, nil)
		}
		failed := dsm.FailedItems(err)
		if len(o.Names) == 1 || len(failed) == 0 {
			// The call failed as a whole: DSM deleted nothing.
			if perr := o.printDeleted(s, k, nil, o.Names); perr != nil {
				return perr
			}
			return fmt.Errorf("delete %s %s: %w", k.name, strings.Join(o.Names, " "), err)
		}
		notDeleted := map[string]bool{}
		var kept []string
		for _, f := range failed {
			notDeleted[strings.ToLower(f.Name)] = true
			kept = append(kept, f.Name)
		}
		var deleted []string
		for _, n := range o.Names {
			if !notDeleted[strings.ToLower(n)] {
				deleted = append(deleted, n)
			}
		}
		if perr := o.printDeleted(s, k, deleted, kept); perr != nil {
			return perr
		}
		what := "none deleted"
		if len(deleted) > 0 {
			what = "deleted: " + strings.Join(deleted, ", ")
		}
		return fmt.Errorf("delete %s %s: not deleted: %s; %s: %w", k.name, strings.Join(o.Names, " "), strings.Join(kept, ", "), what, err)
	})
}

// printDeleted says what a delete did: a "deleted KIND NAME" line each
// (none with --quiet), or with -o one record, {deleted, not_deleted}, both
// lists always present, so that a script reads the same shape whether all,
// some or none were deleted.
func (o *deleteOptions) printDeleted(s *IOStreams, k deleteKind, deleted, kept []string) error {
	if o.Output != formatText {
		return printRecord(s.Out, o.Output, record{{"deleted", orEmpty(deleted)}, {"not_deleted", orEmpty(kept)}})
	}
	for _, n := range deleted {
		s.confirmf("deleted %s %s\n", k.name, n)
	}
	return nil
}

// orEmpty returns list, or an empty list for nil: -o json shows [].
func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// userJoinOptions are the options of dsmctl user join and user leave.
type userJoinOptions struct {
	conn   connOptions
	Output string
	Name   string
	Groups []string
	NoWait bool
}

// change returns the groups to join and to leave.
func (o *userJoinOptions) change(join bool) (in, out []string) {
	if join {
		return o.Groups, nil
	}
	return nil, o.Groups
}

func newUserJoinCmd(s *IOStreams, getenv func(string) string, g *globalOptions, join bool) *cobra.Command {
	o := &userJoinOptions{}
	verb, short, example := "join", "Put a user into groups", `  dsmctl user join bob staff dev
  dsmctl user join bob staff --no-wait`
	if !join {
		verb, short, example = "leave", "Take a user out of groups", `  dsmctl user leave bob dev
  dsmctl user leave bob staff dev --no-wait`
	}
	cmd := &cobra.Command{
		Use:   verb + " NAME GROUP...",
		Short: short,
		Long: short + ` (SYNO.Core.User.Group join). DSM runs the change as a
task: dsmctl waits until it is done, showing its progress on a terminal,
then reads the user's groups back and fails if they do not show the change
(DSM is known to report success for changes it did not apply). With
--no-wait it prints the task id and returns at once. Every user belongs to
"` + dsm.GroupUsers + `" and cannot leave it.`,
		Example: example,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name, o.Groups = args[0], args[1:]
			in, out := o.change(join)
			if err := errors.Join(checkOutput(o.Output), dsm.ValidateGroupChange(o.Name, in, out)); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runUserJoin(cmd.Context(), o, s, join)
		},
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	cmd.Flags().BoolVar(&o.NoWait, "no-wait", false, "print DSM's task id and return without waiting")
	return cmd
}

func runUserJoin(ctx context.Context, o *userJoinOptions, s *IOStreams, join bool) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		verb, done := "join", "joined"
		if !join {
			verb, done = "leave", "left"
		}
		// What would change nothing is said, not done.
		u, err := c.Users.Get(ctx, o.Name, dsm.FieldGroups)
		if err != nil {
			return fmt.Errorf("%s: %s %s: %w", o.Name, verb, strings.Join(o.Groups, ", "), err)
		}
		todo, unchanged := splitByMembership(o.Groups, u.Groups, join)
		if len(todo) == 0 {
			if o.Output != formatText {
				return printRecord(s.Out, o.Output, record{{"name", o.Name}, {done, []string{}}, {"unchanged", unchanged}})
			}
			state := "already in"
			if !join {
				state = "not in"
			}
			s.confirmf("%s is %s %s: nothing changed\n", o.Name, state, strings.Join(unchanged, ", "))
			return nil
		}
		in, out := todo, []string(nil)
		if !join {
			in, out = nil, todo
		}
		task, err := c.Users.JoinGroups(ctx, o.Name, in, out)
		if err != nil {
			return fmt.Errorf("%s: %s %s: %w", o.Name, verb, strings.Join(todo, ", "), err)
		}
		if o.NoWait {
			if o.Output != formatText {
				return printRecord(s.Out, o.Output, record{{"name", o.Name}, {"task_id", task.ID}})
			}
			fmt.Fprintln(s.Out, task.ID)
			taskHint(s, task)
			return nil
		}
		if err := waitTask(ctx, task, s); err != nil {
			if ctx.Err() != nil {
				// Interrupted: the task is DSM's and goes on.
				taskHint(s, task)
			}
			return fmt.Errorf("%s: %s %s: %w", o.Name, verb, strings.Join(todo, ", "), err)
		}
		if o.Output != formatText {
			return printRecord(s.Out, o.Output, record{{"name", o.Name}, {done, todo}, {"unchanged", unchanged}})
		}
		line := fmt.Sprintf("%s %s %s", o.Name, done, strings.Join(todo, ", "))
		if len(unchanged) > 0 {
			state := "already in"
			if !join {
				state = "was not in"
			}
			line += fmt.Sprintf(" (%s %s)", state, strings.Join(unchanged, ", "))
		}
		s.confirmf("%s\n", line)
		return nil
	})
}

// splitByMembership sorts groups into those a join (or a leave) changes
// and those it leaves as they are, given the user's current groups;
// names compare without regard to case, as DSM's do.
func splitByMembership(groups, current []string, join bool) (todo, unchanged []string) {
	in := map[string]bool{}
	for _, g := range current {
		in[strings.ToLower(g)] = true
	}
	unchanged = []string{}
	for _, g := range groups {
		if in[strings.ToLower(g)] == join {
			unchanged = append(unchanged, g)
		} else {
			todo = append(todo, g)
		}
	}
	return todo, unchanged
}

// checkPasswordOptions are the options of dsmctl user check-password.
type checkPasswordOptions struct {
	conn     connOptions
	password newPasswordOptions
	Output   string
	Name     string
}

func newUserCheckPasswordCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &checkPasswordOptions{}
	cmd := &cobra.Command{
		Use:   "check-password NAME",
		Short: "Check a password against the NAS's password policy",
		Long: `Check a password for user NAME against the NAS's password policy
(SYNO.Core.User.PasswordPolicy get) and print each rule it breaks. The
password is checked here: it is never sent to DSM. The user need not
exist. Exit code 1 when the password breaks a rule.

The password comes from the first line of standard input with
--password-stdin, from ` + newPasswordEnv + `, or from a prompt on a terminal.
The password history cannot be checked here: DSM judges it when the
password is set.`,
		Example: `  dsmctl user check-password bob
  printf '%s\n' "$CANDIDATE" | dsmctl user check-password bob --password-stdin -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := errors.Join(checkOutput(o.Output), checkUserNames(o.Name)); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			o.password.Env = getenv(newPasswordEnv)
			return runCheckPassword(cmd.Context(), o, s)
		},
	}
	addConnFlagsNoStdin(cmd, &o.conn)
	addNewPasswordFlags(cmd, &o.password, false)
	addOutputFlag(cmd, &o.Output)
	return cmd
}

// errPolicyBroken is returned by check-password when a rule is broken.
var errPolicyBroken = errors.New("the password breaks the password policy")

func runCheckPassword(ctx context.Context, o *checkPasswordOptions, s *IOStreams) error {
	var pw string
	switch {
	case o.password.Stdin:
		p, err := readStdinLine(s.In)
		if err != nil {
			return err
		}
		pw = p
	case o.password.Env != "":
		pw = o.password.Env
	case s.ReadSecret == nil:
		return usagef("no password to check: pass --password-stdin or set %s (standard input is not a terminal, so dsmctl cannot ask)", newPasswordEnv)
	default:
		p, err := s.ReadSecret(fmt.Sprintf("Password to check for %s: ", o.Name))
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
		pw = p
	}
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		v, err := c.Users.CheckPassword(ctx, o.Name, pw)
		if err != nil {
			return err
		}
		if o.Output != formatText {
			records := make([]record, len(v))
			for i, x := range v {
				records[i] = record{{"rule", string(x.Rule)}, {"message", x.Message}}
			}
			if err := printList(s.Out, o.Output, []string{"rule", "message"}, records); err != nil {
				return err
			}
		} else if len(v) == 0 {
			fmt.Fprintln(s.Out, "the password meets the password policy")
		} else {
			fmt.Fprintf(s.Out, "the password breaks %d rule(s) of the password policy:%s\n", len(v), violationList(v))
		}
		if len(v) > 0 {
			return errPolicyBroken
		}
		return nil
	})
}
