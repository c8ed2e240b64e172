//go:build !linux

package cli

import "fmt"

// printCoreDumpState has nothing to report outside Linux, where
// TestCoreDumpsOff does not run (no PR_GET_DUMPABLE).
func printCoreDumpState() int {
	fmt.Println("skip: core dump state is checked on Linux only")
	return 0
}
