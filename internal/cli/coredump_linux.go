package cli

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// notDumpable makes the process non-dumpable (see disableCoreDumps).
func notDumpable() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("turning core dumps off (prctl PR_SET_DUMPABLE): %w", err)
	}
	return nil
}
