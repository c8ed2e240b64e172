package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// upload sends parse_user_list with content in the "filename" part, as
// DSM's import dialog does, in session d; extra are form fields.
func (s *Server) upload(t testing.TB, d loginData, content []byte, extra ...string) answer {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fields := append([]string{"api", "SYNO.Core.User", "version", "1", "method", "parse_user_list", "_sid", d.SID}, extra...)
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	if content != nil {
		part, _ := w.CreateFormFile("filename", "users.txt")
		part.Write(content)
	}
	w.Close()
	req := httptest.NewRequest(http.MethodPost, "/webapi/entry.cgi", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-Syno-Token", d.SynoToken)
	req.RemoteAddr = lanAddr
	return serveRequest(t, s, req)
}

// previewItems decodes parse_user_list's items.
func previewItems(t testing.TB, a answer) []importItem {
	t.Helper()
	if !a.Success {
		t.Fatalf("parse_user_list: %s", a.raw)
	}
	var d struct {
		Items []importItem `json:"items"`
		Total int          `json:"total"`
	}
	a.data(t, &d)
	if d.Total != len(d.Items) {
		t.Errorf("total %d for %d items", d.Total, len(d.Items))
	}
	return d.Items
}

func TestImportDelimitersAndQuoting(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	admin := s.mustLogin(t, "admin", adminPW)
	ok := 0
	row := func(name, pw, desc, email, quota string, groups ...string) importItem {
		if groups == nil {
			groups = []string{}
		}
		return importItem{Name: name, Password: pw, Description: desc, Email: email, Quota: quota, Groups: groups, Status: &ok}
	}
	tests := []struct {
		name, file string
		want       []importItem
	}{
		{"tab", "ann\tpw1\tAccounting\tann@abc.com\tusers\t\t500\n", []importItem{row("ann", "pw1", "Accounting", "ann@abc.com", "volume2:500", "users")}},
		// Synology's help's own example line, with a space after each comma.
		{"comma, the help's example", "rose, 111111, Accounting, rose@abc.com, users, , 60000", []importItem{row("rose", "111111", "Accounting", "rose@abc.com", "volume2:60000", "users")}},
		{"semicolon", "ann;pw;a, b;;\"users,staff\"\nbob;pw2\n", []importItem{row("ann", "pw", "a, b", "", "", "users", "staff"), row("bob", "pw2", "", "", "")}},
		{"a comma inside quotes does not make comma the delimiter", "x;\"a,b\";d\n", []importItem{row("x", "a,b", "d", "", "")}},
		{"tab wins over a comma", "ann\tpw,1\n", []importItem{row("ann", "pw,1", "", "", "")}},
		{"quoted, with doubled quotes", `ann,"say ""hi""",  "d" ` + "\n", []importItem{row("ann", `say "hi"`, "d", "", "")}},
		{"name alone, CR LF, blank lines, BOM", "\uFEFFann\r\n\r\n  \nbob\r\n", []importItem{row("ann", "", "", "", ""), row("bob", "", "", "", "")}},
	}
	for _, tt := range tests {
		got := previewItems(t, s.upload(t, admin, []byte(tt.file)))
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
		ok = 0
	}
}

func TestImportFileRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	admin := s.mustLogin(t, "admin", adminPW)
	tests := []struct {
		name    string
		file    []byte
		code    int
		invalid string // errors.invalid_field, "" for none
	}{
		{"not UTF-8", []byte("ann\tpw\xff\n"), 3193, ""},
		{"empty", []byte{}, 3192, ""},
		{"blank lines only", []byte("\n \r\n\t\n"), 3192, ""},
		{"a quote not closed", []byte("ann,\"pw\nbob,x\n"), 3130, `"pw`},
		{"text after a closing quote", []byte("ann,\"pw\"x,d\n"), 3131, `"pw"x`},
		{"a quote in an unquoted field", []byte("ann,p\"w\n"), 3132, `p"w`},
		{"no file", nil, 3191, ""},
		{"too large", bytes.Repeat([]byte("a"), maxImportFileBytes+1), 3191, ""},
		{"too many rows", []byte(strings.Repeat("a\n", maxImportRows+1)), 3191, ""},
	}
	for _, tt := range tests {
		a := s.upload(t, admin, tt.file)
		if a.code() != tt.code {
			t.Errorf("%s: %s, want code %d", tt.name, a.raw, tt.code)
			continue
		}
		var d struct {
			InvalidField *string `json:"invalid_field"`
		}
		if a.Error.Errors != nil {
			json.Unmarshal(a.Error.Errors, &d)
		}
		if (d.InvalidField == nil) != (tt.invalid == "") || d.InvalidField != nil && *d.InvalidField != tt.invalid {
			t.Errorf("%s: errors %s, want invalid_field %q", tt.name, a.Error.Errors, tt.invalid)
		}
	}
	if a := s.upload(t, admin, []byte("ann\n"), "overwrite", "yes"); a.code() != 120 {
		t.Errorf("overwrite=yes: %s, want 120", a.raw)
	}
	if a := s.upload(t, loginData{}, []byte("ann\n")); a.code() != 119 {
		t.Errorf("without a session: %s, want 119", a.raw)
	}
}

func TestImportRowStatuses(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "taken", Password: "x"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	file := strings.Join([]string{
		"fine\tpw",                             // 0
		"bad:name\tpw",                         // 1
		"fine\tpw",                             // 2
		"TAKEN\tpw",                            // 3 (10 with overwrite)
		"guest\tpw",                            // 4
		"long\t" + strings.Repeat("p", 128),    // 5
		"desc\tpw\t" + strings.Repeat("d", 65), // 6
		"eml\tpw\t\tnot-an-address",            // 7
		"q1\tpw\t\t\t\t100",                    // 8: volume1 is Btrfs
		"q2\tpw\t\t\t\t\t1.5",                  // 8: not a whole number
		"q3\tpw\t\t\t\t\t\t7",                  // 8: no third volume
		"grp2\tpw\t\t\t\"users,wheel\"",        // 1: a reserved group that does not exist
		"grp\tpw\t\t\tbad:group",               // 1: a group no group could have
	}, "\n")
	statuses := func(items []importItem) []int {
		var out []int
		for _, it := range items {
			out = append(out, *it.Status)
		}
		return out
	}
	if d := cmp.Diff([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 1, 1}, statuses(previewItems(t, s.upload(t, admin, []byte(file))))); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{0, 1, 2, 10}, statuses(previewItems(t, s.upload(t, admin, []byte("fine\nbad:name\nFine\ntaken\n"), "overwrite", "true")))); d != "" {
		t.Errorf("statuses with overwrite (-want +got):\n%s", d)
	}

	// 9: beyond the number of accounts, counting the rows before.
	s.mu.Lock()
	for i := len(s.st.users); i < maxUsers-1; i++ {
		s.st.addUser(&user{name: fmt.Sprintf("filler%d", i)}, 0)
	}
	s.mu.Unlock()
	if d := cmp.Diff([]int{0, 9}, statuses(previewItems(t, s.upload(t, admin, []byte("one\ntwo\n"))))); d != "" {
		t.Errorf("statuses at the account limit (-want +got):\n%s", d)
	}
}

// importRows sends import with the rows as JSON in session d.
func (s *Server) importRows(t testing.TB, d loginData, rows string, extra ...string) string {
	t.Helper()
	a := s.callKV(t, d, append([]string{"SYNO.Core.User", "import", "users", rows}, extra...)...)
	var out struct {
		TaskID string `json:"task_id"`
	}
	if !a.Success {
		t.Fatalf("import: %s", a.raw)
	}
	a.data(t, &out)
	return out.TaskID
}

func TestImportTask(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{JoinDelay: time.Minute, Users: []User{{Name: "taken", Password: "x"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	status := func(id string) answer { return s.callKV(t, admin, "SYNO.Core.User", "import_status", "task_id", id) }

	id := s.importRows(t, admin, `[{"name":"ann","password":"Tulip-pw-2026","description":"d","email":"ann@x.org","quota":"volume2:100","groups":["sales"]},`+
		`{"name":"bob","password":"Daisy-pw-2026","quota":""}]`, "password_must_change", "true")
	if a := status(id); string(a.Data) != `{"finished":false,"progress":0,"total":2}` {
		t.Errorf("status at once: %s", a.raw)
	}
	s.Advance(30 * time.Second)
	if a := status(id); string(a.Data) != `{"finished":false,"progress":1,"total":2}` {
		t.Errorf("status half way: %s", a.raw)
	}
	if s.userOf("ann") == nil || s.userOf("bob") != nil {
		t.Error("half way: want ann and not bob")
	}
	s.Advance(30 * time.Second)
	if a := status(id); string(a.Data) != `{"finished":true,"progress":2,"total":2}` {
		t.Errorf("status at the end: %s", a.raw)
	}
	ann := s.userOf("ann")
	if ann == nil || ann.email != "ann@x.org" || !ann.passwordPending {
		t.Fatalf("ann after the import: %+v", ann)
	}
	s.mu.Lock()
	g := s.st.groupByName("sales")
	inSales := g != nil && g.members[ann.uid]
	quota := s.st.profiles.edit(userOwner(ann)).quotas["volume:/volume2"]
	s.mu.Unlock()
	if !inSales || quota != 100*mib {
		t.Errorf("ann in a new group sales %v, quota on volume2 %d", inSales, quota)
	}
	if a := s.callKV(t, admin, "SYNO.Core.User", "import_stop", "task_id", id); !a.Success {
		t.Errorf("stop: %s", a.raw)
	}
	if a := status(id); a.code() != 120 {
		t.Errorf("status after stop: %s, want 120", a.raw)
	}

	// Stopped while running: the rows not yet applied never are.
	id = s.importRows(t, admin, `[{"name":"cy","password":"Lotus-pw-2026"},{"name":"dee","password":"Poppy-pw-2026"}]`)
	s.Advance(30 * time.Second)
	s.callKV(t, admin, "SYNO.Core.User", "import_stop", "task_id", id)
	s.Advance(2 * time.Minute)
	if s.userOf("cy") == nil || s.userOf("dee") != nil {
		t.Error("after a stop half way: want cy and not dee")
	}

	// Failures: the task answers its code until stopped.
	for _, tt := range []struct {
		name, rows string
		code       int
	}{
		{"an existing user without overwrite", `[{"name":"taken","password":"Lilac-pw-2026"}]`, 3116},
		{"a weak password", `[{"name":"eve","password":"eve"}]`, 3116},
		{"a quota beyond the volume", `[{"name":"fay","password":"Peony-pw-2026","quota":"volume2:999999999"}]`, 3117},
	} {
		id := s.importRows(t, admin, tt.rows)
		s.Advance(time.Minute)
		for range 2 {
			if a := status(id); a.code() != tt.code {
				t.Errorf("%s: %s, want %d", tt.name, a.raw, tt.code)
			}
		}
	}
	if s.userOf("fay") != nil {
		t.Error("fay exists after a refused quota")
	}
	// Overwrite keeps what the row leaves empty.
	id = s.importRows(t, admin, `[{"name":"ann","password":"","description":"","email":"new@x.org","overwrite":true}]`)
	s.Advance(time.Minute)
	if a := status(id); !a.Success {
		t.Fatalf("overwrite: %s", a.raw)
	}
	if ann := s.userOf("ann"); ann.email != "new@x.org" || ann.description != "d" {
		t.Errorf("ann overwritten: email %q description %q", ann.email, ann.description)
	}

	checkRefusals(t, s, admin, []refusal{
		{"import: no users", []string{"SYNO.Core.User", "import"}, 114},
		{"import: not a list", []string{"SYNO.Core.User", "import", "users", `{"name":"x"}`}, 120},
		{"import: empty", []string{"SYNO.Core.User", "import", "users", `[]`}, 120},
		{"import: a row without a name", []string{"SYNO.Core.User", "import", "users", `[{"password":"x"}]`}, 120},
		{"import_status: unknown", []string{"SYNO.Core.User", "import_status", "task_id", "nope"}, 120},
		{"import_stop: no id", []string{"SYNO.Core.User", "import_stop"}, 114},
	})
}

// The parser of uploaded lists never panics, and what it accepts has at
// most maxImportRows rows, each with a name field.
func FuzzParseImportFile(f *testing.F) {
	for _, seed := range []string{"ann\tpw\n", "a,\"b\"\"c\",d\r\n", "x;\"y", "\uFEFF\n\n", "a,\"b\"c", "\"", "a\"b"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := parseImportFile(b)
		if err == nil && (len(rows) == 0 || len(rows) > maxImportRows) {
			t.Fatalf("%d rows without an error", len(rows))
		}
	})
}

// The simulator's answers have the members of the shapes DSM's dialog
// reads (testdata/import, written from admin_center.js), with the same
// JSON types.
func TestImportAnswersMatchTheDialogsShapes(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	admin := s.mustLogin(t, "admin", adminPW)
	shape := func(name string) map[string]any {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "import", name))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	types := func(m map[string]any) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = fmt.Sprintf("%T", v)
		}
		return out
	}
	// Every member of the dialog's item, of the same type.
	want := shape("parse_user_list.json")["data"].(map[string]any)
	var got map[string]any
	previewAnswer := s.upload(t, admin, []byte("rose,pw\n"))
	json.Unmarshal(previewAnswer.Data, &got)
	wantItem := types(want["items"].([]any)[0].(map[string]any))
	gotItem := types(got["items"].([]any)[0].(map[string]any))
	for k, typ := range wantItem {
		if gotItem[k] != typ {
			t.Errorf("item member %s: %s, want %s (%s)", k, gotItem[k], typ, previewAnswer.raw)
		}
	}
	if fmt.Sprintf("%T", got["total"]) != fmt.Sprintf("%T", want["total"]) {
		t.Errorf("total: %v", got["total"])
	}
	a := s.upload(t, admin, []byte("a,\"b\n"))
	var gotErrors map[string]any
	json.Unmarshal(a.Error.Errors, &gotErrors)
	if d := cmp.Diff(types(shape("parse_user_list_3130.json")["error"].(map[string]any)["errors"].(map[string]any)), types(gotErrors)); d != "" {
		t.Errorf("3130's errors %s (-want +got):\n%s", a.raw, d)
	}
	id := s.importRows(t, admin, `[{"name":"rose","password":"Petal-pw-2026"}]`)
	if id == "" {
		t.Fatal("no task_id")
	}
	st := s.callKV(t, admin, "SYNO.Core.User", "import_status", "task_id", id)
	var sd map[string]any
	json.Unmarshal(st.Data, &sd)
	if _, ok := sd["finished"].(bool); !ok {
		t.Errorf("import_status: %s, want a boolean finished", st.raw)
	}
}
