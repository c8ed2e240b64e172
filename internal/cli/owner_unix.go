//go:build unix

package cli

import (
	"io/fs"
	"syscall"
)

// fileOwner returns the uid of the owner of fi and its number of hard
// links; known is false when fi carries no Unix stat.
func fileOwner(fi fs.FileInfo) (uid int, nlink uint64, known bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), uint64(st.Nlink), true
}

// openPrivateFlags are added to the flags of a file dsmctl opens to
// write secrets to or to lock: a symbolic link is not followed (the open
// fails with ELOOP), and a FIFO put in its place does not block the open
// (the type is checked on the opened file).
const openPrivateFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
