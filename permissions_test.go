package dsm_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// accessCases is testdata/effective-access.json: the cases of DSM's
// effective-right rule that the client's EffectiveAccess and the
// simulator's own computation are both held to.
type accessCases struct {
	Cases []struct {
		Name   string   `json:"name"`
		User   string   `json:"user"`
		Groups []string `json:"groups"`
		Rows   []struct {
			User  string `json:"user"`
			Group string `json:"group"`
			Right string `json:"right"`
		} `json:"rows"`
		Want string   `json:"want"`
		From []string `json:"from"`
	} `json:"cases"`
}

func readAccessCases(t *testing.T) accessCases {
	t.Helper()
	b, err := os.ReadFile("testdata/effective-access.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs accessCases
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs.Cases) < 10 {
		t.Fatalf("%d cases, want the whole table", len(cs.Cases))
	}
	return cs
}

func TestEffectiveAccess(t *testing.T) {
	t.Parallel()
	for _, tc := range readAccessCases(t).Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var rows []dsm.Grant
			for _, r := range tc.Rows {
				right, err := dsm.ParseRight(r.Right)
				if err != nil {
					t.Fatal(err)
				}
				p := dsm.UserPrincipal(r.User)
				if r.Group != "" {
					p = dsm.GroupPrincipal(r.Group)
				}
				rows = append(rows, dsm.Grant{Principal: p, Right: right})
			}
			got := dsm.EffectiveAccess(tc.User, tc.Groups, rows)
			if got.Right.String() != tc.Want {
				t.Errorf("right %s, want %s", got.Right, tc.Want)
			}
			from := []string{}
			for _, g := range got.From {
				from = append(from, g.Principal.String())
			}
			if d := cmp.Diff(tc.From, from); d != "" {
				t.Errorf("from (-want +got):\n%s", d)
			}
		})
	}
}

func TestAccessReason(t *testing.T) {
	t.Parallel()
	staff := dsm.GroupPrincipal("staff")
	tests := []struct {
		a    dsm.Access
		want string
	}{
		{dsm.Access{User: "alice", Right: dsm.RightReadWrite, From: []dsm.Grant{{Principal: staff, Right: dsm.RightReadWrite}}}, "rw from group staff"},
		{dsm.Access{User: "bob", Right: dsm.RightDeny, From: []dsm.Grant{{Principal: dsm.UserPrincipal("bob"), Right: dsm.RightDeny}}}, "denied for bob (own row)"},
		{dsm.Access{User: "bob", Right: dsm.RightDeny, From: []dsm.Grant{{Principal: staff, Right: dsm.RightDeny}}}, "denied by group staff"},
		{dsm.Access{User: "carol"}, "no access: no row for carol or their groups"},
		{dsm.EffectiveAccess("erin", []string{"administrators"}, nil), "rw from group administrators (always)"},
	}
	for _, tt := range tests {
		if got := tt.a.Reason(); got != tt.want {
			t.Errorf("Reason() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseRight(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]dsm.Right{"rw": dsm.RightReadWrite, "RO": dsm.RightReadOnly, "deny": dsm.RightDeny, "default": dsm.RightNone, "none": dsm.RightNone} {
		if got, err := dsm.ParseRight(in); err != nil || got != want {
			t.Errorf("ParseRight(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := dsm.ParseRight("write"); !errors.Is(err, dsm.ErrInvalidArgument) {
		t.Errorf("ParseRight(write): %v, want an invalid argument", err)
	}
}

// The client and the simulator agree on rights end to end: what the
// client writes as rows, list_by_user returns with what the groups give,
// and EffectiveAccess of those rows is what the rule says.
func TestE2EPermissions(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithGroup(dsmtest.Group{Name: "staff"}), dsmtest.WithGroup(dsmtest.Group{Name: "interns"}),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026", Groups: []string{"staff"}}),
		dsmtest.WithUser(dsmtest.User{Name: "bob", Password: "Secret-pw-2026", Groups: []string{"staff", "interns"}}),
		dsmtest.WithShares(dsmtest.Share{Name: "public", Groups: map[string]string{"users": "rw"}}, dsmtest.Share{Name: "finance"}))
	c := srv.Client()
	ctx := t.Context()

	if err := c.Permissions.SetShare(ctx, "finance", []dsm.RightChange{
		{Principal: dsm.GroupPrincipal("staff"), Right: dsm.RightReadOnly},
		{Principal: dsm.UserPrincipal("alice"), Right: dsm.RightReadWrite},
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Permissions.Grant(ctx, "finance", dsm.GroupPrincipal("interns"), dsm.RightDeny); err != nil {
		t.Fatal(err)
	}

	rows, err := c.Permissions.ListUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	byShare := map[string]dsm.Permission{}
	for _, r := range rows {
		byShare[r.Share] = r
	}
	if got := byShare["finance"]; got.Right != dsm.RightNone || got.Inherited != dsm.RightDeny {
		t.Errorf("bob on finance: %+v, want no own row and deny inherited", got)
	}
	if got := byShare["public"]; got.Inherited != dsm.RightReadWrite {
		t.Errorf("bob on public: %+v, want rw inherited from users", got)
	}

	users, err := c.Permissions.ListShare(ctx, "finance", false)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := c.Permissions.ListShare(ctx, "finance", true)
	if err != nil {
		t.Fatal(err)
	}
	var grants []dsm.Grant
	for _, r := range append(users, groups...) {
		grants = append(grants, dsm.Grant{Principal: r.Principal, Right: r.Right})
	}
	for user, want := range map[string]string{
		"alice": "rw for alice (own row)", // her own rw beats staff's ro
		"bob":   "denied by group interns",
		"admin": "rw from group administrators (always)",
	} {
		u, err := c.Users.Get(ctx, user, dsm.FieldGroups)
		if err != nil {
			t.Fatal(err)
		}
		got := dsm.EffectiveAccess(user, u.Groups, grants).Reason()
		if got != want {
			t.Errorf("%s on finance: %q, want %q", user, got, want)
		}
	}

	// DSM answers 403 to a list without user_group_type.
	err = c.Call(ctx, "SYNO.Core.Share.Permission", "list_by_user", dsm.Params{"name": "bob"}, nil)
	var ae *dsm.APIError
	if !errors.As(err, &ae) || ae.Code != 403 {
		t.Errorf("list_by_user without user_group_type: %v, want code 403", err)
	}
}

// A write sends only the rows it changes, with is_custom as DSM has it:
// the other rows and the custom mark survive.
func TestE2EPermissionPatchKeepsCustom(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}),
		dsmtest.WithUser(dsmtest.User{Name: "bob", Password: "Secret-pw-2026"}),
		dsmtest.WithShares(dsmtest.Share{Name: "finance", Users: map[string]string{"bob": "ro"}}))
	c := srv.Client()
	ctx := t.Context()
	// DSM marks ACL-level rights as is_custom; set one up as a raw write.
	err := c.Call(ctx, "SYNO.Core.Share.Permission", "set_by_user_group", dsm.Params{"name": "alice", "user_group_type": "local_user",
		"permissions": []map[string]any{{"name": "finance", "is_readonly": true, "is_writable": false, "is_deny": false, "is_custom": true}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Permissions.Grant(ctx, "finance", dsm.UserPrincipal("alice"), dsm.RightReadWrite); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Permissions.ListShare(ctx, "finance", false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]dsm.Permission{}
	for _, r := range rows {
		got[r.Principal.Name] = r
	}
	if a := got["alice"]; a.Right != dsm.RightReadWrite || !a.Custom {
		t.Errorf("alice after Grant: %+v, want rw and still custom", a)
	}
	if b := got["bob"]; b.Right != dsm.RightReadOnly {
		t.Errorf("bob after a grant to alice: %+v, want his ro row kept", b)
	}
	if err := c.Permissions.Grant(ctx, "finance", dsm.GroupPrincipal("administrators"), dsm.RightDeny); !errors.Is(err, dsm.ErrInvalidArgument) {
		t.Errorf("deny to administrators: %v, want refused before sending", err)
	}
	if err := c.Permissions.Grant(ctx, "nosuch", dsm.UserPrincipal("alice"), dsm.RightReadOnly); !errors.Is(err, dsm.ErrNoSuchShare) {
		t.Errorf("grant on a missing share: %v, want ErrNoSuchShare", err)
	}
}

// A NAS that refuses a direct permission write with 403 (go-synology's)
// gets it again inside a compound request, as DSM's own dialog sends it.
func TestE2EPermissionWriteFallsBackToCompound(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Secret-pw-2026"}))
	c, cc := countingClient(t, srv)
	ctx := t.Context()
	f, err := dsmtest.ParseFault("SYNO.Core.Share.Permission:set_by_user_group:code=403")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(f); err != nil {
		t.Fatal(err)
	}
	if err := c.Permissions.Grant(ctx, "finance", dsm.UserPrincipal("alice"), dsm.RightReadOnly); err != nil {
		t.Fatal(err)
	}
	if cc.count("SYNO.Core.Share.Permission set_by_user_group") != 1 || cc.count("SYNO.Entry.Request request") != 1 {
		t.Errorf("calls %v: want the direct write, then one compound request", cc.calls)
	}
	rows, err := c.Permissions.ListUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Share == "finance" && r.Right != dsm.RightReadOnly {
			t.Errorf("alice on finance: %s, want ro", r.Right)
		}
	}
}
