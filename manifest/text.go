package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// String shows the plan as a diff: "+" creates, "~" changes, "-"
// deletes, one line per field, and a count at the end.
func (p *Plan) String() string {
	var b strings.Builder
	if p.Empty() {
		return "No changes: the NAS matches " + p.file + ".\n"
	}
	for _, s := range p.Settings {
		fmt.Fprintf(&b, "~ %s\n", s.Section)
		writeChanges(&b, s.Changes, false)
	}
	for _, g := range p.Groups {
		if g.Action == ActionDelete {
			continue
		}
		fmt.Fprintf(&b, "%s group %s\n", sign(g.Action), g.Name)
		writeChanges(&b, g.Changes, g.Action == ActionCreate)
	}
	for _, u := range p.Users {
		if u.Action == ActionDelete {
			continue
		}
		fmt.Fprintf(&b, "%s user %s\n", sign(u.Action), u.Name)
		writeChanges(&b, u.Changes, u.Action == ActionCreate)
		if len(u.Join) > 0 || len(u.Leave) > 0 {
			var parts []string
			for _, g := range u.Join {
				parts = append(parts, "+"+g)
			}
			for _, g := range u.Leave {
				parts = append(parts, "-"+g)
			}
			fmt.Fprintf(&b, "    groups: %s\n", strings.Join(parts, " "))
		}
		if u.Password != "" {
			fmt.Fprintf(&b, "    password: %s\n", u.Password)
		}
	}
	p.writeOnboard(&b)
	for _, u := range p.Users {
		if u.Action == ActionDelete {
			fmt.Fprintf(&b, "- user %s\n", u.Name)
		}
	}
	for _, g := range p.Groups {
		if g.Action == ActionDelete {
			fmt.Fprintf(&b, "- group %s\n", g.Name)
		}
	}
	c, u, d := p.Counts()
	fmt.Fprintf(&b, "Plan: %d to create, %d to change, %d to delete.\n", c, u, d)
	return b.String()
}

func sign(a Action) string {
	switch a {
	case ActionCreate:
		return "+"
	case ActionDelete:
		return "-"
	}
	return "~"
}

// writeChanges writes one line per field: "field: new" for a new user
// or group, "field: old -> new" for a change.
func writeChanges(b *strings.Builder, changes []Change, create bool) {
	for _, c := range changes {
		if create {
			fmt.Fprintf(b, "    %s: %s\n", c.Field, show(c.New))
			continue
		}
		fmt.Fprintf(b, "    %s: %s -> %s\n", c.Field, show(c.Old), show(c.New))
	}
}

// isWord reports whether s reads unambiguously without quotes.
func isWord(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \"'\t") && strings.TrimSpace(s) == s
}

func show(s string) string {
	if isWord(s) {
		return s
	}
	return strconv.Quote(s)
}
