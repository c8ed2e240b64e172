package manifest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseRefusesDuplicateKeys checks that a key given twice in one
// mapping is a problem at the line of its second use, wherever the
// mapping is: the YAML parser keeps both, and one would silently win.
func TestParseRefusesDuplicateKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want Problem
	}{
		{"user key", "users:\n  - name: alice\n    email: alice@example.com\n    email: alice@example.org\n",
			Problem{Line: 4, Path: "users[0]", Message: "email is given twice"}},
		{"user name", "users:\n  - name: alice\n    description: A\n    name: bob\n",
			Problem{Line: 4, Path: "users[0]", Message: "name is given twice"}},
		{"top-level key", "users:\n  - name: alice\ngroups: []\nusers:\n  - name: bob\n",
			Problem{Line: 4, Message: "users is given twice"}},
		{"group key", "groups:\n  - name: staff\n    description: Staff\n    description: All staff\n",
			Problem{Line: 4, Path: "groups[0]", Message: "description is given twice"}},
		{"settings key", "password_policy:\n  min_length: 10\n  digit: true\n  min_length: 12\n",
			Problem{Line: 4, Path: "password_policy", Message: "min_length is given twice"}},
		{"JSON", "{\"users\": [\n  {\"name\": \"alice\",\n   \"email\": \"alice@example.com\",\n   \"email\": \"alice@example.org\"}\n]}\n",
			Problem{Line: 4, Path: "users[0]", Message: "email is given twice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("f.yaml", []byte(tc.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %+v, %v; want a *ValidationError", f, err)
			}
			if d := cmp.Diff([]Problem{tc.want}, ve.Problems); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}
