package manifest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/dsmkit/dsm"
)

// Export reads the NAS's users, groups, policies and security settings into a File that
// describes every field of each, so that planning it against the same NAS
// changes nothing. It holds no password. It writes the home service,
// the shared folders and each user's and group's rights, quotas,
// application rules and speed limits too (see exportOnboard): one
// compound request per user, four calls per group.
//
// DSM: as Plan (and of a file with a security section), and
// SYNO.Core.Share list, SYNO.Core.User.Home get,
// SYNO.Core.AppPriv.App list, the calls of dsm.UsersService.Profile per
// user, SYNO.Core.Share.Permission list_by_group, SYNO.Core.Quota get,
// SYNO.Core.AppPriv.Rule get and SYNO.Core.BandwidthControl get per group.
func Export(ctx context.Context, c *dsm.Client) (*File, error) {
	n, err := readNAS(ctx, c, true)
	if err != nil {
		return nil, err
	}
	if err := readOnboard(ctx, c, n, &File{}, true); err != nil {
		return nil, err
	}
	return exportNAS(n), nil
}

func exportNAS(n *nas) *File {
	f := &File{Name: "export"}
	for _, def := range policySettings {
		if f.PasswordPolicy == nil {
			f.PasswordPolicy = &Settings{}
		}
		f.PasswordPolicy.Keys = append(f.PasswordPolicy.Keys, Setting{Key: def.key, Value: def.get(&n.settings)})
	}
	for _, def := range expirySettings {
		if f.PasswordExpiry == nil {
			f.PasswordExpiry = &Settings{}
		}
		f.PasswordExpiry.Keys = append(f.PasswordExpiry.Keys, Setting{Key: def.key, Value: def.get(&n.settings)})
	}
	f.Security = exportSecurity(&n.settings)
	for _, g := range n.groups {
		f.Groups = append(f.Groups, Group{Name: g.Name, Description: dsm.Ptr(g.Description)})
	}
	slices.SortFunc(f.Groups, func(a, b Group) int { return cmpFold(a.Name, b.Name) })
	f.Users = make([]User, 0, len(n.users))
	for _, u := range n.users {
		groups := slices.DeleteFunc(slices.Clone(u.Groups), func(g string) bool { return fold(g) == fold(dsm.GroupUsers) })
		if groups == nil {
			groups = []string{}
		}
		f.Users = append(f.Users, User{Name: u.Name, Description: dsm.Ptr(u.Description), Email: dsm.Ptr(u.Email),
			Groups: groups, Expiry: dsm.Ptr(u.Expired), PasswordNeverExpires: dsm.Ptr(u.PasswordNeverExpires),
			CannotChangePassword: dsm.Ptr(u.CannotChangePassword)})
	}
	slices.SortFunc(f.Users, func(a, b User) int { return cmpFold(a.Name, b.Name) })
	exportOnboard(n, f)
	return f
}

func cmpFold(a, b string) int {
	if fa, fb := fold(a), fold(b); fa != fb {
		if fa < fb {
			return -1
		}
		return 1
	}
	return 0
}

// Formats of File.Write.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// Write writes f in format (FormatYAML or FormatJSON), in the schema Load
// reads. Passwords of imports (PasswordSource.Value) are never written.
//
// The groups and the users are written a few at a time: their nodes are
// built, encoded and dropped before the next ones are built, so that a
// file of 16,000 users is never held as one node tree, nor as one
// encoded text.
func (f *File) Write(w io.Writer, format string) error {
	return f.write(w, format, yamlBatch)
}

// yamlBatch is how many items of a list one YAML encoder writes: each
// encoder allocates buffers of its own, and holds every event of what it
// encodes until it is done (BenchmarkExportWrite). A choice: 100 users
// take a few hundred KiB.
const yamlBatch = 100

func (f *File) write(w io.Writer, format string, batch int) error {
	if format != FormatYAML && format != FormatJSON {
		return fmt.Errorf("manifest: unknown format %q; use yaml or json", format)
	}
	lists := []itemList{
		{key: "groups", n: len(f.Groups), item: func(i int) *yaml.Node { return groupNode(&f.Groups[i]) }},
		{key: "users", n: len(f.Users), item: func(i int) *yaml.Node { return userNode(&f.Users[i]) }},
	}
	bw := bufio.NewWriter(w)
	var err error
	if format == FormatYAML {
		err = writeYAML(bw, f.headNode(), lists, batch)
	} else {
		writeJSONFile(bw, f.headNode(), lists)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// itemList is a top-level key whose value is a list written item by
// item: n items, the i-th built by item.
type itemList struct {
	key  string
	n    int
	item func(i int) *yaml.Node
}

// writeYAML writes the mapping head, then each list's key and its items,
// batch items to an encoder. A top-level block mapping is the
// concatenation of its pairs, and an item of a block list under a
// top-level key is written the same whatever comes before it: each batch
// is encoded as the whole list of its key, and the key's line kept from
// the first batch only.
func writeYAML(w *bufio.Writer, head *yaml.Node, lists []itemList, batch int) error {
	var buf bytes.Buffer
	if len(head.Content) > 0 {
		if err := encodeYAML(&buf, head); err != nil {
			return err
		}
		w.Write(buf.Bytes())
	}
	for _, l := range lists {
		if l.n == 0 {
			if err := encodeYAML(&buf, mapNode(l.key, &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"})); err != nil {
				return err
			}
			w.Write(buf.Bytes())
			continue
		}
		keyLine := l.key + ":\n"
		for start := 0; start < l.n; start += batch {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			for i := start; i < min(start+batch, l.n); i++ {
				seq.Content = append(seq.Content, l.item(i))
			}
			if err := encodeYAML(&buf, mapNode(l.key, seq)); err != nil {
				return err
			}
			b := buf.Bytes()
			if !bytes.HasPrefix(b, []byte(keyLine)) {
				return fmt.Errorf("manifest: writing item %d of %s: the encoder did not start with %q", start+1, l.key, keyLine)
			}
			if start > 0 {
				b = b[len(keyLine):]
			}
			w.Write(b)
		}
	}
	return nil
}

// encodeYAML encodes n into buf (emptied first), indented by two.
func encodeYAML(buf *bytes.Buffer, n *yaml.Node) error {
	buf.Reset()
	enc := yaml.NewEncoder(buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

// writeJSONFile writes the mapping head, then each list's key and its
// items, as writeJSON writes the node tree of the whole file, each item
// built and written before the next is built.
func writeJSONFile(w *bufio.Writer, head *yaml.Node, lists []itemList) {
	pairs := 0
	key := func(k *yaml.Node) {
		if pairs > 0 {
			w.WriteString(",")
		}
		pairs++
		w.WriteString("\n  ")
		writeJSON(w, k, "  ")
		w.WriteString(": ")
	}
	w.WriteString("{")
	for i := 0; i+1 < len(head.Content); i += 2 {
		key(head.Content[i])
		writeJSON(w, head.Content[i+1], "  ")
	}
	for _, l := range lists {
		key(strNode(l.key))
		if l.n == 0 {
			w.WriteString("[]")
			continue
		}
		w.WriteString("[")
		for i := range l.n {
			if i > 0 {
				w.WriteString(",")
			}
			w.WriteString("\n    ")
			writeJSON(w, l.item(i), "    ")
		}
		w.WriteString("\n  ]")
	}
	if pairs == 0 {
		w.WriteString("{}\n")
		return
	}
	w.WriteString("\n}\n")
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func boolNode(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func intNode(n int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}
}

func mapNode(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Content = append(m.Content, strNode(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return m
}

func listNode(items []string) *yaml.Node {
	l := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, s := range items {
		l.Content = append(l.Content, strNode(s))
	}
	return l
}

// headNode is the mapping of the file's top-level keys before its groups
// and users.
func (f *File) headNode() *yaml.Node {
	root := mapNode()
	add := func(k string, v *yaml.Node) { root.Content = append(root.Content, strNode(k), v) }
	if f.SecretsFile != "" {
		add("secrets_file", strNode(f.SecretsFile))
	}
	settings := func(s *Settings, defs []settingDef) *yaml.Node {
		m := mapNode()
		for _, k := range s.Keys {
			d := findSetting(defs, k.Key)
			v := intNode(k.Value)
			if !d.isInt {
				v = boolNode(k.Value != 0)
			}
			m.Content = append(m.Content, strNode(k.Key), v)
		}
		return m
	}
	if f.PasswordPolicy != nil {
		add("password_policy", settings(f.PasswordPolicy, policySettings))
	}
	if f.PasswordExpiry != nil || len(f.NeverExpire) > 0 {
		m := mapNode()
		if f.PasswordExpiry != nil {
			m = settings(f.PasswordExpiry, expirySettings)
		}
		if len(f.NeverExpire) > 0 {
			m.Content = append(m.Content, strNode("never_expire"), listNode(f.NeverExpire))
		}
		add("password_expiry", m)
	}
	if sec := f.Security; sec != nil {
		m := mapNode()
		if sec.TwoStep != nil {
			m.Content = append(m.Content, strNode("two_step_enforcement"), strNode(enforcementName(*sec.TwoStep)))
		}
		if sec.AutoBlock != nil {
			m.Content = append(m.Content, strNode("auto_block"), settings(sec.AutoBlock, autoBlockSettings))
		}
		if sec.AccountProtection != nil {
			m.Content = append(m.Content, strNode("account_protection"), settings(sec.AccountProtection, protectionSettings))
		}
		if sec.Allow != nil {
			m.Content = append(m.Content, strNode("allow"), listNode(sec.Allow))
		}
		add("security", m)
	}
	f.onboardNodes(add)
	return root
}

// groupNode is the mapping of one group of the groups list.
func groupNode(g *Group) *yaml.Node {
	m := mapNode("name", strNode(g.Name))
	if g.Description != nil {
		m.Content = append(m.Content, strNode("description"), strNode(*g.Description))
	}
	profileNodes(g.Profile, func(k string, v *yaml.Node) { m.Content = append(m.Content, strNode(k), v) })
	return m
}

// userNode is the mapping of one user of the users list.
func userNode(u *User) *yaml.Node {
	m := mapNode("name", strNode(u.Name))
	kv := func(k string, v *yaml.Node) { m.Content = append(m.Content, strNode(k), v) }
	if u.Description != nil {
		kv("description", strNode(*u.Description))
	}
	if u.Email != nil {
		kv("email", strNode(*u.Email))
	}
	if u.Groups != nil {
		kv("groups", listNode(u.Groups))
	}
	if u.Expiry != nil {
		kv("expiry", strNode(u.Expiry.String()))
	}
	if u.PasswordNeverExpires != nil {
		kv("password_never_expires", boolNode(*u.PasswordNeverExpires))
	}
	if u.CannotChangePassword != nil {
		kv("cannot_change_password", boolNode(*u.CannotChangePassword))
	}
	if p := u.Password; p != nil {
		switch {
		case p.FromEnv != "":
			kv("password", mapNode("from_env", strNode(p.FromEnv)))
		case p.FromFile != "":
			kv("password", mapNode("from_file", strNode(p.FromFile)))
		case p.Generate:
			kv("password", mapNode("generate", boolNode(true)))
		}
	}
	profileNodes(u.Profile, kv)
	return m
}

// writeJSON writes a node tree built by headNode, groupNode or userNode
// as indented JSON.
func writeJSON(w *bufio.Writer, n *yaml.Node, indent string) {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			w.WriteString("{}")
			return
		}
		w.WriteString("{")
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				w.WriteString(",")
			}
			w.WriteString("\n" + indent + "  ")
			writeJSON(w, n.Content[i], indent+"  ")
			w.WriteString(": ")
			writeJSON(w, n.Content[i+1], indent+"  ")
		}
		w.WriteString("\n" + indent + "}")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			w.WriteString("[]")
			return
		}
		flow := n.Style == yaml.FlowStyle
		w.WriteString("[")
		for i, c := range n.Content {
			if i > 0 {
				w.WriteString(",")
				if flow {
					w.WriteString(" ")
				}
			}
			if !flow {
				w.WriteString("\n" + indent + "  ")
			}
			writeJSON(w, c, indent+"  ")
		}
		if !flow {
			w.WriteString("\n" + indent)
		}
		w.WriteString("]")
	default:
		switch n.Tag {
		case "!!bool", "!!int":
			w.WriteString(n.Value)
		default:
			b, _ := json.Marshal(n.Value)
			w.Write(b)
		}
	}
}
