package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm/dsmtest"
)

// TestQuiet: --quiet (-q, anywhere on the line) drops the confirmations of
// changes, and keeps what a user must learn: a generated password, errors.
func TestQuiet(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	e = e.with(newPasswordEnv, "Quiet-Pw-4242")
	for _, args := range [][]string{
		{"-q", "group", "create", "staff"},
		{"group", "update", "staff", "--description", "Staff", "--quiet"},
		{"-q", "user", "create", "bob2"},
		{"-q", "user", "update", "bob2", "--email", "b@example.com"},
		{"-q", "user", "join", "bob2", "staff"},
		{"-q", "user", "join", "bob2", "staff"}, // nothing changed
		{"-q", "user", "leave", "bob2", "staff"},
		{"-q", "group", "add", "staff", "bob2"},
		{"-q", "group", "remove", "staff", "bob2"},
		{"-q", "policy", "password", "set", "--min-length", "8"},
		{"-q", "policy", "expiry", "set", "--max-age", "90"},
		{"-q", "user", "delete", "bob2", "--yes"},
		{"-q", "group", "delete", "staff", "--yes"},
	} {
		r := e.mustRun(t, args...)
		if r.stdout != "" {
			t.Errorf("dsmctl %s printed:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	r := e.mustRun(t, "-q", "user", "create", "carl", "--generate-password")
	if !strings.HasPrefix(r.stdout, "password: ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("user create --generate-password -q printed %q, want the password line alone", r.stdout)
	}
	r = e.run(t, "-q", "user", "delete", "nosuch", "--yes")
	r.wantCode(t, ExitNotFound)
	if !strings.Contains(r.stderr, "no such user") {
		t.Errorf("-q hid the error: %q", r.stderr)
	}
	// Without -q the same commands confirm.
	if r := e.mustRun(t, "group", "create", "dev"); r.stdout == "" {
		t.Error("group create without -q printed nothing")
	}
}

// TestQuietApply: apply --yes -q prints nothing when every change is
// made, and its summary when one fails.
func TestQuietApply(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t, dsmtest.WithFault(dsmtest.Fault{API: "SYNO.Core.User", Method: "create", Kind: dsmtest.FaultCode, Code: 3100, Times: 1}))
	file := usersFile(t, "groups:\n  - name: team\n")
	r := e.mustRun(t, "apply", "-f", file, "--yes", "-q")
	if r.stdout != "" || r.stderr != "" {
		t.Errorf("apply -q printed:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	bad := usersFile(t, "users:\n  - name: newbie\n    groups: [team]\n    password: {generate: true}\n")
	r = e.run(t, "apply", "-f", bad, "--yes", "-q", "--passwords-file", filepath.Join(t.TempDir(), "pw.tsv"))
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stdout, "Applied 0 of 1 changes") || !strings.Contains(r.stdout, "failed: user newbie: create") {
		t.Errorf("apply -q with a failure printed no summary:\n%s", r.stdout)
	}
}

// TestChangeJSON: delete and group add/remove have -o, one record of what
// changed and what did not, with both lists always present.
func TestChangeJSON(t *testing.T) {
	t.Parallel()
	_, e := adminEnv(t)
	e = e.with(newPasswordEnv, "Json-Pw-4242")
	e.mustRun(t, "group", "create", "staff")
	e.mustRun(t, "user", "create", "dora")
	e.mustRun(t, "user", "create", "ed")
	for _, tc := range []struct {
		args []string
		code int
		want map[string]any
	}{
		{[]string{"group", "add", "staff", "dora", "alice", "-o", "json"}, 0, map[string]any{"group": "staff", "added": []any{"dora", "alice"}, "unchanged": []any{}}},
		{[]string{"group", "add", "staff", "dora", "-o", "json"}, 0, map[string]any{"group": "staff", "added": []any{}, "unchanged": []any{"dora"}}},
		{[]string{"group", "remove", "staff", "dora", "ed", "-o", "json"}, 0, map[string]any{"group": "staff", "removed": []any{"dora"}, "unchanged": []any{"ed"}}},
		{[]string{"user", "delete", "dora", "--yes", "-o", "json"}, 0, map[string]any{"deleted": []any{"dora"}, "not_deleted": []any{}}},
		{[]string{"user", "rm", "nosuch", "--yes", "-o", "json"}, ExitNotFound, map[string]any{"deleted": []any{}, "not_deleted": []any{"nosuch"}}},
		{[]string{"group", "delete", "staff", "--yes", "-o", "json"}, 0, map[string]any{"deleted": []any{"staff"}, "not_deleted": []any{}}},
	} {
		r := e.run(t, tc.args...)
		r.wantCode(t, tc.code)
		var got map[string]any
		decodeJSON(t, r.stdout, &got)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("dsmctl %s (-want +got):\n%s", strings.Join(tc.args, " "), diff)
		}
	}
}

// TestAliases: ls and rm stand for list and delete.
func TestAliases(t *testing.T) {
	t.Parallel()
	srv, e := adminEnv(t)
	for _, args := range [][]string{{"user", "ls"}, {"group", "ls"}} {
		if r := e.mustRun(t, args...); !strings.Contains(r.stdout, "NAME") {
			t.Errorf("dsmctl %s:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	e.mustRun(t, "group", "create", "tmp")
	e.mustRun(t, "group", "rm", "tmp", "--yes")
	e.mustRun(t, "user", "rm", "alice", "--yes")
	if _, err := srv.Client().Users.Get(t.Context(), "alice"); err == nil {
		t.Error("user rm alice left alice")
	}
}
