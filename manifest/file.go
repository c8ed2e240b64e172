package manifest

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dsmkit/dsm"
)

// File is a users-as-code file: the users, groups and policies a NAS
// should have.
type File struct {
	// Name is where the file came from, for messages ("users.yaml").
	Name string
	// Users are the users the file describes, in file order.
	Users []User
	// Groups are the groups the file describes, in file order.
	Groups []Group
	// PasswordPolicy and PasswordExpiry hold the settings the file gives
	// (see Settings); keys it does not give are left alone.
	PasswordPolicy *Settings
	PasswordExpiry *Settings
	// NeverExpire names users whose password never expires
	// (password_expiry.never_expire).
	NeverExpire []string
	// Security is the security section, nil when the file has none.
	Security *Security
	// SecretsFile is the file that from_file passwords are read from
	// (secrets_file), relative to the file's directory.
	SecretsFile string
	// HomeService is the home service the NAS should have, nil when the
	// file does not manage it (see onboard.go).
	HomeService *HomeService
	// Shares are shared folders that must exist.
	Shares []ShareSpec

	neverExpireLine int
}

// User is a user as the file describes it. Nil fields are not managed:
// the NAS keeps whatever it has.
type User struct {
	Name        string
	Description *string
	Email       *string
	// Groups are all the groups the user belongs to besides "users"; nil
	// leaves the user's groups alone, an empty list takes the user out of
	// every other group.
	Groups               []string
	Expiry               *dsm.Expiry
	PasswordNeverExpires *bool
	CannotChangePassword *bool
	// Password says where a new user's first password comes from.
	Password *PasswordSource
	// Line is the line of the user in the file (0 when unknown).
	Line int
	// Profile holds the user's rights, quotas, application rules and
	// speed limits; nil when the file gives none.
	Profile *Profile

	lines map[string]int // line of each key
}

// line returns the line of the user's key, or of the user.
func (u *User) line(key string) int {
	if l := u.lines[key]; l > 0 {
		return l
	}
	return u.Line
}

// PasswordSource says where a password comes from: exactly one field is
// set.
type PasswordSource struct {
	// FromEnv names an environment variable that holds the password.
	FromEnv string
	// FromFile is a key of the secrets file (File.SecretsFile).
	FromFile string
	// Generate makes up a strong password that fits the password policy.
	Generate bool
	// Value is the password itself: only imports (CSV, DSM user lists)
	// set it; a YAML or JSON file cannot.
	Value string
	// Line is where the source is in the file.
	Line int
}

// String describes the source without revealing a password.
func (p *PasswordSource) String() string {
	switch {
	case p == nil:
		return "none"
	case p.FromEnv != "":
		return "from $" + p.FromEnv
	case p.FromFile != "":
		return "from the secrets file (" + p.FromFile + ")"
	case p.Generate:
		return "generated"
	}
	return "from the import file"
}

// Group is a group as the file describes it.
type Group struct {
	Name string
	// Description is nil when the file does not give one.
	Description *string
	Line        int
	// Profile holds the group's rights, quotas, application rules and
	// speed limits; nil when the file gives none.
	Profile *Profile
}

// Problem is one thing wrong with a file.
type Problem struct {
	// Line is the line in the file, 0 when the problem has none.
	Line int `json:"line,omitempty"`
	// Path locates the value, such as users[3].email.
	Path string `json:"path,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// ValidationError lists every problem of a file; nothing was changed.
type ValidationError struct {
	// File is File.Name.
	File     string
	Problems []Problem
}

// Error returns one problem per line, as file:line: path: message.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem", e.File, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString(", nothing changed")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// problems collects the problems of one file.
type problems struct {
	file string
	list []Problem
}

func (p *problems) add(line int, path, format string, args ...any) {
	p.list = append(p.list, Problem{Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b Problem) int { return a.Line - b.Line })
	return &ValidationError{File: p.file, Problems: p.list}
}

// Load reads a YAML or JSON file (the same schema; JSON is recognised by
// its opening brace).
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a file's contents; name is used in messages. The result is
// checked for everything that does not need the NAS: a *ValidationError
// lists every problem.
func Parse(name string, data []byte) (*File, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		// JSON: a tab is never inside a JSON string (it must be
		// escaped there), so spaces for tabs keep the meaning and suit
		// the YAML parser, which keeps the line numbers.
		data = bytes.ReplaceAll(data, []byte("\t"), []byte(" "))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ValidationError{File: name, Problems: []Problem{{Message: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	p := &parser{problems: problems{file: name}}
	f := &File{Name: name}
	if len(doc.Content) == 0 {
		p.add(1, "", "the file is empty; want users, groups, password_policy, password_expiry, security, home_service or shares")
		return nil, p.err()
	}
	p.file(doc.Content[0], f)
	if err := p.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// parser turns a YAML node tree into a File, collecting problems.
type parser struct {
	problems
}

// kindName names what a node holds, for "want X, got Y".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "nothing (null)"
	case "!!timestamp":
		return "the date " + n.Value
	}
	return n.Value
}

// fields checks that n is a mapping with only keys of known, and calls
// each key's function with its value.
func (p *parser) fields(n *yaml.Node, path string, known map[string]func(key, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "want a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.add(k.Line, path, "%s is given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		f, ok := known[k.Value]
		if !ok {
			keys := make([]string, 0, len(known))
			for key := range known {
				keys = append(keys, key)
			}
			slices.Sort(keys)
			p.add(k.Line, path, "unknown key %q; known: %s", k.Value, strings.Join(keys, ", "))
			continue
		}
		f(k, v)
	}
}

func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			hint = fmt.Sprintf(" (quote it: %q)", n.Value)
		}
		p.add(n.Line, path, "want a string, got %s%s", kindName(n), hint)
		return "", false
	}
	return n.Value, true
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.add(n.Line, path, "want true or false, got %s", kindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.add(n.Line, path, "want true or false, got %s", kindName(n))
		return false, false
	}
	return b, true
}

func (p *parser) integer(n *yaml.Node, path string) (int, bool) {
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		p.add(n.Line, path, "want a whole number, got %s", kindName(n))
		return 0, false
	}
	return v, true
}

// names reads a list of names, each checked by check.
func (p *parser) names(n *yaml.Node, path string, check func(string) error) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, path, "want a list of names, got %s", kindName(n))
		return nil, false
	}
	out := []string{}
	seen := map[string]bool{}
	ok := true
	for i, c := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		s, good := p.str(c, ip)
		if !good {
			ok = false
			continue
		}
		if err := check(s); err != nil {
			p.add(c.Line, ip, "%v", err)
			ok = false
			continue
		}
		if seen[fold(s)] {
			p.add(c.Line, ip, "%s is listed twice", s)
			ok = false
			continue
		}
		seen[fold(s)] = true
		out = append(out, s)
	}
	return out, ok
}

func (p *parser) file(n *yaml.Node, f *File) {
	var usersNode, groupsNode *yaml.Node
	p.fields(n, "", map[string]func(k, v *yaml.Node){
		"users":  func(_, v *yaml.Node) { usersNode = v },
		"groups": func(_, v *yaml.Node) { groupsNode = v },
		"password_policy": func(_, v *yaml.Node) {
			f.PasswordPolicy = p.settings(v, "password_policy", policySettings, nil)
		},
		"password_expiry": func(_, v *yaml.Node) {
			f.PasswordExpiry = p.settings(v, "password_expiry", expirySettings, func(v *yaml.Node) {
				f.NeverExpire, _ = p.names(v, "password_expiry.never_expire", dsm.ValidateUserName)
				f.neverExpireLine = v.Line
			})
		},
		"secrets_file": func(_, v *yaml.Node) { f.SecretsFile, _ = p.str(v, "secrets_file") },
		"security":     func(_, v *yaml.Node) { f.Security = p.security(v) },
		"home_service": func(_, v *yaml.Node) { f.HomeService = p.homeService(v) },
		"shares":       func(_, v *yaml.Node) { p.shareSpecs(v, f) },
	})
	if groupsNode != nil {
		p.groups(groupsNode, f)
	}
	if usersNode != nil {
		p.users(usersNode, f)
	}
}

func (p *parser) groups(n *yaml.Node, f *File) {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "groups", "want a list of groups, got %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i, gn := range n.Content {
		path := fmt.Sprintf("groups[%d]", i)
		g := Group{Line: gn.Line}
		named := false
		known := map[string]func(k, v *yaml.Node){
			"name": func(_, v *yaml.Node) {
				s, ok := p.str(v, path+".name")
				if !ok {
					return
				}
				if err := dsm.ValidateGroupName(s); err != nil {
					p.add(v.Line, path+".name", "%v", err)
					return
				}
				g.Name, named = s, true
			},
			"description": func(_, v *yaml.Node) {
				if s, ok := p.str(v, path+".description"); ok {
					if err := dsm.ValidateDescription(s); err != nil {
						p.add(v.Line, path+".description", "%v", err)
					}
					g.Description = &s
				}
			},
		}
		p.onboardKeys(known, path, &g.Profile)
		p.fields(gn, path, known)
		if gn.Kind != yaml.MappingNode {
			continue
		}
		if !named {
			if !hasKey(gn, "name") {
				p.add(gn.Line, path, "a group needs a name")
			}
			continue
		}
		if first, dup := seen[fold(g.Name)]; dup {
			p.add(gn.Line, path, "group %s is already described on line %d", g.Name, first)
			continue
		}
		seen[fold(g.Name)] = gn.Line
		f.Groups = append(f.Groups, g)
	}
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (p *parser) users(n *yaml.Node, f *File) {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "users", "want a list of users, got %s", kindName(n))
		return
	}
	f.Users = make([]User, 0, len(n.Content))
	seen := make(map[string]int, len(n.Content))
	for i, un := range n.Content {
		path := fmt.Sprintf("users[%d]", i)
		u, ok := p.user(un, path)
		if !ok {
			continue
		}
		if first, dup := seen[fold(u.Name)]; dup {
			p.add(un.Line, path, "user %s is already described on line %d", u.Name, first)
			continue
		}
		seen[fold(u.Name)] = un.Line
		f.Users = append(f.Users, u)
	}
}

func (p *parser) user(n *yaml.Node, path string) (User, bool) {
	u := User{Line: n.Line, lines: map[string]int{}}
	named := false
	known := map[string]func(k, v *yaml.Node){
		"name": func(k, v *yaml.Node) {
			s, ok := p.str(v, path+".name")
			if !ok {
				return
			}
			if err := dsm.ValidateUserName(s); err != nil {
				p.add(v.Line, path+".name", "%v", err)
				return
			}
			u.Name, named = s, true
		},
		"description": func(k, v *yaml.Node) {
			u.lines["description"] = v.Line
			if s, ok := p.str(v, path+".description"); ok {
				if err := dsm.ValidateDescription(s); err != nil {
					p.add(v.Line, path+".description", "%v", err)
				}
				u.Description = &s
			}
		},
		"email": func(k, v *yaml.Node) {
			u.lines["email"] = v.Line
			if s, ok := p.str(v, path+".email"); ok {
				if err := dsm.ValidateEmail(s); err != nil {
					p.add(v.Line, path+".email", "%v", err)
				}
				u.Email = &s
			}
		},
		"groups": func(k, v *yaml.Node) {
			u.lines["groups"] = v.Line
			if gs, ok := p.names(v, path+".groups", dsm.ValidateGroupName); ok {
				u.Groups = slices.DeleteFunc(gs, func(g string) bool { return fold(g) == fold(dsm.GroupUsers) })
			}
		},
		"expiry": func(k, v *yaml.Node) {
			u.lines["expiry"] = v.Line
			if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!timestamp") {
				p.add(v.Line, path+".expiry", "want never, disabled or a date YYYY-MM-DD, got %s", kindName(v))
				return
			}
			e, err := parseExpiry(v.Value)
			if err != nil {
				p.add(v.Line, path+".expiry", "%v", err)
				return
			}
			u.Expiry = &e
		},
		"password_never_expires": func(k, v *yaml.Node) {
			u.lines["password_never_expires"] = v.Line
			if b, ok := p.boolean(v, path+".password_never_expires"); ok {
				u.PasswordNeverExpires = &b
			}
		},
		"cannot_change_password": func(k, v *yaml.Node) {
			u.lines["cannot_change_password"] = v.Line
			if b, ok := p.boolean(v, path+".cannot_change_password"); ok {
				u.CannotChangePassword = &b
			}
		},
		"password": func(k, v *yaml.Node) {
			u.lines["password"] = v.Line
			u.Password = p.password(v, path+".password")
		},
	}
	p.onboardKeys(known, path, &u.Profile)
	p.fields(n, path, known)
	if n.Kind != yaml.MappingNode {
		return u, false
	}
	if !named {
		if !hasKey(n, "name") {
			p.add(n.Line, path, "a user needs a name")
		}
		return u, false
	}
	return u, true
}

func (p *parser) password(n *yaml.Node, path string) *PasswordSource {
	src := &PasswordSource{Line: n.Line}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		p.add(n.Line, path, "a password is never written in the file; use {from_env: VAR}, {from_file: KEY} or {generate: true}")
		return nil
	}
	count := 0
	p.fields(n, path, map[string]func(k, v *yaml.Node){
		"from_env": func(_, v *yaml.Node) {
			count++
			if s, ok := p.str(v, path+".from_env"); ok {
				if s == "" || strings.ContainsAny(s, "=\x00") {
					p.add(v.Line, path+".from_env", "%q is not an environment variable name", s)
				}
				src.FromEnv = s
			}
		},
		"from_file": func(_, v *yaml.Node) {
			count++
			if s, ok := p.str(v, path+".from_file"); ok {
				if s == "" {
					p.add(v.Line, path+".from_file", "the key is empty")
				}
				src.FromFile = s
			}
		},
		"generate": func(_, v *yaml.Node) {
			count++
			if b, ok := p.boolean(v, path+".generate"); ok {
				if !b {
					p.add(v.Line, path+".generate", "generate: false says nothing; leave the password out or give from_env or from_file")
				}
				src.Generate = b
			}
		},
	})
	if n.Kind == yaml.MappingNode && count != 1 {
		p.add(n.Line, path, "give exactly one of from_env, from_file and generate")
		return nil
	}
	return src
}

// parseExpiry reads never, disabled or YYYY-MM-DD.
func parseExpiry(s string) (dsm.Expiry, error) {
	switch strings.TrimSpace(s) {
	case "never":
		return dsm.Never, nil
	case "disabled":
		return dsm.Disabled, nil
	}
	d, err := dsm.ParseDate(s)
	if err != nil || strings.Contains(s, "/") {
		return dsm.Expiry{}, fmt.Errorf("%q: want never, disabled or a date YYYY-MM-DD", s)
	}
	return dsm.ExpiresOn(d), nil
}

// fold is the case-insensitive key of a user or group name: DSM compares
// names without regard to case.
func fold(s string) string { return strings.ToLower(s) }
