package dsm_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// SetProfile changes rights, quotas, rules and limits in one compound
// request, and a bad part is refused before any call.
func TestE2ESetProfileIsOneRequest(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}))
	c, cc := countingClient(t, srv)
	ctx := t.Context()
	if _, err := c.Users.Profile(ctx, "admin"); err != nil { // logs in and discovers
		t.Fatal(err)
	}
	before := cc.count("SYNO.Entry.Request request")
	alice := dsm.UserPrincipal("alice")
	err := c.Users.SetProfile(ctx, alice, dsm.ProfileChange{
		Rights: []dsm.RightChange{{Share: "finance", Right: dsm.RightReadOnly}, {Share: "public", Right: dsm.RightDeny}},
		Quotas: []dsm.Quota{{Volume: "/volume2", Limit: dsm.GiB}},
		Apps:   []dsm.AppRule{{App: "SYNO.FTP", Deny: []string{dsm.AllAddresses}}},
		Speed:  []dsm.SpeedLimit{{Protocol: "FTP", Policy: dsm.SpeedEnabled, Upload: 10, Download: 20}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := cc.count("SYNO.Entry.Request request") - before; n != 1 {
		t.Errorf("%d compound requests, want 1", n)
	}
	for _, call := range []string{"SYNO.Core.Share.Permission set_by_user_group", "SYNO.Core.Quota set", "SYNO.Core.AppPriv.Rule set", "SYNO.Core.BandwidthControl set"} {
		if cc.count(call) != 0 {
			t.Errorf("%s sent on its own", call)
		}
	}
	p, err := c.Users.Profile(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	rights := map[string]dsm.Right{}
	for _, r := range p.Shares {
		rights[r.Share] = r.Right
	}
	if rights["finance"] != dsm.RightReadOnly || rights["public"] != dsm.RightDeny {
		t.Errorf("rights %v", rights)
	}
	if !slices.Contains(p.Quotas, dsm.Quota{Volume: "/volume2", Limit: dsm.GiB}) || len(p.Apps) != 1 ||
		!slices.ContainsFunc(p.Speed, func(l dsm.SpeedLimit) bool { return l.Protocol == "FTP" && l.Upload == 10 }) {
		t.Errorf("profile after SetProfile: quotas %v, apps %v, speed %v", p.Quotas, p.Apps, p.Speed)
	}
	// Reverting the rule is a delete in the same kind of batch.
	if err := c.Users.SetProfile(ctx, alice, dsm.ProfileChange{AppDefaults: []string{"SYNO.FTP"}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.Apps.Rules(ctx, alice); len(r) != 0 {
		t.Errorf("rules after the default: %v", r)
	}
	calls := cc.count("SYNO.Entry.Request request")
	err = c.Users.SetProfile(ctx, alice, dsm.ProfileChange{Rights: []dsm.RightChange{{Share: "finance", Right: dsm.RightReadOnly}}, Quotas: []dsm.Quota{{Volume: "volume1", Limit: dsm.GiB}}})
	var ae *dsm.ArgError
	if !errors.As(err, &ae) || cc.count("SYNO.Entry.Request request") != calls {
		t.Errorf("a bare volume name: %v, want an *ArgError before any request", err)
	}
	if err := c.Users.SetProfile(ctx, dsm.UserPrincipal("nobody"), dsm.ProfileChange{AppDefaults: []string{"SYNO.FTP"}}); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("a missing user: %v, want ErrNoSuchUser", err)
	}
}
