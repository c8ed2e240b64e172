package dsm_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// These tests run the client against the simulator, end to end.

const aliceSecret = "JBSWY3DPEHPK3PXP" // base32 TOTP seed of the 2-step user

func newClient(t *testing.T, srv *dsmtest.Server, opts ...dsm.Option) *dsm.Client {
	t.Helper()
	if srv.Certificate() != nil {
		opts = append(opts, dsm.WithHTTPClient(srv.HTTPClient()))
	}
	c, err := dsm.NewClient(srv.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestE2ELoginOverHTTPAndHTTPS(t *testing.T) {
	t.Parallel()
	for _, tlsOn := range []bool{false, true} {
		name := map[bool]string{false: "http-envelope", true: "https"}[tlsOn]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var opts []dsmtest.Option
			if tlsOn {
				opts = append(opts, dsmtest.WithTLS())
			}
			srv := dsmtest.Start(t, opts...)
			c := newClient(t, srv)
			sess, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: srv.AdminPassword()})
			if err != nil {
				t.Fatal(err)
			}
			if sess.SID == "" || sess.SynoToken == "" {
				t.Errorf("session lacks sid or token: %v", sess)
			}
			me, err := c.Auth.Whoami(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if me.Account != "admin" {
				t.Errorf("whoami %q, want admin", me.Account)
			}
			if err := c.Auth.Logout(t.Context()); err != nil {
				t.Fatal(err)
			}
			// The old session is gone on the server too.
			old := newClient(t, srv, dsm.WithSession(sess))
			if _, err := old.Auth.Whoami(t.Context()); !errors.Is(err, dsm.ErrSessionExpired) {
				t.Errorf("after logout: %v, want ErrSessionExpired", err)
			}
		})
	}
}

func TestE2EHTTPSVerifiesCertificate(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithTLS())
	c, err := dsm.NewClient(srv.URL()) // system roots: the self-signed certificate is not trusted
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: srv.AdminPassword()})
	if err == nil {
		t.Fatal("login to a self-signed certificate succeeded without trusting it")
	}
	c2, _ := dsm.NewClient(srv.URL(), dsm.WithInsecureSkipVerify())
	if _, err := c2.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}); err != nil {
		t.Errorf("with WithInsecureSkipVerify: %v", err)
	}
}

func TestE2ELoginErrors(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "carol", Password: "Carol-pw1", Disabled: true}),
		dsmtest.WithUser(dsmtest.User{Name: "dave", Password: "Dave-pw1", OTPEnforced: true}),
	)
	tests := []struct {
		name string
		cred dsm.Credentials
		want error
	}{
		{"wrong password", dsm.Credentials{Account: "admin", Password: "not-it"}, dsm.ErrWrongCredentials},
		{"no such account", dsm.Credentials{Account: "nobody", Password: "x"}, dsm.ErrWrongCredentials},
		{"disabled", dsm.Credentials{Account: "carol", Password: "Carol-pw1"}, dsm.ErrAccountDisabled},
		{"2-step enforced", dsm.Credentials{Account: "dave", Password: "Dave-pw1"}, dsm.ErrOTPEnforced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv)
			_, err := c.Auth.Login(t.Context(), tt.cred)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			var ae *dsm.APIError
			if !errors.As(err, &ae) || ae.API != "SYNO.API.Auth" || ae.Method != "login" {
				t.Errorf("error %#v is not an APIError of SYNO.API.Auth login", err)
			}
			if _, ok := c.Auth.Session(); ok {
				t.Error("failed login left a session")
			}
		})
	}
}

func TestE2EAutoBlock(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithAutoBlock(3, 10*time.Minute, 30*time.Minute))
	c := newClient(t, srv)
	for i := range 3 {
		if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: "wrong"}); !errors.Is(err, dsm.ErrWrongCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: srv.AdminPassword()})
	if !errors.Is(err, dsm.ErrIPBlocked) {
		t.Fatalf("right password while blocked: %v, want ErrIPBlocked", err)
	}
	srv.Advance(31 * time.Minute)
	if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}); err != nil {
		t.Errorf("after the block expired: %v", err)
	}
}

func TestE2ETwoStep(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1", OTPSecret: aliceSecret}))
	ctx := t.Context()
	cred := dsm.Credentials{Account: "alice", Password: "Alice-pw1"}

	// Required: no code, DSM says which methods it offers.
	_, err := newClient(t, srv).Auth.Login(ctx, cred)
	if !errors.Is(err, dsm.ErrOTPRequired) {
		t.Fatalf("without a code: %v, want ErrOTPRequired", err)
	}
	var ae *dsm.APIError
	if !errors.As(err, &ae) || len(ae.OTPTypes()) == 0 {
		t.Errorf("no offered 2-step types in %v", err)
	}

	// Wrong code.
	bad := cred
	bad.OTPCode = "000000"
	if dsmtest.TOTP(aliceSecret, srv.Now()) == "000000" {
		bad.OTPCode = "111111"
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, bad); !errors.Is(err, dsm.ErrOTPRejected) {
		t.Fatalf("wrong code: %v, want ErrOTPRejected", err)
	}

	// Accepted, with a device token asked for.
	good := cred
	good.OTPCode = dsmtest.TOTP(aliceSecret, srv.Now())
	good.DeviceName = "test runner"
	sess, err := newClient(t, srv).Auth.Login(ctx, good)
	if err != nil {
		t.Fatalf("right code: %v", err)
	}
	if sess.DeviceID == "" {
		t.Fatal("no device token although one was asked for")
	}

	// Replayed inside its window.
	replay := cred
	replay.OTPCode = good.OTPCode
	if _, err := newClient(t, srv).Auth.Login(ctx, replay); !errors.Is(err, dsm.ErrOTPRejected) {
		t.Fatalf("replayed code: %v, want ErrOTPRejected", err)
	}

	// The device token skips the code.
	trusted := cred
	trusted.DeviceID = sess.DeviceID
	if _, err := newClient(t, srv).Auth.Login(ctx, trusted); err != nil {
		t.Fatalf("with the device token: %v", err)
	}
	// A made-up token does not.
	forged := cred
	forged.DeviceID = "not-a-token"
	if _, err := newClient(t, srv).Auth.Login(ctx, forged); !errors.Is(err, dsm.ErrOTPRequired) {
		t.Fatalf("forged device token: %v, want ErrOTPRequired", err)
	}
}

func TestE2ESessionRenewal(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithSessionIdleTimeout(15*time.Minute))
	c := srv.Client()
	ctx := t.Context()
	if _, err := c.Auth.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Auth.Session()
	srv.Advance(16 * time.Minute)
	if _, err := c.Auth.Whoami(ctx); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	second, _ := c.Auth.Session()
	if first.SID == second.SID {
		t.Error("the session was not renewed")
	}
	if n := srv.Logins(); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}

	// Many calls at the moment of expiry share one login.
	srv.Advance(16 * time.Minute)
	var wg sync.WaitGroup
	for range 25 {
		wg.Go(func() {
			if _, err := c.Auth.Whoami(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.Logins(); n != 3 {
		t.Errorf("%d logins after concurrent renewal, want 3", n)
	}
}

func TestE2EResumeSession(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c := srv.Client()
	if _, err := c.Auth.Whoami(t.Context()); err != nil {
		t.Fatal(err)
	}
	sess, _ := c.Auth.Session()
	resumed := newClient(t, srv, dsm.WithSession(sess))
	me, err := resumed.Auth.Whoami(t.Context())
	if err != nil || me.Account != "admin" {
		t.Fatalf("resumed session: %v %v", me, err)
	}
	if srv.Logins() != 1 {
		t.Errorf("resuming logged in again: %d logins", srv.Logins())
	}
	// Without credentials an expired session is not renewed.
	srv.Advance(time.Hour)
	if _, err := resumed.Auth.Whoami(t.Context()); !errors.Is(err, dsm.ErrSessionExpired) {
		t.Errorf("expired resumed session: %v, want ErrSessionExpired", err)
	}
}

func TestE2EUnknownAPI(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c := srv.Client()
	err := c.Call(t.Context(), "SYNO.No.Such.API", "get", nil, nil)
	if !errors.Is(err, dsm.ErrUnsupported) {
		t.Fatalf("error %v, want ErrUnsupported", err)
	}
	var ve *dsm.VersionError
	if !errors.As(err, &ve) || ve.API != "SYNO.No.Such.API" {
		t.Errorf("error %v does not name the API", err)
	}
	// A method the API does not have is DSM's 103.
	err = c.Call(t.Context(), "SYNO.Core.NormalUser", "explode", nil, nil)
	var ae *dsm.APIError
	if !errors.As(err, &ae) || ae.Code != 103 || !errors.Is(err, dsm.ErrUnsupported) {
		t.Errorf("unknown method: %v, want code 103", err)
	}
}

func TestE2EContextCancelled(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := srv.Client().Auth.Whoami(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// The client's TOTP and the simulator's are written independently: a
// login with the seed alone checks one against the other.
func TestE2ETOTPSeed(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1", OTPSecret: aliceSecret}))
	key, err := dsm.TOTP(aliceSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := key.Code(srv.Now()), dsmtest.TOTP(aliceSecret, srv.Now()); got != want {
		t.Errorf("client code %s, simulator code %s", got, want)
	}
	c := newClient(t, srv)
	if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "alice", Password: "Alice-pw1", TOTP: key}); err != nil {
		t.Fatalf("login with the seed: %v", err)
	}
}

func TestE2EAccountLock(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithAutoBlock(-1, 0, 0), dsmtest.WithAccountLock(3, 10*time.Minute, 15*time.Minute))
	c := newClient(t, srv)
	for range 3 {
		if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: "wrong"}); !errors.Is(err, dsm.ErrWrongCredentials) {
			t.Fatal(err)
		}
	}
	_, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: srv.AdminPassword()})
	if !errors.Is(err, dsm.ErrAccountLocked) || !strings.Contains(err.Error(), "account locked") {
		t.Fatalf("locked account: %v, want ErrAccountLocked", err)
	}
	srv.Advance(16 * time.Minute)
	if _, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}); err != nil {
		t.Errorf("after the lock: %v", err)
	}
}
