package manifest

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/dsmkit/dsm"
)

// Settings are the keys of password_policy or password_expiry that a file
// gives, in file order. Keys it does not give keep the NAS's values.
type Settings struct {
	Keys []Setting
	// Line is where the section starts.
	Line int
}

// Setting is one key of a Settings: a number, or a boolean as 0 or 1.
type Setting struct {
	Key   string
	Value int
	Line  int
}

// nasSettings are the NAS's policies, which settings read and change.
type nasSettings struct {
	Policy dsm.PasswordPolicy
	Expiry dsm.PasswordExpiry
	// The security section's: read only when a file has one, or to
	// export.
	AutoBlock   dsm.AutoBlock
	Protection  dsm.AccountProtection
	Enforcement dsm.TwoStepEnforcement
	Allow       []string // normalized (dsm.ParseAddressRule), sorted
}

// settingDef is a key of password_policy or password_expiry.
type settingDef struct {
	key      string
	isInt    bool
	min, max int
	hint     string // after the range in an out-of-range message
	get      func(*nasSettings) int
	set      func(*nasSettings, int)
}

func boolSetting(key string, field func(*nasSettings) *bool) settingDef {
	return settingDef{key: key,
		get: func(s *nasSettings) int { return b2i(*field(s)) },
		set: func(s *nasSettings, v int) { *field(s) = v != 0 }}
}

// switchedInt is a number that a flag turns on: 0 in the file means off.
func switchedInt(key string, max int, on func(*nasSettings) *bool, n func(*nasSettings) *int) settingDef {
	return settingDef{key: key, isInt: true, min: 0, max: max, hint: " (0 turns it off)",
		get: func(s *nasSettings) int {
			if !*on(s) {
				return 0
			}
			return *n(s)
		},
		set: func(s *nasSettings, v int) {
			*on(s) = v != 0
			if v != 0 {
				*n(s) = v
			}
		}}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// policySettings are the keys of password_policy.
var policySettings = []settingDef{
	switchedInt("min_length", dsm.MaxPasswordLength, func(s *nasSettings) *bool { return &s.Policy.Strong.MinLengthEnabled }, func(s *nasSettings) *int { return &s.Policy.Strong.MinLength }),
	boolSetting("mixed_case", func(s *nasSettings) *bool { return &s.Policy.Strong.MixedCase }),
	boolSetting("digit", func(s *nasSettings) *bool { return &s.Policy.Strong.Digit }),
	boolSetting("special", func(s *nasSettings) *bool { return &s.Policy.Strong.Special }),
	boolSetting("exclude_username", func(s *nasSettings) *bool { return &s.Policy.Strong.ExcludeUsername }),
	boolSetting("exclude_common", func(s *nasSettings) *bool { return &s.Policy.Strong.ExcludeCommon }),
	switchedInt("history", dsm.MaxPasswordHistory, func(s *nasSettings) *bool { return &s.Policy.Strong.ExcludeHistory }, func(s *nasSettings) *int { return &s.Policy.Strong.HistoryCount }),
	boolSetting("reset_by_email", func(s *nasSettings) *bool { return &s.Policy.ResetByEmail }),
	boolSetting("must_change", func(s *nasSettings) *bool { return &s.Policy.MustChange }),
}

// expirySettings are the keys of password_expiry (besides never_expire).
var expirySettings = []settingDef{
	switchedInt("max_age", dsm.MaxPasswordAge, func(s *nasSettings) *bool { return &s.Expiry.Enabled }, func(s *nasSettings) *int { return &s.Expiry.MaxAge }),
	switchedInt("min_age", dsm.MaxPasswordMinAge, func(s *nasSettings) *bool { return &s.Expiry.MinAgeEnabled }, func(s *nasSettings) *int { return &s.Expiry.MinAge }),
	switchedInt("login_prompt_days", dsm.MaxLoginPromptDays, func(s *nasSettings) *bool { return &s.Expiry.LoginPrompt }, func(s *nasSettings) *int { return &s.Expiry.LoginPromptDays }),
	switchedInt("mail_notification_days", dsm.MaxMailNotificationDays, func(s *nasSettings) *bool { return &s.Expiry.MailNotification }, func(s *nasSettings) *int { return &s.Expiry.MailNotificationDays }),
	boolSetting("allow_reset_after_expired", func(s *nasSettings) *bool { return &s.Expiry.AllowResetAfterExpired }),
}

func findSetting(defs []settingDef, key string) *settingDef {
	for i := range defs {
		if defs[i].key == key {
			return &defs[i]
		}
	}
	return nil
}

// settings reads a password_policy or password_expiry section. extra, when
// not nil, takes the never_expire key.
func (p *parser) settings(n *yaml.Node, path string, defs []settingDef, extra func(*yaml.Node)) *Settings {
	out := &Settings{Line: n.Line}
	known := map[string]func(k, v *yaml.Node){}
	for _, d := range defs {
		known[d.key] = func(_, v *yaml.Node) {
			kp := path + "." + d.key
			if d.isInt {
				x, ok := p.integer(v, kp)
				if !ok {
					return
				}
				if x < d.min || x > d.max {
					p.add(v.Line, kp, "%d is out of range: want %d to %d%s", x, d.min, d.max, d.hint)
					return
				}
				out.Keys = append(out.Keys, Setting{Key: d.key, Value: x, Line: v.Line})
				return
			}
			if b, ok := p.boolean(v, kp); ok {
				out.Keys = append(out.Keys, Setting{Key: d.key, Value: b2i(b), Line: v.Line})
			}
		}
	}
	if extra != nil {
		known["never_expire"] = func(_, v *yaml.Node) { extra(v) }
	}
	p.fields(n, path, known)
	return out
}

// format renders a setting's value as the file writes it.
func (d *settingDef) format(v int) string {
	if d.isInt {
		return fmt.Sprint(v)
	}
	return fmt.Sprint(v != 0)
}
