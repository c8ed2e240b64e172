package manifest

import (
	"errors"
	"strings"
	"testing"
)

// checkLoaded is what every loader promises: a file, or a
// *ValidationError; and a file that loads writes out (YAML and JSON) to
// text that loads again.
func checkLoaded(t *testing.T, f *File, err error) {
	t.Helper()
	if err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("error %T is no *ValidationError: %v", err, err)
		}
		return
	}
	for _, format := range []string{FormatYAML, FormatJSON} {
		var b strings.Builder
		if err := f.Write(&b, format); err != nil {
			t.Fatalf("a loaded file does not write as %s: %v", format, err)
		}
		if _, err := Parse("again", []byte(b.String())); err != nil {
			t.Fatalf("a loaded file, written as %s, does not load: %v\n%s", format, err, b.String())
		}
	}
}

// FuzzParse feeds YAML and JSON files to Parse: never a panic or a hang.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"users:\n  - name: alice\n    description: Alice Liddell\n    email: alice@example.com\n    groups: [staff, users]\n    expiry: 2099-01-02\n    password_never_expires: true\n    password: {from_env: ALICE_PW}\n  - name: bob\n    password: {generate: true}\ngroups:\n  - name: staff\n    description: Teaching staff\npassword_policy:\n  min_length: 10\n  mixed_case: true\npassword_expiry:\n  max_age: 90\n  never_expire: [bob]\n",
		`{"users":[{"name":"a","groups":["g"],"expiry":"disabled"}],"groups":[{"name":"g"}]}`,
		"users: alice\n", "users:\n  - name: a\n    password: hunter2\n", "a: &a [*a, *a]\n", "x: &x\n  - *x\n",
		"", "---\n...\n", "users:\n  - name: 2024\n", "password_policy:\n  min_length: 200\n", "{\"users\":\t[]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		checkLoaded(t, file, err)
	})
}

// FuzzLoadCSV feeds CSV files to LoadCSV.
func FuzzLoadCSV(f *testing.F) {
	for _, s := range []string{
		"name,password,description,email,groups\nalice,,Alice,alice@example.com,\"staff,users\"\nbob,,,,\n",
		"name\na\na\n", "email\nx@y\n", "name,colour\na,red\n", "name,\"groups\n", "\xef\xbb\xbfname\r\nalice\r\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := LoadCSV("fuzz.csv", strings.NewReader(string(data)))
		checkLoaded(t, file, err)
	})
}

// FuzzLoadUserList feeds DSM's tab-separated user lists to LoadUserList.
func FuzzLoadUserList(f *testing.F) {
	for _, s := range []string{
		"alice\tpw\tAlice\talice@example.com\t\"staff,users\"\t100\t200\n", "bob\n", "carol\t\t\t\t1024\n", "\t\n", "a\"b\tc\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := LoadUserList("fuzz.txt", strings.NewReader(string(data)))
		checkLoaded(t, file, err)
	})
}
