package dsm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestTwoStepSetupConfirmReset sets up 2-step verification as DSM's
// wizard does (a new seed, then a code of it), checks that login then
// needs a code, and that an administrator's reset lifts it.
func TestTwoStepSetupConfirmReset(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1"}))
	ctx := t.Context()
	cred := dsm.Credentials{Account: "alice", Password: "Alice-pw1"}
	alice := newClient(t, srv, dsm.WithCredentials(cred))
	admin := srv.Client()

	setup, err := alice.TwoStep.Setup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if setup.Account != "alice@DiskStation" || len(setup.QRCode) == 0 || !strings.HasPrefix(string(setup.QRCode), "\x89PNG") {
		t.Errorf("setup: account %q, %d bytes of QR code", setup.Account, len(setup.QRCode))
	}
	if got := srv.PendingTOTPSecret("alice"); got != setup.Secret() {
		t.Fatalf("the seed the client read is not the simulator's")
	}
	if !strings.HasPrefix(setup.URI(), "otpauth://totp/DiskStation:alice@DiskStation?secret="+setup.Secret()+"&issuer=DiskStation") {
		t.Errorf("URI %s", setup.URI())
	}
	// The seed is in none of the printed or encoded forms.
	j, _ := json.Marshal(setup)
	jv, _ := json.Marshal(*setup)
	for _, s := range []string{fmt.Sprint(setup), fmt.Sprintf("%+v", setup), fmt.Sprintf("%#v", setup), string(j),
		fmt.Sprint(*setup), fmt.Sprintf("%+v", *setup), fmt.Sprintf("%#v", *setup), string(jv)} {
		if strings.Contains(s, setup.Secret()) {
			t.Errorf("the seed shows in %s", s)
		}
	}
	// Not in force before it is confirmed.
	if on, err := admin.TwoStep.Status(ctx, "alice"); err != nil || on {
		t.Fatalf("before confirming: status %v, %v", on, err)
	}
	key, err := setup.Key()
	if err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if key.Code(srv.Now()) == wrong {
		wrong = "111111"
	}
	if err := alice.TwoStep.Confirm(ctx, wrong); !errors.Is(err, dsm.ErrOTPRejected) {
		t.Fatalf("a wrong code: %v, want ErrOTPRejected", err)
	}
	var ae *dsm.ArgError
	if err := alice.TwoStep.Confirm(ctx, "12345"); !errors.As(err, &ae) {
		t.Fatalf("five digits: %v, want an ArgError", err)
	}
	if err := alice.TwoStep.Confirm(ctx, key.Code(srv.Now())); err != nil {
		t.Fatalf("the right code: %v", err)
	}
	if on, err := alice.TwoStep.Enabled(ctx); err != nil || !on {
		t.Errorf("Enabled after confirming: %v, %v", on, err)
	}
	if on, err := admin.TwoStep.Status(ctx, "alice"); err != nil || !on {
		t.Errorf("Status after confirming: %v, %v", on, err)
	}

	// A login now needs a code of the new seed.
	if _, err := newClient(t, srv).Auth.Login(ctx, cred); !errors.Is(err, dsm.ErrOTPRequired) {
		t.Fatalf("login without a code: %v, want ErrOTPRequired", err)
	}
	srv.Advance(time.Minute) // the confirming code's step is used up
	withCode := cred
	withCode.OTPCode = key.Code(srv.Now())
	if _, err := newClient(t, srv).Auth.Login(ctx, withCode); err != nil {
		t.Fatalf("login with a code: %v", err)
	}

	// An administrator's reset turns it off.
	if err := admin.TwoStep.Reset(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if on, err := admin.TwoStep.Status(ctx, "alice"); err != nil || on {
		t.Errorf("Status after reset: %v, %v", on, err)
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, cred); err != nil {
		t.Errorf("login after reset: %v", err)
	}
	if _, err := admin.TwoStep.Status(ctx, "nobody"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("status of no such user: %v, want ErrNoSuchUser", err)
	}
}

// TestTwoStepDisable turns one's own 2-step verification off, which the
// enforcement policy forbids.
func TestTwoStepDisable(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1", OTPSecret: aliceSecret}))
	ctx := t.Context()
	cred := dsm.Credentials{Account: "alice", Password: "Alice-pw1", OTPCode: dsmtest.TOTP(aliceSecret, srv.Now())}
	alice := newClient(t, srv, dsm.WithCredentials(cred))
	admin := srv.Client() // signs in now, before the policy covers it
	if err := admin.TwoStep.SetEnforcement(ctx, dsm.EnforceAll); err != nil {
		t.Fatal(err)
	}
	if err := alice.TwoStep.Disable(ctx); !errors.Is(err, dsm.ErrPermissionDenied) {
		t.Fatalf("disable while enforced: %v, want ErrPermissionDenied", err)
	}
	if err := admin.TwoStep.SetEnforcement(ctx, dsm.EnforceNone); err != nil {
		t.Fatal(err)
	}
	if err := alice.TwoStep.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	if on, err := alice.TwoStep.Enabled(ctx); err != nil || on {
		t.Errorf("after disable: %v, %v", on, err)
	}
}

// TestTwoStepEnforcement sets the policy and checks whom it locks out
// (406) until they set 2-step verification up.
func TestTwoStepEnforcement(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "root2", Password: "Root2-pw1", Admin: true}),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1"}),
		dsmtest.WithUser(dsmtest.User{Name: "otto", Password: "Otto-pw1", Admin: true, OTPSecret: aliceSecret}))
	ctx := t.Context()
	admin := srv.Client()
	if e, err := admin.TwoStep.Enforcement(ctx); err != nil || e != dsm.EnforceNone {
		t.Fatalf("default: %q, %v", e, err)
	}
	login := func(name, pw string) error {
		cred := dsm.Credentials{Account: name, Password: pw}
		if name == "otto" {
			cred.OTPCode = dsmtest.TOTP(aliceSecret, srv.Now())
			srv.Advance(time.Minute) // a fresh code each time
			cred.OTPCode = dsmtest.TOTP(aliceSecret, srv.Now())
		}
		_, err := newClient(t, srv).Auth.Login(ctx, cred)
		return err
	}
	for _, tt := range []struct {
		set                dsm.TwoStepEnforcement
		root2, alice, otto error
	}{
		{dsm.EnforceAdmins, dsm.ErrOTPEnforced, nil, nil},
		{dsm.EnforceAll, dsm.ErrOTPEnforced, dsm.ErrOTPEnforced, nil},
		{dsm.EnforceNone, nil, nil, nil},
	} {
		if err := admin.TwoStep.SetEnforcement(ctx, tt.set); err != nil {
			t.Fatal(err)
		}
		if e, err := admin.TwoStep.Enforcement(ctx); err != nil || e != tt.set {
			t.Errorf("set %q, read %q, %v", tt.set, e, err)
		}
		for name, want := range map[string]error{"root2": tt.root2, "alice": tt.alice, "otto": tt.otto} {
			pw := map[string]string{"root2": "Root2-pw1", "alice": "Alice-pw1", "otto": "Otto-pw1"}[name]
			if err := login(name, pw); !errors.Is(err, want) || (want == nil && err != nil) {
				t.Errorf("policy %s: login of %s: %v, want %v", tt.set, name, err, want)
			}
		}
	}
	var ae *dsm.ArgError
	for _, bad := range []dsm.TwoStepEnforcement{dsm.EnforceCustom, "admins", ""} {
		if err := admin.TwoStep.SetEnforcement(ctx, bad); !errors.As(err, &ae) {
			t.Errorf("set %q: %v, want an ArgError", bad, err)
		}
	}
}

// TestTwoStepEnforcementSeeded starts a simulator whose policy enforces
// 2-step verification for everyone.
func TestTwoStepEnforcementSeeded(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithTwoStepEnforcement("user"), dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1"}))
	if _, err := newClient(t, srv).Auth.Login(t.Context(), dsm.Credentials{Account: "alice", Password: "Alice-pw1"}); !errors.Is(err, dsm.ErrOTPEnforced) {
		t.Errorf("login: %v, want ErrOTPEnforced", err)
	}
	if _, err := dsmtest.NewServer(dsmtest.WithTwoStepEnforcement("admins")); err == nil {
		t.Error("an unknown policy was accepted")
	}
}

// TestTrustedDevices lists the devices a 2-step login trusted and forgets
// one: its token no longer skips the code.
func TestTrustedDevices(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1", OTPSecret: aliceSecret}))
	ctx := t.Context()
	cred := dsm.Credentials{Account: "alice", Password: "Alice-pw1", OTPCode: dsmtest.TOTP(aliceSecret, srv.Now()), DeviceName: "laptop"}
	alice := newClient(t, srv, dsm.WithCredentials(cred))
	sess, err := alice.Auth.Login(ctx, cred)
	if err != nil {
		t.Fatal(err)
	}
	devs, err := alice.TwoStep.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Name != "laptop" || devs[0].ID == "" || strings.Contains(sess.DeviceID, devs[0].ID) {
		t.Fatalf("devices %+v", devs)
	}
	trusted := dsm.Credentials{Account: "alice", Password: "Alice-pw1", DeviceID: sess.DeviceID}
	if _, err := newClient(t, srv).Auth.Login(ctx, trusted); err != nil {
		t.Fatalf("with the device token: %v", err)
	}
	if err := alice.TwoStep.ForgetDevice(ctx, devs[0].ID); err != nil {
		t.Fatal(err)
	}
	if devs, err := alice.TwoStep.Devices(ctx); err != nil || len(devs) != 0 {
		t.Errorf("after forgetting: %+v, %v", devs, err)
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, trusted); !errors.Is(err, dsm.ErrOTPRequired) {
		t.Errorf("a forgotten device: %v, want ErrOTPRequired", err)
	}
}
