//go:build !linux

package cli

import (
	"fmt"
	"os"
)

// printCoreDumpState has nothing to report outside Linux (no
// PR_GET_DUMPABLE), where TestCoreDumpsOff does not exist and nothing
// runs this command.
func printCoreDumpState() int {
	fmt.Fprintln(os.Stderr, "coredump-state: core dump state is read on Linux only")
	return 1
}
