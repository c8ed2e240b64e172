package manifest

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dsmkit/dsm"
)

// Profile is what a file gives of a user or a group beyond its account,
// as DSM's user and group dialogs show it: rights on shared folders,
// quotas, application rules and speed limits. A nil field is not managed.
//
// Rights on shared folders the file does not name are left alone, and so
// are application rules of applications it does not name, unless Plan
// runs with Prune: then the user's or group's own rows on the other
// folders are removed (their groups decide), and their rules of the other
// applications too (the default and the groups decide). Quotas and speed
// limits the file does not name are always left alone.
type Profile struct {
	// Shares maps shared folders to rights, in file order.
	Shares []ShareRight
	// Quotas are the quotas, in file order.
	Quotas []QuotaEntry
	// Apps are the application rules, in file order.
	Apps []AppEntry
	// Speed are the speed limits, one per protocol, in file order.
	Speed []SpeedEntry

	// sharesSet, appsSet say that the keys are given (an empty mapping
	// still counts, for Prune).
	sharesSet, appsSet bool
	lines              map[string]int // of each key
}

// ShareRight is the right of a user or a group on one shared folder:
// rw, ro, deny, or default (no own row: the groups decide), the words of
// dsmctl share grant.
type ShareRight struct {
	Share string
	Right dsm.Right
	Line  int
}

// QuotaEntry is one quota: on a volume, by its path (/volume1), or on a
// shared folder (share:NAME, or a bare NAME), as dsmctl quota set takes
// its targets. Limit 0 ("none") is no limit.
type QuotaEntry struct {
	Volume, Share string
	Limit         dsm.Bytes
	Line          int
}

// key is how the file writes the target.
func (q QuotaEntry) key() string {
	if q.Share != "" {
		return "share:" + q.Share
	}
	return q.Volume
}

// AppEntry is a rule of one application, named by its ID (SYNO.FTP) or
// by its name in the catalogue (ftp), as dsmctl app takes it: allow,
// deny, default (no rule), or allow_from and deny_from address lists.
type AppEntry struct {
	App string
	// Default removes the rule.
	Default bool
	// Allow and Deny are the addresses (dsm.AllAddresses for all).
	Allow, Deny []string
	Line        int
}

// SpeedEntry is the speed limit of one protocol, as dsmctl speed set
// takes it: off, or {upload, download} in KB/s, or a schedule of 168
// hours with {upload2, download2} for the hours marked 2.
type SpeedEntry struct {
	Limit dsm.SpeedLimit
	Line  int
}

// HomeService is the top-level home_service: whether DSM keeps home
// folders, and where.
type HomeService struct {
	Enabled bool
	// Location is the volume, by its path (/volume1); empty leaves it.
	Location string
	// RecycleBin is nil when the file does not give it.
	RecycleBin *bool
	Line       int
}

// ShareSpec is a shared folder that must exist (top-level shares).
type ShareSpec struct {
	Name, Volume string
	// Description, Hidden and RecycleBin are nil when the file does not
	// give them.
	Description        *string
	Hidden, RecycleBin *bool
	Line               int
}

// onboardKeys adds the keys of a user's or group's profile to known.
func (p *parser) onboardKeys(known map[string]func(k, v *yaml.Node), path string, prof **Profile) {
	get := func(k *yaml.Node) *Profile {
		if *prof == nil {
			*prof = &Profile{lines: map[string]int{}}
		}
		(*prof).lines[k.Value] = k.Line
		return *prof
	}
	known["shares"] = func(k, v *yaml.Node) { p.shareRights(v, path+".shares", get(k)) }
	known["quota"] = func(k, v *yaml.Node) { p.quotas(v, path+".quota", get(k)) }
	known["apps"] = func(k, v *yaml.Node) { p.apps(v, path+".apps", get(k)) }
	known["speed"] = func(k, v *yaml.Node) { p.speeds(v, path+".speed", get(k)) }
}

// pairs calls f with each key and value of a mapping, refusing keys
// given twice (folded).
func (p *parser) pairs(n *yaml.Node, path, want string, f func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, path, "want a mapping of %s, got %s", want, kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key, ok := p.str(k, path)
		if !ok {
			continue
		}
		if seen[fold(key)] {
			p.add(k.Line, path, "%s is given twice", key)
			continue
		}
		seen[fold(key)] = true
		f(key, k, v)
	}
	return true
}

func (p *parser) shareRights(n *yaml.Node, path string, prof *Profile) {
	prof.sharesSet = true
	p.pairs(n, path, "shared folders to rights (rw, ro, deny or default)", func(name string, k, v *yaml.Node) {
		kp := path + "." + name
		if err := dsm.ValidateShareName(name); err != nil {
			p.add(k.Line, kp, "%v", err)
			return
		}
		s, ok := p.str(v, kp)
		if !ok {
			return
		}
		r, err := parseRight(s)
		if err != nil {
			p.add(v.Line, kp, "%v", err)
			return
		}
		prof.Shares = append(prof.Shares, ShareRight{Share: name, Right: r, Line: k.Line})
	})
}

// parseRight reads rw, ro, deny or default, as dsmctl share grant does.
func parseRight(s string) (dsm.Right, error) {
	if strings.EqualFold(s, "default") {
		return dsm.RightNone, nil
	}
	r, err := dsm.ParseRight(s)
	if err != nil || r == dsm.RightNone {
		return 0, fmt.Errorf("%q: want rw, ro, deny or default (no own row: the groups decide)", s)
	}
	return r, nil
}

func (p *parser) quotas(n *yaml.Node, path string, prof *Profile) {
	p.pairs(n, path, "volumes (/volume1) or shared folders (share:NAME) to sizes (20GiB, none)", func(target string, k, v *yaml.Node) {
		kp := path + "." + target
		q, err := parseQuotaTarget(target)
		if err != nil {
			p.add(k.Line, kp, "%v", err)
			return
		}
		if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!int") {
			p.add(v.Line, kp, "want a size such as 20GiB or none, got %s", kindName(v))
			return
		}
		limit, err := parseLimit(v.Value)
		if err != nil {
			p.add(v.Line, kp, "%v", err)
			return
		}
		if limit%dsm.MiB != 0 {
			p.add(v.Line, kp, "%s is not a whole number of MiB; DSM keeps quotas in MB (2^20 bytes)", v.Value)
			return
		}
		q.Limit, q.Line = limit, k.Line
		for _, o := range prof.Quotas {
			if o.key() == q.key() {
				p.add(k.Line, kp, "%s is given twice", q.key())
				return
			}
		}
		prof.Quotas = append(prof.Quotas, q)
	})
}

// parseQuotaTarget reads a quota's target as dsmctl quota set does
// (internal/cli/quota.go parseQuotaArg): a path is a volume, share:NAME
// or any other name a shared folder; a bare volume name (volume1) is
// refused with the library's message.
func parseQuotaTarget(t string) (QuotaEntry, error) {
	switch {
	case strings.HasPrefix(t, "/"):
		if err := dsm.ValidateVolume(t); err != nil {
			return QuotaEntry{}, err
		}
		return QuotaEntry{Volume: t}, nil
	case strings.HasPrefix(t, "share:"):
		name := strings.TrimPrefix(t, "share:")
		if err := dsm.ValidateShareName(name); err != nil {
			return QuotaEntry{}, err
		}
		return QuotaEntry{Share: name}, nil
	}
	if isVolumeName(t) || strings.HasPrefix(t, "volume:") {
		return QuotaEntry{}, dsm.ValidateVolume(strings.TrimPrefix(t, "volume:"))
	}
	if err := dsm.ValidateShareName(t); err != nil {
		return QuotaEntry{}, err
	}
	return QuotaEntry{Share: t}, nil
}

// isVolumeName reports whether s is a bare volume name (volume1), which
// a quota must give as its path.
func isVolumeName(s string) bool {
	rest, ok := strings.CutPrefix(s, "volume")
	return ok && rest != "" && strings.Trim(rest, "0123456789") == ""
}

// parseLimit reads a size ("none" is 0), as dsmctl quota set does.
func parseLimit(s string) (dsm.Bytes, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return 0, nil
	}
	return dsm.ParseBytes(s)
}

func (p *parser) apps(n *yaml.Node, path string, prof *Profile) {
	prof.appsSet = true
	p.pairs(n, path, "applications to allow, deny, default or {allow_from, deny_from}", func(app string, k, v *yaml.Node) {
		kp := path + "." + app
		e := AppEntry{App: app, Line: k.Line}
		if v.Kind == yaml.ScalarNode {
			s, ok := p.str(v, kp)
			if !ok {
				return
			}
			switch strings.ToLower(s) {
			case "allow":
				e.Allow = []string{dsm.AllAddresses}
			case "deny":
				e.Deny = []string{dsm.AllAddresses}
			case "default":
				e.Default = true
			default:
				p.add(v.Line, kp, "%q: want allow, deny, default or {allow_from: [...], deny_from: [...]}", s)
				return
			}
			prof.Apps = append(prof.Apps, e)
			return
		}
		addrs := func(v *yaml.Node, ap string) []string {
			l, ok := p.names(v, ap, dsm.ValidateAppAddress)
			if !ok {
				return nil
			}
			return l
		}
		before := len(p.list)
		p.fields(v, kp, map[string]func(k, v *yaml.Node){
			"allow_from": func(_, v *yaml.Node) { e.Allow = addrs(v, kp+".allow_from") },
			"deny_from":  func(_, v *yaml.Node) { e.Deny = addrs(v, kp+".deny_from") },
		})
		if len(p.list) > before {
			return
		}
		if v.Kind == yaml.MappingNode && len(e.Allow)+len(e.Deny) == 0 {
			p.add(v.Line, kp, "a rule needs allow_from or deny_from addresses; write default to have no rule")
			return
		}
		if len(e.Allow)+len(e.Deny) > dsm.MaxAppRuleAddresses {
			p.add(v.Line, kp, "%d addresses, more than %d", len(e.Allow)+len(e.Deny), dsm.MaxAppRuleAddresses)
			return
		}
		prof.Apps = append(prof.Apps, e)
	})
}

func (p *parser) speeds(n *yaml.Node, path string, prof *Profile) {
	p.pairs(n, path, "protocols ("+strings.Join(dsm.SpeedProtocols, ", ")+") to limits", func(proto string, k, v *yaml.Node) {
		kp := path + "." + proto
		i := slices.IndexFunc(dsm.SpeedProtocols, func(s string) bool { return strings.EqualFold(s, proto) })
		if i < 0 {
			p.add(k.Line, kp, "protocol %q: want one of %s", proto, strings.Join(dsm.SpeedProtocols, ", "))
			return
		}
		l := dsm.SpeedLimit{Protocol: dsm.SpeedProtocols[i]}
		if v.Kind == yaml.ScalarNode {
			if s, ok := p.str(v, kp); ok {
				if s != "off" {
					p.add(v.Line, kp, "%q: want off or {upload, download[, schedule, upload2, download2]}", s)
					return
				}
				l.Policy = dsm.SpeedDisabled
				prof.Speed = append(prof.Speed, SpeedEntry{Limit: l, Line: k.Line})
			}
			return
		}
		kbps := func(v *yaml.Node, ap string, dst *int) {
			if n, ok := p.integer(v, ap); ok {
				if n < 0 || n > dsm.MaxSpeedLimit {
					p.add(v.Line, ap, "%d KB/s: want 0 (no limit) to %d", n, dsm.MaxSpeedLimit)
					return
				}
				*dst = n
			}
		}
		p.fields(v, kp, map[string]func(k, v *yaml.Node){
			"upload":    func(_, v *yaml.Node) { kbps(v, kp+".upload", &l.Upload) },
			"download":  func(_, v *yaml.Node) { kbps(v, kp+".download", &l.Download) },
			"upload2":   func(_, v *yaml.Node) { kbps(v, kp+".upload2", &l.Upload2) },
			"download2": func(_, v *yaml.Node) { kbps(v, kp+".download2", &l.Download2) },
			"schedule": func(_, v *yaml.Node) {
				if s, ok := p.str(v, kp+".schedule"); ok {
					if err := dsm.ValidateSchedule(s); err != nil {
						p.add(v.Line, kp+".schedule", "%v", err)
						return
					}
					l.Schedule = s
				}
			},
		})
		if v.Kind != yaml.MappingNode {
			return
		}
		l.Policy = dsm.SpeedEnabled
		if l.Schedule != "" {
			l.Policy = dsm.SpeedScheduled
		} else if hasKey(v, "upload2") || hasKey(v, "download2") {
			p.add(v.Line, kp, "upload2 and download2 are for the hours a schedule marks 2; give a schedule")
			return
		}
		prof.Speed = append(prof.Speed, SpeedEntry{Limit: l, Line: k.Line})
	})
}

// homeService reads the top-level home_service.
func (p *parser) homeService(n *yaml.Node) *HomeService {
	h := &HomeService{Line: n.Line}
	enabled := false
	p.fields(n, "home_service", map[string]func(k, v *yaml.Node){
		"enabled": func(_, v *yaml.Node) { h.Enabled, enabled = p.boolean(v, "home_service.enabled") },
		"location": func(_, v *yaml.Node) {
			if s, ok := p.str(v, "home_service.location"); ok {
				if err := dsm.ValidateVolume(s); err != nil {
					p.add(v.Line, "home_service.location", "%v", err)
					return
				}
				h.Location = s
			}
		},
		"recycle_bin": func(_, v *yaml.Node) {
			if b, ok := p.boolean(v, "home_service.recycle_bin"); ok {
				h.RecycleBin = &b
			}
		},
	})
	if n.Kind == yaml.MappingNode && !enabled && !hasKey(n, "enabled") {
		p.add(n.Line, "home_service", "give enabled: true or false")
	}
	if h.Enabled && h.Location == "" && !hasKey(n, "location") {
		p.add(n.Line, "home_service", "enabled: true needs a location, the volume's path (/volume1)")
	}
	return h
}

// shareSpecs reads the top-level shares.
func (p *parser) shareSpecs(n *yaml.Node, f *File) {
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "shares", "want a list of shared folders, got %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i, sn := range n.Content {
		path := fmt.Sprintf("shares[%d]", i)
		s := ShareSpec{Line: sn.Line}
		boolPtr := func(v *yaml.Node, key string, dst **bool) {
			if b, ok := p.boolean(v, path+"."+key); ok {
				*dst = &b
			}
		}
		p.fields(sn, path, map[string]func(k, v *yaml.Node){
			"name": func(_, v *yaml.Node) {
				if name, ok := p.str(v, path+".name"); ok {
					if err := dsm.ValidateShareName(name); err != nil {
						p.add(v.Line, path+".name", "%v", err)
						return
					}
					s.Name = name
				}
			},
			"volume": func(_, v *yaml.Node) {
				if vol, ok := p.str(v, path+".volume"); ok {
					if err := dsm.ValidateVolume(vol); err != nil {
						p.add(v.Line, path+".volume", "%v", err)
						return
					}
					s.Volume = vol
				}
			},
			"description": func(_, v *yaml.Node) {
				if d, ok := p.str(v, path+".description"); ok {
					s.Description = &d
				}
			},
			"hidden":      func(_, v *yaml.Node) { boolPtr(v, "hidden", &s.Hidden) },
			"recycle_bin": func(_, v *yaml.Node) { boolPtr(v, "recycle_bin", &s.RecycleBin) },
		})
		if sn.Kind != yaml.MappingNode {
			continue
		}
		if s.Name == "" {
			if !hasKey(sn, "name") {
				p.add(sn.Line, path, "a shared folder needs a name")
			}
			continue
		}
		if s.Volume == "" && !hasKey(sn, "volume") {
			p.add(sn.Line, path, "shared folder %s needs a volume, by its path (/volume1)", s.Name)
			continue
		}
		if first, dup := seen[fold(s.Name)]; dup {
			p.add(sn.Line, path, "shared folder %s is already described on line %d", s.Name, first)
			continue
		}
		seen[fold(s.Name)] = sn.Line
		f.Shares = append(f.Shares, s)
	}
}

// normalAddress is an address of an application rule as the library
// writes it (a prefix of one address is the address, 0.0.0.0/0 is
// dsm.AllAddresses), so that the file's and the NAS's compare.
func normalAddress(a string) string {
	if pr, err := netip.ParsePrefix(a); err == nil {
		if pr.Bits() == 0 && pr.Addr().Is4() {
			return dsm.AllAddresses
		}
		if pr.IsSingleIP() {
			return pr.Addr().String()
		}
	}
	return a
}
