package dsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// importFixture returns a file of testdata/import (its provenance:
// testdata/import/README.md) as an answer of the fake.
func importFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "import", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadSeen is what the fake received of a parse_user_list upload.
type uploadSeen struct {
	fields   url.Values
	filename string
	content  string
	header   http.Header
}

// The upload is a multipart form that takes the one call path: api,
// version and method first, the options, the session and the file last
// in part "filename", with the SynoToken header; the preview is decoded
// from the shape of DSM's dialog, and liberally.
func TestPreviewImport(t *testing.T) {
	var seen []uploadSeen
	answer := importFixture(t, "parse_user_list.json")
	f := newFakeDSM(t, func(r *http.Request, _ url.Values) any {
		mr, err := r.MultipartReader()
		if err != nil {
			t.Errorf("not a multipart upload: %v", err)
			return fail(101)
		}
		var s uploadSeen
		s.fields, s.header = url.Values{}, r.Header.Clone()
		var order []string
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p)
			if p.FileName() != "" {
				s.filename, s.content = p.FormName()+"="+p.FileName(), string(b)
				order = append(order, "FILE")
				continue
			}
			s.fields.Add(p.FormName(), string(b))
			order = append(order, p.FormName())
		}
		if len(order) < 4 || strings.Join(order[:3], ",") != "api,version,method" || order[len(order)-1] != "FILE" {
			t.Errorf("parts in the order %v: want api, version, method first and the file last", order)
		}
		seen = append(seen, s)
		return answer
	})
	c := f.client(t, WithSession(Session{SID: "sid-1", SynoToken: "tok-1"}))
	p, err := c.Users.PreviewImport(t.Context(), "staff.txt", []byte("rose, 111111\n"), ImportOptions{Overwrite: true, PasswordMustChange: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []ImportRow{
		{Name: "rose", Password: "111111", Description: "Accounting", Email: "rose@abc.com", Quota: "volume2:60000", Status: ImportRowOK},
		{Name: "admin", Password: "x", Status: ImportRowReserved},
		{Name: "bob", Email: "bob@", Status: ImportRowBadEmail},
		{Name: "old", Password: "y", Status: ImportRowOverwrite},
	}
	if d := cmp.Diff(want, p.Rows); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	if p.Total != 4 || len(p.Refused()) != 2 || !p.Options.Overwrite {
		t.Errorf("total %d, refused %v, options %+v", p.Total, p.Refused(), p.Options)
	}
	s := seen[0]
	wantFields := url.Values{"api": {"SYNO.Core.User"}, "version": {"1"}, "method": {"parse_user_list"}, "_sid": {"sid-1"},
		"overwrite": {"true"}, "new_user_mail": {"false"}, "send_password": {"false"}, "password_must_change": {"true"}}
	if d := cmp.Diff(wantFields, s.fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	if s.filename != "filename=staff.txt" || s.content != "rose, 111111\n" || s.header.Get("X-SYNO-TOKEN") != "tok-1" {
		t.Errorf("file %s %q, token %q", s.filename, s.content, s.header.Get("X-SYNO-TOKEN"))
	}

	// Liberal: a status as a string, groups as a list or a string.
	answer = []byte(`{"success":true,"data":{"items":[{"name":"a","status":"3","groups":["x","y"]},{"name":"b","status":2,"groups":"x, y"}]}}`)
	p, err = c.Users.PreviewImport(t.Context(), "", []byte("a\nb\n"), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = []ImportRow{{Name: "a", Status: ImportRowExists, Groups: []string{"x", "y"}}, {Name: "b", Status: ImportRowRepeated, Groups: []string{"x", "y"}}}
	if d := cmp.Diff(want, p.Rows); d != "" || p.Total != 2 {
		t.Errorf("liberal rows, total %d (-want +got):\n%s", p.Total, d)
	}
	if seen[1].filename != "filename=users.txt" {
		t.Errorf("file part of an unnamed list: %s", seen[1].filename)
	}

	// 3130 with its field: typed, the field readable, and not in the message.
	answer = importFixture(t, "parse_user_list_3130.json")
	_, err = c.Users.PreviewImport(t.Context(), "x", []byte("a,\"secret-pw\n"), ImportOptions{})
	var ae *APIError
	if !errors.Is(err, ErrImportSyntax) || !errors.As(err, &ae) || ae.InvalidField() != `"secret-pw` {
		t.Fatalf("3130: %v, want ErrImportSyntax with its field", err)
	}
	if strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("the message shows the field, which may be a password: %v", err)
	}
	if n := len(seen); n != 3 {
		t.Fatalf("%d uploads", n)
	}
	// Refused before any call.
	for name, content := range map[string][]byte{
		"empty":     nil,
		"too large": make([]byte, MaxImportFileSize+1),
		"not UTF-8": []byte("a\xff\n"),
	} {
		var arg *ArgError
		if _, err := c.Users.PreviewImport(t.Context(), "x", content, ImportOptions{}); !errors.As(err, &arg) {
			t.Errorf("%s: %v, want an *ArgError", name, err)
		}
	}
	if len(seen) != 3 {
		t.Errorf("%d uploads after refused lists, want 3", len(seen))
	}
}

func TestImportCodes(t *testing.T) {
	for code, want := range map[int]error{3130: ErrImportSyntax, 3131: ErrImportSyntax, 3132: ErrImportSyntax, 3191: ErrImportUnreadable,
		3192: ErrImportEmpty, 3193: ErrImportNotUTF8, 3194: ErrImportNoVolume, 3116: ErrUserSetupFailed, 3117: ErrQuotaTooLarge} {
		err := error(&APIError{Code: code, API: "SYNO.Core.User", Method: "parse_user_list"})
		if !errors.Is(err, want) {
			t.Errorf("%d: %v, want %v", code, err, want)
		}
	}
	if f := (&APIError{Code: 3191, Details: json.RawMessage(`{"invalid_field":"x"}`)}).InvalidField(); f != "" {
		t.Errorf("InvalidField of a 3191: %q", f)
	}
	for s := ImportRowOK; s <= ImportRowOverwrite; s++ {
		if strings.HasPrefix(s.String(), "unknown") || s.Importable() != (s == 0 || s == 10) {
			t.Errorf("status %d: %q, importable %v", int(s), s, s.Importable())
		}
	}
	if ImportRowStatus(11).String() != "unknown status 11" {
		t.Errorf("status 11: %q", ImportRowStatus(11))
	}
}

// Import sends the preview's rows with overwrite per row and the
// options, gets the task, and Wait polls it until finished, then stops
// it; a failure while polling is typed.
func TestImportTaskClient(t *testing.T) {
	var polls int
	status := importFixture(t, "import_status.json")
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		switch form.Get("method") {
		case "import":
			return importFixture(t, "import.json")
		case "import_status":
			polls++
			if polls < 3 {
				return ok(map[string]any{"finished": false})
			}
			return status
		case "import_stop":
			return ok(nil)
		}
		return fail(103)
	})
	c := f.client(t, WithSession(Session{SID: "s"}))
	waits := fakeClock(c)
	p := &ImportPreview{Rows: []ImportRow{
		{Name: "rose", Password: "pw-1", Quota: "volume2:60000", Groups: []string{"sales"}, Status: ImportRowOK},
		{Name: "old", Password: "pw-2", Status: ImportRowOverwrite},
	}, Options: ImportOptions{Overwrite: true, SendPassword: true}}
	task, err := c.Users.Import(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if task.ID != "@administrators/userimport1737238746C6723E33" || task.Rows != 2 {
		t.Errorf("task %+v", task)
	}
	form := f.forms("SYNO.Core.User", "import")[0]
	var users []map[string]any
	if err := json.Unmarshal([]byte(form.Get("users")), &users); err != nil {
		t.Fatalf("users %q: %v", form.Get("users"), err)
	}
	wantUsers := []map[string]any{
		{"name": "rose", "password": "pw-1", "description": "", "email": "", "quota": "volume2:60000", "groups": []any{"sales"}, "overwrite": false},
		{"name": "old", "password": "pw-2", "description": "", "email": "", "quota": "", "overwrite": true},
	}
	if d := cmp.Diff(wantUsers, users); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	if form.Get("send_password") != "true" || form.Get("new_user_mail") != "false" || form.Has("overwrite") {
		t.Errorf("options %v", form)
	}
	var seen []ImportStatus
	st, err := task.WaitProgress(t.Context(), func(s ImportStatus) { seen = append(seen, s) })
	if err != nil || !st.Finished || len(seen) != 3 {
		t.Fatalf("wait: %+v %v, %d statuses", st, err, len(seen))
	}
	if d := cmp.Diff([]string{"40ms", "20ms"}, []string{(*waits)[1].String(), (*waits)[0].String()}); d != "" {
		t.Errorf("waits: %v", *waits)
	}
	if n := len(f.forms("SYNO.Core.User", "import_stop")); n != 1 {
		t.Errorf("%d stops after the import finished, want 1", n)
	}

	polls, status = 10, importFixture(t, "import_status_3117.json")
	if _, err := task.Wait(t.Context()); !errors.Is(err, ErrQuotaTooLarge) {
		t.Errorf("wait on a failed import: %v, want ErrQuotaTooLarge", err)
	}

	// Rows DSM would refuse are refused before any call, as DSM's
	// dialog imports nothing while one is listed.
	bad := &ImportPreview{Rows: []ImportRow{{Name: "a", Status: ImportRowOK}, {Name: "b", Status: ImportRowExists}}}
	var arg *ArgError
	if _, err := c.Users.Import(t.Context(), bad); !errors.As(err, &arg) || !strings.Contains(err.Error(), "row 2 (b)") {
		t.Errorf("import of a refused row: %v", err)
	}
	if _, err := c.Users.Import(t.Context(), &ImportPreview{}); !errors.As(err, &arg) {
		t.Errorf("import of no rows: %v", err)
	}
	if n := len(f.forms("SYNO.Core.User", "import")); n != 1 {
		t.Errorf("%d imports sent, want 1", n)
	}
}

// A row's printed and JSON forms never show its password.
func TestImportRowHidesPassword(t *testing.T) {
	r := ImportRow{Name: "rose", Password: "Petal-secret-1", Status: ImportRowOK}
	b, _ := json.Marshal(r)
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), fmt.Sprintf("%v", []ImportRow{r}), string(b)} {
		if strings.Contains(s, "Petal") || !strings.Contains(s, "rose") {
			t.Errorf("printed as %s", s)
		}
	}
}
