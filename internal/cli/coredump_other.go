//go:build !unix

package cli

// disableCoreDumps does nothing on Windows, which writes no core files
// by itself (a crash dump needs Windows Error Reporting's LocalDumps
// set up by an administrator); see the Unix version.
func disableCoreDumps() error { return nil }
