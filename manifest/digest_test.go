package manifest

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
)

// TestDigests: the objects a plan touches have digests of what Plan read;
// a change to one of them on the NAS changes its digest, and only its.
func TestDigests(t *testing.T) {
	t.Parallel()
	srv := startNAS(t)
	c := srv.Client()
	f := mustParse(t, `password_policy:
  min_length: 12
groups:
  - name: staff
    description: Everyone
users:
  - name: carol
    email: carol@example.org
  - name: erin
    password: {generate: true}
`)
	plan := func() *Plan {
		t.Helper()
		p, err := f.Plan(t.Context(), c, PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := plan().Digests()
	keys := make([]string, 0, len(before))
	for k := range before {
		keys = append(keys, k)
	}
	want := []string{"group staff", "password_policy", "user carol", "user erin"}
	slices.Sort(keys)
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("digested objects (-want +got):\n%s", diff)
	}
	if before["user erin"] != Absent {
		t.Errorf("erin, to create, has digest %q, want %q", before["user erin"], Absent)
	}
	if again := plan().Digests(); !cmp.Equal(before, again) {
		t.Errorf("digests differ between two reads of an unchanged NAS:\n%v\n%v", before, again)
	}

	// dave is not touched, and changing him changes nothing the plan
	// digests; changing carol changes her digest alone.
	if _, err := c.Users.Update(t.Context(), "dave", dsm.UserUpdateRequest{Description: dsm.Ptr("Dave")}); err != nil {
		t.Fatal(err)
	}
	if after := plan().Digests(); !cmp.Equal(before, after) {
		t.Errorf("a change to an untouched user changed the digests")
	}
	if _, err := c.Users.Update(t.Context(), "carol", dsm.UserUpdateRequest{Description: dsm.Ptr("Carol C.")}); err != nil {
		t.Fatal(err)
	}
	p := plan()
	after := p.Digests()
	for k := range before {
		if changed := after[k] != before[k]; changed != (k == "user carol") {
			t.Errorf("%s: digest changed %v", k, changed)
		}
	}
	if got := p.Digest("user dave"); got == "" || got == Absent {
		t.Errorf("Digest of an untouched user dave = %q", got)
	}
	if got := p.Digest("user nobody"); got != Absent {
		t.Errorf("Digest of a user the NAS lacks = %q, want %q", got, Absent)
	}
}
