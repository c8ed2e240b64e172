//go:build linux

package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// printCoreDumpState runs disableCoreDumps as Main does and prints the
// core limit (getrlimit and /proc/self/limits) and PR_GET_DUMPABLE.
func printCoreDumpState() int {
	// Start as after "ulimit -c unlimited": dumps allowed up to the hard
	// limit.
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if lim.Max > 0 { // a hard limit of 0 allows no dumps to start with
		lim.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_CORE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := disableCoreDumps(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	limits, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var line string
	for l := range strings.Lines(string(limits)) {
		if strings.HasPrefix(l, "Max core file size") {
			line = strings.Join(strings.Fields(l), " ")
		}
	}
	fmt.Printf("rlimit %d %d\ndumpable %d\n%s\n", lim.Cur, lim.Max, dumpable, line)
	return 0
}

// TestCoreDumpsOff runs the test binary as a child (see TestMain) that
// allows core dumps, runs Main's first step and reports the core limit
// and whether it is dumpable.
func TestCoreDumpsOff(t *testing.T) {
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "coredump-state").Output()
	if err != nil {
		t.Fatalf("coredump-state: %v\n%s", err, out)
	}
	want := "rlimit 0 0\ndumpable 0\nMax core file size 0 0 bytes\n"
	if string(out) != want {
		t.Errorf("after disableCoreDumps:\n%s\nwant:\n%s", out, want)
	}
}
