package dsm

import (
	"context"
	"net/netip"
	"strings"
	"time"
)

// SecurityService reads and sets DSM's sign-in protection: auto-block of
// client addresses after failed logins, with its allow and block lists,
// and account protection, which locks an account after failed logins.
type SecurityService struct {
	c *Client
}

// AutoBlock are DSM's auto-block settings: Attempts failed logins from
// one address within WithinMinutes block it for ExpireDays days (0: until
// unblocked); blocked, its logins fail with ErrIPBlocked.
type AutoBlock struct {
	Enabled       bool `json:"enabled"`
	Attempts      int  `json:"attempts"`       // AutoBlockMinAttempts to AutoBlockMaxAttempts
	WithinMinutes int  `json:"within_minutes"` // 1 to AutoBlockMaxWithinMinutes
	ExpireDays    int  `json:"expire_days"`    // 0 (never) to AutoBlockMaxExpireDays
}

// Validate reports whether SetAutoBlock can set a: the bounds apply when
// Enabled (DSM ignores the thresholds of a disabled auto-block).
func (a AutoBlock) Validate() error {
	if !a.Enabled {
		return nil
	}
	switch {
	case a.Attempts < AutoBlockMinAttempts || a.Attempts > AutoBlockMaxAttempts:
		return invalid("attempts %d: want %d to %d", a.Attempts, AutoBlockMinAttempts, AutoBlockMaxAttempts)
	case a.WithinMinutes < 1 || a.WithinMinutes > AutoBlockMaxWithinMinutes:
		return invalid("within %d minutes: want 1 to %d", a.WithinMinutes, AutoBlockMaxWithinMinutes)
	case a.ExpireDays < 0 || a.ExpireDays > AutoBlockMaxExpireDays:
		return invalid("expire after %d days: want 0 (never) to %d", a.ExpireDays, AutoBlockMaxExpireDays)
	}
	return nil
}

// AutoBlock returns the auto-block settings.
//
// DSM: SYNO.Core.Security.AutoBlock get.
func (s *SecurityService) AutoBlock(ctx context.Context) (AutoBlock, error) {
	var d struct {
		Enable     flexBool `json:"enable"`
		Attempts   flexInt  `json:"attempts"`
		WithinMins flexInt  `json:"within_mins"`
		ExpireDay  flexInt  `json:"expire_day"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.Security.AutoBlock", "get", nil, &d)); err != nil {
		return AutoBlock{}, err
	}
	return AutoBlock{Enabled: bool(d.Enable), Attempts: int(d.Attempts), WithinMinutes: int(d.WithinMins), ExpireDays: int(d.ExpireDay)}, nil
}

// SetAutoBlock replaces the auto-block settings. DSM keeps the thresholds
// of a disabled auto-block as they were: set them with Enabled true.
//
// DSM: SYNO.Core.Security.AutoBlock set.
func (s *SecurityService) SetAutoBlock(ctx context.Context, a AutoBlock) error {
	if err := a.Validate(); err != nil {
		return argError("set auto-block", err)
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.Security.AutoBlock", "set", Params{
		"enable": a.Enabled, "attempts": a.Attempts, "within_mins": a.WithinMinutes, "expire_day": a.ExpireDays,
	}, nil))
}

// AddressRule is an entry of the allow or block list: an address or a
// network (CIDR).
type AddressRule struct {
	// Address is an IP address or a CIDR network, as DSM lists it.
	Address string `json:"address"`
	// Since is when the rule was made or the block began; zero if DSM
	// did not say.
	Since time.Time `json:"since"`
	// Expires is when a block ends; zero: never.
	Expires time.Time `json:"expires"`
}

// ruleKinds are the type values of SYNO.Core.Security.AutoBlock.Rules.
const (
	ruleAllow = "allow"
	ruleDeny  = "deny"
)

// BlockedAddresses lists the addresses whose logins are refused: blocked
// by auto-block, or put on the block list.
//
// DSM: SYNO.Core.Security.AutoBlock.Rules list (type deny).
func (s *SecurityService) BlockedAddresses(ctx context.Context) ([]AddressRule, error) {
	return s.rules(ctx, ruleDeny)
}

// AllowList lists the addresses and networks auto-block never blocks.
//
// DSM: SYNO.Core.Security.AutoBlock.Rules list (type allow).
func (s *SecurityService) AllowList(ctx context.Context) ([]AddressRule, error) {
	return s.rules(ctx, ruleAllow)
}

// rulesPage is how many rules one list call asks for.
const rulesPage = 500

func (s *SecurityService) rules(ctx context.Context, kind string) ([]AddressRule, error) {
	out := []AddressRule{}
	for offset := 0; ; {
		var d struct {
			Info []struct {
				IP         string  `json:"ip"`
				RecordTime flexInt `json:"record_time"`
				ExpireTime flexInt `json:"expire_time"`
			} `json:"ip_info"`
			Total flexInt `json:"total"`
		}
		// Without action and type DSM answers 5100 (math65/dsmaccess).
		p := Params{"action": "load", "type": kind, "offset": offset, "limit": rulesPage}
		if err := s.c.do(ctx, newRead("SYNO.Core.Security.AutoBlock.Rules", "list", p, &d)); err != nil {
			return nil, err
		}
		for _, r := range d.Info {
			ar := AddressRule{Address: r.IP}
			if r.RecordTime > 0 {
				ar.Since = time.Unix(int64(r.RecordTime), 0).UTC()
			}
			if r.ExpireTime > 0 {
				ar.Expires = time.Unix(int64(r.ExpireTime), 0).UTC()
			}
			out = append(out, ar)
		}
		offset += len(d.Info)
		if len(d.Info) == 0 || offset >= int(d.Total) {
			return out, nil
		}
	}
}

// Unblock lifts the blocks of the given addresses, whether auto-block or
// the block list made them.
//
// DSM: SYNO.Core.Security.AutoBlock.Rules delete (type deny).
func (s *SecurityService) Unblock(ctx context.Context, addresses ...string) error {
	ips, err := ruleAddresses("unblock", addresses, false)
	if err != nil {
		return err
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.Security.AutoBlock.Rules", "delete", Params{"type": ruleDeny, "ip": ips}, nil))
}

// Allow adds addresses or CIDR networks to the allow list.
//
// DSM: SYNO.Core.Security.AutoBlock.Rules create (type allow).
func (s *SecurityService) Allow(ctx context.Context, addresses ...string) error {
	ips, err := ruleAddresses("allow", addresses, true)
	if err != nil {
		return err
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.Security.AutoBlock.Rules", "create", Params{"type": ruleAllow, "ip": ips, "block_days": 0, "overwrite": true}, nil))
}

// Disallow removes addresses or CIDR networks from the allow list.
//
// DSM: SYNO.Core.Security.AutoBlock.Rules delete (type allow).
func (s *SecurityService) Disallow(ctx context.Context, addresses ...string) error {
	ips, err := ruleAddresses("remove from the allow list", addresses, true)
	if err != nil {
		return err
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.Security.AutoBlock.Rules", "delete", Params{"type": ruleAllow, "ip": ips}, nil))
}

// ruleAddresses checks and normalises addresses (and, with networks,
// CIDR networks) for the Rules calls.
func ruleAddresses(op string, addresses []string, networks bool) ([]string, error) {
	if len(addresses) == 0 {
		return nil, argErrorf(op, "no address given")
	}
	if len(addresses) > MaxAddressRules {
		return nil, argErrorf(op, "%d addresses: give at most %d at a time", len(addresses), MaxAddressRules)
	}
	out := make([]string, 0, len(addresses))
	for _, a := range addresses {
		n, err := ParseAddressRule(a)
		if err != nil {
			return nil, argError(op, err)
		}
		if !networks && strings.Contains(n, "/") {
			return nil, argErrorf(op, "%s is a network: give the blocked addresses one by one", n)
		}
		out = append(out, n)
	}
	return out, nil
}

// ParseAddressRule reads an IP address or a CIDR network as the allow and
// block lists take it, and returns it in canonical form (192.168.1.0/24,
// 2001:db8::1).
func ParseAddressRule(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > 64 {
		return "", invalid("%.64q...: not an IP address or CIDR network", v)
	}
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil || p.Addr().Is4In6() {
			return "", invalid("%q: not a CIDR network (e.g. 192.168.1.0/24)", v)
		}
		p = p.Masked()
		if p.IsSingleIP() {
			return p.Addr().String(), nil
		}
		return p.String(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return "", invalid("%q: not an IP address (e.g. 192.0.2.7 or 2001:db8::7)", v)
	}
	return a.Unmap().String(), nil
}

// AccountProtection are DSM's account protection settings: failed logins
// of one account lock it, with one threshold for clients DSM does not
// trust and one for trusted ones. Locked, its logins fail with
// ErrAccountLocked.
type AccountProtection struct {
	Enabled bool `json:"enabled"`
	// Untrusted clients: Attempts failures within WithinMinutes lock the
	// account for LockMinutes.
	Untrusted LoginLimit `json:"untrusted"`
	// Trusted clients (those that signed in before).
	Trusted LoginLimit `json:"trusted"`
}

// LoginLimit is one threshold of AccountProtection.
type LoginLimit struct {
	Attempts      int `json:"attempts"`       // 1 to AccountProtectionMaxAttempts
	WithinMinutes int `json:"within_minutes"` // 1 to AccountProtectionMaxWithinMinutes
	LockMinutes   int `json:"lock_minutes"`   // 1 to AccountProtectionMaxLockMinutes
}

// Validate reports whether SetAccountProtection can set p.
func (p AccountProtection) Validate() error {
	for _, l := range []struct {
		name string
		LoginLimit
	}{{"untrusted", p.Untrusted}, {"trusted", p.Trusted}} {
		switch {
		case l.Attempts < 1 || l.Attempts > AccountProtectionMaxAttempts:
			return invalid("%s attempts %d: want 1 to %d", l.name, l.Attempts, AccountProtectionMaxAttempts)
		case l.WithinMinutes < 1 || l.WithinMinutes > AccountProtectionMaxWithinMinutes:
			return invalid("%s within %d minutes: want 1 to %d", l.name, l.WithinMinutes, AccountProtectionMaxWithinMinutes)
		case l.LockMinutes < 1 || l.LockMinutes > AccountProtectionMaxLockMinutes:
			return invalid("%s lock of %d minutes: want 1 to %d", l.name, l.LockMinutes, AccountProtectionMaxLockMinutes)
		}
	}
	return nil
}

// AccountProtection returns the account protection settings.
//
// DSM: SYNO.Core.SmartBlock get.
func (s *SecurityService) AccountProtection(ctx context.Context) (AccountProtection, error) {
	var d struct {
		Enabled       flexBool `json:"enabled"`
		UntrustTry    flexInt  `json:"untrust_try"`
		UntrustMinute flexInt  `json:"untrust_minute"`
		UntrustLock   flexInt  `json:"untrust_lock"`
		TrustTry      flexInt  `json:"trust_try"`
		TrustMinute   flexInt  `json:"trust_minute"`
		TrustLock     flexInt  `json:"trust_lock"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.SmartBlock", "get", nil, &d)); err != nil {
		return AccountProtection{}, err
	}
	return AccountProtection{
		Enabled:   bool(d.Enabled),
		Untrusted: LoginLimit{Attempts: int(d.UntrustTry), WithinMinutes: int(d.UntrustMinute), LockMinutes: int(d.UntrustLock)},
		Trusted:   LoginLimit{Attempts: int(d.TrustTry), WithinMinutes: int(d.TrustMinute), LockMinutes: int(d.TrustLock)},
	}, nil
}

// SetAccountProtection replaces the account protection settings.
//
// DSM: SYNO.Core.SmartBlock set.
func (s *SecurityService) SetAccountProtection(ctx context.Context, p AccountProtection) error {
	if err := p.Validate(); err != nil {
		return argError("set account protection", err)
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.SmartBlock", "set", Params{
		"enabled":     p.Enabled,
		"untrust_try": p.Untrusted.Attempts, "untrust_minute": p.Untrusted.WithinMinutes, "untrust_lock": p.Untrusted.LockMinutes,
		"trust_try": p.Trusted.Attempts, "trust_minute": p.Trusted.WithinMinutes, "trust_lock": p.Trusted.LockMinutes,
	}, nil))
}

// LockedAccount is an account account protection has locked.
type LockedAccount struct {
	UID  int    `json:"uid"`
	Name string `json:"name"`
	// Since is when the lock began; zero if DSM did not say.
	Since time.Time `json:"since"`
	// Address is the client address of the failures, if DSM said.
	Address string `json:"address"`
}

// LockedAccounts lists the accounts account protection has locked.
//
// DSM: SYNO.Core.SmartBlock.Untrusted list.
func (s *SecurityService) LockedAccounts(ctx context.Context) ([]LockedAccount, error) {
	var d struct {
		Users []struct {
			UID  flexInt `json:"uid"`
			Name string  `json:"name"`
			Time flexInt `json:"time"`
			IP   string  `json:"ip"`
		} `json:"users"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.SmartBlock.Untrusted", "list", nil, &d)); err != nil {
		return nil, err
	}
	out := make([]LockedAccount, 0, len(d.Users))
	for _, u := range d.Users {
		la := LockedAccount{UID: int(u.UID), Name: u.Name, Address: u.IP}
		if u.Time > 0 {
			la.Since = time.Unix(int64(u.Time), 0).UTC()
		}
		out = append(out, la)
	}
	return out, nil
}

// Unlock lifts the locks of the accounts with these uids (as
// LockedAccounts lists them).
//
// DSM: SYNO.Core.SmartBlock.Untrusted pardon.
func (s *SecurityService) Unlock(ctx context.Context, uids ...int) error {
	if len(uids) == 0 {
		return argErrorf("unlock", "no account given")
	}
	for _, uid := range uids {
		if uid < 0 {
			return argErrorf("unlock", "uid %d: a uid is not negative", uid)
		}
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.SmartBlock.Untrusted", "pardon", Params{"users": uids}, nil))
}
