package dsm_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// A user's profile is one request: the user and their shares.
func TestE2EProfileIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithGroup(dsmtest.Group{Name: "staff"}),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026", Email: "alice@example.com", Groups: []string{"staff"}}),
		dsmtest.WithShares(dsmtest.Share{Name: "finance", Groups: map[string]string{"staff": "ro"}}, dsmtest.Share{Name: "hr", Users: map[string]string{"alice": "deny"}}))
	c, cc := countingClient(t, srv)
	ctx := t.Context()
	if _, err := c.Users.Profile(ctx, "admin"); err != nil { // logs in and discovers
		t.Fatal(err)
	}
	before := cc.count("SYNO.Entry.Request request")
	p, err := c.Users.Profile(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if n := cc.count("SYNO.Entry.Request request") - before; n != 1 {
		t.Errorf("%d compound requests for a profile, want 1", n)
	}
	if cc.count("SYNO.Core.User get") != 0 || cc.count("SYNO.Core.Share.Permission list_by_user") != 0 {
		t.Errorf("calls outside the compound request: %v", cc.calls)
	}
	if p.User.Name != "alice" || p.User.Email != "alice@example.com" {
		t.Errorf("profile user %+v", p.User)
	}
	got := map[string]string{}
	for _, r := range p.Shares {
		got[r.Share] = r.Right.String() + "/" + r.Inherited.String()
	}
	want := map[string]string{"finance": "none/ro", "hr": "deny/none", "homes": "none/none"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("share %s: own/inherited %s, want %s", k, got[k], v)
		}
	}
	if _, err := c.Users.Profile(ctx, "nosuch"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("profile of a missing user: %v, want ErrNoSuchUser", err)
	}
}

// Each call of a batch has its own outcome, typed; stop-on-error leaves
// the later ones not run.
func TestE2EBatchErrors(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	calls := func() []*dsm.BatchCall {
		return []*dsm.BatchCall{
			{API: "SYNO.Core.User", Method: "get", Params: dsm.Params{"name": "nosuch"}},
			{API: "SYNO.Core.Share", Method: "list", Params: dsm.Params{"additional": []string{"hidden"}}, Out: &struct {
				Total int `json:"total"`
			}{}},
		}
	}
	for _, stop := range []bool{false, true} {
		cs := calls()
		err := c.Batch(ctx, dsm.BatchOptions{StopOnError: stop}, cs...)
		var be *dsm.BatchError
		if !errors.As(err, &be) || !errors.Is(err, dsm.ErrNoSuchUser) {
			t.Fatalf("stop %v: %v, want a *BatchError matching ErrNoSuchUser", stop, err)
		}
		var ae *dsm.APIError
		if !errors.As(cs[0].Err, &ae) || ae.API != "SYNO.Core.User" || ae.Method != "get" || ae.Code != 3106 {
			t.Errorf("stop %v: first call's error %v, want SYNO.Core.User get code 3106", stop, cs[0].Err)
		}
		if stop {
			if !errors.Is(cs[1].Err, dsm.ErrNotRun) {
				t.Errorf("stop on error: second call's error %v, want ErrNotRun", cs[1].Err)
			}
		} else if cs[1].Err != nil || cs[1].Out.(*struct {
			Total int `json:"total"`
		}).Total != 3 {
			t.Errorf("second call: %v, total %+v; want it run, with the 3 seeded shares", cs[1].Err, cs[1].Out)
		}
	}
	if err := c.Batch(ctx, dsm.BatchOptions{}, &dsm.BatchCall{API: "SYNO.API.Auth", Method: "login"}); !errors.Is(err, dsm.ErrInvalidArgument) {
		t.Errorf("a login in a batch: %v, want refused before sending", err)
	}
	secret := &dsm.BatchCall{API: "SYNO.Core.User", Method: "create", Params: dsm.Params{"name": "x", "password": "Secret-pw-2026"}}
	if err := c.Batch(ctx, dsm.BatchOptions{}, secret); !errors.Is(err, dsm.ErrInvalidArgument) || strings.Contains(err.Error(), "Secret-pw-2026") {
		t.Errorf("a password in a batch: %v, want refused before sending, without the password in the message", err)
	}
}

// A batch in a secure sign-in session carries one X-SYNO-HASH, checked by
// the simulator, for all its calls: the session's nonce moves by one.
func TestE2EBatchSignedOnce(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithRemoteClients(), dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}))
	c := newClient(t, srv, dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}),
		dsm.WithSecureSignIn(dsm.SecureSignInRequired))
	ctx := t.Context()
	if _, err := c.Users.Profile(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	before, _ := c.Auth.Session()
	// Changes too: a limited (unsigned) session would get 105 for them.
	err := c.Batch(ctx, dsm.BatchOptions{StopOnError: true},
		&dsm.BatchCall{API: "SYNO.Core.Share.Permission", Method: "set_by_user_group", Params: dsm.Params{"name": "alice", "user_group_type": "local_user",
			"permissions": []map[string]any{{"name": "finance", "is_readonly": true, "is_writable": false, "is_deny": false, "is_custom": false}}}},
		&dsm.BatchCall{API: "SYNO.Core.Share.Permission", Method: "set_by_user_group", Params: dsm.Params{"name": "alice", "user_group_type": "local_user",
			"permissions": []map[string]any{{"name": "public", "is_readonly": false, "is_writable": false, "is_deny": true, "is_custom": false}}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := c.Auth.Session()
	if n := after.Signing.NextNonce - before.Signing.NextNonce; n != 1 {
		t.Errorf("the batch took %d nonces, want 1", n)
	}
	p, err := c.Users.Profile(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Shares {
		if r.Share == "finance" && r.Right != dsm.RightReadOnly || r.Share == "public" && r.Right != dsm.RightDeny {
			t.Errorf("alice on %s: %s after the batch", r.Share, r.Right)
		}
	}
}

// A profile carries the user's quotas, application rules and speed
// limits, read in the same one compound request as the user.
func TestE2EProfileHasQuotasAppsSpeed(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}))
	c, cc := countingClient(t, srv)
	ctx := t.Context()
	alice := dsm.UserPrincipal("alice")
	if err := c.Quotas.Set(ctx, alice, dsm.Quota{Volume: "/volume2", Limit: 500 * dsm.MiB}); err != nil {
		t.Fatal(err)
	}
	if err := c.Apps.Deny(ctx, alice, "SYNO.FTP"); err != nil {
		t.Fatal(err)
	}
	if err := c.Speed.Set(ctx, alice, dsm.SpeedLimit{Protocol: "FTP", Policy: dsm.SpeedEnabled, Upload: 100, Download: 200}); err != nil {
		t.Fatal(err)
	}
	total := func() (n int) {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		for _, k := range cc.calls {
			n += k
		}
		return n
	}
	before := total()
	compound := cc.count("SYNO.Entry.Request request")
	p, err := c.Users.Profile(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if n := cc.count("SYNO.Entry.Request request") - compound; n != 1 {
		t.Errorf("%d compound requests, want 1", n)
	}
	if n := total() - before; n != 1 {
		t.Errorf("%d requests for a profile, want 1", n)
	}
	if !slices.Contains(p.Quotas, dsm.Quota{Volume: "/volume2", Limit: 500 * dsm.MiB}) {
		t.Errorf("quotas %v, want /volume2 at 500 MiB among them", p.Quotas)
	}
	if len(p.Apps) != 1 || p.Apps[0].App != "SYNO.FTP" || p.Apps[0].Decision() != "deny" {
		t.Errorf("application rules %+v, want FTP denied", p.Apps)
	}
	if !slices.ContainsFunc(p.Speed, func(l dsm.SpeedLimit) bool {
		return l.Protocol == "FTP" && l.Policy == dsm.SpeedEnabled && l.Upload == 100 && l.Download == 200
	}) {
		t.Errorf("speed limits %+v, want FTP at 100/200", p.Speed)
	}
}

// A NAS that does not serve one part of a profile still gives the user,
// their rights and the other parts; the missing part says why.
func TestE2EProfileWithoutAnAPI(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithoutAPIs("SYNO.Core.BandwidthControl"), dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}))
	c := srv.Client()
	if err := c.Apps.Deny(t.Context(), dsm.UserPrincipal("alice"), "SYNO.FTP"); err != nil {
		t.Fatal(err)
	}
	p, err := c.Users.Profile(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.User.Name != "alice" || len(p.Shares) == 0 || len(p.Apps) != 1 || len(p.Speed) != 0 {
		t.Errorf("profile %+v", p)
	}
	if err := p.Unavailable["SYNO.Core.BandwidthControl"]; !errors.Is(err, dsm.ErrUnsupported) || len(p.Unavailable) != 1 {
		t.Errorf("unavailable %v, want the speed limits' ErrUnsupported only", p.Unavailable)
	}
}
