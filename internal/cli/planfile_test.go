package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSavedPlanTampered: a plan file edited after dsmctl plan wrote it
// (here a deletion slipped into its plan) is refused, and nothing on the
// NAS changes.
func TestSavedPlanTampered(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	path := filepath.Join(t.TempDir(), "plan.json")
	e.mustRun(t, "plan", "-f", usersFile(t, "users:\n  - name: alice\n    email: alice@example.net\n"), "--out", path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(map[string]any){
		"a deletion added": func(pf map[string]any) {
			plan := pf["plan"].(map[string]any)
			plan["users"] = append(plan["users"].([]any), map[string]any{"action": "delete", "name": "bob"})
		},
		"another users file": func(pf map[string]any) {
			uf := pf["users_file"].(map[string]any)
			uf["content"] = "users:\n  - name: alice\n    email: mallory@example.net\n"
		},
	} {
		var pf map[string]any
		if err := json.Unmarshal(data, &pf); err != nil {
			t.Fatal(err)
		}
		edit(pf)
		b, err := json.Marshal(pf)
		if err != nil {
			t.Fatal(err)
		}
		tampered := filepath.Join(t.TempDir(), "plan.json")
		if err := os.WriteFile(tampered, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r := e.run(t, "apply", tampered)
		r.wantCode(t, ExitFailure)
		if !strings.Contains(r.stderr, "was changed after dsmctl plan wrote it") || !strings.Contains(r.stderr, "nothing was applied") {
			t.Errorf("%s: stderr:\n%s", name, r.stderr)
		}
	}
	if u := libUser(t, srv, "alice"); u.Email != "alice@example.com" {
		t.Errorf("alice's email is %q after refused plans", u.Email)
	}
	if _, err := srv.Client().Users.Get(t.Context(), "bob"); err != nil {
		t.Errorf("bob after a refused plan: %v", err)
	}
	// The plan as written applies.
	e.mustRun(t, "apply", path)
	if u := libUser(t, srv, "alice"); u.Email != "alice@example.net" {
		t.Errorf("alice's email is %q after apply", u.Email)
	}
}

// TestSavedPlanChecksumOfBefore: a plan file without allow_lockout, as
// every file was before --allow-lockout, keeps the checksum it was
// written with (the JSON of format version 1's keys), so that it still
// applies.
func TestSavedPlanChecksumOfBefore(t *testing.T) {
	t.Parallel()
	before := `{"format":"dsmctl-plan","format_version":1,"url":"http://127.0.0.1:5000","account":"admin",` +
		`"options":{"prune":true,"set_passwords":false,"secrets_file":""},"users_file":{"name":"users.yaml","content":"users: []\n"},` +
		`"nas":{},"plan":{},"checksum":""}`
	sum := sha256.Sum256([]byte(before))
	want := "sha256:" + hex.EncodeToString(sum[:])
	var pf planFile
	if err := json.Unmarshal([]byte(before), &pf); err != nil {
		t.Fatal(err)
	}
	got, err := pf.checksum()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("checksum of a plan file of before %s, want %s", got, want)
	}
}

// TestSavedPlanLogin: apply PLANFILE with no --url, --user or --context
// logs in as the plan was made, whatever the current context is.
func TestSavedPlanLogin(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	e.with("DSM_USER", "alice", "DSM_PASSWORD", alicePassword).mustRun(t, "login")
	path := filepath.Join(t.TempDir(), "plan.json")
	e.mustRun(t, "plan", "-f", usersFile(t, "users:\n  - name: bob\n    email: bob@example.net\n"), "--out", path)
	// The current context is alice's; the plan is admin's.
	bare := e.with("DSM_URL", "", "DSM_USER", "")
	if r := bare.mustRun(t, "context", "current"); !strings.HasPrefix(r.stdout, "alice@") {
		t.Fatalf("current context %q, want alice's", r.stdout)
	}
	bare.mustRun(t, "apply", path)
	if u := libUser(t, srv, "bob"); u.Email != "bob@example.net" {
		t.Errorf("bob's email is %q after apply", u.Email)
	}
}

func TestPlanDocTypedValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		section, field, v string
		want              any
	}{
		{"password_policy", "min_length", "10", 10},
		{"password_policy", "mixed_case", "true", true},
		{"password_expiry", "allow_reset_after_expired", "false", false},
		{"", "password_never_expires", "true", true},
		{"", "cannot_change_password", "false", false},
		{"", "description", "true", "true"}, // a description is text
		{"", "expiry", "2031-01-01", "2031-01-01"},
	} {
		if diff := cmp.Diff(tc.want, typed(tc.section, tc.field, tc.v)); diff != "" {
			t.Errorf("typed(%q, %q, %q) (-want +got):\n%s", tc.section, tc.field, tc.v, diff)
		}
	}
}

func TestTerraformOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want []string }{
		{[]string{"plan", "-f", "u.yaml", "-out", "p.json"}, []string{"plan", "-f", "u.yaml", "--out", "p.json"}},
		{[]string{"plan", "-out=p.json"}, []string{"plan", "--out=p.json"}},
		{[]string{"user", "list", "-out"}, []string{"user", "list", "-out"}},
		{[]string{"plan", "--", "-out"}, []string{"plan", "--", "-out"}},
	} {
		if diff := cmp.Diff(tc.want, terraformOut(tc.in)); diff != "" {
			t.Errorf("terraformOut(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// FuzzReadPlanFile: whatever a plan file holds, reading it gives a plan
// or an error, never a panic.
func FuzzReadPlanFile(f *testing.F) {
	f.Add([]byte(`{"format": "dsmctl-plan", "format_version": 1}`))
	f.Add([]byte(`{"format": "dsmctl-plan", "format_version": 1, "plan": null, "nas": {"user a": "absent"}, "checksum": "x"}`))
	f.Add([]byte(`{"format": "dsmctl-plan", "format_version": 2}`))
	f.Add([]byte(`users: []`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "plan.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		pf, err := readPlanFile(path)
		if err == nil && (pf.URL == "" || pf.Account == "") {
			t.Errorf("a plan without a DSM or account was accepted")
		}
	})
}
