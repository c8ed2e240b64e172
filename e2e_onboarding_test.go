package dsm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
	"github.com/google/go-cmp/cmp"
)

// These tests run quotas, application rules and speed limits against
// the simulator.

func TestE2EQuotas(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}), dsmtest.WithGroup(dsmtest.Group{Name: "staff"}))
	c := srv.Client()
	ctx := t.Context()
	if err := c.Quotas.Set(ctx, dsm.UserOwner("alice"), dsm.Quota{Share: "public", Limit: 20 * dsm.GiB}, dsm.Quota{Volume: "volume2", Limit: 500 * dsm.MiB}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Quotas.Get(ctx, dsm.UserOwner("alice"))
	if err != nil {
		t.Fatal(err)
	}
	want := []dsm.Quota{{Volume: "volume1", Share: "public", Limit: 20 * dsm.GiB}, {Volume: "volume1", Share: "photo"}, {Volume: "volume2", Limit: 500 * dsm.MiB}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Get (-want +got):\n%s", d)
	}
	// The share quota in bytes, through SYNO.Core.Share.Quota.
	sq, err := c.Quotas.ListShare(ctx, "public")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]dsm.ShareQuota{{User: "alice", Limit: 20 * dsm.GiB}}, sq); d != "" {
		t.Errorf("ListShare (-want +got):\n%s", d)
	}
	if err := c.Quotas.SetShare(ctx, "public", "alice", 0); err != nil {
		t.Fatal(err)
	}
	if sq, _ := c.Quotas.ListShare(ctx, "public"); len(sq) != 0 {
		t.Errorf("after SetShare 0: %v", sq)
	}
	if err := c.Quotas.Set(ctx, dsm.GroupOwner("staff"), dsm.Quota{Share: "photo", Limit: dsm.TiB}); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.Quotas.Get(ctx, dsm.GroupOwner("staff")); len(g) != 3 || g[1] != (dsm.Quota{Volume: "volume1", Share: "photo", Limit: dsm.TiB}) {
		t.Errorf("group quotas %v", g)
	}
	err = c.Quotas.Set(ctx, dsm.UserOwner("alice"), dsm.Quota{Volume: "volume2", Limit: 2 * dsm.TiB})
	var ae *dsm.APIError
	if !errors.Is(err, dsm.ErrQuotaTooLarge) || !errors.As(err, &ae) || ae.Code != 3117 {
		t.Errorf("a quota above the free space: %v, want 3117", err)
	}
	if _, err := c.Quotas.Get(ctx, dsm.UserOwner("nobody")); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("Get of nobody: %v", err)
	}
}

func TestE2EAppRules(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}), dsmtest.WithGroup(dsmtest.Group{Name: "staff"}))
	c := srv.Client()
	ctx := t.Context()
	apps, err := c.Apps.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) < 5 || apps[2] != (dsm.App{ID: "SYNO.FTP", Name: "FTP", GrantByDefault: true}) {
		t.Errorf("catalogue %v", apps)
	}
	alice := dsm.UserOwner("alice")
	for _, err := range []error{
		c.Apps.Deny(ctx, alice, "SYNO.FTP"),
		c.Apps.Allow(ctx, alice, "SYNO.SFTP", "10.0.0.0/8"),
		c.Apps.Allow(ctx, alice, "SYNO.AFP"),
		c.Apps.Default(ctx, alice, "SYNO.AFP"),
		c.Apps.Allow(ctx, dsm.GroupOwner("staff"), "SYNO.Desktop"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	rules, err := c.Apps.Rules(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	want := []dsm.AppRule{{App: "SYNO.FTP", Allow: []string{}, Deny: []string{"0.0.0.0"}}, {App: "SYNO.SFTP", Allow: []string{"10.0.0.0/8"}, Deny: []string{}}}
	if d := cmp.Diff(want, rules); d != "" {
		t.Errorf("Rules (-want +got):\n%s", d)
	}
	if err := c.Apps.Allow(ctx, alice, "SYNO.NoSuchApp"); err == nil {
		t.Error("a rule for an app outside the catalogue was taken")
	}
}

func TestE2ESpeedLimits(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}))
	c := srv.Client()
	ctx := t.Context()
	plan := strings.Repeat("0", 24*5) + strings.Repeat("2", 48)
	set := []dsm.SpeedLimit{
		{Protocol: "FTP", Policy: dsm.SpeedEnabled, Upload: 100, Download: 200},
		{Protocol: "WebDAV", Policy: dsm.SpeedScheduled, Upload: 1, Download: 2, Upload2: 3, Download2: 4, Schedule: plan},
	}
	if err := c.Speed.Set(ctx, dsm.UserOwner("alice"), set...); err != nil {
		t.Fatal(err)
	}
	got, err := c.Speed.Get(ctx, dsm.UserOwner("alice"))
	if err != nil {
		t.Fatal(err)
	}
	byProto := map[string]dsm.SpeedLimit{}
	for _, l := range got {
		byProto[l.Protocol] = l
	}
	set[0].Schedule = dsm.AlwaysLimited
	for _, w := range set {
		if d := cmp.Diff(w, byProto[w.Protocol]); d != "" {
			t.Errorf("%s (-want +got):\n%s", w.Protocol, d)
		}
	}
	if byProto["FileStation"].Policy != dsm.SpeedNotSet || len(got) != len(dsm.SpeedProtocols) {
		t.Errorf("limits %v", got)
	}
}

// TestE2EDeleteUserDropsProfile: DSM removes a deleted user's quotas,
// rules and limits; a new user of the same name starts with none, so a
// profile is the account's, not the name's. (That the deleted rows are
// gone from the state, not only out of reach, is
// internal/sim's TestProfilesFollowTheirOwner.)
func TestE2EDeleteUserDropsProfile(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "bob", Password: "Secret-pw-2026"}))
	c := srv.Client()
	ctx := t.Context()
	bob := dsm.UserOwner("bob")
	for _, err := range []error{
		c.Quotas.Set(ctx, bob, dsm.Quota{Volume: "volume2", Limit: dsm.GiB}),
		c.Apps.Deny(ctx, bob, "SYNO.FTP"),
		c.Speed.Set(ctx, bob, dsm.SpeedLimit{Protocol: "FTP", Policy: dsm.SpeedEnabled, Upload: 1}),
		c.Users.Delete(ctx, "bob"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "bob", Password: "Secret-pw-2026"}); err != nil {
		t.Fatal(err)
	}
	q, _ := c.Quotas.Get(ctx, bob)
	r, _ := c.Apps.Rules(ctx, bob)
	l, _ := c.Speed.Get(ctx, bob)
	if q[len(q)-1].Limit != 0 || len(r) != 0 || l[0].Policy != dsm.SpeedNotSet {
		t.Errorf("a new bob has the old one's quotas %v, rules %v or limits %v", q, r, l[0])
	}
}
