package cli

import "testing"

// The tables of the share commands, against goldenEnv's seed (homes,
// public for the users group, finance) with rights given on finance:
// staff read-only, alice read/write, carol denied.
func TestGoldenShares(t *testing.T) {
	t.Parallel()
	e := goldenEnv(t)
	e.mustRun(t, "share", "grant", "finance", "--group", "staff", "ro")
	e.mustRun(t, "share", "grant", "finance", "--user", "alice", "rw")
	e.mustRun(t, "share", "grant", "finance", "--user", "carol", "deny")
	goldenRun(t, e, "share_list", "share", "list")
	goldenRun(t, e, "share_access", "share", "access", "finance")
	goldenRun(t, e, "user_access", "user", "access", "bob")
	goldenRun(t, e, "home_get", "home", "get")
}
