//go:build unix

package cli

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// disableCoreDumps keeps the process's memory out of core files for its
// whole life. dsmctl holds secrets in memory (a typed or generated
// password, session ids, the Noise keys of a signed session, and in
// "dsmctl sim" the accounts' password hashes), and a core file written
// when it crashes holds them all, readable by whoever reads the file
// (systemd-coredump, apport or a core in the working directory). The
// limit is lowered to 0, the hard one too, so that nothing in the
// process can raise it again; on Linux the process is also made
// non-dumpable (prctl PR_SET_DUMPABLE 0), which stops a core piped to a
// handler such as systemd-coredump (RLIMIT_CORE 0 does not stop that
// one) and ptrace attaches by other processes of the same user.
// It runs first in Main, before any secret is read.
func disableCoreDumps() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("turning core dumps off (setrlimit RLIMIT_CORE): %w", err)
	}
	return notDumpable()
}
