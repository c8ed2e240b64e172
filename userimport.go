package dsm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// DSM's own bulk import (Control Panel > User > Create > Import Users):
// SYNO.Core.User parse_user_list uploads a user list and answers a
// preview with a status per row, import starts a task that creates the
// rows sent back from the preview, import_status and import_stop follow
// and end it. The shapes are those of DSM 6.2.3's import dialog
// (admin_center.js of the firmware tree tbc0309/DSM_DS120j_25426); the
// method names and their upload flag are DSM 7's API table (kwent/syno
// definitions/7.x/_full.json).

// importAPI is the API of the import methods.
const importAPI = "SYNO.Core.User"

// MaxImportFileSize bounds the user list PreviewImport uploads. DSM
// publishes no limit: a choice (a list of thousands of users is a few
// hundred KB). The simulator keeps the same bound.
const MaxImportFileSize = 1 << 20

// MaxImportRows bounds the rows of one import. DSM publishes no limit: a
// choice. The simulator keeps the same bound.
const MaxImportRows = 2000

// ImportOptions are the check boxes of DSM's import dialog, sent with the
// upload and again with the import.
type ImportOptions struct {
	// Overwrite replaces existing users of the same name (their rows
	// preview as ImportRowOverwrite instead of ImportRowExists).
	Overwrite bool
	// NewUserMail sends each new user a notification mail.
	NewUserMail bool
	// SendPassword puts the password in that mail.
	SendPassword bool
	// PasswordMustChange makes each user change the password at the
	// first login.
	PasswordMustChange bool
}

func (o ImportOptions) params() Params {
	return Params{
		"overwrite":            o.Overwrite,
		"new_user_mail":        o.NewUserMail,
		"send_password":        o.SendPassword,
		"password_must_change": o.PasswordMustChange,
	}
}

// ImportRowStatus is DSM's verdict on one row of an uploaded user list.
// Only ImportRowOK and ImportRowOverwrite rows are imported; DSM's dialog
// refuses to import while any other row is listed.
type ImportRowStatus int

// The statuses of DSM's import preview (admin_center.js's preview grid).
const (
	ImportRowOK              ImportRowStatus = 0  // will be created
	ImportRowInvalidName     ImportRowStatus = 1  // the user name is not valid
	ImportRowRepeated        ImportRowStatus = 2  // the name is on an earlier row of the file
	ImportRowExists          ImportRowStatus = 3  // a user of that name exists
	ImportRowReserved        ImportRowStatus = 4  // the name is reserved by DSM
	ImportRowPasswordTooLong ImportRowStatus = 5  // the password is too long
	ImportRowBadDescription  ImportRowStatus = 6  // the description is not valid
	ImportRowBadEmail        ImportRowStatus = 7  // the e-mail address is not valid
	ImportRowBadQuota        ImportRowStatus = 8  // a quota is not valid
	ImportRowTooManyUsers    ImportRowStatus = 9  // beyond the number of accounts DSM allows
	ImportRowOverwrite       ImportRowStatus = 10 // an existing user will be overwritten
)

var importRowMessages = map[ImportRowStatus]string{
	ImportRowOK:              "ok",
	ImportRowInvalidName:     "invalid user name",
	ImportRowRepeated:        "repeated in the file",
	ImportRowExists:          "user exists (overwrite to replace it)",
	ImportRowReserved:        "user name is reserved",
	ImportRowPasswordTooLong: "password too long",
	ImportRowBadDescription:  "invalid description",
	ImportRowBadEmail:        "invalid e-mail address",
	ImportRowBadQuota:        "invalid quota",
	ImportRowTooManyUsers:    "too many users",
	ImportRowOverwrite:       "will be overwritten",
}

// String says what the status means, as DSM's preview grid does.
func (s ImportRowStatus) String() string {
	if m, ok := importRowMessages[s]; ok {
		return m
	}
	return fmt.Sprintf("unknown status %d", int(s))
}

// Importable reports whether DSM imports a row of this status.
func (s ImportRowStatus) Importable() bool { return s == ImportRowOK || s == ImportRowOverwrite }

// ImportRow is one user of DSM's import preview, as DSM read it from the
// file. Its printed and JSON forms hide the password.
type ImportRow struct {
	Name        string
	Password    string
	Description string
	Email       string
	// Groups are the groups of the row's group column. DSM 6.2.3's
	// preview has no such column, DSM 7's file format has one (Synology's
	// "Import Users" help): how DSM 7 shows it is not known, and the
	// client reads a list or a comma-separated string.
	Groups []string
	// Quota is DSM's text of the row's quotas: "volume:MB" pairs
	// separated by commas, empty for none.
	Quota  string
	Status ImportRowStatus
}

// importRowShown is what the printed and JSON forms of an ImportRow show.
type importRowShown struct {
	Name        string          `json:"name"`
	Password    string          `json:"password,omitempty"`
	Description string          `json:"description,omitempty"`
	Email       string          `json:"email,omitempty"`
	Groups      []string        `json:"groups,omitempty"`
	Quota       string          `json:"quota,omitempty"`
	Status      ImportRowStatus `json:"status"`
}

func (r ImportRow) shown() importRowShown {
	s := importRowShown{Name: r.Name, Description: r.Description, Email: r.Email, Groups: r.Groups, Quota: r.Quota, Status: r.Status}
	if r.Password != "" {
		s.Password = "(hidden)"
	}
	return s
}

// Format prints the row with its password hidden, whatever the verb.
func (r ImportRow) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), r.shown())
}

// MarshalJSON writes the row with its password hidden.
func (r ImportRow) MarshalJSON() ([]byte, error) { return json.Marshal(r.shown()) }

// ImportPreview is DSM's reading of an uploaded user list.
type ImportPreview struct {
	// Rows are the users of the file, in its order.
	Rows []ImportRow
	// Total is the number of rows DSM counted.
	Total int
	// Options are the options the preview was made with; Import sends
	// them again.
	Options ImportOptions
}

// Refused returns the rows DSM would not import.
func (p *ImportPreview) Refused() []ImportRow {
	var out []ImportRow
	for _, r := range p.Rows {
		if !r.Status.Importable() {
			out = append(out, r)
		}
	}
	return out
}

// wireImportItem is an item of parse_user_list's answer, read liberally.
type wireImportItem struct {
	Name        flexString      `json:"name"`
	Password    flexString      `json:"password"`
	Description flexString      `json:"description"`
	Email       flexString      `json:"email"`
	Quota       flexString      `json:"quota"`
	Groups      json.RawMessage `json:"groups"`
	Status      flexInt         `json:"status"`
}

// groupsOf reads a groups member: a list of names or one comma-separated
// string; anything else gives no groups.
func groupsOf(raw json.RawMessage) []string {
	var l []string
	if json.Unmarshal(raw, &l) == nil {
		return l
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	for g := range strings.SplitSeq(s, ",") {
		if g = strings.TrimSpace(g); g != "" {
			l = append(l, g)
		}
	}
	return l
}

// PreviewImport uploads a user list in DSM's import format and returns
// DSM's preview of it: each row with its status. Nothing changes on the
// NAS. The format (Synology's "Import Users" help): one user a line, in
// UTF-8, fields separated by tabs, commas or semicolons: name, password,
// description, e-mail, groups (several in double quotes, separated by
// commas), then quotas in MB per volume.
//
// The list travels as it is: over plain http its passwords are in clear,
// as they are from DSM's own dialog. Use https.
//
// A file DSM cannot read is an *APIError matching ErrImportSyntax (with
// InvalidField), ErrImportUnreadable, ErrImportEmpty, ErrImportNotUTF8 or
// ErrImportNoVolume.
//
// DSM: SYNO.Core.User parse_user_list (a multipart upload).
func (s *UsersService) PreviewImport(ctx context.Context, filename string, content []byte, opts ImportOptions) (*ImportPreview, error) {
	op := "preview import"
	if len(content) == 0 {
		return nil, argErrorf(op, "the user list %s is empty", filename)
	}
	if len(content) > MaxImportFileSize {
		return nil, argErrorf(op, "the user list %s has %d bytes, more than DSM's import takes here (%d): split it", filename, len(content), MaxImportFileSize)
	}
	if !utf8.Valid(content) {
		return nil, argErrorf(op, "the user list %s is not UTF-8: save it as UTF-8 and try again", filename)
	}
	if filename == "" || strings.ContainsAny(filename, "\"\r\n") {
		filename = "users.txt"
	}
	var d struct {
		Items []wireImportItem `json:"items"`
		Total flexInt          `json:"total"`
	}
	r := newRead(importAPI, "parse_user_list", opts.params(), &d)
	r.upload = &upload{field: "filename", filename: filename, content: content}
	if err := s.c.do(ctx, r); err != nil {
		return nil, err
	}
	p := &ImportPreview{Total: int(d.Total), Options: opts}
	for _, it := range d.Items {
		p.Rows = append(p.Rows, ImportRow{
			Name: string(it.Name), Password: string(it.Password), Description: string(it.Description),
			Email: string(it.Email), Quota: string(it.Quota), Groups: groupsOf(it.Groups), Status: ImportRowStatus(it.Status),
		})
	}
	if p.Total == 0 {
		p.Total = len(p.Rows)
	}
	return p, nil
}

// wireImportUser is a row of import's users parameter (admin_center.js:
// the preview's rows with overwrite). groups is sent where the row has
// some: DSM 7's format has the column; its name in the call is a guess.
type wireImportUser struct {
	Name        string   `json:"name"`
	Password    string   `json:"password"`
	Description string   `json:"description"`
	Email       string   `json:"email"`
	Quota       string   `json:"quota"`
	Groups      []string `json:"groups,omitempty"`
	Overwrite   bool     `json:"overwrite"`
}

// Import starts DSM's import of the preview's rows, which must all be
// importable (DSM's dialog imports nothing while a row is refused), and
// returns its task. Wait on the task for the users to exist.
//
// The rows, passwords included, travel in the encryption envelope over
// plain http, and in the body over https.
//
// DSM: SYNO.Core.User import.
func (s *UsersService) Import(ctx context.Context, p *ImportPreview) (*ImportTask, error) {
	op := "import"
	if p == nil || len(p.Rows) == 0 {
		return nil, argErrorf(op, "the preview has no rows")
	}
	if len(p.Rows) > MaxImportRows {
		return nil, argErrorf(op, "%d rows, more than %d: split the list", len(p.Rows), MaxImportRows)
	}
	users := make([]wireImportUser, 0, len(p.Rows))
	for i, r := range p.Rows {
		if !r.Status.Importable() {
			return nil, argErrorf(op, "row %d (%s): %s: fix the file and preview it again", i+1, r.Name, r.Status)
		}
		users = append(users, wireImportUser{
			Name: r.Name, Password: r.Password, Description: r.Description, Email: r.Email,
			Quota: r.Quota, Groups: r.Groups, Overwrite: r.Status == ImportRowOverwrite,
		})
	}
	params := p.Options.params()
	delete(params, "overwrite")
	var d struct {
		TaskID flexString `json:"task_id"`
	}
	// Not safe to repeat, and no way to tell whether a lost answer
	// started a task: it is sent again only when it was not sent.
	r := newCheckedChange(importAPI, "import", params, &d, nil).withSecret(Params{"users": users})
	if err := s.c.do(ctx, r); err != nil {
		return nil, err
	}
	if d.TaskID == "" {
		return nil, &MalformedError{API: importAPI, Method: "import", Reason: "no task_id"}
	}
	return &ImportTask{ID: string(d.TaskID), Rows: len(users), s: s}, nil
}

// ImportTask is an import started by Import.
type ImportTask struct {
	// ID is DSM's task id.
	ID string
	// Rows is how many users the import creates or overwrites.
	Rows int

	s *UsersService
}

// ImportTask returns a handle on an import started earlier, from its id.
func (s *UsersService) ImportTask(id string) (*ImportTask, error) {
	if strings.TrimSpace(id) == "" {
		return nil, argErrorf("import task", "the task id is empty")
	}
	return &ImportTask{ID: id, s: s}, nil
}

// ImportStatus is how far an import is.
type ImportStatus struct {
	// Finished is true once DSM has imported every row.
	Finished bool
	// Progress of Total rows, when DSM says (DSM's dialog reads only
	// finished; 0 when not given).
	Progress, Total int
}

// Status asks DSM how far the import is. An import that failed is an
// *APIError matching ErrUserSetupFailed (3116) or ErrQuotaTooLarge
// (3117): DSM's dialog stops polling on those two (admin_center.js).
//
// DSM: SYNO.Core.User import_status.
func (t *ImportTask) Status(ctx context.Context) (ImportStatus, error) {
	var d struct {
		Finished *flexBool `json:"finished"`
		Finish   flexBool  `json:"finish"`
		Progress flexInt   `json:"progress"`
		Total    flexInt   `json:"total"`
	}
	if err := t.s.c.do(ctx, newRead(importAPI, "import_status", Params{"task_id": t.ID}, &d)); err != nil {
		return ImportStatus{}, err
	}
	st := ImportStatus{Finished: bool(d.Finish), Progress: int(d.Progress), Total: int(d.Total)}
	if d.Finished != nil {
		st.Finished = bool(*d.Finished)
	}
	return st, nil
}

// Stop ends the task: DSM's dialog calls it once the import finished. On
// a running import it stops what is not yet done.
//
// DSM: SYNO.Core.User import_stop.
func (t *ImportTask) Stop(ctx context.Context) error {
	return t.s.c.do(ctx, newSafeChange(importAPI, "import_stop", Params{"task_id": t.ID}, nil))
}

// Wait polls the import until it finishes, fails or ctx ends, then stops
// it as DSM's dialog does.
//
// DSM: SYNO.Core.User import_status, then import_stop.
func (t *ImportTask) Wait(ctx context.Context) (ImportStatus, error) {
	return t.WaitProgress(ctx, nil)
}

// WaitProgress is Wait that calls progress, when not nil, with each
// status DSM reports, the finished one included.
//
// DSM: SYNO.Core.User import_status, then import_stop.
func (t *ImportTask) WaitProgress(ctx context.Context, progress func(ImportStatus)) (ImportStatus, error) {
	st, err := pollTask(ctx, t.s.c, t.Status, func(st ImportStatus) bool { return st.Finished }, progress)
	if err != nil {
		return st, err
	}
	if err := t.Stop(ctx); err != nil {
		return st, fmt.Errorf("dsm: the import finished, but ending its task failed: %w", err)
	}
	return st, nil
}

// upload is the file of a multipart request.
type upload struct {
	field, filename string
	content         []byte
}

// encode writes form and the file as multipart/form-data: api, version
// and method first, the other parameters sorted, the file last, as
// Synology's File Station API guide asks of an upload ("the file
// content must be the last part").
func (u *upload) encode(form url.Values) (io.Reader, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	keys := []string{"api", "version", "method"}
	for k := range form {
		if !slices.Contains(keys[:3], k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys[3:])
	for _, k := range keys {
		for _, v := range form[k] {
			if err := w.WriteField(k, v); err != nil {
				return nil, "", err
			}
		}
	}
	part, err := w.CreateFormFile(u.field, u.filename)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(u.content); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return &b, w.FormDataContentType(), nil
}

// InvalidField returns the field DSM names in a refusal of an import file
// for its syntax (3130-3132: error.errors.invalid_field, which DSM's
// dialog puts in its message), or "". It is text of the file, which may
// be a password: Error does not show it.
func (e *APIError) InvalidField() string {
	if len(e.Details) == 0 || !errors.Is(e, ErrImportSyntax) {
		return ""
	}
	var d struct {
		InvalidField flexString `json:"invalid_field"`
	}
	if json.Unmarshal(e.Details, &d) != nil {
		return ""
	}
	return string(d.InvalidField)
}
