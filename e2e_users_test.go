package dsm_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
	"github.com/google/go-cmp/cmp"
)

// These tests run the User, Group and policy calls against the simulator.

func TestE2EUserLifecycle(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	expiry := dsm.ExpiresOn(dsm.DateOf(time.Now().AddDate(1, 0, 0)))

	created, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "bob", Password: "Secret-pw-2026", Description: "Bob B.",
		Email: "bob@example.com", Expiry: expiry, PasswordNeverExpires: true})
	if err != nil {
		t.Fatal(err)
	}
	if created.Name != "bob" || created.UID < 1026 {
		t.Errorf("created %+v, want bob with uid from 1026", created)
	}
	got, err := c.Users.Get(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	want := dsm.User{Name: "bob", UID: created.UID, Description: "Bob B.", Email: "bob@example.com", Expired: expiry,
		PasswordNeverExpires: true, PasswordLastChange: dsm.DateOf(srv.Now().UTC()), Groups: []string{"users"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Get after Create (-want +got):\n%s", d)
	}

	// The new user can log in: the password travelled in the envelope.
	bob := newClient(t, srv, dsm.WithCredentials(dsm.Credentials{Account: "bob", Password: "Secret-pw-2026"}))
	if me, err := bob.Auth.Whoami(ctx); err != nil || me.Account != "bob" {
		t.Fatalf("bob's login: %v %v", me, err)
	}

	// Update one field: nothing else moves.
	if _, err := c.Users.Update(ctx, "bob", dsm.UserUpdateRequest{Email: dsm.Ptr("robert@example.com")}); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Users.Get(ctx, "bob")
	want.Email = "robert@example.com"
	if d := cmp.Diff(want, after); d != "" {
		t.Errorf("Update of the email changed more (-want +got):\n%s", d)
	}

	// Rename and a new password.
	upd, err := c.Users.Update(ctx, "bob", dsm.UserUpdateRequest{NewName: dsm.Ptr("robert"), Password: dsm.Ptr("Other-pw-2026")})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Name != "robert" || upd.UID != created.UID {
		t.Errorf("update answer %+v", upd)
	}
	if _, err := c.Users.Get(ctx, "bob"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("old name after rename: %v, want ErrNoSuchUser", err)
	}
	robert := newClient(t, srv)
	if _, err := robert.Auth.Login(ctx, dsm.Credentials{Account: "robert", Password: "Other-pw-2026"}); err != nil {
		t.Errorf("login with the new name and password: %v", err)
	}

	// Disable, then delete.
	if _, err := c.Users.Update(ctx, "robert", dsm.UserUpdateRequest{Expiry: &dsm.Disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, srv).Auth.Login(ctx, dsm.Credentials{Account: "robert", Password: "Other-pw-2026"}); !errors.Is(err, dsm.ErrAccountDisabled) {
		t.Errorf("login of a disabled user: %v, want ErrAccountDisabled", err)
	}
	if err := c.Users.Delete(ctx, "robert"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users.Get(ctx, "robert"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("after delete: %v, want ErrNoSuchUser", err)
	}
	// uids are not reused.
	again, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "bob", Password: "Secret-pw-2026"})
	if err != nil {
		t.Fatal(err)
	}
	if again.UID <= created.UID {
		t.Errorf("uid %d reused (first was %d)", again.UID, created.UID)
	}
}

func TestE2EUserRules(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "carol", Password: "Carols-pw-1"}))
	c := srv.Client()
	ctx := t.Context()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"name taken, other case", func() error {
			_, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "CAROL", Password: "Another-pw-1"})
			return err
		}(), dsm.ErrNameTaken},
		{"reserved name", func() error {
			_, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "root", Password: "Another-pw-1"})
			return err
		}(), dsm.ErrNameTaken},
		{"weak password", func() error {
			_, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "dan", Password: "short"})
			return err
		}(), dsm.ErrWeakPassword},
		{"delete admin", c.Users.Delete(ctx, "admin"), dsm.ErrSystemAccount},
		{"no such user", c.Users.Delete(ctx, "nobody"), dsm.ErrNoSuchUser},
		{"disable the last admin", func() error {
			_, err := c.Users.Update(ctx, "admin", dsm.UserUpdateRequest{Expiry: &dsm.Disabled})
			return err
		}(), dsm.ErrLastAdmin},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if _, err := c.Users.Get(ctx, "dan"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("a refused create left a user: %v", err)
	}
}

// CheckPassword and the server agree on what the policy refuses.
func TestE2ECheckPasswordAgreesWithServer(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	err := c.Policy.SetPasswordPolicy(ctx, dsm.PasswordPolicy{Strong: dsm.StrongPassword{MinLengthEnabled: true, MinLength: 10,
		MixedCase: true, Digit: true, Special: true, ExcludeUsername: true, ExcludeCommon: true}})
	if err != nil {
		t.Fatal(err)
	}
	for i, pw := range []string{"Good-pass-12", "short1!A", "alllower-123", "NOLOWER-123", "No-digits-here", "NoSpecial1234", "Has-NAME-123", "Password123"} {
		name := fmt.Sprintf("erin%d", i)
		pw = strings.ReplaceAll(pw, "NAME", name)
		problems, err := c.Users.CheckPassword(ctx, name, pw)
		if err != nil {
			t.Fatal(err)
		}
		_, cerr := c.Users.Create(ctx, dsm.UserCreateRequest{Name: name, Password: pw})
		if (len(problems) == 0) != (cerr == nil) {
			t.Errorf("%q: CheckPassword says %v, server says %v", pw, problems, cerr)
		}
		if cerr != nil && !errors.Is(cerr, dsm.ErrWeakPassword) {
			t.Errorf("%q: %v, want ErrWeakPassword", pw, cerr)
		}
	}
}

func TestE2EGroupJoinTask(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithJoinDelay(time.Minute),
		dsmtest.WithGroup(dsmtest.Group{Name: "staff"}),
		dsmtest.WithUser(dsmtest.User{Name: "frank", Password: "Franks-pw-1", Groups: []string{"staff"}}),
	)
	c := srv.Client()
	ctx := t.Context()
	task, err := c.Users.JoinGroups(ctx, "frank", []string{"administrators"}, []string{"staff"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := task.Status(ctx)
	if err != nil || st.Finished {
		t.Fatalf("status right after join: %+v %v, want not finished", st, err)
	}
	u, _ := c.Users.Get(ctx, "frank", dsm.FieldGroups)
	if slices.Contains(u.Groups, "administrators") {
		t.Error("membership changed before the task finished")
	}
	srv.Advance(2 * time.Minute)
	if _, err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ = c.Users.Get(ctx, "frank", dsm.FieldGroups)
	if d := cmp.Diff([]string{"administrators", "users"}, u.Groups); d != "" {
		t.Errorf("groups after the task (-want +got):\n%s", d)
	}
	// Unknown groups are refused up front.
	if _, err := c.Users.JoinGroups(ctx, "frank", []string{"nope"}, nil); !errors.Is(err, dsm.ErrNoSuchGroup) {
		t.Errorf("join of an unknown group: %v, want ErrNoSuchGroup", err)
	}
}

func TestE2EGroups(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "gina", Password: "Ginas-pw-1"}))
	c := srv.Client()
	ctx := t.Context()
	g, err := c.Groups.Create(ctx, dsm.GroupCreateRequest{Name: "teachers", Description: "All teachers"})
	if err != nil {
		t.Fatal(err)
	}
	if g.GID < 65536 {
		t.Errorf("gid %d", g.GID)
	}
	if _, err := c.Groups.Create(ctx, dsm.GroupCreateRequest{Name: "Teachers"}); !errors.Is(err, dsm.ErrGroupNameTaken) {
		t.Errorf("duplicate group: %v, want ErrGroupNameTaken", err)
	}
	if err := c.Groups.AddMembers(ctx, "teachers", "gina"); err != nil {
		t.Fatal(err)
	}
	members, err := c.Groups.Members(ctx, "teachers")
	if err != nil || len(members) != 1 || members[0].Name != "gina" {
		t.Errorf("members %v %v", members, err)
	}
	non, _ := c.Groups.NonMembers(ctx, "teachers")
	if slices.ContainsFunc(non, func(m dsm.Member) bool { return m.Name == "gina" }) {
		t.Error("gina is listed as a non-member")
	}
	if _, err := c.Groups.Update(ctx, "teachers", dsm.GroupUpdateRequest{NewName: dsm.Ptr("staff")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Groups.Get(ctx, "staff")
	if err != nil || got.Description != "All teachers" || got.GID != g.GID {
		t.Errorf("after rename: %+v %v", got, err)
	}
	if err := c.Groups.RemoveMembers(ctx, "staff", "gina"); err != nil {
		t.Fatal(err)
	}
	groups, total, err := c.Groups.List(ctx, dsm.GroupListOptions{})
	if err != nil || total != len(groups) || !slices.ContainsFunc(groups, func(g dsm.Group) bool { return g.Name == "staff" }) {
		t.Errorf("list: %v %d %v", groups, total, err)
	}
	if err := c.Groups.Delete(ctx, "administrators"); err == nil {
		t.Error("deleting administrators succeeded")
	}
	if err := c.Groups.Delete(ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Groups.Get(ctx, "staff"); !errors.Is(err, dsm.ErrNoSuchGroup) {
		t.Errorf("after delete: %v, want ErrNoSuchGroup", err)
	}
}

func TestE2EPolicies(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "hank", Password: "Hanks-pw-1"}))
	c := srv.Client()
	ctx := t.Context()

	p := dsm.PasswordPolicy{ResetByEmail: true, Strong: dsm.StrongPassword{MinLengthEnabled: true, MinLength: 12,
		MixedCase: true, Digit: true, ExcludeUsername: true, ExcludeHistory: true, HistoryCount: 3}}
	if err := c.Policy.SetPasswordPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := c.Policy.PasswordPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(p, got); d != "" {
		t.Errorf("password policy round trip (-want +got):\n%s", d)
	}

	e := dsm.PasswordExpiry{Enabled: true, MaxAge: 90, MinAgeEnabled: true, MinAge: 1, LoginPrompt: true, LoginPromptDays: 7, AllowResetAfterExpired: true}
	if err := c.Policy.SetPasswordExpiry(ctx, e, []string{"hank"}); err != nil {
		t.Fatal(err)
	}
	gotE, err := c.Policy.PasswordExpiry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(e, gotE); d != "" {
		t.Errorf("password expiry round trip (-want +got):\n%s", d)
	}
	hank, _ := c.Users.Get(ctx, "hank", dsm.FieldPasswordNeverExpires)
	if !hank.PasswordNeverExpires {
		t.Error("never_expired_list did not set hank's flag")
	}
	if err := c.Policy.SetPasswordExpiry(ctx, dsm.PasswordExpiry{Enabled: true, MaxAge: 1000}, nil); err == nil {
		t.Error("max age 1000 accepted")
	}

	names, err := c.Policy.ReservedNames(ctx)
	if err != nil || !slices.Contains(names, "root") {
		t.Errorf("reserved names %v %v", names, err)
	}

	tok, err := c.Auth.ConfirmPassword(ctx, srv.AdminPassword())
	if err != nil {
		t.Fatal(err)
	}
	if !srv.ConfirmTokenValid(tok.Token) || time.Until(tok.Expires) > dsm.ConfirmTokenLifetime {
		t.Errorf("confirm token %v not valid on the server", tok)
	}
	srv.Advance(dsm.ConfirmTokenLifetime + time.Second)
	if srv.ConfirmTokenValid(tok.Token) {
		t.Error("confirm token still valid after its lifetime")
	}
	if _, err := c.Auth.ConfirmPassword(ctx, "wrong"); err == nil {
		t.Error("a wrong password was confirmed")
	}
}

func TestE2ENonAdminGetsPermissionDenied(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "ivy", Password: "Ivys-pw-12"}))
	c := newClient(t, srv, dsm.WithCredentials(dsm.Credentials{Account: "ivy", Password: "Ivys-pw-12"}))
	ctx := t.Context()
	if _, _, err := c.Users.List(ctx, dsm.ListOptions{}); !errors.Is(err, dsm.ErrPermissionDenied) {
		t.Fatalf("non-admin list: %v, want ErrPermissionDenied", err)
	}
	if _, err := c.Groups.Create(ctx, dsm.GroupCreateRequest{Name: "x"}); !errors.Is(err, dsm.ErrPermissionDenied) {
		t.Errorf("non-admin group create: %v, want ErrPermissionDenied", err)
	}
	if n := srv.Logins(); n != 1 {
		t.Errorf("%d logins: 105 must not cause a new login", n)
	}
}

func TestE2EAllUsersPages(t *testing.T) {
	t.Parallel()
	var opts []dsmtest.Option
	for i := range 250 {
		opts = append(opts, dsmtest.WithUser(dsmtest.User{Name: fmt.Sprintf("user%03d", i), Password: "Seeded-pw-1"}))
	}
	srv := dsmtest.Start(t, opts...)
	c := srv.Client()
	var names []string
	for u, err := range c.Users.All(t.Context(), dsm.ListOptions{PageSize: 60, Fields: []string{dsm.FieldEmail}}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, u.Name)
	}
	if len(names) != 252 || !slices.IsSorted(names) {
		t.Errorf("%d users (sorted: %v), want 252 in order", len(names), slices.IsSorted(names))
	}
	page, total, err := c.Users.List(t.Context(), dsm.ListOptions{Offset: 10, Limit: 5, Descending: true})
	if err != nil || total != 252 || len(page) != 5 || page[0].Name != "user239" {
		t.Errorf("page %v total %d err %v", page, total, err)
	}
}

func TestE2EResumeGroupTask(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithJoinDelay(time.Minute), dsmtest.WithUser(dsmtest.User{Name: "jo", Password: "Jos-pw-1234"}))
	c := srv.Client()
	task, err := c.Users.JoinGroups(t.Context(), "jo", []string{"http"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	later := srv.Client()
	resumed, err := later.Users.GroupTask(task.ID, "jo", []string{"http"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := resumed.Status(t.Context()); err != nil || st.Finished {
		t.Fatalf("resumed status %+v %v", st, err)
	}
	srv.Advance(2 * time.Minute)
	if _, err := resumed.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := later.Users.GroupTask("", "jo", nil, nil); err == nil {
		t.Error("empty task id accepted")
	}
	bogus, _ := later.Users.GroupTask("@administrators/groupbatch1C0FFEE", "jo", nil, nil)
	if _, err := bogus.Status(t.Context()); err == nil {
		t.Error("unknown task id answered")
	}
}

// A lost answer to a password change is checked by the day of the last
// change. When that day cannot show it (changed earlier today), the
// client must not repeat the change: with a history policy DSM would
// refuse the repeat as "used before", for a change that did happen.
func TestE2EPasswordChangeLostAnswerSameDay(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "kim", Password: "First-Passw0rd!"}))
	c := srv.Client()
	ctx := t.Context()
	p, err := c.Policy.PasswordPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Strong.ExcludeHistory, p.Strong.HistoryCount = true, 5
	if err := c.Policy.SetPasswordPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(dsmtest.Fault{API: "SYNO.Core.User", Method: "set", Kind: dsmtest.FaultResetAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Users.Update(ctx, "kim", dsm.UserUpdateRequest{Password: dsm.Ptr("Second-Passw0rd!")})
	if errors.Is(err, dsm.ErrWeakPassword) {
		t.Fatalf("the change was repeated and refused: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "cannot tell") {
		t.Errorf("error %v, want one saying the client cannot tell", err)
	}
	// The change did happen.
	if _, err := newClient(t, srv).Auth.Login(ctx, dsm.Credentials{Account: "kim", Password: "Second-Passw0rd!"}); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}

// A lost answer to a create is checked, not repeated: one user, no error.
func TestE2ECreateLostAnswer(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	if err := srv.InjectFault(dsmtest.Fault{API: "SYNO.Core.User", Method: "create", Kind: dsmtest.FaultResetAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	u, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "lee", Password: "Strong-Passw0rd!", Email: "lee@example.com"})
	if err != nil {
		t.Fatalf("create through a lost answer: %v", err)
	}
	if u.UID < 1026 {
		t.Errorf("uid %d", u.UID)
	}
	if err := c.Users.Delete(ctx, "lee"); err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(dsmtest.Fault{API: "SYNO.Core.User", Method: "delete", Kind: dsmtest.FaultResetAfter, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "lee", Password: "Strong-Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Users.Delete(ctx, "lee"); err != nil {
		t.Errorf("delete through a lost answer: %v", err)
	}
}
