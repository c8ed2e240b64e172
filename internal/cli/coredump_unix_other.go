//go:build unix && !linux

package cli

// notDumpable does nothing outside Linux: RLIMIT_CORE 0 is what the
// other Unix systems have (see disableCoreDumps).
func notDumpable() error { return nil }
