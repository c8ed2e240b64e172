package dsm_test

import (
	"errors"
	"testing"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestE2ETestPassword asks the simulator's PasswordPolicy check, over
// plain http (the password in the encrypted envelope) and https.
func TestE2ETestPassword(t *testing.T) {
	t.Parallel()
	for _, tlsOn := range []bool{false, true} {
		var opts []dsmtest.Option
		if tlsOn {
			opts = append(opts, dsmtest.WithTLS())
		}
		srv := dsmtest.Start(t, append(opts, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw-123"}))...)
		c := newClient(t, srv, dsm.WithCredentials(dsm.Credentials{Account: "alice", Password: "Alice-pw-123"}))
		ctx := t.Context()
		if err := c.Policy.TestPassword(ctx, "carol", "Carol C", "Good-pass-7"); err != nil {
			t.Errorf("tls %v: a good password: %v", tlsOn, err)
		}
		for _, pw := range []string{"short1A", "no-digits-Here", "Carol-pass-7"} {
			if err := c.Policy.TestPassword(ctx, "carol", "", pw); !errors.Is(err, dsm.ErrWeakPassword) {
				t.Errorf("tls %v: %q: %v, want ErrWeakPassword", tlsOn, pw, err)
			}
		}
	}
}
