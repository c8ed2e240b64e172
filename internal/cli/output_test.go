package cli

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
)

func TestPrintList(t *testing.T) {
	t.Parallel()
	records := []record{
		{{"name", "bob"}, {"uid", 1026}, {"expired", dsm.ExpiresOn(dsm.Date{Year: 2030, Month: 1, Day: 2}).String()},
			{"changed", dsm.Date{Year: 2024, Month: 12, Day: 31}}, {"admin", true}, {"groups", []string{"staff", "users"}}, {"note", "a, \"b\""}},
		{{"name", "true"}, {"uid", 1027}, {"expired", "never"},
			{"changed", dsm.Date{}}, {"admin", false}, {"groups", []string(nil)}, {"note", ""}},
	}
	cols := []string{"name", "uid", "expired", "changed", "admin", "groups", "note"}
	tests := []struct {
		format string
		want   string
	}{
		{formatText, "" +
			"NAME  UID   EXPIRED     CHANGED     ADMIN  GROUPS       NOTE\n" +
			"bob   1026  2030-01-02  2024-12-31  yes    staff,users  a, \"b\"\n" +
			"true  1027  never       -           no     -            -\n"},
		{formatCSV, "" +
			"name,uid,expired,changed,admin,groups,note\n" +
			"bob,1026,2030-01-02,2024-12-31,true,\"staff,users\",\"a, \"\"b\"\"\"\n" +
			"true,1027,never,,false,,\n"},
		{formatJSON, `[
  {
    "name": "bob",
    "uid": 1026,
    "expired": "2030-01-02",
    "changed": "2024-12-31",
    "admin": true,
    "groups": [
      "staff",
      "users"
    ],
    "note": "a, \"b\""
  },
  {
    "name": "true",
    "uid": 1027,
    "expired": "never",
    "changed": null,
    "admin": false,
    "groups": [],
    "note": ""
  }
]
`},
		{formatYAML, `- name: bob
  uid: 1026
  expired: "2030-01-02"
  changed: "2024-12-31"
  admin: true
  groups:
    - staff
    - users
  note: a, "b"
- name: "true"
  uid: 1027
  expired: never
  changed: null
  admin: false
  groups: []
  note: ""
`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := printList(&b, tt.format, cols, records); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, b.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.format, diff)
		}
	}
}

func TestPrintEmptyList(t *testing.T) {
	t.Parallel()
	for format, want := range map[string]string{
		formatText: "NAME  UID\n",
		formatCSV:  "name,uid\n",
		formatJSON: "[]\n",
		formatYAML: "[]\n",
	} {
		var b bytes.Buffer
		if err := printList(&b, format, []string{"name", "uid"}, nil); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%s: %q, want %q", format, b.String(), want)
		}
	}
}

func TestPrintRecord(t *testing.T) {
	t.Parallel()
	r := record{{"name", "bob"}, {"min_length", 8}, {"mixed_case", true}, {"email", ""}}
	for format, want := range map[string]string{
		formatText: "name:        bob\nmin length:  8\nmixed case:  yes\nemail:       -\n",
		formatCSV:  "name,min_length,mixed_case,email\nbob,8,true,\n",
		formatJSON: "{\n  \"name\": \"bob\",\n  \"min_length\": 8,\n  \"mixed_case\": true,\n  \"email\": \"\"\n}\n",
		formatYAML: "name: bob\nmin_length: 8\nmixed_case: true\nemail: \"\"\n",
	} {
		var b bytes.Buffer
		if err := printRecord(&b, format, r); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, b.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", format, diff)
		}
	}
}
