package manifest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dsmkit/dsm"
)

// csvColumns are the columns LoadCSV knows; name is required.
var csvColumns = []string{"name", "password", "description", "email", "groups"}

// LoadCSV reads users from CSV with a header row naming its columns among
// name, password, description, email and groups (name is required; the
// groups of a user are separated by commas, in one quoted cell). An empty
// cell leaves that field alone on an existing user; an empty password
// makes Apply generate one for a new user. name is used in messages.
func LoadCSV(name string, r io.Reader) (*File, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	probs := &problems{file: name}
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			probs.add(1, "", "the file is empty; want a header row: %s", strings.Join(csvColumns, ","))
		} else {
			probs.add(1, "", "%v", err)
		}
		return nil, probs.err()
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(csvColumns, h) {
			probs.add(1, "", "unknown column %q; known: %s", h, strings.Join(csvColumns, ", "))
			continue
		}
		if _, dup := index[h]; dup {
			probs.add(1, "", "column %s is given twice", h)
		}
		index[h] = i
	}
	if _, ok := index["name"]; !ok {
		probs.add(1, "", "no name column; the header row names the columns: %s", strings.Join(csvColumns, ","))
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	cell := func(rec []string, col string) (string, bool) {
		i, ok := index[col]
		if !ok || i >= len(rec) {
			return "", false
		}
		return rec[i], true
	}
	return readRecords(name, cr, probs, func(rec []string) row {
		var rw row
		rw.name, _ = cell(rec, "name")
		rw.password, _ = cell(rec, "password")
		rw.description, _ = cell(rec, "description")
		rw.email, _ = cell(rec, "email")
		rw.groups, _ = cell(rec, "groups")
		return rw
	})
}

// LoadUserList reads DSM's own user list, the text file of Control Panel
// > User > Create > Import Users: one user a line, fields separated by
// tabs: user name, password, description, email, groups (comma separated,
// in quotes when there are several), then a quota in MB per volume. All
// fields but the name may be empty or missing. Quotas are not managed
// here and are ignored; a fifth field of digits alone is taken as a quota
// (the lists of DSM before 6 had no groups field). name is used in
// messages.
func LoadUserList(name string, r io.Reader) (*File, error) {
	cr := csv.NewReader(r)
	cr.Comma = '\t'
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	probs := &problems{file: name}
	return readRecords(name, cr, probs, func(rec []string) row {
		get := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rw := row{name: get(0), password: rec0(rec, 1), description: get(2), email: get(3), groups: get(4)}
		if strings.Trim(rw.groups, "0123456789") == "" {
			rw.groups = ""
		}
		return rw
	})
}

// rec0 returns field i as is (a password keeps its spaces).
func rec0(rec []string, i int) string {
	if i < len(rec) {
		return rec[i]
	}
	return ""
}

// row is one user of an import.
type row struct {
	name, password, description, email, groups string
}

func readRecords(name string, cr *csv.Reader, probs *problems, parse func([]string) row) (*File, error) {
	f := &File{Name: name}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				probs.add(pe.Line, "", "%v", pe.Err)
				continue
			}
			probs.add(0, "", "%v", err)
			break
		}
		line, _ := cr.FieldPos(0)
		if i := slices.IndexFunc(rec, func(f string) bool { return !utf8.ValidString(f) }); i >= 0 {
			probs.add(line, "", "field %d is not UTF-8 text; save the file as UTF-8", i+1)
			continue
		}
		if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
			continue
		}
		rw := parse(rec)
		u := User{Name: strings.TrimSpace(rw.name), Line: line, lines: map[string]int{}}
		bad := func(format string, args ...any) { probs.add(line, "", "user "+u.Name+": "+format, args...) }
		if err := dsm.ValidateUserName(u.Name); err != nil {
			probs.add(line, "", "%v", err)
			continue
		}
		if first, dup := seen[fold(u.Name)]; dup {
			bad("already on line %d", first)
			continue
		}
		seen[fold(u.Name)] = line
		if rw.description != "" {
			if err := dsm.ValidateDescription(rw.description); err != nil {
				bad("%v", err)
			}
			u.Description = dsm.Ptr(rw.description)
		}
		if rw.email != "" {
			if err := dsm.ValidateEmail(rw.email); err != nil {
				bad("%v", err)
			}
			u.Email = dsm.Ptr(rw.email)
		}
		if g := strings.Trim(strings.TrimSpace(rw.groups), `"`); g != "" {
			u.Groups = []string{}
			for _, part := range strings.Split(g, ",") {
				part = strings.TrimSpace(part)
				if part == "" || fold(part) == fold(dsm.GroupUsers) || slices.ContainsFunc(u.Groups, func(x string) bool { return fold(x) == fold(part) }) {
					continue
				}
				if err := dsm.ValidateGroupName(part); err != nil {
					bad("%v", err)
					continue
				}
				u.Groups = append(u.Groups, part)
			}
		}
		if rw.password == "" {
			u.Password = &PasswordSource{Generate: true, Line: line}
		} else {
			u.Password = &PasswordSource{Value: rw.password, Line: line}
		}
		f.Users = append(f.Users, u)
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	if len(f.Users) == 0 {
		return nil, &ValidationError{File: name, Problems: []Problem{{Message: "no users in the file"}}}
	}
	return f, nil
}

// String is for fmt: a File summary.
func (f *File) String() string {
	return fmt.Sprintf("%s: %d users, %d groups", f.Name, len(f.Users), len(f.Groups))
}
