package sim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DSM's own bulk import: SYNO.Core.User parse_user_list (a multipart
// upload of the user list, answered with a preview), import (a task),
// import_status and import_stop. The calls, their parameters, the row
// statuses and the codes are those of DSM 6.2.3's import dialog
// (usr/syno/synoman/webman/modules/AdminCenter/admin_center.js of the
// firmware tree tbc0309/DSM_DS120j_25426); the file format is Synology's
// "Import Users" help (one user a line, UTF-8, tab, comma or semicolon
// between fields: name, password, description, e-mail, groups, then a
// quota in MB per volume). Where those say nothing, what is done here is
// a choice, and says so.

// The codes of the import (admin_center.js's upload and polling).
const (
	codeUserSetupFailed  = 3116 // a row could not be applied (import_status)
	codeImportUnclosed   = 3130 // a quoted field is not closed on its line (which code is which: a choice)
	codeImportAfterQuote = 3131 // text after the closing quote of a field (a choice)
	codeImportStrayQuote = 3132 // a double quote inside an unquoted field (a choice)
	codeImportOpenFailed = 3191 // no file, or one beyond the bounds (a choice)
	codeImportEmpty      = 3192 // no user in the file
	codeImportNotUTF8    = 3193 // the file is not UTF-8
	// 3194 (no volume) is never answered: the simulator has volumes.

	// codeImportBusy refuses an import beyond maxImportTasks unfinished
	// ones: "system busy", which a client may retry (a choice).
	codeImportBusy = 117
)

// The row statuses of the preview (admin_center.js's preview grid).
const (
	rowOK              = 0
	rowInvalidUser     = 1
	rowRepeated        = 2
	rowExists          = 3
	rowReserved        = 4
	rowPasswordTooLong = 5
	rowBadDescription  = 6
	rowBadEmail        = 7
	rowBadQuota        = 8
	rowTooManyUsers    = 9
	rowOverwrite       = 10
)

// importItem is one row of parse_user_list's items and of import's
// users (admin_center.js: name, password, description, email, quota,
// status; import adds overwrite). groups is the DSM 7 file's group
// column: DSM 6.2.3's grid has none, and its name and form (a list) here
// are a guess.
type importItem struct {
	Name        string   `json:"name"`
	Password    string   `json:"password"`
	Description string   `json:"description"`
	Email       string   `json:"email"`
	Quota       string   `json:"quota"`
	Groups      []string `json:"groups"`
	Status      *int     `json:"status,omitempty"`
	Overwrite   bool     `json:"overwrite,omitempty"`
}

// importFile is the uploaded user list of a parse_user_list call: the
// "filename" part of the multipart form (admin_center.js's upload form).
// A missing part, or one beyond maxImportFileBytes, is 3191 (a choice:
// DSM's "file open failed").
func (q *request) importFile() ([]byte, error) {
	mf := q.r.MultipartForm
	if mf == nil || len(mf.File["filename"]) != 1 {
		return nil, fail(codeImportOpenFailed)
	}
	fh := mf.File["filename"][0]
	if fh.Size > maxImportFileBytes {
		return nil, fail(codeImportOpenFailed)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fail(codeImportOpenFailed)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxImportFileBytes+1))
	if err != nil || len(b) > maxImportFileBytes {
		return nil, fail(codeImportOpenFailed)
	}
	return b, nil
}

// importSyntaxError is a 3130-3132 with the offending field in
// errors.invalid_field, as DSM's dialog reads it.
func importSyntaxError(code int, field string) error {
	return &apiError{code: code, details: map[string]string{"invalid_field": field}}
}

// importDelimiter is the field separator of a user list: the first of
// tab, semicolon and comma found outside double quotes on its first
// line, comma when there is none (a name alone). DSM's help lists the
// three without saying how DSM tells them apart: a choice.
func importDelimiter(line string) byte {
	quoted := false
	found := map[byte]bool{}
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '\t' || c == ';' || c == ','):
			found[c] = true
		}
	}
	for _, d := range []byte{'\t', ';', ','} {
		if found[d] {
			return d
		}
	}
	return ','
}

// splitImportLine cuts one line into its fields. Spaces around a field
// are dropped: Synology's help writes its example with a space after
// each comma (a report of DSM refusing stray spaces, mobile01 topic
// 2282955, is older and not followed). A field that starts with a double
// quote runs to the next lone quote; "" inside it is one quote (as in
// RFC 4180; a choice). Fields do not span lines: one user a line.
func splitImportLine(line string, delim byte) ([]string, error) {
	var fields []string
	i := 0
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i < len(line) && line[i] == '"' {
			start := i
			var b strings.Builder
			i++
			closed := false
			for i < len(line) {
				if line[i] == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					closed = true
					i++
					break
				}
				b.WriteByte(line[i])
				i++
			}
			if !closed {
				return nil, importSyntaxError(codeImportUnclosed, line[start:])
			}
			for i < len(line) && line[i] == ' ' {
				i++
			}
			if i < len(line) && line[i] != delim {
				end := strings.IndexByte(line[i:], delim)
				if end < 0 {
					end = len(line) - i
				}
				return nil, importSyntaxError(codeImportAfterQuote, line[start:i+end])
			}
			fields = append(fields, b.String())
		} else {
			end := strings.IndexByte(line[i:], delim)
			if end < 0 {
				end = len(line) - i
			}
			f := strings.TrimRight(line[i:i+end], " ")
			if strings.Contains(f, `"`) {
				return nil, importSyntaxError(codeImportStrayQuote, f)
			}
			fields = append(fields, f)
			i += end
		}
		if i >= len(line) {
			return fields, nil
		}
		i++ // the delimiter
	}
}

// parseImportFile reads a user list into its rows (statuses not yet
// set): 3193 when it is not UTF-8, 3192 when it has no user, 3191 beyond
// maxImportRows, 3130-3132 for the quoting. A UTF-8 byte order mark and
// blank lines are skipped, and a line may end in CR LF (choices).
func parseImportFile(content []byte) ([]importItem, error) {
	if !utf8.Valid(content) {
		return nil, fail(codeImportNotUTF8)
	}
	content = bytes.TrimPrefix(content, []byte("\uFEFF"))
	var rows []importItem
	delim := byte(0)
	for line := range strings.SplitSeq(string(content), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if delim == 0 {
			delim = importDelimiter(line)
		}
		fields, err := splitImportLine(line, delim)
		if err != nil {
			return nil, err
		}
		if len(rows) == maxImportRows {
			return nil, fail(codeImportOpenFailed)
		}
		rows = append(rows, rowOf(fields))
	}
	if len(rows) == 0 {
		return nil, fail(codeImportEmpty)
	}
	return rows, nil
}

// rowOf maps the fields of a line to a row. The quota columns become
// DSM's "<volume>:<MB>" list, volume by volume in order (volume1 for
// the sixth field); an empty one is no quota. A quota that is not a
// whole number, one for a volume the NAS does not have, or one for a
// Btrfs volume (whose quotas are per shared folder: Synology's help
// says import cannot set them) is kept as "!" for rowStatus to refuse.
func rowOf(fields []string) importItem {
	get := func(i int) string {
		if i < len(fields) {
			return fields[i]
		}
		return ""
	}
	it := importItem{Name: get(0), Password: get(1), Description: get(2), Email: get(3), Groups: []string{}}
	for g := range strings.SplitSeq(get(4), ",") {
		if g = strings.TrimSpace(g); g != "" {
			it.Groups = append(it.Groups, g)
		}
	}
	var quotas []string
	for i := 5; i < len(fields); i++ {
		f := fields[i]
		if f == "" {
			continue
		}
		if i-5 >= len(volumes) || volumes[i-5].shareQuotas() {
			quotas = append(quotas, "!")
			continue
		}
		quotas = append(quotas, strings.TrimPrefix(volumes[i-5].path, "/")+":"+f)
	}
	it.Quota = strings.Join(quotas, ",")
	return it
}

// parsedQuota is one "<volume>:<MB>" of a row's quota.
type parsedQuota struct {
	volume *volume
	mb     int64
}

// parseImportQuota reads a row's quota text; ok is false for anything
// but "<volume>:<MB>" pairs on volumes with per-volume quotas, MB from 0
// to the quota bound.
func parseImportQuota(s string) (qs []parsedQuota, ok bool) {
	if s == "" {
		return nil, true
	}
	for pair := range strings.SplitSeq(s, ",") {
		name, mb, found := strings.Cut(strings.TrimSpace(pair), ":")
		v := volumeByPath("/" + name)
		n, err := strconv.ParseInt(mb, 10, 64)
		if !found || v == nil || v.shareQuotas() || err != nil || n < 0 || n > maxQuotaBytes/mib {
			return nil, false
		}
		qs = append(qs, parsedQuota{v, n})
	}
	return qs, true
}

// rowStatus is the preview's verdict on a row, in this order (DSM's is
// not known: a choice): the name (1), a reserved name (4), an earlier
// row of the same name (2), an existing user (3, or 10 with overwrite),
// the password (5: over 127 characters), the description (6), the
// e-mail (7), the quota (8), and the number of accounts (9). A group
// name that no group could have, or a reserved one of no existing group,
// makes the row invalid (1): DSM 6.2.3's statuses have none for groups
// (a choice).
func (s *Server) rowStatus(it importItem, seen map[string]bool, overwrite bool, added *int) int {
	if !validName(it.Name, maxUserNameLen, userNameForbidden) {
		return rowInvalidUser
	}
	for _, g := range it.Groups {
		if !validName(g, maxGroupNameLen, groupNameForbidden) || s.st.groupByName(g) == nil && reserved(reservedGroupNames, g) {
			return rowInvalidUser
		}
	}
	if reserved(reservedUserNames, it.Name) || undeletableUser(it.Name) {
		return rowReserved
	}
	if seen[fold(it.Name)] {
		return rowRepeated
	}
	seen[fold(it.Name)] = true
	exists := s.st.userByName(it.Name) != nil
	if exists && !overwrite {
		return rowExists
	}
	switch {
	case utf8.RuneCountInString(it.Password) > maxPasswordLen:
		return rowPasswordTooLong
	case !validDescription(it.Description):
		return rowBadDescription
	case !validEmail(it.Email):
		return rowBadEmail
	}
	if _, ok := parseImportQuota(it.Quota); !ok {
		return rowBadQuota
	}
	if exists {
		return rowOverwrite
	}
	if len(s.st.users)+*added >= maxUsers {
		return rowTooManyUsers
	}
	*added++
	return rowOK
}

// userParseList answers SYNO.Core.User parse_user_list (multipart:
// overwrite, new_user_mail, send_password, password_must_change, and the
// file in "filename") -> {items, total}: every row with its status, the
// password as the file has it (DSM's dialog sends the rows back to
// import). Nothing changes. A refused quota shows as "" in its row.
func (s *Server) userParseList(q *request) (any, error) {
	overwrite, err := q.boolean("overwrite", false, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"new_user_mail", "send_password", "password_must_change"} {
		if _, err := q.boolean(name, false, codeInvalidParameter); err != nil {
			return nil, err
		}
	}
	content, err := q.importFile()
	if err != nil {
		return nil, err
	}
	rows, err := parseImportFile(content)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	added := 0
	for i := range rows {
		st := s.rowStatus(rows[i], seen, overwrite, &added)
		rows[i].Status = &st
		if st == rowBadQuota {
			rows[i].Quota = ""
		}
	}
	return map[string]any{"items": rows, "total": len(rows)}, nil
}

// importTask is a running or finished import. Import tasks live in
// memory only: a restarted simulator has none (a choice).
type importTask struct {
	id         string
	rows       []importItem
	mustChange bool
	queued     time.Time
	due        time.Time
	applied    int
	code       int // the failure, 0 for none
}

func (t *importTask) done() bool { return t.code != 0 || t.applied == len(t.rows) }

// userImport answers SYNO.Core.User import (users: a JSON list of rows
// as the preview gave them, with overwrite; new_user_mail,
// send_password, password_must_change) -> {task_id}. The rows are
// applied one after another over the join delay (Config.JoinDelay: the
// same knob as the group task's, a choice), each checked again when it
// is applied. users that is not a list of 1 to maxImportRows rows with
// names is 120; more than maxImportTasks unfinished imports is 117.
func (s *Server) userImport(q *request) (any, error) {
	if !q.has("users") {
		return nil, fail(codeMissingParameters)
	}
	var rows []importItem
	if err := json.Unmarshal([]byte(q.params.Get("users")), &rows); err != nil || len(rows) == 0 || len(rows) > maxImportRows {
		return nil, fail(codeInvalidParameter)
	}
	for _, r := range rows {
		if r.Name == "" || len(r.Groups) > maxGroups {
			return nil, fail(codeInvalidParameter)
		}
	}
	mustChange, err := q.boolean("password_must_change", false, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"new_user_mail", "send_password"} {
		if _, err := q.boolean(name, false, codeInvalidParameter); err != nil {
			return nil, err
		}
	}
	kept := s.imports[:0]
	for _, t := range s.imports {
		if !t.done() || len(s.imports) < maxImportTasks {
			kept = append(kept, t)
		}
	}
	clear(s.imports[len(kept):])
	s.imports = kept
	if len(s.imports) >= maxImportTasks {
		return nil, fail(codeImportBusy)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	t := &importTask{
		id:         "@administrators/userimport" + strconv.FormatInt(q.now.Unix(), 10) + strings.ToUpper(hex.EncodeToString(suffix)),
		rows:       rows,
		mustChange: mustChange,
		queued:     q.now,
		due:        q.now.Add(s.joinDelay),
	}
	s.imports = append(s.imports, t)
	return map[string]string{"task_id": t.id}, nil
}

// settleImports applies the rows of each import that are due at now:
// row i of n at queued + delay*(i+1)/n. Call with s.mu held.
func (s *Server) settleImports(now time.Time) {
	for _, t := range s.imports {
		n := len(t.rows)
		for !t.done() {
			at := t.queued.Add(time.Duration(int64(t.due.Sub(t.queued)) * int64(t.applied+1) / int64(n)))
			if now.Before(at) {
				break
			}
			t.code = s.applyImportRow(now, t.rows[t.applied], t.mustChange)
			if t.code == 0 {
				t.applied++
			}
			s.dirty = true
		}
	}
}

// applyImportRow creates or overwrites the user of a row, with its
// groups and quotas, or answers the code the import fails with: 3117 for
// a quota beyond its volume's size (admin_center.js's polling), 3116 for
// anything else (an existing user without overwrite, a name or a
// password DSM refuses, too many users or groups; a choice for which
// code, as DSM's dialog only names the two). Everything is checked
// before anything changes. Groups that do not exist are created (a
// choice: DSM's help does not say); the user joins the row's groups and
// leaves none; an overwritten user keeps what the row leaves empty (a
// choice). The rows applied before a failure stay (a choice).
func (s *Server) applyImportRow(now time.Time, it importItem, mustChange bool) int {
	seen := map[string]bool{}
	added := 0
	st := s.rowStatus(it, seen, it.Overwrite, &added)
	if st != rowOK && st != rowOverwrite {
		return codeUserSetupFailed
	}
	quotas, _ := parseImportQuota(it.Quota)
	for _, pq := range quotas {
		if pq.mb*mib > pq.volume.free() {
			return codeQuotaTooLarge
		}
	}
	newGroups := 0
	for _, g := range it.Groups {
		if s.st.groupByName(g) == nil {
			newGroups++
		}
	}
	if len(s.st.groups)+newGroups > maxGroups {
		return codeUserSetupFailed
	}
	u := s.st.userByName(it.Name)
	if err := s.st.policy.checkPassword(it.Name, it.Password, u); err != nil && (u == nil || it.Password != "") {
		return codeUserSetupFailed
	}
	if u == nil {
		u = &user{name: it.Name, passwordPending: s.st.policy.MustChange || mustChange, description: it.Description, email: it.Email}
		u.setPassword(it.Password, day(now))
		s.st.addUser(u, 0)
	} else {
		if it.Description != "" {
			u.description = it.Description
		}
		if it.Email != "" {
			u.email = it.Email
		}
		if it.Password != "" {
			u.setPassword(it.Password, day(now))
		}
		u.passwordPending = u.passwordPending || mustChange
	}
	for _, name := range it.Groups {
		g := s.st.groupByName(name)
		if g == nil {
			g = s.st.addGroup(name, "")
		}
		g.members[u.uid] = true
	}
	for _, pq := range quotas {
		p := s.st.profiles.edit(userOwner(u))
		if pq.mb == 0 {
			delete(p.quotas, volumeTarget(pq.volume))
		} else {
			p.quotas[volumeTarget(pq.volume)] = pq.mb * mib
		}
	}
	return 0
}

// importByID finds an import task: 120 for an unknown id, 114 without
// one (as join_status).
func (s *Server) importByID(q *request) (*importTask, int, error) {
	if !q.has("task_id") {
		return nil, 0, fail(codeMissingParameters)
	}
	id := q.str("task_id")
	for i, t := range s.imports {
		if t.id == id {
			return t, i, nil
		}
	}
	return nil, 0, fail(codeInvalidParameter)
}

// userImportStatus answers SYNO.Core.User import_status (task_id) ->
// {finished, progress, total}. DSM's dialog reads only finished
// (admin_center.js), and no other member is known: progress and total, the rows applied and
// all rows, are a choice. A failed import answers its code (3116 or
// 3117) until it is stopped, as DSM's dialog stops polling on either.
func (s *Server) userImportStatus(q *request) (any, error) {
	t, _, err := s.importByID(q)
	if err != nil {
		return nil, err
	}
	if t.code != 0 {
		return nil, fail(t.code)
	}
	return map[string]any{"finished": t.done(), "progress": t.applied, "total": len(t.rows)}, nil
}

// userImportStop answers SYNO.Core.User import_stop (task_id) -> {}: the
// task is forgotten, and the rows of a running import not yet applied
// never are (a choice: DSM's dialog calls it only once finished).
func (s *Server) userImportStop(q *request) (any, error) {
	_, i, err := s.importByID(q)
	if err != nil {
		return nil, err
	}
	s.imports = append(s.imports[:i], s.imports[i+1:]...)
	return struct{}{}, nil
}
