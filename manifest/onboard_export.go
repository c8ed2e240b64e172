package manifest

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dsmkit/dsm"
)

// exportOnboard adds to f what Export reads of onboarding: the home
// service, every shared folder but homes (the home service's), and for
// each user and group their own rights (rows other than default), their
// quotas other than none, their application rules and their speed limits
// other than DSM's notexist. What is left out is what a plan leaves
// alone, so planning the export against the same NAS changes nothing.
func exportOnboard(n *nas, f *File) {
	o := n.onboard
	if o == nil {
		return
	}
	if o.home != nil {
		h := &HomeService{Enabled: o.home.Enabled, RecycleBin: dsm.Ptr(o.home.RecycleBin)}
		if o.home.Enabled {
			h.Location = o.home.Location
		}
		f.HomeService = h
	}
	for _, s := range o.shares {
		if fold(s.Name) == fold("homes") {
			continue
		}
		f.Shares = append(f.Shares, ShareSpec{Name: s.Name, Volume: s.Volume, Description: dsm.Ptr(s.Description), Hidden: dsm.Ptr(s.Hidden), RecycleBin: dsm.Ptr(s.RecycleBin)})
	}
	slices.SortFunc(f.Shares, func(a, b ShareSpec) int { return cmpFold(a.Name, b.Name) })
	for i := range f.Groups {
		f.Groups[i].Profile = exportProfile(o.profiles[principalKey(dsm.GroupPrincipal(f.Groups[i].Name))])
	}
	for i := range f.Users {
		f.Users[i].Profile = exportProfile(o.profiles[principalKey(dsm.UserPrincipal(f.Users[i].Name))])
	}
}

func exportProfile(st *principalState) *Profile {
	if st == nil {
		return nil
	}
	prof := &Profile{}
	for _, row := range st.rights {
		if row.Right != dsm.RightNone {
			prof.Shares = append(prof.Shares, ShareRight{Share: row.Share, Right: row.Right})
		}
	}
	slices.SortFunc(prof.Shares, func(a, b ShareRight) int { return cmpFold(a.Share, b.Share) })
	for _, q := range st.quotas {
		if q.Limit != 0 {
			prof.Quotas = append(prof.Quotas, QuotaEntry{Volume: q.Volume, Share: q.Share, Limit: q.Limit})
		}
	}
	for _, r := range st.rules {
		prof.Apps = append(prof.Apps, AppEntry{App: r.App, Allow: r.Allow, Deny: r.Deny})
	}
	for _, l := range st.speed {
		if l.Policy != dsm.SpeedNotSet {
			prof.Speed = append(prof.Speed, SpeedEntry{Limit: l})
		}
	}
	if len(prof.Shares)+len(prof.Quotas)+len(prof.Apps)+len(prof.Speed) == 0 {
		return nil
	}
	return prof
}

// onboardNodes adds the top-level home_service and shares of f.
func (f *File) onboardNodes(add func(string, *yaml.Node)) {
	if h := f.HomeService; h != nil {
		m := mapNode("enabled", boolNode(h.Enabled))
		if h.Location != "" {
			m.Content = append(m.Content, strNode("location"), strNode(h.Location))
		}
		if h.RecycleBin != nil {
			m.Content = append(m.Content, strNode("recycle_bin"), boolNode(*h.RecycleBin))
		}
		add("home_service", m)
	}
	if len(f.Shares) == 0 {
		return
	}
	l := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, s := range f.Shares {
		m := mapNode("name", strNode(s.Name), "volume", strNode(s.Volume))
		if s.Description != nil {
			m.Content = append(m.Content, strNode("description"), strNode(*s.Description))
		}
		if s.Hidden != nil {
			m.Content = append(m.Content, strNode("hidden"), boolNode(*s.Hidden))
		}
		if s.RecycleBin != nil {
			m.Content = append(m.Content, strNode("recycle_bin"), boolNode(*s.RecycleBin))
		}
		l.Content = append(l.Content, m)
	}
	add("shares", l)
}

// profileNodes adds the keys of a user's or group's profile.
func profileNodes(prof *Profile, kv func(string, *yaml.Node)) {
	if prof == nil {
		return
	}
	flow := func(m *yaml.Node) *yaml.Node { m.Style = yaml.FlowStyle; return m }
	if len(prof.Shares) > 0 || prof.sharesSet {
		m := flow(mapNode())
		for _, r := range prof.Shares {
			m.Content = append(m.Content, strNode(r.Share), strNode(rightWord(r.Right)))
		}
		kv("shares", m)
	}
	if len(prof.Quotas) > 0 {
		m := flow(mapNode())
		for _, q := range prof.Quotas {
			m.Content = append(m.Content, strNode(q.key()), strNode(limitWord(q.Limit)))
		}
		kv("quota", m)
	}
	if len(prof.Apps) > 0 || prof.appsSet {
		m := mapNode()
		for _, a := range prof.Apps {
			var v *yaml.Node
			switch w := ruleWord(a.Allow, a.Deny, !a.Default); {
			case w == "allow" || w == "deny" || w == "default":
				v = strNode(w)
			default:
				v = flow(mapNode())
				if len(a.Allow) > 0 {
					v.Content = append(v.Content, strNode("allow_from"), listNode(a.Allow))
				}
				if len(a.Deny) > 0 {
					v.Content = append(v.Content, strNode("deny_from"), listNode(a.Deny))
				}
			}
			m.Content = append(m.Content, strNode(a.App), v)
		}
		kv("apps", m)
	}
	if len(prof.Speed) > 0 {
		m := mapNode()
		for _, s := range prof.Speed {
			l := s.Limit
			var v *yaml.Node
			switch l.Policy {
			case dsm.SpeedDisabled:
				// Quoted: YAML 1.1 readers take a bare off for false.
				v = strNode("off")
				v.Style = yaml.DoubleQuotedStyle
			case dsm.SpeedScheduled:
				v = flow(mapNode("upload", intNode(l.Upload), "download", intNode(l.Download), "upload2", intNode(l.Upload2),
					"download2", intNode(l.Download2), "schedule", strNode(l.Schedule)))
			default:
				v = flow(mapNode("upload", intNode(l.Upload), "download", intNode(l.Download)))
			}
			m.Content = append(m.Content, strNode(strings.TrimSpace(l.Protocol)), v)
		}
		kv("speed", m)
	}
}
