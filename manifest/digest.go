package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
)

// Absent is the digest of an object the NAS did not have when Plan read
// it (a user or group the plan creates).
const Absent = "absent"

// Digests returns, for each object the plan touches, a digest of the
// object as Plan read it from the NAS, or Absent: "user NAME" and "group
// NAME" for each user and group the plan creates, changes or deletes,
// and "password_policy", "password_expiry" and the Section names of the
// security section for a section it changes.
// The password policy is also listed when the plan sets a password: the
// password was checked against it, and a generated one is made to fit
// it. A program that saves a plan to apply later compares these digests
// with those of a new Plan, made just before it applies, to refuse a
// plan that the NAS has outrun. No digest depends on a password.
func (p *Plan) Digests() map[string]string {
	out := map[string]string{}
	if p.read == nil {
		return out
	}
	for _, s := range p.Settings {
		out[s.Section] = p.Digest(s.Section)
	}
	for _, g := range p.Groups {
		out["group "+g.Name] = p.Digest("group " + g.Name)
	}
	for _, u := range p.Users {
		out["user "+u.Name] = p.Digest("user " + u.Name)
		if u.source != nil {
			out["password_policy"] = p.Digest("password_policy")
		}
	}
	return out
}

// Digest returns the digest of one object as Plan read it, named as
// Digests names it ("user NAME", "group NAME", "password_policy",
// "password_expiry"), whether the plan touches it or not: Absent for a
// user or group the NAS did not have, "" for a key of no object.
func (p *Plan) Digest(key string) string {
	n := p.read
	if n == nil {
		return ""
	}
	switch {
	case key == "password_policy":
		return digest(n.settings.Policy)
	case key == "password_expiry":
		return digest(n.settings.Expiry)
	case key == SectionTwoStep:
		return digest(n.settings.Enforcement)
	case key == SectionAutoBlock:
		return digest(n.settings.AutoBlock)
	case key == SectionAccountProtection:
		return digest(n.settings.Protection)
	case key == SectionAllow:
		return digest(n.settings.Allow)
	case strings.HasPrefix(key, "user "):
		cur, ok := n.users[fold(strings.TrimPrefix(key, "user "))]
		if !ok {
			return Absent
		}
		cur.Groups = slices.Sorted(slices.Values(cur.Groups))
		cur.InheritedGroups = slices.Sorted(slices.Values(cur.InheritedGroups))
		return digest(cur)
	case strings.HasPrefix(key, "group "):
		cur, ok := n.groups[fold(strings.TrimPrefix(key, "group "))]
		if !ok {
			return Absent
		}
		return digest(cur)
	}
	return ""
}

// digest is "sha256:" and the hex SHA-256 of v's JSON.
func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// The values digested are plain structs: this cannot happen, and
		// a digest that never matches makes a saved plan refused.
		return "unreadable"
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PasswordSource returns where the password the change sets comes from,
// or nil when it sets none.
func (u UserChange) PasswordSource() *PasswordSource { return u.source }
