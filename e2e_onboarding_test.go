package dsm_test

import (
	"errors"
	"slices"
	"strconv"
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
	if err := c.Quotas.Set(ctx, dsm.UserPrincipal("alice"), dsm.Quota{Share: "public", Limit: 20 * dsm.GiB}, dsm.Quota{Volume: "/volume2", Limit: 500 * dsm.MiB}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Quotas.Get(ctx, dsm.UserPrincipal("alice"))
	if err != nil {
		t.Fatal(err)
	}
	// Every shared folder of the Btrfs volume1 (finance, homes, public),
	// then the ext4 volume2 as a whole.
	want := []dsm.Quota{{Volume: "/volume1", Share: "finance"}, {Volume: "/volume1", Share: "homes"}, {Volume: "/volume1", Share: "public", Limit: 20 * dsm.GiB}, {Volume: "/volume2", Limit: 500 * dsm.MiB}}
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
	if err := c.Quotas.Set(ctx, dsm.GroupPrincipal("staff"), dsm.Quota{Share: "finance", Limit: dsm.TiB}); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.Quotas.Get(ctx, dsm.GroupPrincipal("staff")); len(g) != 4 || g[0] != (dsm.Quota{Volume: "/volume1", Share: "finance", Limit: dsm.TiB}) {
		t.Errorf("group quotas %v", g)
	}
	// volume2 has 2 TiB, as SYNO.Core.Share sees it.
	err = c.Quotas.Set(ctx, dsm.UserPrincipal("alice"), dsm.Quota{Volume: "/volume2", Limit: 2*dsm.TiB + dsm.MiB})
	var ae *dsm.APIError
	if !errors.Is(err, dsm.ErrQuotaTooLarge) || !errors.As(err, &ae) || ae.Code != 3117 {
		t.Errorf("a quota above the free space: %v, want 3117", err)
	}
	if _, err := c.Quotas.Get(ctx, dsm.UserPrincipal("nobody")); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("Get of nobody: %v", err)
	}
	// A shared folder the NAS does not have is ErrNoSuchShare, as for
	// permissions; one made through SYNO.Core.Share takes quotas at
	// once, and loses them when it is deleted.
	if err := c.Quotas.Set(ctx, dsm.UserPrincipal("alice"), dsm.Quota{Share: "projects", Limit: dsm.GiB}); !errors.Is(err, dsm.ErrNoSuchShare) {
		t.Errorf("Set on a missing folder: %v, want ErrNoSuchShare", err)
	}
	if _, err := c.Quotas.ListShare(ctx, "projects"); !errors.Is(err, dsm.ErrNoSuchShare) {
		t.Errorf("ListShare of a missing folder: %v, want ErrNoSuchShare", err)
	}
	if err := c.Quotas.SetShare(ctx, "projects", "alice", dsm.GiB); !errors.Is(err, dsm.ErrNoSuchShare) {
		t.Errorf("SetShare on a missing folder: %v, want ErrNoSuchShare", err)
	}
	if err := c.Permissions.Grant(ctx, "projects", dsm.UserPrincipal("alice"), dsm.RightReadOnly); !errors.Is(err, dsm.ErrNoSuchShare) {
		t.Errorf("Grant on a missing folder: %v, want ErrNoSuchShare", err)
	}
	if _, err := c.Shares.Create(ctx, dsm.ShareCreateRequest{Name: "projects", Volume: "/volume1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Quotas.Set(ctx, dsm.UserPrincipal("alice"), dsm.Quota{Share: "projects", Limit: dsm.GiB}); err != nil {
		t.Fatal(err)
	}
	if err := c.Shares.Delete(ctx, "projects"); err != nil {
		t.Fatal(err)
	}
	if q, _ := c.Quotas.Get(ctx, dsm.UserPrincipal("alice")); slices.ContainsFunc(q, func(q dsm.Quota) bool { return q.Share == "projects" }) {
		t.Errorf("a deleted folder keeps its quota: %v", q)
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
	alice := dsm.UserPrincipal("alice")
	for _, err := range []error{
		c.Apps.Deny(ctx, alice, "SYNO.FTP"),
		c.Apps.Allow(ctx, alice, "SYNO.SFTP", "10.0.0.0/8"),
		c.Apps.Allow(ctx, alice, "SYNO.AFP"),
		c.Apps.Default(ctx, alice, "SYNO.AFP"),
		c.Apps.Allow(ctx, dsm.GroupPrincipal("staff"), "SYNO.Desktop"),
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
	// DSM's 3403 (no such user or group) is ErrNoSuchUser for a user,
	// ErrNoSuchGroup for a group, with the *APIError kept.
	var ae *dsm.APIError
	if _, err := c.Apps.Rules(ctx, dsm.UserPrincipal("nobody")); !errors.Is(err, dsm.ErrNoSuchUser) || errors.Is(err, dsm.ErrNoSuchGroup) || !errors.As(err, &ae) || ae.Code != 3403 {
		t.Errorf("Rules of a missing user: %v, want ErrNoSuchUser (3403)", err)
	}
	if err := c.Apps.Deny(ctx, dsm.GroupPrincipal("nobody"), "SYNO.FTP"); !errors.Is(err, dsm.ErrNoSuchGroup) || errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("Deny for a missing group: %v, want ErrNoSuchGroup", err)
	}
	if err := c.Apps.Default(ctx, dsm.UserPrincipal("nobody"), "SYNO.FTP"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("Default for a missing user: %v, want ErrNoSuchUser", err)
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
	if err := c.Speed.Set(ctx, dsm.UserPrincipal("alice"), set...); err != nil {
		t.Fatal(err)
	}
	got, err := c.Speed.Get(ctx, dsm.UserPrincipal("alice"))
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
	bob := dsm.UserPrincipal("bob")
	for _, err := range []error{
		c.Quotas.Set(ctx, bob, dsm.Quota{Volume: "/volume2", Limit: dsm.GiB}),
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

// TestRulesAgreementOnboarding holds the client's rules of schedules,
// rule addresses and speed limits against the simulator's copies, as
// TestRulesAgreement does for names and passwords.
func TestRulesAgreementOnboarding(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "rules", Password: rulesPassword}))
	c := newClient(t, srv, dsm.WithSecureSignIn(dsm.SecureSignInOff))
	sess, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: dsm.AccountAdmin, Password: srv.AdminPassword()})
	if err != nil {
		t.Fatal(err)
	}
	nas := &rulesNAS{url: srv.URL(), sess: sess, hc: srv.HTTPClient()}
	var cases []verdict
	add := func(rule, value string, client error, refusal int, sim func(t *testing.T, n *rulesNAS) (bool, int)) {
		cases = append(cases, verdict{rule: rule, value: value, client: client, sim: sim, refusal: refusal})
	}
	argOnly := func(err error) error {
		if errors.Is(err, dsm.ErrInvalidArgument) {
			return err
		}
		return nil
	}
	speedRow := func(plan string, up int) string {
		return jsonText([]map[string]any{{"name": "rules", "owner_type": "local_user", "protocol": "FTP", "policy": "scheduled",
			"upload_limit_1": up, "download_limit_1": 0, "upload_limit_2": 0, "download_limit_2": 0, "schedule_plan": plan}})
	}
	full := dsm.AlwaysLimited
	for _, plan := range []string{"", full, full[1:], full + "0", strings.Repeat("0", 168), strings.Repeat("2", 168), strings.Repeat("012", 56),
		"3" + full[1:], full[:167] + "a", " " + full[1:], strings.Repeat("é", 84), full[:100] + "\x00" + full[101:]} {
		add("schedule", plan, dsm.ValidateSchedule(plan), 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.BandwidthControl", "set", "bandwidths", speedRow(plan, 0))
		})
	}
	for _, up := range []int{-1, 0, 1, dsm.MaxSpeedLimit, dsm.MaxSpeedLimit + 1} {
		err := c.Speed.Set(t.Context(), dsm.UserPrincipal("rules"), dsm.SpeedLimit{Protocol: "FTP", Policy: dsm.SpeedScheduled, Upload: up, Schedule: full})
		add("speed limit", strconv.Itoa(up), argOnly(err), 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.BandwidthControl", "set", "bandwidths", speedRow(full, up))
		})
	}
	rule := func(addrs []string) string {
		return jsonText([]map[string]any{{"app_id": "SYNO.FTP", "entity_type": "user", "entity_name": "rules", "allow_ip": addrs, "deny_ip": []string{}}})
	}
	for _, a := range []string{"0.0.0.0", "10.0.0.1", "10.0.0.0/8", "10.0.0.1/8", "10.0.0.0/33", "fd00::/8", "::1", "", "all", "10.0.0.256",
		"10.0.0.1-10.0.0.9", " 10.0.0.1", "010.0.0.1", "10.0.0.1%eth0"} {
		add("rule address", a, dsm.ValidateAppAddress(a), 3400, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.AppPriv.Rule", "set", "rules", rule([]string{a}))
		})
	}
	for _, k := range []int{1, dsm.MaxAppRuleAddresses, dsm.MaxAppRuleAddresses + 1} {
		addrs := slices.Repeat([]string{"10.0.0.1"}, k)
		err := c.Apps.Allow(t.Context(), dsm.UserPrincipal("rules"), "SYNO.FTP", addrs...)
		add("rule addresses", strconv.Itoa(k), argOnly(err), 3400, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.AppPriv.Rule", "set", "rules", rule(addrs))
		})
	}
	for _, tc := range cases {
		simOK, code := tc.sim(t, nas)
		if !simOK && code != tc.refusal {
			t.Errorf("%s %q: the simulator answered %d, not the rule's refusal %d: the case tests something else", tc.rule, tc.value, code, tc.refusal)
			continue
		}
		if clientOK := tc.client == nil; clientOK != simOK {
			t.Errorf("%s %q: the client accepts: %v; the simulator accepts: %v (%d)", tc.rule, tc.value, clientOK, simOK, code)
		}
	}
}

// TestE2EShareQuotaNotServed: a DSM without SYNO.Core.Share.Quota answers
// ErrUnsupported; SYNO.Core.Quota still sets the same quota in MB.
func TestE2EShareQuotaNotServed(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithoutShareQuota(), dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}))
	c := srv.Client()
	if _, err := c.Quotas.ListShare(t.Context(), "public"); !errors.Is(err, dsm.ErrUnsupported) {
		t.Errorf("ListShare: %v, want ErrUnsupported", err)
	}
	if err := c.Quotas.SetShare(t.Context(), "public", "alice", dsm.GiB); !errors.Is(err, dsm.ErrUnsupported) {
		t.Errorf("SetShare: %v, want ErrUnsupported", err)
	}
	if err := c.Quotas.Set(t.Context(), dsm.UserPrincipal("alice"), dsm.Quota{Share: "public", Limit: dsm.GiB}); err != nil {
		t.Errorf("Set: %v", err)
	}
}
