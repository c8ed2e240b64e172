package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/atomicfile"
	"github.com/dsmkit/dsm/manifest"
)

// planFormatVersion is the version of "dsmctl plan -o json" and of the
// plan inside a saved plan file. A change that removes or retypes a key
// raises it; new keys may be added without.
const planFormatVersion = 1

// planDoc is a plan for programs (dsmctl plan -o json): every list is
// present ([] when empty), values keep their types (numbers, booleans,
// strings; null for none), and where a password comes from is a
// structured field. It never holds a password.
type planDoc struct {
	FormatVersion int               `json:"format_version"`
	Counts        planCounts        `json:"counts"`
	Settings      []planSettingsDoc `json:"settings"`
	Groups        []planGroupDoc    `json:"groups"`
	Users         []planUserDoc     `json:"users"`
	// HomeService, Shares and Profiles are the onboarding changes, left
	// out when there are none (so that plans of accounts only keep the
	// shape of format version 1).
	HomeService *manifest.HomeChange     `json:"home_service,omitempty"`
	Shares      []manifest.ShareChange   `json:"shares,omitempty"`
	Profiles    []manifest.ProfileChange `json:"profiles,omitempty"`
}

// planCounts are the counts dsmctl plan ends with: users and groups to
// create, to change (a settings section counts as one), to delete.
type planCounts struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
}

type planSettingsDoc struct {
	Section string          `json:"section"`
	Line    *int            `json:"line"`
	Changes []planChangeDoc `json:"changes"`
}

type planGroupDoc struct {
	Action  manifest.Action `json:"action"`
	Name    string          `json:"name"`
	Line    *int            `json:"line"`
	Changes []planChangeDoc `json:"changes"`
}

type planUserDoc struct {
	Action  manifest.Action `json:"action"`
	Name    string          `json:"name"`
	Line    *int            `json:"line"`
	Changes []planChangeDoc `json:"changes"`
	Join    []string        `json:"join"`
	Leave   []string        `json:"leave"`
	// Password is null when the change sets no password.
	Password *planPasswordDoc `json:"password"`
}

// planChangeDoc is one field that changes. Old is null for an object
// the plan creates.
type planChangeDoc struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// planPasswordDoc says where a password comes from: source is
// "generate" (made up at apply, fitting the policy), "env" (the variable
// env names, read at apply) or "file" (the key of the secrets file, read
// at apply).
type planPasswordDoc struct {
	Source string `json:"source"`
	Env    string `json:"env,omitempty"`
	Key    string `json:"key,omitempty"`
	// Text is the source as dsmctl plan shows it.
	Text string `json:"text"`
}

// boolFields are the fields of a user whose values are booleans
// ("true"/"false" in the plan); the others are strings. The fields of
// password_policy and password_expiry are numbers or booleans as their
// values say.
var boolFields = map[string]bool{"password_never_expires": true, "cannot_change_password": true}

// typed returns a plan value with its type: v as written by the plan,
// for field of a section ("" for a user or group).
func typed(section, field, v string) any {
	if section != "" {
		if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
			return b
		}
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		return v
	}
	if boolFields[field] {
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return v
}

func lineOf(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

func changeDocs(section string, changes []manifest.Change, create bool) []planChangeDoc {
	out := make([]planChangeDoc, 0, len(changes))
	for _, c := range changes {
		d := planChangeDoc{Field: c.Field, New: typed(section, c.Field, c.New)}
		if !create {
			d.Old = typed(section, c.Field, c.Old)
		}
		out = append(out, d)
	}
	return out
}

// newPlanDoc returns p for programs.
func newPlanDoc(p *manifest.Plan) planDoc {
	create, update, del := p.Counts()
	d := planDoc{FormatVersion: planFormatVersion, Counts: planCounts{create, update, del},
		Settings: []planSettingsDoc{}, Groups: []planGroupDoc{}, Users: []planUserDoc{},
		HomeService: p.Home, Shares: p.Shares, Profiles: p.Profiles}
	for _, s := range p.Settings {
		d.Settings = append(d.Settings, planSettingsDoc{Section: s.Section, Line: lineOf(s.Line), Changes: changeDocs(s.Section, s.Changes, false)})
	}
	for _, g := range p.Groups {
		d.Groups = append(d.Groups, planGroupDoc{Action: g.Action, Name: g.Name, Line: lineOf(g.Line),
			Changes: changeDocs("", g.Changes, g.Action == manifest.ActionCreate)})
	}
	for _, u := range p.Users {
		ud := planUserDoc{Action: u.Action, Name: u.Name, Line: lineOf(u.Line),
			Changes: changeDocs("", u.Changes, u.Action == manifest.ActionCreate), Join: orEmpty(u.Join), Leave: orEmpty(u.Leave)}
		if src := u.PasswordSource(); src != nil {
			pd := &planPasswordDoc{Text: src.String()}
			switch {
			case src.Generate:
				pd.Source = "generate"
			case src.FromEnv != "":
				pd.Source, pd.Env = "env", src.FromEnv
			case src.FromFile != "":
				pd.Source, pd.Key = "file", src.FromFile
			default:
				pd.Source = "import"
			}
			ud.Password = pd
		}
		d.Users = append(d.Users, ud)
	}
	return d
}

// A saved plan file (dsmctl plan --out FILE) is JSON:
//
//	format          "dsmctl-plan"
//	format_version  planFileVersion; another is refused
//	url, account    the DSM and the account the plan was made on
//	options         --prune, --set-passwords, the secrets file (absolute),
//	                --allow-lockout (only when given)
//	users_file      the users file's name and content: a users file holds
//	                no password (from_env, from_file and generate only)
//	nas             the digest of each object the plan touches, as read
//	                (manifest.Plan.Digests)
//	plan            the plan, as dsmctl plan -o json writes it
//	checksum        SHA-256 of the above: a file changed after plan wrote
//	                it is refused (a guard against edits and damage, not
//	                a signature: whoever can write the file can recompute
//	                it, which is why apply also plans again)
//
// The file's own keys are read strictly: any change to them raises
// planFileVersion, but for a new option written only when it is set
// (allow_lockout): the files without it are what they were, and a
// dsmctl that does not know it refuses a file that has it.
// It holds no secret: apply reads each from_env variable and from_file
// key again, and generates each generated password then. Apply makes the
// plan again from the users file and applies it only when the NAS's
// objects and the plan are what the file says; else nothing is changed.
const (
	planFileFormat  = "dsmctl-plan"
	planFileVersion = 1
	// maxPlanFileBytes bounds a plan file read: it holds a users file
	// (at most maxUsersFileBytes) and its plan.
	maxPlanFileBytes = 4 * maxUsersFileBytes
)

// planFile is the content of a saved plan file.
type planFile struct {
	Format        string            `json:"format"`
	FormatVersion int               `json:"format_version"`
	URL           string            `json:"url"`
	Account       string            `json:"account"`
	Options       planFileOptions   `json:"options"`
	UsersFile     planUsersFile     `json:"users_file"`
	NAS           map[string]string `json:"nas"`
	Plan          json.RawMessage   `json:"plan"`
	Checksum      string            `json:"checksum"`
}

type planFileOptions struct {
	Prune        bool   `json:"prune"`
	SetPasswords bool   `json:"set_passwords"`
	SecretsFile  string `json:"secrets_file"`
	// AllowLockout is --allow-lockout. It is left out when false, so
	// that the files written before it keep their checksum and the files
	// without it stay readable by the dsmctl of before.
	AllowLockout bool `json:"allow_lockout,omitempty"`
}

type planUsersFile struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// checksum returns the checksum of f: the SHA-256 of its JSON without
// the checksum.
func (f planFile) checksum() (string, error) {
	f.Checksum = ""
	b, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// usersFileData reads the users file as load does, and returns its
// bytes too: a saved plan keeps them.
func (o *manifestOptions) usersFileData(s *IOStreams) (*manifest.File, []byte, error) {
	var data []byte
	var err error
	name := o.File
	if o.File == "-" {
		name = "standard input"
		data, err = io.ReadAll(io.LimitReader(s.In, maxUsersFileBytes+1))
		if err != nil {
			return nil, nil, fmt.Errorf("reading the users file from standard input: %w", err)
		}
	} else {
		data, err = os.ReadFile(o.File)
		if err != nil {
			return nil, nil, fmt.Errorf("manifest: %w", err)
		}
	}
	if len(data) > maxUsersFileBytes {
		return nil, nil, usagef("the users file %s holds more than %d MB; a users file is far smaller", name, maxUsersFileBytes>>20)
	}
	f, err := manifest.Parse(name, data)
	if err != nil {
		return nil, nil, err
	}
	return f, data, nil
}

// secretsPath returns the secrets file the plan of f reads, absolute, or
// "": --secrets-file, else the file's secrets_file beside it.
func (o *manifestOptions) secretsPath(f *manifest.File) (string, error) {
	p := o.Secrets
	if p == "" && f.SecretsFile != "" {
		p = f.SecretsFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(f.Name), p)
		}
	}
	if p == "" {
		return "", nil
	}
	return filepath.Abs(p)
}

// writePlanFile writes the plan p, made from f (data) on the DSM of c,
// to path, mode 0600.
func writePlanFile(path string, o *manifestOptions, f *manifest.File, data []byte, c *dsm.Client, p *manifest.Plan) error {
	secrets, err := o.secretsPath(f)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	doc, err := json.Marshal(newPlanDoc(p))
	if err != nil {
		return err
	}
	sess, _ := c.Auth.Session()
	pf := planFile{Format: planFileFormat, FormatVersion: planFileVersion, URL: c.BaseURL(), Account: sess.Account,
		Options:   planFileOptions{Prune: o.Prune, SetPasswords: o.SetPasswords, SecretsFile: secrets, AllowLockout: o.AllowLockout},
		UsersFile: planUsersFile{Name: f.Name, Content: string(data)}, NAS: p.Digests(), Plan: doc}
	if pf.Checksum, err = pf.checksum(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	return nil
}

// errNotPlanFile: the file given to apply is not a saved plan.
var errNotPlanFile = errors.New("not a saved plan")

// readPlanFile reads and checks a saved plan file: its format, version
// and checksum.
func readPlanFile(path string) (*planFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxPlanFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the plan %s: %w", path, err)
	}
	if len(data) > maxPlanFileBytes {
		return nil, usagef("%s holds more than %d MB: it is not a plan dsmctl wrote", path, maxPlanFileBytes>>20)
	}
	var head struct {
		Format        string `json:"format"`
		FormatVersion int    `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.Format != planFileFormat {
		return nil, &usageError{err: fmt.Errorf("%s is %w written by dsmctl plan --out (to apply a users file, use dsmctl apply -f %s)", path, errNotPlanFile, path)}
	}
	if head.FormatVersion != planFileVersion {
		return nil, usagef("%s is a plan of format version %d; this dsmctl reads version %d only: make the plan again with this dsmctl (dsmctl plan -f FILE --out %s)",
			path, head.FormatVersion, planFileVersion, path)
	}
	var pf planFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf); err != nil {
		return nil, fmt.Errorf("the plan %s is not valid: %v; make it again with dsmctl plan --out", path, err)
	}
	sum, err := pf.checksum()
	if err != nil {
		return nil, err
	}
	if pf.Checksum != sum {
		return nil, fmt.Errorf("the plan %s was changed after dsmctl plan wrote it (its checksum does not match): nothing was applied; make the plan again and review it", path)
	}
	if pf.URL == "" || pf.Account == "" {
		return nil, fmt.Errorf("the plan %s names no DSM or account: make it again with dsmctl plan --out", path)
	}
	return &pf, nil
}

// savedPlan is a plan file being applied.
type savedPlan struct {
	path string
	file *planFile
}

// useLogin points o at the plan's DSM and account when the command line
// and the environment name no login.
func (sp *savedPlan) useLogin(o *connOptions) {
	if o.URL == "" && o.User == "" && o.Context == "" {
		o.URL, o.User = sp.file.URL, sp.file.Account
	}
}

// replan makes the plan again on c, from the users file the plan file
// holds, and returns it when the plan file was made for this DSM and
// account and the NAS is as the plan read it: the same digests for the
// objects it touches, and the same plan. Otherwise it returns an error
// and nothing has changed.
func (sp *savedPlan) replan(ctx context.Context, c *dsm.Client, getenv func(string) string) (*manifest.Plan, error) {
	pf := sp.file
	sess, _ := c.Auth.Session()
	if c.BaseURL() != pf.URL || !strings.EqualFold(sess.Account, pf.Account) {
		return nil, fmt.Errorf("the plan %s was made on %s as %s, not on %s as %s: nothing was applied; "+
			"apply it with that login (dsmctl apply %s with no --url, --user or --context picks it), or make a plan here",
			sp.path, pf.URL, pf.Account, c.BaseURL(), sess.Account, sp.path)
	}
	f, err := manifest.Parse(pf.UsersFile.Name, []byte(pf.UsersFile.Content))
	if err != nil {
		return nil, fmt.Errorf("the plan %s: its users file: %w", sp.path, err)
	}
	opts := manifest.PlanOptions{Prune: pf.Options.Prune, SetPasswords: pf.Options.SetPasswords, SecretsFile: pf.Options.SecretsFile, Getenv: getenv,
		AllowLockout: pf.Options.AllowLockout}
	p, err := f.Plan(ctx, c, opts)
	if err != nil {
		return nil, err
	}
	now := p.Digests()
	var changed []string
	for key, d := range pf.NAS {
		if p.Digest(key) != d {
			changed = append(changed, key)
		}
	}
	for key := range now {
		if _, ok := pf.NAS[key]; !ok {
			changed = append(changed, key)
		}
	}
	doc, err := json.Marshal(newPlanDoc(p))
	if err != nil {
		return nil, err
	}
	var saved bytes.Buffer
	if err := json.Compact(&saved, pf.Plan); err != nil {
		return nil, fmt.Errorf("the plan %s is not valid: %v", sp.path, err)
	}
	if len(changed) > 0 || !bytes.Equal(doc, saved.Bytes()) {
		slices.Sort(changed)
		what := "the changes it makes now differ"
		if len(changed) > 0 {
			what = "changed: " + strings.Join(changed, ", ")
		}
		return nil, &exitStatus{code: ExitFailure, msg: fmt.Sprintf("the NAS changed since the plan %s was made (%s): nothing was applied; "+
			"make the plan again and review it", sp.path, what)}
	}
	return p, nil
}

// terraformOut rewrites terraform's single-dash "-out FILE" and
// "-out=FILE" of dsmctl plan into --out: pflag would read them as -o
// with the value "ut".
func terraformOut(args []string) []string {
	if !slices.Contains(args, "plan") {
		return args
	}
	out := slices.Clone(args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if a == "-out" || strings.HasPrefix(a, "-out=") {
			out[i] = "-" + a
		}
	}
	return out
}

// runApplySaved is dsmctl apply PLANFILE.
func runApplySaved(cmd *cobra.Command, o *applyOptions, path string, getenv func(string) string, g *globalOptions, s *IOStreams) error {
	f := cmd.Flags()
	if o.File != "" {
		return usagef("give a saved plan or -f FILE, not both")
	}
	for _, name := range []string{"prune", "set-passwords", "secrets-file", "allow-lockout"} {
		if f.Changed(name) {
			return usagef("--%s: a saved plan was made with its own options; make the plan again with --%s to change it", name, name)
		}
	}
	if o.Output != formatText && o.Output != formatJSON {
		return usagef("-o %s: use text or json", o.Output)
	}
	if err := o.check(); err != nil {
		return err
	}
	pf, err := readPlanFile(path)
	if err != nil {
		return err
	}
	o.saved = &savedPlan{path: path, file: pf}
	o.getenv = getenv
	if err := o.conn.complete(getenv, g); err != nil {
		return err
	}
	o.saved.useLogin(&o.conn)
	return runApply(cmd.Context(), o, nil, s)
}
