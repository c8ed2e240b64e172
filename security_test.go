package dsm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestAutoBlockSettings reads and sets auto-block, and the simulator
// blocks by what was set.
func TestAutoBlockSettings(t *testing.T) {
	t.Parallel()
	// Sessions outlive the year the clock is moved by.
	srv := dsmtest.Start(t, dsmtest.WithSessionIdleTimeout(1000*24*time.Hour))
	ctx := t.Context()
	admin := srv.Client()
	got, err := admin.Security.AutoBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// dsmtest's default: 5 within 10 minutes, blocked 30 minutes (a day
	// started).
	if want := (dsm.AutoBlock{Enabled: true, Attempts: 5, WithinMinutes: 10, ExpireDays: 1}); got != want {
		t.Errorf("default %+v, want %+v", got, want)
	}
	set := dsm.AutoBlock{Enabled: true, Attempts: 2, WithinMinutes: 5, ExpireDays: 0}
	if err := admin.Security.SetAutoBlock(ctx, set); err != nil {
		t.Fatal(err)
	}
	if got, err := admin.Security.AutoBlock(ctx); err != nil || got != set {
		t.Errorf("after set: %+v, %v", got, err)
	}
	wrong := dsm.Credentials{Account: "nobody", Password: "wrong"}
	for range 2 {
		if _, err := newClient(t, srv).Auth.Login(ctx, wrong); !errors.Is(err, dsm.ErrWrongCredentials) {
			t.Fatal(err)
		}
	}
	right := dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); !errors.Is(err, dsm.ErrIPBlocked) {
		t.Fatalf("after 2 failures: %v, want ErrIPBlocked", err)
	}
	blocked, err := admin.Security.BlockedAddresses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocked) != 1 || blocked[0].Address != "127.0.0.1" || blocked[0].Since.IsZero() || !blocked[0].Expires.IsZero() {
		t.Fatalf("blocked %+v, want 127.0.0.1 since now, never expiring", blocked)
	}
	srv.Advance(400 * 24 * time.Hour) // expire_day 0: never lifted by time
	if _, err := newClient(t, srv).Auth.Login(ctx, right); !errors.Is(err, dsm.ErrIPBlocked) {
		t.Fatalf("a year later: %v, want ErrIPBlocked", err)
	}
	if err := admin.Security.Unblock(ctx, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); err != nil {
		t.Errorf("after unblock: %v", err)
	}

	// Off: failures block nothing.
	if err := admin.Security.SetAutoBlock(ctx, dsm.AutoBlock{}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		newClient(t, srv).Auth.Login(ctx, wrong)
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); err != nil {
		t.Errorf("auto-block off: %v", err)
	}
	// DSM keeps the thresholds of a disabled auto-block.
	if got, _ := admin.Security.AutoBlock(ctx); got != (dsm.AutoBlock{Attempts: 2, WithinMinutes: 5}) {
		t.Errorf("after turning off: %+v", got)
	}

	var ae *dsm.ArgError
	for _, bad := range []dsm.AutoBlock{
		{Enabled: true, Attempts: 0, WithinMinutes: 5},
		{Enabled: true, Attempts: dsm.AutoBlockMaxAttempts + 1, WithinMinutes: 5},
		{Enabled: true, Attempts: 3, WithinMinutes: dsm.AutoBlockMaxWithinMinutes + 1},
		{Enabled: true, Attempts: 3, WithinMinutes: 5, ExpireDays: dsm.AutoBlockMaxExpireDays + 1},
		{Enabled: true, Attempts: 3, WithinMinutes: 5, ExpireDays: -1},
	} {
		if err := admin.Security.SetAutoBlock(ctx, bad); !errors.As(err, &ae) {
			t.Errorf("%+v: %v, want an ArgError", bad, err)
		}
	}
}

// TestAllowAndBlockLists adds to and removes from the allow list, and
// lists what auto-block blocks.
func TestAllowAndBlockLists(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithAutoBlock(2, 10*time.Minute, time.Hour))
	ctx := t.Context()
	admin := srv.Client()
	if _, err := admin.Security.AllowList(ctx); err != nil { // signs in before the block
		t.Fatal(err)
	}
	right := dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}
	for range 2 {
		newClient(t, srv).Auth.Login(ctx, dsm.Credentials{Account: "nobody", Password: "wrong"})
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); !errors.Is(err, dsm.ErrIPBlocked) {
		t.Fatalf("after 2 failures: %v, want ErrIPBlocked", err)
	}
	// Allowing a blocked address lets it in at once.
	if err := admin.Security.Allow(ctx, "127.0.0.1/8", "2001:db8::/32"); err != nil {
		t.Fatal(err)
	}
	allow, err := admin.Security.AllowList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, r := range allow {
		addrs = append(addrs, r.Address)
	}
	if diff := cmp.Diff([]string{"127.0.0.0/8", "2001:db8::/32"}, addrs); diff != "" {
		t.Errorf("allow list (-want +got):\n%s", diff)
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); err != nil {
		t.Fatalf("blocked, then allowed: %v", err)
	}
	if err := admin.Security.Unblock(ctx, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	// An allowed address is never blocked.
	for range 3 {
		newClient(t, srv).Auth.Login(ctx, dsm.Credentials{Account: "nobody", Password: "wrong"})
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); err != nil {
		t.Fatalf("allowed address: %v", err)
	}
	if b, err := admin.Security.BlockedAddresses(ctx); err != nil || len(b) != 0 {
		t.Errorf("blocked %+v, %v, want none", b, err)
	}
	if err := admin.Security.Disallow(ctx, "127.0.0.0/8"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		newClient(t, srv).Auth.Login(ctx, dsm.Credentials{Account: "nobody", Password: "wrong"})
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); !errors.Is(err, dsm.ErrIPBlocked) {
		t.Fatalf("after leaving the allow list: %v, want ErrIPBlocked", err)
	}
	var ae *dsm.ArgError
	for _, bad := range [][]string{nil, {"nonsense"}, {"10.0.0.0/33"}, {"fe80::1%eth0"}} {
		if err := admin.Security.Allow(ctx, bad...); !errors.As(err, &ae) {
			t.Errorf("allow %q: %v, want an ArgError", bad, err)
		}
	}
	if err := admin.Security.Unblock(ctx, "10.0.0.0/8"); !errors.As(err, &ae) {
		t.Errorf("unblock a network: %v, want an ArgError", err)
	}
}

// TestAccountProtection sets account protection, locks an account, lists
// it and unlocks it.
func TestAccountProtection(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1"}))
	ctx := t.Context()
	admin := srv.Client()
	p, err := admin.Security.AccountProtection(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := dsm.AccountProtection{Enabled: true, Untrusted: dsm.LoginLimit{Attempts: 10, WithinMinutes: 10, LockMinutes: 30}, Trusted: dsm.LoginLimit{Attempts: 10, WithinMinutes: 1, LockMinutes: 30}}
	if p != want {
		t.Errorf("default %+v, want %+v", p, want)
	}
	p.Untrusted = dsm.LoginLimit{Attempts: 2, WithinMinutes: 5, LockMinutes: 20}
	if err := admin.Security.SetAccountProtection(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, err := admin.Security.AccountProtection(ctx); err != nil || got != p {
		t.Errorf("after set: %+v, %v", got, err)
	}
	for range 2 {
		newClient(t, srv).Auth.Login(ctx, dsm.Credentials{Account: "alice", Password: "wrong"})
	}
	right := dsm.Credentials{Account: "alice", Password: "Alice-pw1"}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); !errors.Is(err, dsm.ErrAccountLocked) {
		t.Fatalf("after 2 failures: %v, want ErrAccountLocked", err)
	}
	locked, err := admin.Security.LockedAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(locked) != 1 || locked[0].Name != "alice" || locked[0].UID != 1026 || locked[0].Address != "127.0.0.1" || locked[0].Since.IsZero() {
		t.Fatalf("locked %+v", locked)
	}
	// Off, account protection locks nothing and lists nothing; on again,
	// the lock is back until it lapses or is lifted.
	off := p
	off.Enabled = false
	if err := admin.Security.SetAccountProtection(ctx, off); err != nil {
		t.Fatal(err)
	}
	if l, err := admin.Security.LockedAccounts(ctx); err != nil || len(l) != 0 {
		t.Errorf("locked while off: %+v, %v", l, err)
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); err != nil {
		t.Errorf("login while off: %v", err)
	}
	if err := admin.Security.SetAccountProtection(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := admin.Security.Unlock(ctx, locked[0].UID); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, right); err != nil {
		t.Errorf("after unlock: %v", err)
	}
	var ae *dsm.ArgError
	bad := p
	bad.Trusted.LockMinutes = 0
	if err := admin.Security.SetAccountProtection(ctx, bad); !errors.As(err, &ae) {
		t.Errorf("lock of 0 minutes: %v, want an ArgError", err)
	}
	if err := admin.Security.Unlock(ctx); !errors.As(err, &ae) {
		t.Errorf("unlock nobody: %v, want an ArgError", err)
	}
}

// TestSecuritySettingsPersist sets every security setting on a simulator
// with a data directory and reads them back after a restart.
func TestSecuritySettingsPersist(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := []dsmtest.Option{dsmtest.WithDataDir(dir), dsmtest.WithAdminPassword("Admin-pw-1"),
		dsmtest.WithUser(dsmtest.User{Name: "otto", Password: "Otto-pw-1", Admin: true, OTPSecret: aliceSecret})}
	srv, err := dsmtest.NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	admin := srv.Client()
	ab := dsm.AutoBlock{Enabled: true, Attempts: 7, WithinMinutes: 60, ExpireDays: 3}
	ap := dsm.AccountProtection{Enabled: false, Untrusted: dsm.LoginLimit{Attempts: 4, WithinMinutes: 2, LockMinutes: 90}, Trusted: dsm.LoginLimit{Attempts: 8, WithinMinutes: 3, LockMinutes: 15}}
	if err := admin.Security.SetAutoBlock(ctx, ab); err != nil {
		t.Fatal(err)
	}
	if err := admin.Security.SetAccountProtection(ctx, ap); err != nil {
		t.Fatal(err)
	}
	if err := admin.Security.Allow(ctx, "192.168.1.0/24"); err != nil {
		t.Fatal(err)
	}
	if err := admin.TwoStep.SetEnforcement(ctx, dsm.EnforceAdmins); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	srv, err = dsmtest.NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if _, err := srv.Client().Security.AutoBlock(ctx); !errors.Is(err, dsm.ErrOTPEnforced) {
		t.Errorf("admin without 2-step under the stored policy: %v, want ErrOTPEnforced", err)
	}
	otto := newClient(t, srv, dsm.WithCredentials(dsm.Credentials{Account: "otto", Password: "Otto-pw-1", OTPCode: dsmtest.TOTP(aliceSecret, srv.Now())}))
	if got, err := otto.Security.AutoBlock(ctx); err != nil || got != ab {
		t.Errorf("auto-block after restart: %+v, %v, want %+v", got, err, ab)
	}
	if got, err := otto.Security.AccountProtection(ctx); err != nil || got != ap {
		t.Errorf("account protection after restart: %+v, %v, want %+v", got, err, ap)
	}
	if got, err := otto.Security.AllowList(ctx); err != nil || len(got) != 1 || got[0].Address != "192.168.1.0/24" {
		t.Errorf("allow list after restart: %+v, %v", got, err)
	}
	if got, err := otto.TwoStep.Enforcement(ctx); err != nil || got != dsm.EnforceAdmins {
		t.Errorf("enforcement after restart: %q, %v", got, err)
	}
	// The restarted simulator blocks by the stored setting (7 failures,
	// not dsmtest's default 5).
	wrong := dsm.Credentials{Account: "nobody", Password: "wrong"}
	for i := range 7 {
		if _, err := newClient(t, srv).Auth.Login(ctx, wrong); !errors.Is(err, dsm.ErrWrongCredentials) {
			t.Fatalf("failure %d: %v, want ErrWrongCredentials", i+1, err)
		}
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, wrong); !errors.Is(err, dsm.ErrIPBlocked) {
		t.Errorf("after 7 failures: %v, want ErrIPBlocked", err)
	}
}
