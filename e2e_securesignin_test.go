package dsm_test

import (
	"errors"
	"testing"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// Against a NAS that counts every client as remote (reached over the
// internet), the client's secure sign-in gives a full session, and a
// login without it a limited one whose changes fail with a message that
// says why.
func TestE2ESecureSignInFromARemoteAddress(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithRemoteClients())
	ctx := t.Context()
	admin := dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}

	full := newClient(t, srv, dsm.WithCredentials(admin), dsm.WithSecureSignIn(dsm.SecureSignInRequired))
	if _, err := full.Users.Create(ctx, dsm.UserCreateRequest{Name: "dora", Password: "Secret-pw-2026"}); err != nil {
		t.Fatalf("create in a session with the handshake: %v", err)
	}
	sess, _ := full.Auth.Session()
	if !sess.SecureSignIn || sess.Signing.NextNonce == 0 {
		t.Errorf("session SecureSignIn %v, next nonce %d: want a signed session that signed its calls", sess.SecureSignIn, sess.Signing.NextNonce)
	}
	if srv.SecureLogins() != 1 {
		t.Errorf("%d logins with the handshake, want 1", srv.SecureLogins())
	}

	limited := newClient(t, srv, dsm.WithCredentials(admin), dsm.WithSecureSignIn(dsm.SecureSignInOff))
	if _, _, err := limited.Users.List(ctx, dsm.ListOptions{}); err != nil {
		t.Fatalf("a limited session cannot read: %v", err)
	}
	_, err := limited.Users.Create(ctx, dsm.UserCreateRequest{Name: "eve", Password: "Secret-pw-2026"})
	var le *dsm.LimitedSessionError
	if !errors.As(err, &le) || !errors.Is(err, dsm.ErrPermissionDenied) || !errors.Is(err, dsm.ErrLimitedSession) {
		t.Fatalf("create in a session without the handshake: %v (%T), want a *LimitedSessionError", err, err)
	}
	if _, err := full.Users.Get(ctx, "eve"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("eve after a refused create: %v", err)
	}

	// A session resumed from its saved form keeps signing where the
	// first client stopped; the simulator refuses a nonce used before.
	resumed := newClient(t, srv, dsm.WithSession(sess))
	if _, err := resumed.Users.Get(ctx, "dora"); err != nil {
		t.Fatalf("resumed signed session: %v", err)
	}
	again := newClient(t, srv, dsm.WithSession(sess)) // the same nonces once more
	if _, err := again.Users.Get(ctx, "dora"); !errors.Is(err, dsm.ErrSessionExpired) {
		t.Errorf("a replayed nonce: %v, want the simulator's refusal (code 119)", err)
	}
}
