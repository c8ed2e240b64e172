package dsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestUsersListDecodesLooseTypes(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		return []byte(`{"success":true,"data":{"offset":0,"total":"2","users":[
			{"name":"alice","uid":"1026","description":"A","email":"a@x.y","expired":"2030/1/5",
			 "cannot_chg_passwd":"yes","passwd_never_expire":1,"password_last_change":"19789",
			 "is_password_pending":false,"groups":["users","admins"],"2fa_status":"enabled"},
			{"name":"bob","uid":1027,"expired":"now","passwd_never_expire":false,"2fa_status":false}]}}`)
	})
	c := f.client(t, WithSession(Session{SID: "s"}))
	users, total, err := c.Users.List(t.Context(), ListOptions{Offset: 0, Limit: 10, SortBy: SortByEmail, Descending: true, Fields: AllUserFields})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 {
		t.Errorf("total %d", total)
	}
	want := []User{
		{Name: "alice", UID: 1026, Description: "A", Email: "a@x.y", Expired: ExpiresOn(Date{2030, 1, 5}),
			CannotChangePassword: true, PasswordNeverExpires: true, PasswordLastChange: Date{2024, 3, 7},
			Groups: []string{"admins", "users"}, TwoFactor: true},
		{Name: "bob", UID: 1027, Expired: Disabled},
	}
	if d := cmp.Diff(want, users); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	r := f.last("SYNO.Core.User")
	wantForm := map[string]string{"type": `"local"`, "offset": "0", "limit": "10", "sort_by": `"email"`, "sort_direction": `"DESC"`}
	for k, v := range wantForm {
		if got := r.form.Get(k); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	var add []string
	if err := json.Unmarshal([]byte(r.form.Get("additional")), &add); err != nil || len(add) != len(AllUserFields) {
		t.Errorf("additional %q", r.form.Get("additional"))
	}
}

func TestUsersAllPages(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	var calls int
	var mu sync.Mutex
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		mu.Lock()
		calls++
		mu.Unlock()
		var off, lim int
		json.Unmarshal([]byte(form.Get("offset")), &off)
		json.Unmarshal([]byte(form.Get("limit")), &lim)
		var page []map[string]any
		for i := off; i < len(names) && i < off+lim; i++ {
			page = append(page, map[string]any{"name": names[i]})
		}
		return ok(map[string]any{"offset": off, "total": len(names), "users": page})
	})
	c := f.client(t, WithSession(Session{SID: "s"}))
	var got []string
	for u, err := range c.Users.All(t.Context(), ListOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u.Name)
	}
	if d := cmp.Diff(names, got); d != "" {
		t.Error(d)
	}
	if calls != 3 {
		t.Errorf("%d pages fetched, want 3", calls)
	}
	// Stopping early fetches no more pages.
	calls = 0
	for range c.Users.All(t.Context(), ListOptions{PageSize: 2}) {
		break
	}
	if calls != 1 {
		t.Errorf("%d pages fetched for one user, want 1", calls)
	}
}

func TestUsersValidationBeforeNetwork(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any { return ok(nil) })
	c := f.client(t, WithSession(Session{SID: "s"}))
	ctx := t.Context()
	long := strings.Repeat("x", 65)
	past := ExpiresOn(DateOf(time.Now().AddDate(0, 0, -2)))
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"empty name", func() error { _, err := c.Users.Get(ctx, ""); return err }, "name is empty"},
		{"long name", func() error { _, err := c.Users.Get(ctx, long); return err }, "at most 64"},
		{"bad char", func() error { _, err := c.Users.Get(ctx, "a/b"); return err }, `contains '/'`},
		{"space edge", func() error { _, err := c.Users.Get(ctx, " bob"); return err }, "space"},
		{"unknown field", func() error { _, err := c.Users.Get(ctx, "bob", "shoe_size"); return err }, "unknown user field"},
		{"negative offset", func() error { _, _, err := c.Users.List(ctx, ListOptions{Offset: -1}); return err }, "negative"},
		{"bad sort", func() error { _, _, err := c.Users.List(ctx, ListOptions{SortBy: "age"}); return err }, "cannot sort"},
		{"no password", func() error { _, err := c.Users.Create(ctx, UserCreateRequest{Name: "bob"}); return err }, "password is empty"},
		{"long password", func() error {
			_, err := c.Users.Create(ctx, UserCreateRequest{Name: "bob", Password: strings.Repeat("p", 128)})
			return err
		}, "at most 127"},
		{"long description", func() error {
			_, err := c.Users.Create(ctx, UserCreateRequest{Name: "bob", Password: "p", Description: long})
			return err
		}, "description has 65"},
		{"bad email", func() error {
			_, err := c.Users.Create(ctx, UserCreateRequest{Name: "bob", Password: "p", Email: "bob at home"})
			return err
		}, "not an email"},
		{"email with name", func() error {
			_, err := c.Users.Create(ctx, UserCreateRequest{Name: "bob", Password: "p", Email: "Bob <b@x.y>"})
			return err
		}, "not an email"},
		{"past expiry", func() error {
			_, err := c.Users.Create(ctx, UserCreateRequest{Name: "bob", Password: "p", Expiry: past})
			return err
		}, "in the past"},
		{"empty update", func() error { _, err := c.Users.Update(ctx, "bob", UserUpdateRequest{}); return err }, "nothing to change"},
		{"update empty password", func() error {
			_, err := c.Users.Update(ctx, "bob", UserUpdateRequest{Password: Ptr("")})
			return err
		}, "new password is empty"},
		{"delete none", func() error { return c.Users.Delete(ctx) }, "no user named"},
		{"leave users", func() error { _, err := c.Users.JoinGroups(ctx, "bob", nil, []string{"Users"}); return err }, "cannot leave"},
		{"join and leave", func() error {
			_, err := c.Users.JoinGroups(ctx, "bob", []string{"g"}, []string{"G"})
			return err
		}, "both joined and left"},
		{"long group", func() error {
			_, err := c.Groups.Create(ctx, GroupCreateRequest{Name: strings.Repeat("g", 33)})
			return err
		}, "at most 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.requests)
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if len(f.requests) != before {
				t.Errorf("invalid input reached the network")
			}
		})
	}
}

func TestUsersCreateSendsFields(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any { return ok(map[string]any{"name": "bob", "uid": 1030}) })
	c := f.client(t, WithSession(Session{SID: "s", SynoToken: "T"}))
	got, err := c.Users.Create(t.Context(), UserCreateRequest{Name: "bob", Password: "Secr3t!pw", Email: "b@x.y",
		Expiry: ExpiresOn(Date{2099, 3, 4}), PasswordNeverExpires: true})
	if err != nil {
		t.Fatal(err)
	}
	if got != (CreatedUser{Name: "bob", UID: 1030}) {
		t.Errorf("created %+v", got)
	}
	r := f.last("SYNO.Core.User")
	want := url.Values{"api": {"SYNO.Core.User"}, "version": {"1"}, "method": {"create"}, "_sid": {"s"},
		"name": {`"bob"`}, "password": {`"Secr3t!pw"`}, "description": {`""`}, "email": {`"b@x.y"`},
		"expired": {`"2099/3/4"`}, "cannot_chg_passwd": {"false"}, "passwd_never_expire": {"true"},
		"notify_by_email": {"false"}, "send_password": {"false"}}
	if d := cmp.Diff(want, r.form); d != "" {
		t.Errorf("form (-want +got):\n%s", d)
	}
}

func TestUsersUpdateChangesOnlySetFields(t *testing.T) {
	var setForm url.Values
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		switch form.Get("method") {
		case "get":
			return ok(map[string]any{"users": []any{map[string]any{"name": "Bob", "uid": 1030, "description": "keep me",
				"email": "b@x.y", "expired": "2099/1/2", "cannot_chg_passwd": true, "passwd_never_expire": true}}})
		case "set":
			setForm = form
			return ok(map[string]any{"name": "bob", "uid": 1030, "password_last_change": 20000})
		}
		return fail(103)
	})
	c := f.client(t, WithSession(Session{SID: "s"}))
	got, err := c.Users.Update(t.Context(), "bob", UserUpdateRequest{Email: Ptr("new@x.y")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": `"Bob"`, "description": `"keep me"`, "email": `"new@x.y"`, "expired": `"2099/1/2"`,
		"cannot_chg_passwd": "true", "passwd_never_expire": "true"}
	for k, v := range want {
		if setForm.Get(k) != v {
			t.Errorf("%s = %s, want %s", k, setForm.Get(k), v)
		}
	}
	for _, k := range []string{"password", "new_name"} {
		if setForm.Has(k) {
			t.Errorf("%s sent although not changed", k)
		}
	}
	if got.PasswordLastChange != (Date{2024, 10, 4}) {
		t.Errorf("password_last_change %v", got.PasswordLastChange)
	}
	if _, err := c.Users.Update(t.Context(), "bob", UserUpdateRequest{NewName: Ptr("robert"), Password: Ptr("N3w!pass")}); err != nil {
		t.Fatal(err)
	}
	if setForm.Get("new_name") != `"robert"` || setForm.Get("password") != `"N3w!pass"` {
		t.Errorf("rename/password not sent: %v", setForm)
	}
}

func TestUsersDeleteItemErrors(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		return ok(map[string]any{"errors": []any{map[string]any{"code": 3115, "name": "admin"}}})
	})
	c := f.client(t, WithSession(Session{SID: "s"}))
	err := c.Users.Delete(t.Context(), "admin", "bob")
	if !errors.Is(err, ErrSystemAccount) || !strings.Contains(err.Error(), "admin") {
		t.Errorf("error %v, want ErrSystemAccount naming admin", err)
	}
	if got := f.last("SYNO.Core.User").form.Get("name"); got != `["admin","bob"]` {
		t.Errorf("name %s, want a JSON list", got)
	}
	failed := FailedItems(fmt.Errorf("wrapped: %w", err))
	if len(failed) != 1 || failed[0].Name != "admin" || failed[0].Err.Code != 3115 {
		t.Errorf("FailedItems = %+v, want admin with 3115", failed)
	}
	if FailedItems(&APIError{Code: 3106}) != nil || FailedItems(nil) != nil {
		t.Error("FailedItems of a whole failure is not empty")
	}
}

func TestGroupTaskWaitAndVerify(t *testing.T) {
	for _, applied := range []bool{true, false} {
		t.Run(map[bool]string{true: "applied", false: "not applied"}[applied], func(t *testing.T) {
			var polls int
			f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
				switch form.Get("api") + " " + form.Get("method") {
				case "SYNO.Core.User.Group join":
					return ok(map[string]any{"task_id": "@administrators/groupbatch1737238746C6723E33"})
				case "SYNO.Core.User.Group join_status":
					polls++
					return ok(map[string]any{"finish": polls >= 3, "success": true, "data": map[string]any{"progress": polls, "total": 3}})
				case "SYNO.Core.User get":
					groups := []string{"users", "staff"}
					if applied {
						groups = []string{"users", "admins"}
					}
					return ok(map[string]any{"users": []any{map[string]any{"name": "bob", "groups": groups}}})
				}
				return fail(103)
			})
			c := f.client(t, WithSession(Session{SID: "s"}))
			task, err := c.Users.JoinGroups(t.Context(), "bob", []string{"admins"}, []string{"staff"})
			if err != nil {
				t.Fatal(err)
			}
			st, err := task.Wait(t.Context())
			if !st.Finished || polls != 3 {
				t.Errorf("status %+v after %d polls", st, polls)
			}
			if applied && err != nil {
				t.Fatal(err)
			}
			if !applied {
				var me *MembershipError
				if !errors.As(err, &me) || !errors.Is(err, ErrMembershipNotApplied) {
					t.Fatalf("error %v, want a MembershipError", err)
				}
				if d := cmp.Diff(&MembershipError{User: "bob", NotAdded: []string{"admins"}, NotRemoved: []string{"staff"}}, me); d != "" {
					t.Error(d)
				}
			}
			var join, status url.Values
			for _, r := range f.requests {
				switch r.form.Get("method") {
				case "join":
					join = r.form
				case "join_status":
					status = r.form
				}
			}
			if join.Get("name") != `"bob"` || join.Get("join_group") != `["admins"]` || join.Get("leave_group") != `["staff"]` {
				t.Errorf("join form %v", join)
			}
			if status.Get("task_id") != `"@administrators/groupbatch1737238746C6723E33"` {
				t.Errorf("join_status form %v", status)
			}
		})
	}
}

func TestExpiryAndDateForms(t *testing.T) {
	tests := []struct {
		in   string
		want Expiry
		dsm  string
		err  bool
	}{
		{in: "normal", want: Never, dsm: "normal"},
		{in: "never", want: Never, dsm: "normal"},
		{in: "now", want: Disabled, dsm: "now"},
		{in: "disabled", want: Disabled, dsm: "now"},
		{in: "2030/1/5", want: ExpiresOn(Date{2030, 1, 5}), dsm: "2030/1/5"},
		{in: "2030-01-05", want: ExpiresOn(Date{2030, 1, 5}), dsm: "2030/1/5"},
		{in: "2030-13-01", err: true},
		{in: "tomorrow", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseExpiry(tt.in)
			if tt.err {
				if err == nil {
					t.Errorf("ParseExpiry(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want || got.dsm() != tt.dsm {
				t.Errorf("ParseExpiry(%q) = %v (%s), %v", tt.in, got, got.dsm(), err)
			}
			b, _ := json.Marshal(got)
			var back Expiry
			if err := json.Unmarshal(b, &back); err != nil || back != got {
				t.Errorf("JSON round trip %s -> %v %v", b, back, err)
			}
		})
	}
}

func TestPasswordPolicyCheck(t *testing.T) {
	p := PasswordPolicy{Strong: StrongPassword{MinLengthEnabled: true, MinLength: 8, MixedCase: true, Digit: true,
		Special: true, ExcludeUsername: true, ExcludeCommon: true}}
	rules := func(pw string) []PasswordRule {
		var out []PasswordRule
		for _, v := range p.Check("bob", pw) {
			out = append(out, v.Rule)
		}
		return out
	}
	tests := []struct {
		pw   string
		want []PasswordRule
	}{
		{"Str0ng!pass", nil},
		{"Sh0rt!", []PasswordRule{RuleMinLength}},
		{"alllower1!", []PasswordRule{RuleMixedCase}},
		{"NoDigits!!", []PasswordRule{RuleDigit}},
		{"NoSpecial12", []PasswordRule{RuleSpecial}},
		{"MyBob!name1", []PasswordRule{RuleExcludeUsername}},
		{"password", []PasswordRule{RuleMixedCase, RuleDigit, RuleSpecial, RuleExcludeCommon}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, rules(tt.pw)); d != "" {
			t.Errorf("%s: %s", tt.pw, d)
		}
	}
}

func TestUserGroupsShapes(t *testing.T) {
	tests := []struct {
		name          string
		groups        string
		want          []string
		wantInherited []string
		err           string
	}{
		{name: "names", groups: `["users","administrators"]`, want: []string{"administrators", "users"}},
		// DSM 7.2 and 7.3 (batonogov/terraform-provider-synology-dsm 40ae1ea).
		{name: "objects", groups: `[{"name":"administrators","inherited":false},{"name":"users","inherited":true}]`,
			want: []string{"administrators", "users"}, wantInherited: []string{"users"}},
		{name: "inherited as a string", groups: `[{"name":"users","inherited":"true"},{"name":"staff"}]`,
			want: []string{"staff", "users"}, wantInherited: []string{"users"}},
		{name: "mixed", groups: `["staff",{"name":"users","inherited":true}]`,
			want: []string{"staff", "users"}, wantInherited: []string{"users"}},
		{name: "empty", groups: `[]`},
		{name: "null", groups: `null`},
		{name: "object without a name", groups: `[{"gid":100}]`, err: "entry 0 is neither"},
		{name: "a number", groups: `["users",100]`, err: "entry 1 is neither"},
		{name: "not a list", groups: `"users"`, err: "want a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w userWire
			err := json.Unmarshal([]byte(`{"name":"alice","groups":`+tt.groups+`}`), &w)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u := w.user()
			if d := cmp.Diff(tt.want, u.Groups); d != "" {
				t.Errorf("Groups (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantInherited, u.InheritedGroups); d != "" {
				t.Errorf("InheritedGroups (-want +got):\n%s", d)
			}
		})
	}
}

func TestUserRecordDateForms(t *testing.T) {
	// DSM answers YYYY/M/D; a zero-padded date written by another client
	// (accepted by DSM's set, batonogov) reads the same.
	for _, in := range []string{"2027/3/5", "2027/03/05", "2027/3/05", "2027-03-05"} {
		var w userWire
		if err := json.Unmarshal([]byte(`{"name":"a","expired":"`+in+`"}`), &w); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := w.user().Expired; got != ExpiresOn(Date{2027, 3, 5}) {
			t.Errorf("%s read as %v", in, got)
		}
	}
}

func TestUsersListAsksForUID(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		return ok(map[string]any{"offset": 0, "total": 1, "users": []any{map[string]any{"name": "alice", "uid": 1026}}})
	})
	c := f.client(t, WithSession(Session{SID: "s"}))
	users, _, err := c.Users.List(t.Context(), ListOptions{Fields: []string{FieldUID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].UID != 1026 {
		t.Errorf("users %+v", users)
	}
	if got := f.last("SYNO.Core.User").form.Get("additional"); got != `["uid"]` {
		t.Errorf("additional %s, want [\"uid\"]", got)
	}
	if _, err := c.Users.Get(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	var add []string
	if err := json.Unmarshal([]byte(f.last("SYNO.Core.User").form.Get("additional")), &add); err != nil || slices.Contains(add, FieldUID) || len(add) != len(AllUserFields)-1 {
		t.Errorf("get's default additional %v: want every field but uid, which get answers anyway", add)
	}
}

// TestDeleteSendsNamesAsJSONList pins the form of delete's name: a JSON
// list, even of one name. DSM 7.2.1 answers 3101 to a bare string for
// User delete (a capture on DSM 7.2.1 that is not public); a list is what DSM's UI sends, and what
// batonogov/terraform-provider-synology-dsm (DSM 7.2.2 and 7.3.2) and the
// reference client (N4S4/synology-api) send for Group delete.
func TestDeleteSendsNamesAsJSONList(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any { return ok(map[string]any{}) })
	c := f.client(t, WithSession(Session{SID: "s"}))
	tests := []struct {
		api  string
		call func() error
		want string
	}{
		{"SYNO.Core.User", func() error { return c.Users.Delete(t.Context(), "bob") }, `["bob"]`},
		{"SYNO.Core.User", func() error { return c.Users.Delete(t.Context(), "bob", "carol") }, `["bob","carol"]`},
		{"SYNO.Core.Group", func() error { return c.Groups.Delete(t.Context(), "staff") }, `["staff"]`},
		{"SYNO.Core.Group", func() error { return c.Groups.Delete(t.Context(), "staff", "guests") }, `["staff","guests"]`},
	}
	for _, tt := range tests {
		if err := tt.call(); err != nil {
			t.Fatalf("%s delete: %v", tt.api, err)
		}
		r := f.last(tt.api)
		if r.form.Get("method") != "delete" || r.form.Get("name") != tt.want {
			t.Errorf("%s %s name=%s, want delete name=%s", tt.api, r.form.Get("method"), r.form.Get("name"), tt.want)
		}
	}
}

// TestUsersAllOneRequestAndCap: All asks for the whole list (limit -1) in
// one request; should a NAS cap the list below its total, All asks again
// from where each answer stopped until it has every user.
func TestUsersAllOneRequestAndCap(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	for _, tt := range []struct {
		name      string
		cap       int
		wantCalls int
	}{{"whole list", 0, 1}, {"capped at 2", 2, 3}} {
		t.Run(tt.name, func(t *testing.T) {
			var limits []string
			f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
				limits = append(limits, form.Get("limit"))
				var off int
				json.Unmarshal([]byte(form.Get("offset")), &off)
				end := len(names)
				if tt.cap > 0 {
					end = min(end, off+tt.cap)
				}
				var page []map[string]any
				for _, n := range names[min(off, end):end] {
					page = append(page, map[string]any{"name": n})
				}
				return ok(map[string]any{"offset": off, "total": len(names), "users": page})
			})
			c := f.client(t, WithSession(Session{SID: "s"}))
			var got []string
			for u, err := range c.Users.All(t.Context(), ListOptions{}) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, u.Name)
			}
			if d := cmp.Diff(names, got); d != "" {
				t.Error(d)
			}
			if len(limits) != tt.wantCalls || slices.ContainsFunc(limits, func(l string) bool { return l != "-1" }) {
				t.Errorf("limits asked %q, want %d requests of -1", limits, tt.wantCalls)
			}
		})
	}
}
