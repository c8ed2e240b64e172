package manifest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// startNAS starts a simulator with a few users and groups.
func startNAS(t *testing.T, opts ...dsmtest.Option) *dsmtest.Server {
	t.Helper()
	base := []dsmtest.Option{
		dsmtest.WithJoinDelay(20 * time.Millisecond),
		dsmtest.WithGroup(dsmtest.Group{Name: "staff", Description: "Staff"}),
		dsmtest.WithGroup(dsmtest.Group{Name: "old", Description: "Old group"}),
		dsmtest.WithUser(dsmtest.User{Name: "carol", Password: "Carol-Pw-1234", Description: "Carol", Email: "carol@example.com", Groups: []string{"staff", "old"}}),
		dsmtest.WithUser(dsmtest.User{Name: "dave", Password: "Dave-Pw-1234"}),
	}
	return dsmtest.Start(t, append(base, opts...)...)
}

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("users.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func env(kv ...string) func(string) string {
	return func(k string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == k {
				return kv[i+1]
			}
		}
		return ""
	}
}

// nasUsers returns the NAS's users by name, with every field.
func nasUsers(t *testing.T, c *dsm.Client) map[string]dsm.User {
	t.Helper()
	out := map[string]dsm.User{}
	for u, err := range c.Users.All(t.Context(), dsm.ListOptions{Fields: dsm.AllUserFields}) {
		if err != nil {
			t.Fatal(err)
		}
		out[u.Name] = u
	}
	return out
}

const teamFile = `
users:
  - name: alice
    description: Alice Liddell
    email: alice@example.com
    groups: [staff, readers]
    password: {from_env: ALICE_PW}
  - name: carol
    email: carol@example.org
    groups: [readers]
    expiry: 2099-12-31
  - name: erin
    groups: [staff]
    password_never_expires: true
    password: {generate: true}
groups:
  - name: readers
    description: Readers
  - name: staff
    description: All the staff
password_policy:
  min_length: 10
`

func TestPlanApply(t *testing.T) {
	t.Parallel()
	srv := startNAS(t)
	c := srv.Client()
	ctx := t.Context()
	f := mustParse(t, teamFile)
	opts := PlanOptions{Getenv: env("ALICE_PW", "Wonder-Land-99")}
	plan, err := f.Plan(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := `~ password_policy
    min_length: 8 -> 10
+ group readers
    description: Readers
~ group staff
    description: Staff -> "All the staff"
+ user alice
    description: "Alice Liddell"
    email: alice@example.com
    expiry: never
    groups: +staff +readers
    password: from $ALICE_PW
~ user carol
    email: carol@example.com -> carol@example.org
    expiry: never -> 2099-12-31
    groups: +readers -old -staff
+ user erin
    expiry: never
    password_never_expires: true
    groups: +staff
    password: generated
Plan: 3 to create, 3 to change, 0 to delete.
`
	if diff := cmp.Diff(want, plan.String()); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}

	var recorded []GeneratedPassword
	var mu sync.Mutex
	var progress []Progress
	res, err := plan.Apply(ctx, c, ApplyOptions{
		Parallel: 3,
		RecordPassword: func(user, pw string) error {
			// Recorded before the user exists.
			if _, err := c.Users.Get(ctx, user); !errors.Is(err, dsm.ErrNoSuchUser) {
				t.Errorf("RecordPassword(%s) called when Get says %v", user, err)
			}
			recorded = append(recorded, GeneratedPassword{user, pw})
			return nil
		},
		Progress: func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() },
	})
	if err != nil || !res.OK() {
		t.Fatalf("Apply: %v %+v", err, res)
	}
	if res.Total != 6 || len(progress) != 6 || progress[5].Done != 6 || progress[5].Total != 6 {
		t.Errorf("result %+v, progress %+v", res, progress)
	}
	if len(recorded) != 1 || recorded[0].User != "erin" || len(res.Passwords) != 0 {
		t.Fatalf("recorded %d passwords, result holds %d", len(recorded), len(res.Passwords))
	}

	// The NAS matches the file, and a second plan is empty.
	users := nasUsers(t, c)
	check := map[string]dsm.User{
		"alice": {Name: "alice", Description: "Alice Liddell", Email: "alice@example.com", Groups: []string{"readers", "staff", "users"}},
		"carol": {Name: "carol", Description: "Carol", Email: "carol@example.org", Groups: []string{"readers", "users"},
			Expired: dsm.ExpiresOn(dsm.Date{Year: 2099, Month: 12, Day: 31})},
		"erin": {Name: "erin", PasswordNeverExpires: true, Groups: []string{"staff", "users"}},
		"dave": {Name: "dave", Groups: []string{"users"}},
	}
	for name, w := range check {
		got := users[name]
		got.UID, got.PasswordLastChange = 0, dsm.Date{}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("user %s (-want +got):\n%s", name, diff)
		}
	}
	if p, err := c.Policy.PasswordPolicy(ctx); err != nil || !p.Strong.MinLengthEnabled || p.Strong.MinLength != 10 {
		t.Errorf("password policy %+v, %v", p, err)
	}
	again, err := f.Plan(ctx, c, opts)
	if err != nil || !again.Empty() {
		t.Errorf("second plan: %v\n%s", err, again)
	}

	// The generated and the given passwords work.
	for name, pw := range map[string]string{"erin": recorded[0].Password, "alice": "Wonder-Land-99"} {
		uc, _ := dsm.NewClient(srv.URL())
		if _, err := uc.Auth.Login(ctx, dsm.Credentials{Account: name, Password: pw}); err != nil {
			t.Errorf("login as %s: %v", name, err)
		}
	}
}

// TestPlanValidates checks that every problem of a file is reported at
// once, with its line, and that nothing changes.
func TestPlanValidates(t *testing.T) {
	t.Parallel()
	srv := startNAS(t)
	c := srv.Client()
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(secrets, []byte("frank: Rabbit-Hole-12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `secrets_file: secrets.yaml
users:
  - name: root
    password: {generate: true}
  - name: weak
    password: {from_env: WEAK_PW}
  - name: unset
    password: {from_env: NOT_SET}
  - name: nopw
  - name: ghost
    groups: [nosuchgroup]
    password: {from_file: ghost}
  - name: frank
    expiry: 2001-01-01
    password: {from_file: frank}
password_policy:
  min_length: 12
  digit: true
`
	f, err := Parse(filepath.Join(dir, "users.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	before := nasUsers(t, c)
	_, err = f.Plan(t.Context(), c, PlanOptions{Getenv: env("WEAK_PW", "tiny")})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Plan: %v, want a *ValidationError", err)
	}
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Message)
		if p.Line == 0 {
			t.Errorf("problem without a line: %+v", p)
		}
	}
	want := []string{
		"user root: the name is reserved by DSM",
		"user weak: the password (from $WEAK_PW) breaks the password policy: shorter than 12 characters; needs both upper and lower case letters; needs a digit",
		"user unset: the environment variable NOT_SET is not set",
		"user nopw: a new user needs a password: {from_env: VAR}, {from_file: KEY} or {generate: true}",
		"user ghost: group nosuchgroup is neither in groups nor on the NAS",
		`user ghost: the secrets file ` + secrets + ` has no key "ghost"`,
		"user frank: the expiry date 2001-01-01 is in the past; use disabled to disable the account now",
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s\n%v", diff, err)
	}
	if strings.Contains(err.Error(), "Rabbit-Hole-12") || strings.Contains(err.Error(), "tiny") {
		t.Errorf("a password shows in the error:\n%v", err)
	}
	if diff := cmp.Diff(before, nasUsers(t, c)); diff != "" {
		t.Errorf("the NAS changed (-before +after):\n%s", diff)
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	srv := startNAS(t)
	c := srv.Client()
	ctx := t.Context()
	// The file names only carol; dave, old and the other groups go, but
	// not admin, guest, the built-in groups, or the groups carol is in.
	f := mustParse(t, "users:\n  - name: carol\n    groups: [staff]\ngroups:\n  - name: staff\n")
	plan, err := f.Plan(ctx, c, PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	var dels []string
	for _, u := range plan.Users {
		if u.Action == ActionDelete {
			dels = append(dels, "user "+u.Name)
		}
	}
	for _, g := range plan.Groups {
		if g.Action == ActionDelete {
			dels = append(dels, "group "+g.Name)
		}
	}
	if diff := cmp.Diff([]string{"user dave", "group old"}, dels); diff != "" {
		t.Errorf("deletions (-want +got):\n%s\n%s", diff, plan)
	}
	// Without --prune nothing is deleted.
	noPrune, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, d := noPrune.Counts(); d != 0 {
		t.Errorf("plan without prune deletes %d:\n%s", d, noPrune)
	}
	res, err := plan.Apply(ctx, c, ApplyOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("Apply: %v %+v", err, res)
	}
	users := nasUsers(t, c)
	var names []string
	for n := range users {
		names = append(names, n)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"admin", "carol", "guest"}, names); diff != "" {
		t.Errorf("users after prune (-want +got):\n%s", diff)
	}
	// A group that prune would delete cannot be a user's group.
	bad := mustParse(t, "users:\n  - name: carol\n    groups: [old]\n")
	if _, err := bad.Plan(ctx, c, PlanOptions{Prune: true}); err == nil || !strings.Contains(err.Error(), "group old is not in groups, and --prune would delete it") {
		t.Errorf("Plan: %v", err)
	}
}

// TestApplyFailuresDoNotStopOthers checks that one failed item is listed
// with its reason and the others are done.
func TestApplyFailuresDoNotStopOthers(t *testing.T) {
	t.Parallel()
	srv := startNAS(t)
	c := srv.Client()
	ctx := t.Context()
	f := mustParse(t, `users:
  - name: u1
    password: {generate: true}
  - name: u2
    password: {generate: true}
    groups: [staff]
  - name: u3
    password: {generate: true}
`)
	plan, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Someone makes u2 between the plan and the apply.
	if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "u2", Password: "Other-Pw-123"}); err != nil {
		t.Fatal(err)
	}
	res, err := plan.Apply(ctx, c, ApplyOptions{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || res.Succeeded != 2 || len(res.Failures) != 1 {
		t.Fatalf("result %+v", res)
	}
	fl := res.Failures[0]
	if fl.Item != "user u2" || fl.Step != "create" || !errors.Is(fl.Err, dsm.ErrNameTaken) || !strings.Contains(fl.Reason, "3107") {
		t.Errorf("failure %+v", fl)
	}
	if len(res.Passwords) != 3 {
		t.Errorf("%d generated passwords in the result, want 3", len(res.Passwords))
	}
	users := nasUsers(t, c)
	for _, n := range []string{"u1", "u3"} {
		if _, ok := users[n]; !ok {
			t.Errorf("%s was not created", n)
		}
	}
	// The next plan only has u2's groups left.
	next, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Users) != 1 || next.Users[0].Name != "u2" || !slices.Equal(next.Users[0].Join, []string{"staff"}) {
		t.Errorf("next plan:\n%s", next)
	}
}

func TestExportThenPlanIsEmpty(t *testing.T) {
	t.Parallel()
	srv := startNAS(t, dsmtest.WithUser(dsmtest.User{Name: "gone", Password: "Gone-Pw-1234", Expired: "now", CannotChangePassword: true}),
		dsmtest.WithUser(dsmtest.User{Name: "later", Password: "Later-Pw-1234", Expired: "2098/3/4", PasswordNeverExpires: true, Description: `Say "hi"`}))
	c := srv.Client()
	ctx := t.Context()
	if err := c.Policy.SetPasswordPolicy(ctx, dsm.PasswordPolicy{MustChange: true, Strong: dsm.StrongPassword{MinLengthEnabled: true, MinLength: 9, Digit: true, ExcludeHistory: true, HistoryCount: 3}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Policy.SetPasswordExpiry(ctx, dsm.PasswordExpiry{Enabled: true, MaxAge: 60, LoginPrompt: true, LoginPromptDays: 5}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Export(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{FormatYAML, FormatJSON} {
		var b strings.Builder
		if err := f.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		back, err := Parse("export."+format, []byte(b.String()))
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, b.String())
		}
		plan, err := back.Plan(ctx, c, PlanOptions{Prune: true})
		if err != nil {
			t.Fatal(err)
		}
		if !plan.Empty() {
			t.Errorf("%s: plan of the export is not empty:\n%s\n%s", format, plan, b.String())
		}
		for _, w := range []string{"name: later", `Say "hi"`, "2098-03-04", "max_age: 60", "history: 3", "min_length: 9"} {
			if format == FormatYAML && !strings.Contains(b.String(), w) {
				t.Errorf("export lacks %q:\n%s", w, b.String())
			}
		}
	}
}

func TestApplyStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	srv := startNAS(t, dsmtest.WithLatency(20*time.Millisecond))
	c := srv.Client()
	var src strings.Builder
	src.WriteString("users:\n")
	for i := range 40 {
		src.WriteString("  - name: bulk" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + "\n    password: {generate: true}\n")
	}
	plan, err := mustParse(t, src.String()).Plan(t.Context(), c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	res, err := plan.Apply(ctx, c, ApplyOptions{Parallel: 2, Progress: func(p Progress) {
		if p.Done == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply: %v, want context.Canceled", err)
	}
	if n := res.Succeeded + len(res.Failures); n < 5 || n > 10 {
		t.Errorf("%d items finished after the cancel at 5 (parallel 2)", n)
	}
}

// A section is checked whole, as the library will check it before it sets
// it: a file that sets a minimum age at or above the maximum age does not
// plan, instead of failing at apply.
func TestPlanChecksSettingsAsTheLibrary(t *testing.T) {
	t.Parallel()
	c := startNAS(t).Client()
	f := mustParse(t, "password_expiry:\n  max_age: 30\n  min_age: 30\n")
	_, err := f.Plan(t.Context(), c, PlanOptions{})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Line != 2 ||
		!strings.Contains(ve.Problems[0].Message, "minimum age 30 must be") {
		t.Fatalf("Plan: %v, want one problem on line 2 about the minimum age", err)
	}
	f = mustParse(t, "password_expiry:\n  max_age: 30\n  min_age: 29\n")
	if _, err := f.Plan(t.Context(), c, PlanOptions{}); err != nil {
		t.Fatalf("Plan: %v", err)
	}
}
