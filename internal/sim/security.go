package sim

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Sign-in protection: DSM's auto-block of client addresses
// (SYNO.Core.Security.AutoBlock, its allow and block lists in
// SYNO.Core.Security.AutoBlock.Rules) and account protection
// (SYNO.Core.SmartBlock, its locked accounts in SmartBlock.Untrusted and
// SmartBlock.Trusted). The settings live in the state (persisted with
// it); the failure counts and the blocks they cause live in memory
// (limits.go), as the simulator's sessions do: a restart forgets them (a
// choice; DSM keeps its block list on disk).

// codeRulesBadRequest is what AutoBlock.Rules list answers without its
// action or type (math65/dsmaccess, DSM 7.4: "list" without action "load"
// and a type answers 5100).
const codeRulesBadRequest = 5100

// Bounds of SYNO.Core.Security.AutoBlock set, as DSM's UI gives them
// (math65/dsmaccess DSMLogSecurityService.swift, DSM 7.4): attempts 1-100,
// within_mins 1-1440, expire_day 0 (never) to 2000.
const (
	autoBlockMinAttempts  = 1
	autoBlockMaxAttempts  = 100
	autoBlockMaxWithin    = 1440 // minutes
	autoBlockMaxExpireDay = 2000
)

// Bounds of SYNO.Core.SmartBlock set. DSM's are not published: these are
// choices, as wide as the auto-block's (tries 1-100, minutes 1-1440), and
// a lock of at most a year of minutes.
const (
	smartBlockMaxTry    = 100
	smartBlockMaxMinute = 1440
	smartBlockMaxLock   = 525600
)

// maxIPRules bounds the allow and block lists together. A choice: DSM's
// limit is unknown.
const maxIPRules = 1024

// Default account protection for logins from trusted devices: 10 tries
// within 1 minute lock the account for 30 minutes (the values of a DSM 7
// shown in ychiu1211/dsmctl's accountprotection tests and in a published
// synowebapi example: trust_try=10 trust_minute=1 trust_lock=30).
const (
	defaultTrustTry    = 10
	defaultTrustMinute = 1
	defaultTrustLock   = 30
)

// limitSetting is one limiter's setting as the state keeps it.
type limitSetting struct {
	Enable   bool          `json:"enable"`
	Attempts int           `json:"attempts"`
	Within   time.Duration `json:"within"`
	BlockFor time.Duration `json:"block_for"`
}

// ipRule is an entry of the allow or block list: an address or a network.
type ipRule struct {
	Prefix string `json:"ip"` // netip.Prefix text; a single address is /32 or /128
	Since  int64  `json:"since"`
	Until  int64  `json:"until,omitempty"` // unix seconds; 0: never expires
}

// securityState is the part of the state the security APIs read and set.
type securityState struct {
	AutoBlock limitSetting `json:"auto_block"`
	Untrusted limitSetting `json:"account_protection"`
	// Trusted is account protection for logins from trusted devices: kept
	// and reported, not counted separately (a choice: the simulator
	// counts every failure of an account against Untrusted).
	Trusted limitSetting `json:"account_protection_trusted"`
	// OTPEnforce is otp_enforce_option: none, admin or user.
	OTPEnforce string   `json:"otp_enforce_option"`
	Allow      []ipRule `json:"allow"`
	Deny       []ipRule `json:"deny"`
}

func settingOf(l *limiter) limitSetting {
	return limitSetting{Enable: !l.off, Attempts: l.attempts, Within: l.within, BlockFor: l.blockFor}
}

func (l *limiter) apply(c limitSetting) {
	l.off, l.attempts, l.within, l.blockFor = !c.Enable, c.Attempts, c.Within, c.BlockFor
}

// setupSecurity makes the state's security settings those of the
// limiters (from Config) when the state has none (a new state, or one
// written before they were kept), else makes the limiters follow the
// state. Call before serving.
func (s *Server) setupSecurity(enforce string) {
	if s.st.security == nil {
		if enforce == "" {
			enforce = "none"
		}
		s.st.security = &securityState{
			AutoBlock: settingOf(s.byAddr), Untrusted: settingOf(s.byAccount),
			Trusted:    limitSetting{Enable: true, Attempts: defaultTrustTry, Within: defaultTrustMinute * time.Minute, BlockFor: defaultTrustLock * time.Minute},
			OTPEnforce: enforce,
		}
		s.dirty = true
		return
	}
	s.byAddr.apply(s.st.security.AutoBlock)
	s.byAccount.apply(s.st.security.Untrusted)
}

// checkBounds holds a loaded security state to the API's bounds.
func (sec *securityState) checkBounds() error {
	if len(sec.Allow)+len(sec.Deny) > maxIPRules {
		return fmt.Errorf("%d allow and block rules, want at most %d", len(sec.Allow)+len(sec.Deny), maxIPRules)
	}
	for _, r := range append(slices.Clone(sec.Allow), sec.Deny...) {
		if _, err := netip.ParsePrefix(r.Prefix); err != nil {
			return fmt.Errorf("rule %.64q: not an address or network", r.Prefix)
		}
	}
	for _, l := range []limitSetting{sec.AutoBlock, sec.Untrusted, sec.Trusted} {
		if l.Attempts < 1 || l.Attempts > autoBlockMaxAttempts || l.Within <= 0 || l.BlockFor <= 0 {
			return fmt.Errorf("a limit of %d attempts within %v for %v, want 1 to %d attempts and positive durations", l.Attempts, l.Within, l.BlockFor, autoBlockMaxAttempts)
		}
	}
	if !slices.Contains(otpEnforceOptions, sec.OTPEnforce) {
		return fmt.Errorf("otp_enforce_option %.16q, want none, admin or user", sec.OTPEnforce)
	}
	return nil
}

// ruleMatches reports whether addr is in one of rules in force at now.
func ruleMatches(rules []ipRule, addr string, now time.Time) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, r := range rules {
		p, err := netip.ParsePrefix(r.Prefix)
		if err == nil && p.Contains(a) && (r.Until == 0 || now.Unix() < r.Until) {
			return true
		}
	}
	return false
}

// addrBlocked reports whether logins from addr are refused (407): never
// for an address of the allow list ("IP addresses on the allow list will
// never be blocked", Synology's help for Auto Block), always for one of
// the block list, else when auto-block has blocked it. Call with s.mu
// held.
func (s *Server) addrBlocked(addr string, now time.Time) bool {
	sec := s.st.security
	if ruleMatches(sec.Allow, addr, now) {
		return false
	}
	return ruleMatches(sec.Deny, addr, now) || s.byAddr.blocked(addr, now)
}

// addrFailed counts a failed login from addr, but for an address of the
// allow list. Call with s.mu held.
func (s *Server) addrFailed(addr string, now time.Time) {
	if ruleMatches(s.st.security.Allow, addr, now) {
		return
	}
	s.byAddr.failed(addr, addr, addr, now)
}

// ceilDiv returns d in units of unit, rounded up.
func ceilDiv(d, unit time.Duration) int { return int((d + unit - 1) / unit) }

// autoBlockGet answers SYNO.Core.Security.AutoBlock get with the fields
// math65/dsmaccess reads on DSM 7.4: enable, attempts, within_mins and
// expire_day (0: a block never expires). A setting made in minutes
// (Config.AutoBlockFor) shows as the days it starts, rounded up.
func (s *Server) autoBlockGet(q *request) (any, error) {
	a := s.st.security.AutoBlock
	expire := ceilDiv(a.BlockFor, 24*time.Hour)
	if a.BlockFor >= foreverBlock {
		expire = 0
	}
	return map[string]any{"enable": a.Enable, "attempts": a.Attempts, "within_mins": ceilDiv(a.Within, time.Minute), "expire_day": expire}, nil
}

// autoBlockSet answers SYNO.Core.Security.AutoBlock set {enable, attempts,
// within_mins, expire_day}. A value out of DSM's bounds is 120. As
// ychiu1211/dsmctl found on DSM 7.3 (operations/accountprotection
// mutation.go), the thresholds bind only when enable is true: with enable
// false they are ignored and keep their values. A field not sent keeps
// its value (a choice).
func (s *Server) autoBlockSet(q *request) (any, error) {
	a := s.st.security.AutoBlock
	enable, err := q.boolean("enable", a.Enable, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	a.Enable = enable
	if enable {
		attempts, err := q.integer("attempts", a.Attempts, codeInvalidParameter)
		if err != nil || attempts < autoBlockMinAttempts || attempts > autoBlockMaxAttempts {
			return nil, fail(codeInvalidParameter)
		}
		within, err := q.integer("within_mins", ceilDiv(a.Within, time.Minute), codeInvalidParameter)
		if err != nil || within < 1 || within > autoBlockMaxWithin {
			return nil, fail(codeInvalidParameter)
		}
		a.Attempts, a.Within = attempts, time.Duration(within)*time.Minute
		if q.has("expire_day") {
			days, err := q.integer("expire_day", 0, codeInvalidParameter)
			if err != nil || days < 0 || days > autoBlockMaxExpireDay {
				return nil, fail(codeInvalidParameter)
			}
			a.BlockFor = time.Duration(days) * 24 * time.Hour
			if days == 0 {
				a.BlockFor = foreverBlock
			}
		}
	}
	s.st.security.AutoBlock = a
	s.byAddr.apply(a)
	s.dirty = true
	return nil, nil
}

// ruleType reads the type of an AutoBlock.Rules call: allow or deny
// (math65/dsmaccess; DSM 6.2.3 admin_center.js). Missing is 5100, as is a
// list without action (dsmaccess, DSM 7.4); another value is 120 (a
// choice).
func (s *Server) ruleType(q *request) (*[]ipRule, string, error) {
	switch t := q.str("type"); t {
	case "allow":
		return &s.st.security.Allow, t, nil
	case "deny":
		return &s.st.security.Deny, t, nil
	case "":
		return nil, "", fail(codeRulesBadRequest)
	default:
		return nil, "", fail(codeInvalidParameter)
	}
}

// ipRuleRecord is a row of AutoBlock.Rules list: ip_info[]{ip, ...} as
// ychiu1211/dsmctl decodes it on DSM 7.3 (operations/accountprotection
// decode.go: ip, record_time). expire_time is a guess: 0 for a block that
// never ends. A single address shows bare, a network as CIDR.
type ipRuleRecord struct {
	IP         string `json:"ip"`
	RecordTime int64  `json:"record_time"`
	ExpireTime int64  `json:"expire_time"`
}

func ruleText(prefix string) string {
	p, err := netip.ParsePrefix(prefix)
	if err == nil && p.IsSingleIP() {
		return p.Addr().String()
	}
	return prefix
}

// autoBlockRulesList answers SYNO.Core.Security.AutoBlock.Rules list
// {action:"load", type, offset, limit} with {ip_info, offset, total}: for
// type deny, the block list's rules and the addresses auto-block blocks
// now; for allow, the allow list. Sorted by address.
func (s *Server) autoBlockRulesList(q *request) (any, error) {
	if q.str("action") != "load" {
		return nil, fail(codeRulesBadRequest)
	}
	rules, kind, err := s.ruleType(q)
	if err != nil {
		return nil, err
	}
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	var rows []ipRuleRecord
	seen := map[string]bool{}
	for _, r := range *rules {
		if r.Until != 0 && q.now.Unix() >= r.Until {
			continue
		}
		rows = append(rows, ipRuleRecord{IP: ruleText(r.Prefix), RecordTime: r.Since, ExpireTime: r.Until})
		seen[ruleText(r.Prefix)] = true
	}
	if kind == "deny" {
		for _, b := range s.byAddr.blockedList(q.now) {
			if seen[b.label] {
				continue
			}
			until := b.until.Unix()
			if b.until.Sub(b.since) >= foreverBlock {
				until = 0
			}
			rows = append(rows, ipRuleRecord{IP: b.label, RecordTime: b.since.Unix(), ExpireTime: until})
		}
	}
	slices.SortFunc(rows, func(a, b ipRuleRecord) int { return strings.Compare(a.IP, b.IP) })
	total := len(rows)
	return map[string]any{"ip_info": pageOf(rows, offset, limit), "offset": offset, "total": total}, nil
}

// ruleIPs reads the ip parameter of Rules create and delete: a JSON list
// of addresses or networks (DSM 6.2.3 admin_center.js sends ip:[...]), or
// one (ychiu1211/dsmctl sends one entry per call on DSM 7.3). A missing
// one is 114, a value that is no address or CIDR network 120.
func ruleIPs(q *request) ([]netip.Prefix, error) {
	if !q.has("ip") {
		return nil, fail(codeMissingParameters)
	}
	list, err := q.names("ip", true, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	if len(list) > maxIPRules {
		return nil, fail(codeInvalidParameter)
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, v := range list {
		p, err := parseRule(v)
		if err != nil {
			return nil, fail(codeInvalidParameter)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseRule reads an address (a /32 or /128) or a CIDR network, made
// canonical (its host bits cleared).
func parseRule(v string) (netip.Prefix, error) {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("not an address")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil || p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("not a network")
	}
	return p.Masked(), nil
}

// autoBlockRulesCreate answers SYNO.Core.Security.AutoBlock.Rules create
// {type, ip:[...]} (DSM 6.2.3 admin_center.js adds block_days and
// overwrite). A deny rule lasts block_days days (0 or absent: until
// deleted). An address already listed is kept once, its time renewed.
func (s *Server) autoBlockRulesCreate(q *request) (any, error) {
	rules, _, err := s.ruleType(q)
	if err != nil {
		return nil, err
	}
	ips, err := ruleIPs(q)
	if err != nil {
		return nil, err
	}
	days, err := q.integer("block_days", 0, codeInvalidParameter)
	if err != nil || days < 0 || days > autoBlockMaxExpireDay {
		return nil, fail(codeInvalidParameter)
	}
	sec := s.st.security
	for _, p := range ips {
		r := ipRule{Prefix: p.String(), Since: q.now.Unix()}
		if days > 0 && rules == &sec.Deny {
			r.Until = q.now.Add(time.Duration(days) * 24 * time.Hour).Unix()
		}
		if i := slices.IndexFunc(*rules, func(x ipRule) bool { return x.Prefix == r.Prefix }); i >= 0 {
			(*rules)[i] = r
			continue
		}
		if len(sec.Allow)+len(sec.Deny) >= maxIPRules {
			return nil, fail(codeInvalidParameter)
		}
		*rules = append(*rules, r)
	}
	s.dirty = true
	return nil, nil
}

// autoBlockRulesDelete answers SYNO.Core.Security.AutoBlock.Rules delete
// {type, ip:[...]}: it drops those rules and, for deny, lifts auto-block's
// blocks of those addresses. An address not listed is ignored (a choice).
func (s *Server) autoBlockRulesDelete(q *request) (any, error) {
	rules, kind, err := s.ruleType(q)
	if err != nil {
		return nil, err
	}
	ips, err := ruleIPs(q)
	if err != nil {
		return nil, err
	}
	for _, p := range ips {
		*rules = slices.DeleteFunc(*rules, func(x ipRule) bool { return x.Prefix == p.String() })
		if kind == "deny" && p.IsSingleIP() {
			s.byAddr.forget(p.Addr().String())
		}
	}
	s.dirty = true
	return nil, nil
}

// smartBlockGet answers SYNO.Core.SmartBlock get with DSM's fields
// (DSM 6.2.3 admin_center.js; the same names on DSM 7.3 per
// ychiu1211/dsmctl): enabled, untrust_try, untrust_minute, untrust_lock,
// trust_try, trust_minute, trust_lock (minutes).
func (s *Server) smartBlockGet(q *request) (any, error) {
	u, t := s.st.security.Untrusted, s.st.security.Trusted
	return map[string]any{
		"enabled":     u.Enable,
		"untrust_try": u.Attempts, "untrust_minute": ceilDiv(u.Within, time.Minute), "untrust_lock": ceilDiv(u.BlockFor, time.Minute),
		"trust_try": t.Attempts, "trust_minute": ceilDiv(t.Within, time.Minute), "trust_lock": ceilDiv(t.BlockFor, time.Minute),
	}, nil
}

// smartBlockSet answers SYNO.Core.SmartBlock set with the fields of get.
// A field not sent keeps its value, one out of the bounds above is 120
// (choices).
func (s *Server) smartBlockSet(q *request) (any, error) {
	sec := s.st.security
	u, t := sec.Untrusted, sec.Trusted
	enable, err := q.boolean("enabled", u.Enable, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	u.Enable, t.Enable = enable, enable
	for _, f := range []struct {
		name string
		dst  *limitSetting
	}{{"untrust", &u}, {"trust", &t}} {
		try, err := q.integer(f.name+"_try", f.dst.Attempts, codeInvalidParameter)
		if err != nil || try < 1 || try > smartBlockMaxTry {
			return nil, fail(codeInvalidParameter)
		}
		minute, err := q.integer(f.name+"_minute", ceilDiv(f.dst.Within, time.Minute), codeInvalidParameter)
		if err != nil || minute < 1 || minute > smartBlockMaxMinute {
			return nil, fail(codeInvalidParameter)
		}
		lock, err := q.integer(f.name+"_lock", ceilDiv(f.dst.BlockFor, time.Minute), codeInvalidParameter)
		if err != nil || lock < 1 || lock > smartBlockMaxLock {
			return nil, fail(codeInvalidParameter)
		}
		f.dst.Attempts, f.dst.Within, f.dst.BlockFor = try, time.Duration(minute)*time.Minute, time.Duration(lock)*time.Minute
	}
	sec.Untrusted, sec.Trusted = u, t
	s.byAccount.apply(u)
	s.dirty = true
	return nil, nil
}

// lockedUser is a row of SmartBlock.Untrusted list: users[]{uid, name,
// time, ip, agent} (DSM 6.2.3 admin_center.js). agent is "" (the
// simulator does not keep user agents).
type lockedUser struct {
	UID   int    `json:"uid"`
	Name  string `json:"name"`
	Time  int64  `json:"time"`
	IP    string `json:"ip"`
	Agent string `json:"agent"`
}

// smartBlockUntrustedList answers SYNO.Core.SmartBlock.Untrusted list: the
// accounts account protection locks now, sorted by name.
func (s *Server) smartBlockUntrustedList(q *request) (any, error) {
	rows := []lockedUser{}
	for _, b := range s.byAccount.blockedList(q.now) {
		u := s.st.userByName(b.label)
		if u == nil {
			continue
		}
		rows = append(rows, lockedUser{UID: u.uid, Name: u.name, Time: b.since.Unix(), IP: b.lastAddr})
	}
	return map[string]any{"users": rows, "total": len(rows)}, nil
}

// smartBlockUntrustedPardon answers SYNO.Core.SmartBlock.Untrusted pardon
// {users:[uid...]} (DSM 6.2.3 admin_center.js): the accounts are unlocked
// and their failures forgotten. A uid of no account is 3106, a users
// value that is not a list of numbers 120 (choices).
func (s *Server) smartBlockUntrustedPardon(q *request) (any, error) {
	if !q.has("users") {
		return nil, fail(codeMissingParameters)
	}
	var uids []int
	if json.Unmarshal([]byte(q.params.Get("users")), &uids) != nil || len(uids) > maxUsers {
		return nil, fail(codeInvalidParameter)
	}
	var found []*user
	for _, uid := range uids {
		u := s.st.userByUID(uid)
		if u == nil {
			return nil, fail(codeNoSuchUser)
		}
		found = append(found, u)
	}
	for _, u := range found {
		s.byAccount.forget(fold(u.name))
	}
	return nil, nil
}

// smartBlockTrustedList answers SYNO.Core.SmartBlock.Trusted list:
// devices[]{id, name, time, ip, agent} (DSM 6.2.3 admin_center.js). The
// simulator does not lock trusted devices apart from their accounts, so
// the list is empty (a choice).
func (s *Server) smartBlockTrustedList(q *request) (any, error) {
	return map[string]any{"devices": []lockedUser{}, "total": 0}, nil
}

// smartBlockTrustedPardon answers SYNO.Core.SmartBlock.Trusted pardon
// {devices:[...]}: nothing is locked, so nothing changes.
func (s *Server) smartBlockTrustedPardon(q *request) (any, error) {
	if !q.has("devices") {
		return nil, fail(codeMissingParameters)
	}
	return nil, nil
}
