package manifest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dsmkit/dsm"
)

// Security is the security section of a file: DSM's sign-in protection
// and 2-step enforcement. Nil parts are not managed: the NAS keeps what
// it has.
type Security struct {
	// TwoStep is whose accounts must have 2-step verification
	// (two_step_enforcement: none, admins or all), nil when not given.
	TwoStep *dsm.TwoStepEnforcement
	// AutoBlock and AccountProtection hold the keys the file gives, as
	// password_policy does.
	AutoBlock         *Settings
	AccountProtection *Settings
	// Allow is the whole allow list (allow), each entry normalized as
	// dsm.ParseAddressRule does; nil when not given, empty to clear it.
	Allow []string
	// Line is where the section starts.
	Line int

	twoStepLine, allowLine int
}

// The sections of a plan that the security section changes, as
// SettingsChange.Section and Digests name them.
const (
	SectionTwoStep           = "security.two_step_enforcement"
	SectionAutoBlock         = "security.auto_block"
	SectionAccountProtection = "security.account_protection"
	SectionAllow             = "security.allow"
)

// enforcementNames are the words of two_step_enforcement, those of
// "dsmctl policy 2fa set --enforce"; DSM's own values (admin, user) are
// read too.
var enforcementNames = []struct {
	name string
	e    dsm.TwoStepEnforcement
}{{"none", dsm.EnforceNone}, {"admins", dsm.EnforceAdmins}, {"all", dsm.EnforceAll}, {"custom", dsm.EnforceCustom}}

func parseEnforcement(v string) (dsm.TwoStepEnforcement, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	for _, n := range enforcementNames {
		if v == n.name || v == string(n.e) {
			return n.e, true
		}
	}
	return "", false
}

// enforcementName is how the file writes e.
func enforcementName(e dsm.TwoStepEnforcement) string {
	for _, n := range enforcementNames {
		if n.e == e {
			return n.name
		}
	}
	return string(e)
}

// intSetting is a number from min to max.
func intSetting(key string, min, max int, hint string, n func(*nasSettings) *int) settingDef {
	return settingDef{key: key, isInt: true, min: min, max: max, hint: hint,
		get: func(s *nasSettings) int { return *n(s) },
		set: func(s *nasSettings, v int) { *n(s) = v }}
}

// autoBlockSettings are the keys of security.auto_block, with the
// library's bounds.
var autoBlockSettings = []settingDef{
	boolSetting("enabled", func(s *nasSettings) *bool { return &s.AutoBlock.Enabled }),
	intSetting("attempts", dsm.AutoBlockMinAttempts, dsm.AutoBlockMaxAttempts, "", func(s *nasSettings) *int { return &s.AutoBlock.Attempts }),
	intSetting("within_minutes", 1, dsm.AutoBlockMaxWithinMinutes, "", func(s *nasSettings) *int { return &s.AutoBlock.WithinMinutes }),
	intSetting("expire_days", 0, dsm.AutoBlockMaxExpireDays, " (0: never)", func(s *nasSettings) *int { return &s.AutoBlock.ExpireDays }),
}

// limitSettings are the keys of one threshold of account protection,
// prefixed untrusted_ or trusted_.
func limitSettings(prefix string, l func(*nasSettings) *dsm.LoginLimit) []settingDef {
	return []settingDef{
		intSetting(prefix+"attempts", 1, dsm.AccountProtectionMaxAttempts, "", func(s *nasSettings) *int { return &l(s).Attempts }),
		intSetting(prefix+"within_minutes", 1, dsm.AccountProtectionMaxWithinMinutes, "", func(s *nasSettings) *int { return &l(s).WithinMinutes }),
		intSetting(prefix+"lock_minutes", 1, dsm.AccountProtectionMaxLockMinutes, "", func(s *nasSettings) *int { return &l(s).LockMinutes }),
	}
}

// protectionSettings are the keys of security.account_protection.
var protectionSettings = slices.Concat(
	[]settingDef{boolSetting("enabled", func(s *nasSettings) *bool { return &s.Protection.Enabled })},
	limitSettings("untrusted_", func(s *nasSettings) *dsm.LoginLimit { return &s.Protection.Untrusted }),
	limitSettings("trusted_", func(s *nasSettings) *dsm.LoginLimit { return &s.Protection.Trusted }),
)

// security reads the security section.
func (p *parser) security(n *yaml.Node) *Security {
	out := &Security{Line: n.Line}
	p.fields(n, "security", map[string]func(k, v *yaml.Node){
		"two_step_enforcement": func(_, v *yaml.Node) {
			s, ok := p.str(v, "security.two_step_enforcement")
			if !ok {
				return
			}
			// custom, which export writes for DSM 7's policy of chosen
			// users and groups, plans only where the NAS has it.
			e, ok := parseEnforcement(s)
			if !ok {
				p.add(v.Line, "security.two_step_enforcement", "%.16q: want none, admins or all", s)
				return
			}
			out.TwoStep, out.twoStepLine = &e, v.Line
		},
		"auto_block": func(_, v *yaml.Node) {
			out.AutoBlock = p.settings(v, "security.auto_block", autoBlockSettings, nil)
		},
		"account_protection": func(_, v *yaml.Node) {
			out.AccountProtection = p.settings(v, "security.account_protection", protectionSettings, nil)
		},
		"allow": func(_, v *yaml.Node) {
			list, ok := p.names(v, "security.allow", func(s string) error {
				_, err := dsm.ParseAddressRule(s)
				return err
			})
			if !ok {
				return
			}
			out.Allow, out.allowLine = normalizeRules(list), v.Line
			if len(out.Allow) > dsm.MaxAddressRules {
				p.add(v.Line, "security.allow", "%d entries: DSM's lists hold at most %d", len(out.Allow), dsm.MaxAddressRules)
			}
		},
	})
	return out
}

// normalizeRules returns the entries as dsm.ParseAddressRule writes them,
// sorted, without repeats; an entry it refuses is kept as it is (the
// NAS's list is shown as the NAS gives it).
func normalizeRules(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if n, err := dsm.ParseAddressRule(s); err == nil {
			s = n
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// readSecurity reads what the security section manages.
//
// DSM: SYNO.Core.OTP.EnforcePolicy get, SYNO.Core.Security.AutoBlock get,
// SYNO.Core.SmartBlock get, SYNO.Core.Security.AutoBlock.Rules list.
func readSecurity(ctx context.Context, c *dsm.Client, s *nasSettings) error {
	var err error
	if s.Enforcement, err = c.TwoStep.Enforcement(ctx); err != nil {
		return fmt.Errorf("manifest: reading the 2-step enforcement: %w", err)
	}
	if s.AutoBlock, err = c.Security.AutoBlock(ctx); err != nil {
		return fmt.Errorf("manifest: reading the auto-block settings: %w", err)
	}
	if s.Protection, err = c.Security.AccountProtection(ctx); err != nil {
		return fmt.Errorf("manifest: reading the account protection settings: %w", err)
	}
	rules, err := c.Security.AllowList(ctx)
	if err != nil {
		return fmt.Errorf("manifest: reading the allow list: %w", err)
	}
	list := make([]string, 0, len(rules))
	for _, r := range rules {
		list = append(list, r.Address)
	}
	s.Allow = normalizeRules(list)
	return nil
}

// planSecurity applies the file's security section to plan.settings and
// adds its changes, and its problems to probs.
func planSecurity(sec *Security, plan *Plan, probs *problems) {
	s := &plan.settings
	if sec.TwoStep != nil && *sec.TwoStep != s.Enforcement {
		if *sec.TwoStep == dsm.EnforceCustom {
			probs.add(sec.twoStepLine, SectionTwoStep, "custom (chosen users and groups) is set in DSM; use none, admins or all")
		}
		plan.Settings = append(plan.Settings, SettingsChange{Section: SectionTwoStep, Line: sec.twoStepLine,
			Changes: []Change{{Field: "two_step_enforcement", Old: enforcementName(s.Enforcement), New: enforcementName(*sec.TwoStep)}}})
		s.Enforcement = *sec.TwoStep
		plan.twoStep = true
	}
	if sec.AutoBlock != nil {
		if sc := planSettings(SectionAutoBlock, sec.AutoBlock, autoBlockSettings, s); sc != nil {
			plan.Settings = append(plan.Settings, *sc)
			plan.autoBlock = true
			if err := s.AutoBlock.Validate(); err != nil {
				probs.add(sec.AutoBlock.Line, SectionAutoBlock, "%v", err)
			}
		}
	}
	if sec.AccountProtection != nil {
		if sc := planSettings(SectionAccountProtection, sec.AccountProtection, protectionSettings, s); sc != nil {
			plan.Settings = append(plan.Settings, *sc)
			plan.protection = true
			if err := s.Protection.Validate(); err != nil {
				probs.add(sec.AccountProtection.Line, SectionAccountProtection, "%v", err)
			}
		}
	}
	if sec.Allow != nil && !slices.Equal(sec.Allow, s.Allow) {
		plan.Settings = append(plan.Settings, SettingsChange{Section: SectionAllow, Line: sec.allowLine,
			Changes: []Change{{Field: "allow", Old: strings.Join(s.Allow, ", "), New: strings.Join(sec.Allow, ", ")}}})
		plan.allowAdd = without(sec.Allow, s.Allow)
		plan.allowRemove = without(s.Allow, sec.Allow)
		s.Allow = slices.Clone(sec.Allow)
	}
}

// coversPlanner reports whether enforcement e covers the account that
// plans and applies it. The policy is set in DSM's Control Panel
// (Security > Account), an administrator's page, so admins ("admin", the
// administrators group) and all ("user") are taken to cover it always,
// as dsmctl policy 2fa set does. That is a choice on the safe side:
// were an account outside administrators able to set it (whether DSM's
// delegated administration allows that is not known), it would be held
// back needlessly under admins, and can pass AllowLockout. custom names
// chosen users and groups, which the file cannot set.
func coversPlanner(e dsm.TwoStepEnforcement) bool {
	return e == dsm.EnforceAdmins || e == dsm.EnforceAll
}

// readOwnTwoStep reads whether the account planning has 2-step
// verification, into n.ownTwoStep, when f's two_step_enforcement would
// change to one that covers it and opts do not allow a lockout; other
// plans make no call.
//
// DSM: SYNO.Core.OTP get_one.
func readOwnTwoStep(ctx context.Context, c *dsm.Client, n *nas, f *File, opts PlanOptions) error {
	if opts.AllowLockout || f.Security == nil || f.Security.TwoStep == nil {
		return nil
	}
	if e := *f.Security.TwoStep; e == n.settings.Enforcement || !coversPlanner(e) {
		return nil
	}
	on, err := c.TwoStep.Enabled(ctx)
	if err != nil {
		return fmt.Errorf("manifest: reading whether your own account has 2-step verification (two_step_enforcement would require it): %w", err)
	}
	n.ownTwoStep = &on
	return nil
}

// checkLockout adds a problem when the plan sets a two_step_enforcement
// that covers the account planning while that account has no 2-step
// verification: DSM answers a covered account without it code 406 at
// login ("OTP code enforced", N4S4/synology-api
// synology_api/error_codes.py), so after apply the account could not
// sign in again. dsmctl policy 2fa set
// refuses the same change unless --force. It needs n.ownTwoStep, which
// readOwnTwoStep leaves nil with PlanOptions.AllowLockout.
func checkLockout(sec *Security, plan *Plan, probs *problems) {
	n := plan.read
	if !plan.twoStep || !coversPlanner(plan.settings.Enforcement) || n == nil || n.ownTwoStep == nil || *n.ownTwoStep {
		return
	}
	who := n.me
	if who == "" {
		who = "the account applying it"
	}
	probs.add(sec.twoStepLine, SectionTwoStep, "%s covers %s, the account applying it, which has no 2-step verification: after apply it could not sign in again (DSM answers 406); "+
		"set it up first (dsmctl 2fa setup), or pass --allow-lockout to apply it anyway", enforcementName(plan.settings.Enforcement), who)
}

// without returns the entries of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// securityJobs are the apply steps of the security section: the allow
// list first, so that an address it adds is not blocked by the new
// auto-block settings, then auto-block, account protection and 2-step
// enforcement.
func (p *Plan) securityJobs(c *dsm.Client) []job {
	var jobs []job
	if len(p.allowAdd) > 0 || len(p.allowRemove) > 0 {
		add, remove := p.allowAdd, p.allowRemove
		jobs = append(jobs, job{item: SectionAllow, action: ActionUpdate, run: func(ctx context.Context) error {
			if len(add) > 0 {
				if err := c.Security.Allow(ctx, add...); err != nil {
					return step("add", err)
				}
			}
			if len(remove) > 0 {
				return step("remove", c.Security.Disallow(ctx, remove...))
			}
			return nil
		}})
	}
	if p.autoBlock {
		a := p.settings.AutoBlock
		jobs = append(jobs, job{item: SectionAutoBlock, action: ActionUpdate, run: func(ctx context.Context) error {
			return step("set", c.Security.SetAutoBlock(ctx, a))
		}})
	}
	if p.protection {
		a := p.settings.Protection
		jobs = append(jobs, job{item: SectionAccountProtection, action: ActionUpdate, run: func(ctx context.Context) error {
			return step("set", c.Security.SetAccountProtection(ctx, a))
		}})
	}
	if p.twoStep {
		e := p.settings.Enforcement
		jobs = append(jobs, job{item: SectionTwoStep, action: ActionUpdate, run: func(ctx context.Context) error {
			return step("set", c.TwoStep.SetEnforcement(ctx, e))
		}})
	}
	return jobs
}

// exportSecurity is the security section that describes s whole.
func exportSecurity(s *nasSettings) *Security {
	e := s.Enforcement
	sec := &Security{TwoStep: &e, AutoBlock: &Settings{}, AccountProtection: &Settings{}, Allow: slices.Clone(s.Allow)}
	if sec.Allow == nil {
		sec.Allow = []string{}
	}
	for _, d := range autoBlockSettings {
		sec.AutoBlock.Keys = append(sec.AutoBlock.Keys, Setting{Key: d.key, Value: d.get(s)})
	}
	for _, d := range protectionSettings {
		sec.AccountProtection.Keys = append(sec.AccountProtection.Keys, Setting{Key: d.key, Value: d.get(s)})
	}
	return sec
}
