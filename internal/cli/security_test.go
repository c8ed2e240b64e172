package cli

import "testing"

// TestGoldenSecurity holds the records of the security and 2-step
// commands.
func TestGoldenSecurity(t *testing.T) {
	t.Parallel()
	e := goldenEnv(t)
	goldenRun(t, e, "security_autoblock_get", "security", "autoblock", "get")
	goldenRun(t, e, "security_blocked_list", "security", "blocked", "list")
	goldenRun(t, e, "security_locked_list", "security", "locked", "list")
	goldenRun(t, e, "user_2fa_status", "user", "2fa", "status", "dave")
	goldenRun(t, e, "policy_2fa_get", "policy", "2fa", "get")
	goldenRun(t, e, "policy_2fa_get_json", "policy", "2fa", "get", "-o", "json")
}
