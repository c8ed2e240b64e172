package manifest

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
)

func TestParse(t *testing.T) {
	t.Parallel()
	const good = `
secrets_file: secrets.yaml
users:
  - name: alice
    description: Alice Liddell
    email: alice@example.com
    groups: [staff, users]
    expiry: 2099-01-02
    password_never_expires: true
    cannot_change_password: false
    password: {from_env: ALICE_PW}
  - name: bob
    password: {generate: true}
    groups: []
groups:
  - name: staff
    description: Teaching staff
password_policy:
  min_length: 10
  mixed_case: true
password_expiry:
  max_age: 90
  never_expire: [bob]
`
	f, err := Parse("users.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		Name: "users.yaml",
		Users: []User{
			{Name: "alice", Description: dsm.Ptr("Alice Liddell"), Email: dsm.Ptr("alice@example.com"), Groups: []string{"staff"},
				Expiry: dsm.Ptr(dsm.ExpiresOn(dsm.Date{Year: 2099, Month: 1, Day: 2})), PasswordNeverExpires: dsm.Ptr(true),
				CannotChangePassword: dsm.Ptr(false), Password: &PasswordSource{FromEnv: "ALICE_PW", Line: 11}, Line: 4},
			{Name: "bob", Password: &PasswordSource{Generate: true, Line: 13}, Groups: []string{}, Line: 12},
		},
		Groups:         []Group{{Name: "staff", Description: dsm.Ptr("Teaching staff"), Line: 16}},
		PasswordPolicy: &Settings{Line: 19, Keys: []Setting{{"min_length", 10, 19}, {"mixed_case", 1, 20}}},
		PasswordExpiry: &Settings{Line: 22, Keys: []Setting{{"max_age", 90, 22}}},
		NeverExpire:    []string{"bob"},
		SecretsFile:    "secrets.yaml",
	}
	if diff := cmp.Diff(want, f, cmp.AllowUnexported(File{}), cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".lines" || p.Last().String() == ".neverExpireLine"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}

	// The same file as JSON, with tabs, reads the same.
	var b strings.Builder
	if err := f.Write(&b, FormatJSON); err != nil {
		t.Fatal(err)
	}
	again, err := Parse("users.json", []byte(strings.ReplaceAll(b.String(), "  ", "\t")))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if diff := cmp.Diff(f.Users, again.Users, cmp.FilterPath(func(p cmp.Path) bool {
		s := p.Last().String()
		return s == ".lines" || s == ".Line"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

// TestParseProblems checks that every problem is reported at once, each
// with its line.
func TestParseProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want []string // "line: text" fragments, in order
	}{
		{"unknown top key", "user: []\n", []string{`1: unknown key "user"`}},
		{"users not a list", "users: alice\n", []string{`1: users: want a list of users, got the string "alice"`}},
		{"unknown user key", "users:\n  - name: a\n    mail: x\n", []string{`3: users[0]: unknown key "mail"`}},
		{"wrong types", "users:\n  - name: 2024\n  - name: b\n    password_never_expires: yes please\n    groups: staff\n",
			[]string{`2: users[0].name: want a string, got the number 2024 (quote it: "2024")`,
				`4: users[1].password_never_expires: want true or false`,
				`5: users[1].groups: want a list of names`}},
		{"limits", "users:\n  - name: 'a:b'\n  - name: c\n    description: " + strings.Repeat("x", 65) + "\n    email: not-an-address\n",
			[]string{`2: users[0].name: the user name "a:b" contains ':'`,
				`4: users[1].description: the description has 65 characters`,
				`5: users[1].email: "not-an-address" is not an email address`}},
		{"duplicates", "users:\n  - name: alice\n  - name: Alice\ngroups:\n  - name: g\n  - name: G\n",
			[]string{`3: users[1]: user Alice is already described on line 2`, `6: groups[1]: group G is already described on line 5`}},
		{"expiry", "users:\n  - name: a\n    expiry: someday\n", []string{`3: users[0].expiry: "someday": want never, disabled or a date YYYY-MM-DD`}},
		{"password in clear", "users:\n  - name: a\n    password: hunter2\n", []string{`3: users[0].password: a password is never written in the file`}},
		{"two sources", "users:\n  - name: a\n    password: {from_env: A, generate: true}\n", []string{`3: users[0].password: give exactly one of`}},
		{"settings", "password_policy:\n  min_length: 200\n  digit: 1\n  colour: red\n",
			[]string{`2: password_policy.min_length: 200 is out of range`, `3: password_policy.digit: want true or false`, `4: password_policy: unknown key "colour"`}},
		// DSM's limits, as package dsm names them: the file fails here,
		// not at apply.
		{"dsm limits", "users:\n  - name: -bob\npassword_policy:\n  history: 50\npassword_expiry:\n  mail_notification_days: 100\n",
			[]string{`2: users[0].name: the user name "-bob" starts with "-"`, `4: password_policy.history: 50 is out of range: want 0 to 24`,
				`6: password_expiry.mail_notification_days: 100 is out of range: want 0 to 99`}},
		{"no name", "users:\n  - description: x\n", []string{`2: users[0]: a user needs a name`}},
		{"syntax", "users: [\n", []string{`did not find expected node content`}},
		{"json", "{\n\t\"users\": [\n\t\t{\"name\": \"a\", \"emali\": \"x\"}\n\t]\n}\n", []string{`3: users[0]: unknown key "emali"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("f.yaml", []byte(tc.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse: %v, want a *ValidationError", err)
			}
			if len(ve.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%v", len(ve.Problems), len(tc.want), err)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("no %q (in order) in:\n%s", w, msg)
					continue
				}
				rest = rest[i+len(w):]
			}
		})
	}
}
