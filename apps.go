package dsm

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// App is one application of DSM's privilege catalogue. The catalogue
// depends on the packages installed on the NAS (math65/dsmaccess
// DSMPermissionService.swift, DSM 7.4).
type App struct {
	// ID is DSM's identifier, such as "SYNO.FTP" or "SYNO.Desktop".
	ID string `json:"id"`
	// Name is the name DSM shows, in the session's language.
	Name string `json:"name"`
	// GrantByDefault says whether a user with no rule (of their own, of
	// a group, or for everyone) may use the application.
	GrantByDefault bool `json:"grant_by_default"`
}

// AllAddresses is what DSM writes in a rule's address list for "from
// every address" (math65/dsmaccess DSMApplicationPrivilege.swift).
const AllAddresses = "0.0.0.0"

// AppRule is the rule of one user or group for one application: the
// addresses it may use it from and those it may not. A rule with
// AllAddresses in Allow is a plain allow, with AllAddresses in Deny a
// plain deny; other addresses make an address-restricted rule.
type AppRule struct {
	// App is the application's ID.
	App string `json:"app"`
	// Allow and Deny are addresses: AllAddresses, an IPv4 or IPv6
	// address, or a prefix such as 10.0.0.0/8.
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// Decision says what the rule does in a word: "allow" or "deny" when it
// covers every address, "custom" when it names addresses.
func (r AppRule) Decision() string {
	all := func(l []string) bool { return len(l) == 1 && l[0] == AllAddresses }
	switch {
	case all(r.Allow) && len(r.Deny) == 0:
		return "allow"
	case all(r.Deny) && len(r.Allow) == 0:
		return "deny"
	}
	return "custom"
}

// MaxAppRuleAddresses bounds the addresses of one rule. DSM publishes no
// limit; 64 is a choice, and the simulator keeps the same one.
const MaxAppRuleAddresses = 64

// ValidateAppAddress checks one address of an application rule:
// AllAddresses, an IP address, or an IP prefix (10.0.0.0/8). Which forms
// DSM takes beyond "0.0.0.0" and single addresses is not documented; a
// prefix is what a test of ychiu1211/dsmctl sends, so this package
// accepts those three, a choice.
func ValidateAppAddress(a string) error {
	if a == AllAddresses {
		return nil
	}
	if _, err := netip.ParseAddr(a); err == nil {
		return nil
	}
	if p, err := netip.ParsePrefix(a); err == nil {
		if p.Masked() != p {
			return invalid("address %q has bits set beyond its prefix; write %s", a, p.Masked())
		}
		return nil
	}
	return invalid("address %q: want %s (every address), an IP address, or a prefix such as 10.0.0.0/8", a, AllAddresses)
}

// normalizeAppAddress writes a prefix of one address as the bare address,
// and 0.0.0.0/0 as AllAddresses.
func normalizeAppAddress(a string) string {
	if p, err := netip.ParsePrefix(a); err == nil {
		if p.Bits() == 0 && p.Addr().Is4() {
			return AllAddresses
		}
		if p.IsSingleIP() {
			return p.Addr().String()
		}
	}
	return a
}

// validateAppID checks an application ID: not empty, no spaces, short.
func validateAppID(id string) error {
	if id == "" || len(id) > 128 || strings.ContainsAny(id, " \t\r\n\"") {
		return invalid("application %q: want an ID from the catalogue (dsmctl app list), such as SYNO.FTP", id)
	}
	return nil
}

// AppsService reads DSM's application catalogue and the application
// rules of users and groups (SYNO.Core.AppPriv.App and
// SYNO.Core.AppPriv.Rule).
type AppsService struct {
	c *Client
}

// List returns the applications whose use DSM controls.
//
// DSM: SYNO.Core.AppPriv.App list.
func (s *AppsService) List(ctx context.Context) ([]App, error) {
	var d struct {
		Applications []struct {
			AppID          string   `json:"app_id"`
			Name           any      `json:"name"`
			GrantByDefault flexBool `json:"grant_by_default"`
		} `json:"applications"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.AppPriv.App", "list", Params{}, &d)); err != nil {
		return nil, err
	}
	out := make([]App, 0, len(d.Applications))
	for _, a := range d.Applications {
		if a.AppID == "" {
			continue
		}
		// The name is a string (N4S4/synology-api
		// ApplicationPrivileges.py) or, in one client's fixture, a list
		// of one (ychiu1211/dsmctl): both are read, the ID when neither.
		name := a.AppID
		switch n := a.Name.(type) {
		case string:
			if n != "" {
				name = n
			}
		case []any:
			if len(n) > 0 {
				if s, ok := n[0].(string); ok && s != "" {
					name = s
				}
			}
		}
		out = append(out, App{ID: a.AppID, Name: name, GrantByDefault: bool(a.GrantByDefault)})
	}
	return out, nil
}

// entity returns the entity_type and entity_name of p in
// SYNO.Core.AppPriv.Rule (math65/dsmaccess: "user" or "group").
func (p Principal) entity() Params {
	t := "user"
	if p.Group {
		t = "group"
	}
	return Params{"entity_type": t, "entity_name": p.Name}
}

// noSuchPrincipal makes DSM's 3403 of SYNO.Core.AppPriv.Rule ("no such
// user or group", DSM's app_privilege message keys) match ErrNoSuchUser
// or ErrNoSuchGroup, whichever p is, as SYNO.Core.User's 3106 and
// SYNO.Core.Group's 3204 do; the *APIError stays reachable with
// errors.As.
func noSuchPrincipal(p Principal, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 3403 || !strings.HasPrefix(ae.API, "SYNO.Core.AppPriv") {
		return err
	}
	sentinel := ErrNoSuchUser
	if p.Group {
		sentinel = ErrNoSuchGroup
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// Rules returns the rules of a user or a group, one per application that
// has one; an application without a rule follows the groups' rules and
// its default.
//
// DSM: SYNO.Core.AppPriv.Rule get.
func (s *AppsService) Rules(ctx context.Context, p Principal) ([]AppRule, error) {
	if err := p.validate(); err != nil {
		return nil, argError("get application rules", err)
	}
	var d appRulesWire
	if err := s.c.do(ctx, newRead("SYNO.Core.AppPriv.Rule", "get", p.entity(), &d)); err != nil {
		return nil, noSuchPrincipal(p, err)
	}
	return d.rules(p), nil
}

// appRulesWire is the answer of SYNO.Core.AppPriv.Rule get.
type appRulesWire struct {
	Rules []struct {
		AppID      string   `json:"app_id"`
		AllowIP    []string `json:"allow_ip"`
		DenyIP     []string `json:"deny_ip"`
		EntityType string   `json:"entity_type"`
		EntityName string   `json:"entity_name"`
	} `json:"rules"`
}

// rules are the rules of p in d.
func (d appRulesWire) rules(p Principal) []AppRule {
	want := p.entity()["entity_type"]
	out := make([]AppRule, 0, len(d.Rules))
	for _, r := range d.Rules {
		// A rule of another entity (everyone, as the per-app list shows
		// it in N4S4/synology-api) is not this principal's.
		if r.AppID == "" || (r.EntityType != "" && r.EntityType != want) || (r.EntityName != "" && !strings.EqualFold(r.EntityName, p.Name)) {
			continue
		}
		out = append(out, AppRule{App: r.AppID, Allow: nonNil(r.AllowIP), Deny: nonNil(r.DenyIP)})
	}
	return out
}

// appRuleWire is one rule of SYNO.Core.AppPriv.Rule set
// (math65/dsmaccess, N4S4/synology-api ApplicationPrivileges.py).
type appRuleWire struct {
	AppID      string   `json:"app_id"`
	EntityType string   `json:"entity_type"`
	EntityName string   `json:"entity_name"`
	AllowIP    []string `json:"allow_ip"`
	DenyIP     []string `json:"deny_ip"`
}

// SetRules sets rules of a user or a group; the applications not named
// keep theirs. A rule with neither Allow nor Deny is refused: reverting
// to the default is Default.
//
// DSM: SYNO.Core.AppPriv.Rule set.
func (s *AppsService) SetRules(ctx context.Context, p Principal, rules ...AppRule) error {
	r, err := rulesSetRequest(p, rules)
	if err != nil {
		return err
	}
	return noSuchPrincipal(p, s.c.do(ctx, r))
}

// rulesSetRequest checks rules and returns the SYNO.Core.AppPriv.Rule
// set that writes them.
func rulesSetRequest(p Principal, rules []AppRule) (*request, error) {
	op := "set application rules"
	if err := p.validate(); err != nil {
		return nil, argError(op, err)
	}
	op = fmt.Sprintf("set application rules of %s", p)
	if len(rules) == 0 {
		return nil, argErrorf(op, "no rule given")
	}
	e := p.entity()
	wire := make([]appRuleWire, 0, len(rules))
	for _, r := range rules {
		if err := validateAppID(r.App); err != nil {
			return nil, argError(op, err)
		}
		if len(r.Allow) == 0 && len(r.Deny) == 0 {
			return nil, argErrorf(op, "rule for %s allows and denies nothing; DSM has no empty rule: use Default to go back to the default", r.App)
		}
		if len(r.Allow)+len(r.Deny) > MaxAppRuleAddresses {
			return nil, argErrorf(op, "rule for %s has %d addresses, more than %d", r.App, len(r.Allow)+len(r.Deny), MaxAppRuleAddresses)
		}
		w := appRuleWire{AppID: r.App, EntityType: e["entity_type"].(string), EntityName: p.Name, AllowIP: []string{}, DenyIP: []string{}}
		for _, a := range r.Allow {
			if err := ValidateAppAddress(a); err != nil {
				return nil, argError(op, err)
			}
			w.AllowIP = append(w.AllowIP, normalizeAppAddress(a))
		}
		for _, a := range r.Deny {
			if err := ValidateAppAddress(a); err != nil {
				return nil, argError(op, err)
			}
			w.DenyIP = append(w.DenyIP, normalizeAppAddress(a))
		}
		wire = append(wire, w)
	}
	return newSafeChange("SYNO.Core.AppPriv.Rule", "set", Params{"rules": wire}, nil), nil
}

// Allow lets a user or a group use an application, from the given
// addresses only, or from every address when none is given.
//
// DSM: SYNO.Core.AppPriv.Rule set.
func (s *AppsService) Allow(ctx context.Context, p Principal, app string, from ...string) error {
	if len(from) == 0 {
		from = []string{AllAddresses}
	}
	return s.SetRules(ctx, p, AppRule{App: app, Allow: from})
}

// Deny keeps a user or a group from using an application, from the given
// addresses, or from every address when none is given.
//
// DSM: SYNO.Core.AppPriv.Rule set.
func (s *AppsService) Deny(ctx context.Context, p Principal, app string, from ...string) error {
	if len(from) == 0 {
		from = []string{AllAddresses}
	}
	return s.SetRules(ctx, p, AppRule{App: app, Deny: from})
}

// Default removes the rules of a user or a group for the applications
// named, which then follow the groups' rules and their defaults. DSM
// has no "no rule" value: this is a delete (math65/dsmaccess, DSM 7.4).
//
// DSM: SYNO.Core.AppPriv.Rule delete.
func (s *AppsService) Default(ctx context.Context, p Principal, apps ...string) error {
	r, err := rulesDeleteRequest(p, apps)
	if err != nil {
		return err
	}
	return noSuchPrincipal(p, s.c.do(ctx, r))
}

// rulesDeleteRequest checks apps and returns the SYNO.Core.AppPriv.Rule
// delete of their rules.
func rulesDeleteRequest(p Principal, apps []string) (*request, error) {
	op := "reset application rules"
	if err := p.validate(); err != nil {
		return nil, argError(op, err)
	}
	op = fmt.Sprintf("reset application rules of %s", p)
	if len(apps) == 0 {
		return nil, argErrorf(op, "no application given")
	}
	type ref struct {
		AppID      string `json:"app_id"`
		EntityType string `json:"entity_type"`
		EntityName string `json:"entity_name"`
	}
	e := p.entity()
	refs := make([]ref, 0, len(apps))
	for _, a := range apps {
		if err := validateAppID(a); err != nil {
			return nil, argError(op, err)
		}
		refs = append(refs, ref{a, e["entity_type"].(string), p.Name})
	}
	return newSafeChange("SYNO.Core.AppPriv.Rule", "delete", Params{"rules": refs}, nil), nil
}
