package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// exitCodesTable is the one text of dsmctl's exit codes: the root help
// ends with it, "dsmctl help exit-codes" shows it, and the README holds a
// copy that TestREADMEExitCodes compares with it. exitCode maps errors to
// these codes.
//
// 2 is terraform's "changes pending" of plan --detailed-exitcode, which CI
// scripts test for; usage errors are 64, EX_USAGE of sysexits.h, so that a
// typo never reads as a pending change. A declined confirmation exits 1
// as gh exits non-zero when its prompt is declined (gh returns
// cmdutil.CancelError, "exit code 2" in gh help exit-codes): a script
// must not take "nothing was done" for success, and 2 is taken here.
const exitCodesTable = `Exit codes:
  0    success; plan --detailed-exitcode: no changes
  1    failure: network, DSM error, local files, a password that breaks the
       policy, some changes of an apply failed, a confirmation declined
       at the prompt (nothing changed)
  2    plan --detailed-exitcode: changes pending (as terraform's)
  3    not found: the user, group or shared folder named does not exist
  4    authentication: wrong password (confirm-password included), 2-step
       code required or rejected, account disabled or blocked; or not
       logged in (no saved session, or the session expired)
  5    audit --fail-on: a finding at or above the severity given
  64   usage error (EX_USAGE): unknown command or flag, a bad flag value or
       one out of DSM's range, a missing URL, account or password, a
       deletion or apply without --yes when standard input is not a
       terminal
  130  interrupted (Ctrl-C or SIGTERM), at a prompt or while working; an
       interrupted prompt changes nothing`

// newExitCodesHelpCmd is the help topic "dsmctl help exit-codes": a
// command with no Run, so cobra lists it under "Additional help topics".
func newExitCodesHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "The exit codes of dsmctl, for scripts",
		Long: `Every dsmctl command exits with one of these codes; a script can tell a
typo (64) from a pending change (2) from a wrong password (4).

` + exitCodesTable,
	}
}

// errDeclined matches a confirmation the user declined at the prompt:
// exit code 1, nothing changed.
var errDeclined = errors.New("not confirmed")

// declined returns the error of a declined confirmation, saying what was
// not done ("nothing deleted", "nothing changed"). Every prompt that asks
// before a change ends this way, so that a declined delete and a declined
// apply exit alike.
func declined(nothing string) error {
	return fmt.Errorf("%w: %s", errDeclined, nothing)
}

// tidyMessage makes an error's message read as one sentence after
// "dsmctl: ": the library starts its messages with "dsm: " (package
// manifest with "manifest: "), and a message that wraps several of them
// would repeat it ("dsm: a: dsm: b"); the CLI and the library may also
// both name the operation ("update user bob: dsm: update user bob: ...").
// It drops every "dsm: " and "manifest: " that starts the message or a
// part of it (after ": "), and a part equal to the one before it. A
// "dsm: " inside a part, as in "user dsm: no such user", is a name and
// stays.
func tidyMessage(msg string) string {
	parts := strings.Split(msg, ": ")
	out := parts[:0]
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		if (p == "dsm" || p == "manifest") && i+1 < len(parts) {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ": ")
}
