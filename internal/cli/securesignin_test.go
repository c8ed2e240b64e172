package cli

import (
	"strings"
	"testing"

	"github.com/dsmkit/dsm/dsmtest"
)

// Against a NAS that counts every client as remote, dsmctl logs in with
// the secure sign-in, and the saved signed session works across commands,
// each saving the nonce the next one takes; --require-secure-signin
// refuses a NAS that does not offer it.
func TestSecureSignInAcrossCommands(t *testing.T) {
	t.Parallel()
	srv := startSim(t, dsmtest.WithRemoteClients())
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login", "--require-secure-signin")
	_, sess := loggedInSession(t, e)
	if !sess.SecureSignIn {
		t.Fatal("the saved session has no secure sign-in")
	}
	r := e.with("DSM_PASSWORD", "").mustRun(t, "user", "create", "carol", "--generate-password")
	r.noSecrets(t, sess.Signing.Key, sess.SID)
	_, after := loggedInSession(t, e)
	if after.Signing.NextNonce <= sess.Signing.NextNonce {
		t.Errorf("next nonce %d after a command, was %d: not saved", after.Signing.NextNonce, sess.Signing.NextNonce)
	}
	for _, args := range [][]string{{"user", "list"}, {"group", "create", "ops"}, {"user", "join", "carol", "ops"}, {"user", "delete", "carol", "--yes"}, {"whoami"}} {
		e.with("DSM_PASSWORD", "").mustRun(t, args...)
	}
	if n := srv.SecureLogins(); n != 1 {
		t.Errorf("%d secure logins, want the one of dsmctl login", n)
	}

	// A NAS that does not offer it (here its UIConfig answers 103).
	f, err := dsmtest.ParseFault("SYNO.API.Auth.UIConfig:get:code=103")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(f); err != nil {
		t.Fatal(err)
	}
	r = e.run(t, "login", "--require-secure-signin")
	r.wantCode(t, ExitAuth)
	if !strings.Contains(r.stderr, "secure sign-in") {
		t.Errorf("stderr %q does not say why", r.stderr)
	}
	_, kept := loggedInSession(t, e)
	if kept.SID != sess.SID {
		t.Error("a refused login replaced the saved session")
	}
}
