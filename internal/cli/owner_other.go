//go:build !unix

package cli

import "io/fs"

// fileOwner knows no owner on Windows, whose files have access control
// lists rather than a Unix owner and mode: the owner checks of the config
// directory and the passwords file are not made there, as before them.
func fileOwner(fs.FileInfo) (uid int, nlink uint64, known bool) { return 0, 0, false }

// openPrivateFlags adds nothing on Windows (see the Unix version).
const openPrivateFlags = 0
