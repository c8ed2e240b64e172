package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

// principalFlags are --user and --group of the commands that name whose
// right, quota, application rule or speed limit they show or change
// (share grant, quota, app, speed); such a command takes exactly one.
type principalFlags struct {
	User, Group string
}

// accountHelp is what the help of those commands says about the account
// they log in with.
const accountHelp = `--user or --group names the user or group acted on. The DSM account to
log in with is -u/--account (default $DSM_USER, else the context's): -u
is the login account on every command.`

// addPrincipalConnFlags declares the connection flags of a command with
// --user and --group: there --user names the user acted on, so the DSM
// account to log in with is -u/--account. -u means the login account on
// every command, so a script's -u keeps its meaning. The command's help
// says so (accountHelp).
func addPrincipalConnFlags(cmd *cobra.Command, o *connOptions) {
	cmd.Long += "\n\n" + accountHelp
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "DSM address, e.g. https://nas:5001 (default $DSM_URL, else the context's)")
	f.StringVarP(&o.User, "account", "u", "", "DSM account to log in with (default $DSM_USER, else the context's)")
	f.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	addSecurityFlags(cmd, o)
}

// addPrincipalFlags declares --user and --group; what says what of
// theirs the command handles ("quotas to show").
func addPrincipalFlags(cmd *cobra.Command, f *principalFlags, what string) {
	cmd.Flags().StringVar(&f.User, "user", "", "the user whose "+what)
	cmd.Flags().StringVar(&f.Group, "group", "", "the group whose "+what)
}

// given says whether --user or --group was given.
func (f principalFlags) given() bool { return f.User != "" || f.Group != "" }

// principal checks the flags and returns the user or group they name.
func (f principalFlags) principal() (dsm.Principal, error) {
	switch {
	case f.User != "" && f.Group != "":
		return dsm.Principal{}, usagef("give --user or --group, not both")
	case f.User != "":
		return dsm.UserPrincipal(f.User), checkUserNames(f.User)
	case f.Group != "":
		return dsm.GroupPrincipal(f.Group), checkGroupNames(f.Group)
	}
	return dsm.Principal{}, usagef("give --user NAME or --group NAME")
}

// notFound adds the principal to an error of a call about it.
func notFound(p dsm.Principal, err error) error { return fmt.Errorf("%s: %w", p, err) }
