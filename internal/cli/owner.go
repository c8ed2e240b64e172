package cli

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
)

// userName returns the name of the user with uid, or the number when it
// has none.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// notOwnedError returns, for fi at path, an error when its owner is not
// the user running dsmctl (nil when it is, or where owners are not known:
// see fileOwner); why says what another owner could have done.
func notOwnedError(path string, fi fs.FileInfo, why string) error {
	uid, _, known := fileOwner(fi)
	if !known || uid == os.Geteuid() {
		return nil
	}
	me := userName(os.Geteuid())
	return fmt.Errorf("%s is owned by %s, not by %s who runs dsmctl: %s; check it, then run \"chown %s %s\" (or remove it)",
		path, userName(uid), me, why, me, path)
}
