package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/dsmkit/dsm"
)

// PlanOptions change what Plan does.
type PlanOptions struct {
	// Prune deletes the users and groups the file does not name. The
	// default and system accounts (admin, guest, the names of DSM's
	// username policy), the account Plan runs as and the built-in groups
	// are never deleted.
	Prune bool
	// SetPasswords sets the passwords of existing users too (from_env,
	// from_file and import values; generate only applies to new users).
	// Without it an existing user's password is never touched.
	SetPasswords bool
	// Getenv reads from_env passwords; nil means os.Getenv.
	Getenv func(string) string
	// SecretsFile, when set, replaces the file's secrets_file. It is a
	// YAML or JSON mapping of keys to passwords.
	SecretsFile string
	// Today is the day expiry dates are checked against; zero means
	// today on the local clock.
	Today dsm.Date
	// AllowLockout plans a two_step_enforcement of admins or all even
	// though the account planning has no 2-step verification of its
	// own. Without it that is a problem: the policy covers the account
	// (only an administrator sets it), and DSM refuses to sign in a
	// covered account without 2-step (code 406), so after apply it could
	// not sign in again.
	AllowLockout bool
}

// Action is what a change does to a user or group.
type Action string

// The actions of a plan.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Change is one field that changes, with its old and new values as the
// file writes them.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// SettingsChange changes password_policy or password_expiry.
type SettingsChange struct {
	Section string   `json:"section"`
	Line    int      `json:"line,omitempty"`
	Changes []Change `json:"changes"`
}

// GroupChange creates, changes or deletes a group.
type GroupChange struct {
	Action  Action   `json:"action"`
	Name    string   `json:"name"`
	Line    int      `json:"line,omitempty"`
	Changes []Change `json:"changes,omitempty"`

	description *string
}

// UserChange creates, changes or deletes a user, and changes its groups.
type UserChange struct {
	Action  Action   `json:"action"`
	Name    string   `json:"name"`
	Line    int      `json:"line,omitempty"`
	Changes []Change `json:"changes,omitempty"`
	// Join and Leave are the groups the user joins and leaves.
	Join  []string `json:"join,omitempty"`
	Leave []string `json:"leave,omitempty"`
	// Password says how a password is set ("generated", "from $VAR",
	// ...), empty when none is. The password itself is never shown.
	Password string `json:"password,omitempty"`

	create   *dsm.UserCreateRequest // for ActionCreate, without the password
	update   dsm.UserUpdateRequest  // fields of an update, without the password
	secret   string                 // the password to set, unless generate
	generate bool
	source   *PasswordSource // where the password comes from, nil when none is set
}

// Plan is the list of changes that make a NAS match a file. Apply makes
// them; String shows them as a diff; it marshals to JSON without any
// password.
type Plan struct {
	Settings []SettingsChange `json:"settings"`
	Groups   []GroupChange    `json:"groups"`
	Users    []UserChange     `json:"users"`
	// Home, Shares and Profiles are the changes of the home service, the
	// shared folders to create and the users' and groups' rights,
	// quotas, application rules and speed limits (see onboard.go).
	Home     *HomeChange     `json:"home_service,omitempty"`
	Shares   []ShareChange   `json:"shares,omitempty"`
	Profiles []ProfileChange `json:"profiles,omitempty"`

	file     string
	read     *nas        // the NAS as Plan read it (see Digests)
	settings nasSettings // the settings after the plan
	policy   bool        // the password policy changes
	expiry   bool        // the password expiry changes
	// The security section's changes.
	twoStep, autoBlock, protection bool
	allowAdd, allowRemove          []string
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool {
	return len(p.Settings) == 0 && len(p.Groups) == 0 && len(p.Users) == 0 && p.onboardEmpty()
}

// Counts returns how many users and groups the plan creates, changes and
// deletes; a settings section counts as a change.
func (p *Plan) Counts() (create, update, del int) {
	count := func(a Action) {
		switch a {
		case ActionCreate:
			create++
		case ActionUpdate:
			update++
		case ActionDelete:
			del++
		}
	}
	for _, g := range p.Groups {
		count(g.Action)
	}
	for _, u := range p.Users {
		count(u.Action)
	}
	oc, ou := p.onboardCounts()
	return create + oc, update + ou + len(p.Settings), del
}

// Generated returns how many passwords Apply will generate.
func (p *Plan) Generated() int {
	n := 0
	for _, u := range p.Users {
		if u.generate {
			n++
		}
	}
	return n
}

// nas is what Plan reads from the NAS.
type nas struct {
	users    map[string]dsm.User // by fold(name)
	groups   map[string]dsm.Group
	settings nasSettings
	reserved map[string]bool
	me       string
	onboard  *onboardNAS // shared folders, home service, profiles
	// ownTwoStep is whether the account planning has 2-step
	// verification; nil when it was not read (see readOwnTwoStep).
	ownTwoStep *bool
}

// readNAS reads the NAS; with security, also what the security section
// manages.
func readNAS(ctx context.Context, c *dsm.Client, security bool) (*nas, error) {
	n := &nas{users: map[string]dsm.User{}, groups: map[string]dsm.Group{}, reserved: map[string]bool{}}
	opts := dsm.ListOptions{Fields: []string{dsm.FieldDescription, dsm.FieldEmail, dsm.FieldExpired,
		dsm.FieldCannotChangePassword, dsm.FieldPasswordNeverExpires, dsm.FieldGroups}}
	for u, err := range c.Users.All(ctx, opts) {
		if err != nil {
			return nil, fmt.Errorf("manifest: reading the users: %w", err)
		}
		n.users[fold(u.Name)] = u
	}
	groups, _, err := c.Groups.List(ctx, dsm.GroupListOptions{})
	if err != nil {
		return nil, fmt.Errorf("manifest: reading the groups: %w", err)
	}
	for _, g := range groups {
		n.groups[fold(g.Name)] = g
	}
	if n.settings.Policy, err = c.Policy.PasswordPolicy(ctx); err != nil {
		return nil, fmt.Errorf("manifest: reading the password policy: %w", err)
	}
	if n.settings.Expiry, err = c.Policy.PasswordExpiry(ctx); err != nil {
		return nil, fmt.Errorf("manifest: reading the password expiry settings: %w", err)
	}
	names, err := c.Policy.ReservedNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("manifest: reading the username policy: %w", err)
	}
	for _, r := range names {
		n.reserved[fold(r)] = true
	}
	if s, ok := c.Auth.Session(); ok {
		n.me = s.Account
	}
	if security {
		if err := readSecurity(ctx, c, &n.settings); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Plan reads the NAS through c and returns the changes that make it match
// f. It checks everything first: when anything is wrong it returns a
// *ValidationError with every problem, and no plan.
//
// DSM: SYNO.Core.User list, SYNO.Core.Group list, SYNO.Core.User.PasswordPolicy
// get, SYNO.Core.User.PasswordExpiry get, SYNO.Core.User.UsernamePolicy get;
// for a security section also SYNO.Core.OTP.EnforcePolicy get,
// SYNO.Core.Security.AutoBlock get, SYNO.Core.SmartBlock get,
// SYNO.Core.Security.AutoBlock.Rules list, and SYNO.Core.OTP get_one when
// its two_step_enforcement would cover the account planning (see
// PlanOptions.AllowLockout); for a file with onboarding keys
// (see Profile) also SYNO.Core.Share list, SYNO.Core.User.Home get,
// SYNO.Core.AppPriv.App list, one compound request per user with a
// profile (dsm.UsersService.Profile) and four calls per such group.
func (f *File) Plan(ctx context.Context, c *dsm.Client, opts PlanOptions) (*Plan, error) {
	n, err := readNAS(ctx, c, f.Security != nil)
	if err != nil {
		return nil, err
	}
	if err := readOwnTwoStep(ctx, c, n, f, opts); err != nil {
		return nil, err
	}
	if err := readOnboard(ctx, c, n, f, false); err != nil {
		return nil, err
	}
	return f.plan(n, opts)
}

func (f *File) plan(n *nas, opts PlanOptions) (*Plan, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Today.IsZero() {
		opts.Today = dsm.DateOf(time.Now())
	}
	probs := &problems{file: f.Name}
	plan := &Plan{file: f.Name, read: n, settings: n.settings}

	// Settings first: the passwords are checked against the policy in
	// force after them.
	if f.PasswordPolicy != nil {
		if sc := planSettings("password_policy", f.PasswordPolicy, policySettings, &plan.settings); sc != nil {
			plan.Settings = append(plan.Settings, *sc)
			plan.policy = true
		}
	}
	if f.PasswordExpiry != nil {
		if sc := planSettings("password_expiry", f.PasswordExpiry, expirySettings, &plan.settings); sc != nil {
			plan.Settings = append(plan.Settings, *sc)
			plan.expiry = true
		}
	}
	// The library checks a whole section before it sets it; the same
	// check here keeps a file that cannot be applied from planning.
	if plan.policy {
		if err := plan.settings.Policy.Validate(); err != nil {
			probs.add(f.PasswordPolicy.Line, "password_policy", "%v", err)
		}
	}
	if plan.expiry {
		if err := plan.settings.Expiry.Validate(); err != nil {
			probs.add(f.PasswordExpiry.Line, "password_expiry", "%v", err)
		}
	}
	if f.Security != nil {
		planSecurity(f.Security, plan, probs)
		checkLockout(f.Security, plan, probs) // read unless opts.AllowLockout
	}

	// Groups.
	inFile := map[string]bool{}
	for _, g := range f.Groups {
		inFile[fold(g.Name)] = true
		cur, ok := n.groups[fold(g.Name)]
		if !ok {
			if n.reserved[fold(g.Name)] {
				probs.add(g.Line, "", "group %s: the name is reserved by DSM", g.Name)
				continue
			}
			gc := GroupChange{Action: ActionCreate, Name: g.Name, Line: g.Line, description: g.Description}
			if g.Description != nil && *g.Description != "" {
				gc.Changes = []Change{{Field: "description", New: *g.Description}}
			}
			plan.Groups = append(plan.Groups, gc)
			continue
		}
		if g.Description != nil && *g.Description != cur.Description {
			plan.Groups = append(plan.Groups, GroupChange{Action: ActionUpdate, Name: cur.Name, Line: g.Line,
				description: g.Description, Changes: []Change{{Field: "description", Old: cur.Description, New: *g.Description}}})
		}
	}

	// Users: the file's, and those password_expiry.never_expire names
	// that the file does not describe.
	users := f.Users
	if len(f.NeverExpire) > 0 {
		users = slices.Clone(f.Users)
		index := make(map[string]int, len(users))
		for i, u := range users {
			index[fold(u.Name)] = i
		}
		for _, name := range f.NeverExpire {
			i, ok := index[fold(name)]
			if !ok {
				if _, exists := n.users[fold(name)]; !exists {
					probs.add(f.neverExpireLine, "password_expiry.never_expire", "%s is neither in users nor on the NAS", name)
					continue
				}
				users = append(users, User{Name: name, Line: f.neverExpireLine, PasswordNeverExpires: dsm.Ptr(true)})
				continue
			}
			u := &users[i]
			if u.PasswordNeverExpires != nil && !*u.PasswordNeverExpires {
				probs.add(u.line("password_never_expires"), "", "user %s: password_never_expires is false but password_expiry.never_expire names the user", u.Name)
				continue
			}
			u.PasswordNeverExpires = dsm.Ptr(true)
		}
	}

	secrets := &secretsReader{path: opts.SecretsFile}
	if secrets.path == "" && f.SecretsFile != "" {
		secrets.path = f.SecretsFile
		if !filepath.IsAbs(secrets.path) {
			secrets.path = filepath.Join(filepath.Dir(f.Name), secrets.path)
		}
	}
	inUsers := make(map[string]bool, len(users))
	for i := range users {
		u := &users[i]
		inUsers[fold(u.Name)] = true
		uc, ok := planUser(u, n, plan, inFile, secrets, opts, probs)
		if ok && uc != nil {
			plan.Users = append(plan.Users, *uc)
		}
	}

	if opts.Prune {
		var dels []string
		for key, u := range n.users {
			if inUsers[key] || protectedUser(n, u.Name) {
				continue
			}
			dels = append(dels, u.Name)
		}
		slices.Sort(dels)
		for _, name := range dels {
			plan.Users = append(plan.Users, UserChange{Action: ActionDelete, Name: name})
		}
		var gdels []string
		for key, g := range n.groups {
			if inFile[key] || dsm.IsBuiltinGroup(key) || n.reserved[key] {
				continue
			}
			gdels = append(gdels, g.Name)
		}
		slices.Sort(gdels)
		for _, name := range gdels {
			plan.Groups = append(plan.Groups, GroupChange{Action: ActionDelete, Name: name})
		}
	}
	f.planOnboard(n, plan, opts, probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return plan, nil
}

// protectedUser reports whether name is an account that pruning never
// deletes.
func protectedUser(n *nas, name string) bool {
	k := fold(name)
	return dsm.IsBuiltinAccount(k) || n.reserved[k] || (n.me != "" && k == fold(n.me))
}

// planSettings applies a file's section to s and returns the changes, or
// nil when there are none.
func planSettings(section string, in *Settings, defs []settingDef, s *nasSettings) *SettingsChange {
	sc := &SettingsChange{Section: section, Line: in.Line}
	for _, k := range in.Keys {
		d := findSetting(defs, k.Key)
		old := d.get(s)
		if old == k.Value {
			continue
		}
		d.set(s, k.Value)
		sc.Changes = append(sc.Changes, Change{Field: k.Key, Old: d.format(old), New: d.format(k.Value)})
	}
	if len(sc.Changes) == 0 {
		return nil
	}
	return sc
}

// planUser returns the change of one user (nil when none), adding its
// problems to probs; ok is false when it has problems.
func planUser(u *User, n *nas, plan *Plan, groupsInFile map[string]bool, secrets *secretsReader, opts PlanOptions, probs *problems) (*UserChange, bool) {
	before := len(probs.list)
	bad := func(key, format string, args ...any) {
		probs.add(u.line(key), "", "user "+u.Name+": "+format, args...)
	}
	cur, exists := n.users[fold(u.Name)]
	uc := &UserChange{Name: u.Name, Line: u.Line}
	if exists {
		uc.Name = cur.Name
	}

	// The groups: each must exist, or be made by the file.
	var join, leave []string
	if u.Groups != nil {
		want := map[string]bool{fold(dsm.GroupUsers): true}
		for _, g := range u.Groups {
			name := g
			if ng, ok := n.groups[fold(g)]; ok {
				name = ng.Name
			}
			switch {
			case groupsInFile[fold(g)]:
			case opts.Prune:
				bad("groups", "group %s is not in groups, and --prune would delete it", g)
				continue
			case n.groups[fold(g)].Name == "":
				bad("groups", "group %s is neither in groups nor on the NAS", g)
				continue
			}
			want[fold(g)] = true
			if !exists || !slices.ContainsFunc(cur.Groups, func(c string) bool { return fold(c) == fold(g) }) {
				join = append(join, name)
			}
		}
		if exists {
			for _, c := range cur.Groups {
				if !want[fold(c)] {
					leave = append(leave, c)
				}
			}
		}
	}
	uc.Join, uc.Leave = join, leave

	if u.Expiry != nil && u.Expiry.Kind == dsm.ExpiryOnDate && u.Expiry.Date.Before(opts.Today) &&
		(!exists || cur.Expired != *u.Expiry) {
		bad("expiry", "the expiry date %s is in the past; use disabled to disable the account now", u.Expiry.Date)
	}

	// The password, when one will be set.
	setPassword := !exists || (opts.SetPasswords && u.Password != nil && !u.Password.Generate)
	if setPassword {
		switch {
		case u.Password == nil:
			bad("", "a new user needs a password: {from_env: VAR}, {from_file: KEY} or {generate: true}")
		case u.Password.Generate:
			uc.generate = true
			uc.Password = u.Password.String()
			uc.source = u.Password
		default:
			pw, err := resolve(u.Password, opts.Getenv, secrets)
			if err != nil {
				bad("password", "%v", err)
				break
			}
			if msg := checkPassword(plan.settings.Policy, u.Name, pw); msg != "" {
				bad("password", "the password (%s) %s", u.Password, msg)
				break
			}
			uc.secret = pw
			uc.Password = u.Password.String()
			uc.source = u.Password
		}
	}

	if !exists {
		if n.reserved[fold(u.Name)] || dsm.IsBuiltinAccount(u.Name) {
			bad("name", "the name is reserved by DSM")
		}
		uc.Action = ActionCreate
		r := &dsm.UserCreateRequest{Name: u.Name, Description: deref(u.Description), Email: deref(u.Email),
			Expiry: derefExpiry(u.Expiry), PasswordNeverExpires: deref(u.PasswordNeverExpires), CannotChangePassword: deref(u.CannotChangePassword)}
		uc.create = r
		add := func(field, v string) {
			uc.Changes = append(uc.Changes, Change{Field: field, New: v})
		}
		if r.Description != "" {
			add("description", r.Description)
		}
		if r.Email != "" {
			add("email", r.Email)
		}
		add("expiry", r.Expiry.String())
		if r.PasswordNeverExpires {
			add("password_never_expires", "true")
		}
		if r.CannotChangePassword {
			add("cannot_change_password", "true")
		}
		return uc, len(probs.list) == before
	}

	uc.Action = ActionUpdate
	r := &uc.update
	if u.Description != nil && *u.Description != cur.Description {
		r.Description = u.Description
		uc.Changes = append(uc.Changes, Change{"description", cur.Description, *u.Description})
	}
	if u.Email != nil && *u.Email != cur.Email {
		r.Email = u.Email
		uc.Changes = append(uc.Changes, Change{"email", cur.Email, *u.Email})
	}
	if u.Expiry != nil && *u.Expiry != cur.Expired {
		r.Expiry = u.Expiry
		uc.Changes = append(uc.Changes, Change{"expiry", cur.Expired.String(), u.Expiry.String()})
	}
	if u.PasswordNeverExpires != nil && *u.PasswordNeverExpires != cur.PasswordNeverExpires {
		r.PasswordNeverExpires = u.PasswordNeverExpires
		uc.Changes = append(uc.Changes, Change{"password_never_expires", strconv.FormatBool(cur.PasswordNeverExpires), strconv.FormatBool(*u.PasswordNeverExpires)})
	}
	if u.CannotChangePassword != nil && *u.CannotChangePassword != cur.CannotChangePassword {
		r.CannotChangePassword = u.CannotChangePassword
		uc.Changes = append(uc.Changes, Change{"cannot_change_password", strconv.FormatBool(cur.CannotChangePassword), strconv.FormatBool(*u.CannotChangePassword)})
	}
	if len(uc.Changes) == 0 && len(join) == 0 && len(leave) == 0 && uc.Password == "" {
		return nil, len(probs.list) == before
	}
	return uc, len(probs.list) == before
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func derefExpiry(e *dsm.Expiry) dsm.Expiry {
	if e == nil {
		return dsm.Never
	}
	return *e
}

// checkPassword returns what is wrong with pw under policy for user name,
// or "".
func checkPassword(policy dsm.PasswordPolicy, name, pw string) string {
	if pw == "" {
		return "is empty"
	}
	if !utf8.ValidString(pw) {
		return "is not valid UTF-8"
	}
	if n := utf8.RuneCountInString(pw); n > dsm.MaxPasswordLength {
		return fmt.Sprintf("has %d characters; DSM allows at most %d", n, dsm.MaxPasswordLength)
	}
	v := policy.Check(name, pw)
	if len(v) == 0 {
		return ""
	}
	msgs := make([]string, len(v))
	for i, x := range v {
		msgs[i] = x.Message
	}
	return "breaks the password policy: " + strings.Join(msgs, "; ")
}

// secretsReader reads the secrets file once, when a password needs it.
type secretsReader struct {
	path   string
	loaded bool
	values map[string]string
	err    error
}

func (s *secretsReader) get(key string) (string, error) {
	if !s.loaded {
		s.loaded = true
		s.values, s.err = readSecrets(s.path)
	}
	if s.err != nil {
		return "", s.err
	}
	v, ok := s.values[key]
	if !ok {
		return "", fmt.Errorf("the secrets file %s has no key %q", s.path, key)
	}
	return v, nil
}

// readSecrets reads a YAML or JSON mapping of keys to passwords.
func readSecrets(path string) (map[string]string, error) {
	if path == "" {
		return nil, fmt.Errorf("from_file needs a secrets file: set secrets_file in the file, or pass one")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the secrets file: %w", err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(data, &m); err != nil {
		// The parser's message may quote the file; it holds secrets.
		return nil, fmt.Errorf("the secrets file %s is not a mapping of keys to passwords", path)
	}
	return m, nil
}

// resolve returns the password a source names.
func resolve(src *PasswordSource, getenv func(string) string, secrets *secretsReader) (string, error) {
	switch {
	case src.FromEnv != "":
		v := getenv(src.FromEnv)
		if v == "" {
			return "", fmt.Errorf("the environment variable %s is not set", src.FromEnv)
		}
		return v, nil
	case src.FromFile != "":
		return secrets.get(src.FromFile)
	}
	return src.Value, nil
}
