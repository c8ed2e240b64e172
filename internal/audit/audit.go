// Package audit reports the risks of a NAS's accounts: it reads what DSM
// says of its users, groups, password and sign-in settings (Read) and
// turns that into findings (Check), each with a severity, the accounts it
// concerns, why it matters and the dsmctl command that fixes it. It only
// reads.
package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dsmkit/dsm"
)

// Severity says how much a finding matters.
type Severity string

// The severities, from the least.
const (
	Low    Severity = "low"
	Medium Severity = "medium"
	High   Severity = "high"
)

// Rank orders the severities: 1 for Low to 3 for High, 0 for another
// value.
func (s Severity) Rank() int {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	}
	return 0
}

// ParseSeverity reads low, medium or high.
func ParseSeverity(v string) (Severity, error) {
	s := Severity(strings.ToLower(strings.TrimSpace(v)))
	if s.Rank() == 0 {
		return "", fmt.Errorf("unknown severity %.16q: use low, medium or high", v)
	}
	return s, nil
}

// The ids of the checks, stable: --ignore and scripts name them.
const (
	AdminNoTwoStep         = "admin-no-2fa"
	TwoStepNotEnforced     = "2fa-not-enforced"
	DefaultAdminEnabled    = "default-admin-enabled"
	GuestEnabled           = "guest-enabled"
	ManyAdmins             = "many-admins"
	PasswordNeverExpires   = "password-never-expires"
	PasswordTooOld         = "password-too-old"
	WeakPasswordPolicy     = "weak-password-policy"
	AutoBlockOff           = "autoblock-off"
	AccountProtectionOff   = "account-protection-off"
	DisabledAdmin          = "disabled-admin"
	AccountExpired         = "account-expired"
	FirstPasswordUnchanged = "first-password-unchanged"
	TrustedDevice          = "trusted-device"
)

// Checks are the ids of every check, sorted.
var Checks = slices.Sorted(slices.Values([]string{AdminNoTwoStep, TwoStepNotEnforced, DefaultAdminEnabled, GuestEnabled,
	ManyAdmins, PasswordNeverExpires, PasswordTooOld, WeakPasswordPolicy, AutoBlockOff, AccountProtectionOff,
	DisabledAdmin, AccountExpired, FirstPasswordUnchanged, TrustedDevice}))

// The password-length baseline, from NIST SP 800-63B-4 (2025) section
// 3.1.1.2: a password used as the only factor has at least 15
// characters; one used with a second factor at least 8. Verifiers also
// refuse passwords of a blocklist of common or breached ones (DSM's
// "exclude common passwords").
const (
	BaselineSingleFactorLength = 15
	BaselineMultiFactorLength  = 8
)

// MaxAdmins is the most members of administrators that raise no finding.
// A choice: NIST and Synology give no number; every administrator is a
// password that can change everything, so a few named ones.
const MaxAdmins = 3

// Snapshot is what the checks read.
type Snapshot struct {
	// Users with their groups, expiry, password fields and 2-step status.
	Users []dsm.User
	// Admins are the members of administrators, by name.
	Admins      []string
	Policy      dsm.PasswordPolicy
	Expiry      dsm.PasswordExpiry
	Enforcement dsm.TwoStepEnforcement
	AutoBlock   dsm.AutoBlock
	Protection  dsm.AccountProtection
	// Me is the account the snapshot was read as; Devices are its
	// trusted devices (DSM lists those of the signed-in account only).
	Me      string
	Devices []dsm.TrustedDevice
	// Today is the day expiry dates and password ages are measured to.
	Today dsm.Date
}

// Read reads a Snapshot through c, which must be signed in as an
// administrator. Today is the NAS's date (SYNO.Core.System info), by
// which DSM dates expiry and password changes; the local date when the
// NAS gives none.
//
// DSM: SYNO.Core.User list, SYNO.Core.Group.Member list,
// SYNO.Core.User.PasswordPolicy get, SYNO.Core.User.PasswordExpiry get,
// SYNO.Core.OTP.EnforcePolicy get, SYNO.Core.Security.AutoBlock get,
// SYNO.Core.SmartBlock get, SYNO.Core.TrustDevice get, SYNO.Core.System info.
func Read(ctx context.Context, c *dsm.Client) (*Snapshot, error) {
	s := &Snapshot{Today: dsm.DateOf(time.Now())}
	if info, err := c.System.Info(ctx); err == nil && !info.Time.IsZero() {
		s.Today = dsm.DateOf(info.Time)
	}
	opts := dsm.ListOptions{PageSize: 500, Fields: dsm.AllUserFields}
	for u, err := range c.Users.All(ctx, opts) {
		if err != nil {
			return nil, fmt.Errorf("reading the users: %w", err)
		}
		s.Users = append(s.Users, u)
	}
	members, err := c.Groups.Members(ctx, dsm.GroupAdministrators)
	if err != nil {
		return nil, fmt.Errorf("reading the members of administrators: %w", err)
	}
	for _, m := range members {
		s.Admins = append(s.Admins, m.Name)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"the password policy", func() (err error) { s.Policy, err = c.Policy.PasswordPolicy(ctx); return }},
		{"the password expiry", func() (err error) { s.Expiry, err = c.Policy.PasswordExpiry(ctx); return }},
		{"the 2-step enforcement", func() (err error) { s.Enforcement, err = c.TwoStep.Enforcement(ctx); return }},
		{"the auto-block settings", func() (err error) { s.AutoBlock, err = c.Security.AutoBlock(ctx); return }},
		{"the account protection settings", func() (err error) { s.Protection, err = c.Security.AccountProtection(ctx); return }},
		{"your trusted devices", func() (err error) { s.Devices, err = c.TwoStep.Devices(ctx); return }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", st.what, err)
		}
	}
	if sess, ok := c.Auth.Session(); ok {
		s.Me = sess.Account
	}
	return s, nil
}

// Finding is one risk.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	// Accounts are the accounts it concerns, sorted; empty for a setting.
	Accounts []string `json:"accounts"`
	// Summary says what was found; Why, why it matters.
	Summary string `json:"summary"`
	Why     string `json:"why"`
	// Fix is the dsmctl command that clears the finding.
	Fix string `json:"fix"`
}

// Key is how --ignore names the finding: CHECK, or CHECK:ACCOUNT for one
// about one account.
func (f Finding) Key() string {
	if len(f.Accounts) == 1 && perAccount[f.Check] {
		return f.Check + ":" + f.Accounts[0]
	}
	return f.Check
}

// perAccount are the checks that make one finding per account.
var perAccount = map[string]bool{AdminNoTwoStep: true, PasswordNeverExpires: true, PasswordTooOld: true,
	DisabledAdmin: true, AccountExpired: true, FirstPasswordUnchanged: true, TrustedDevice: true}

// disabled reports whether DSM refuses u's logins by its expiry: "now",
// or a date that has come.
func disabled(u dsm.User, today dsm.Date) bool {
	switch u.Expired.Kind {
	case dsm.ExpiryDisabled:
		return true
	case dsm.ExpiryOnDate:
		return !today.Before(u.Expired.Date)
	}
	return false
}

// Check returns the findings of s, sorted: the most severe first, then by
// check id and accounts. It is never nil.
func Check(s *Snapshot) []Finding {
	out := []Finding{}
	add := func(f Finding) {
		if f.Accounts == nil {
			f.Accounts = []string{}
		}
		out = append(out, f)
	}
	isAdmin := map[string]bool{}
	for _, a := range s.Admins {
		isAdmin[strings.ToLower(a)] = true
	}
	users := slices.Clone(s.Users)
	slices.SortFunc(users, func(a, b dsm.User) int { return cmp.Compare(a.Name, b.Name) })
	var enabledAdmins []string
	for _, u := range users {
		name, off := u.Name, disabled(u, s.Today)
		admin := isAdmin[strings.ToLower(name)]
		if admin && !off {
			enabledAdmins = append(enabledAdmins, name)
		}
		switch {
		case admin && !off && !u.TwoFactor:
			add(Finding{Check: AdminNoTwoStep, Severity: High, Accounts: []string{name},
				Summary: "administrator " + name + " has no 2-step verification",
				Why:     "a guessed or leaked password alone gives control of the whole NAS; run the fix as " + name + " (at a terminal, without --secret-file, it shows a QR code to scan instead)",
				Fix:     "dsmctl 2fa setup --user " + name + " --secret-file " + name + ".totp"})
		case admin && off && !strings.EqualFold(name, "admin"):
			// DSM's advice is to disable the default admin, which stays
			// in administrators (KB "How do I deactivate the default
			// admin account"): only other accounts are reported.
			add(Finding{Check: DisabledAdmin, Severity: Low, Accounts: []string{name},
				Summary: "disabled account " + name + " is still in administrators",
				Why:     "enabling it again, or a change of its expiry date, gives back full control without anyone deciding it",
				Fix:     "dsmctl user leave " + name + " " + dsm.GroupAdministrators})
		}
		switch {
		case strings.EqualFold(name, "admin") && !off:
			add(Finding{Check: DefaultAdminEnabled, Severity: Medium, Accounts: []string{name},
				Summary: "the default admin account is enabled",
				Why:     "every attacker tries admin first; DSM 6.2.4 and later advise to disable it (Synology KB: How do I deactivate the default admin account)",
				Fix:     "dsmctl user update admin --expire disabled"})
		case strings.EqualFold(name, "guest") && !off:
			add(Finding{Check: GuestEnabled, Severity: Medium, Accounts: []string{name},
				Summary: "the guest account is enabled",
				Why:     "anyone on the network can sign in to what guest may read or write, without a password",
				Fix:     "dsmctl user update guest --expire disabled"})
		}
		if u.Expired.Kind == dsm.ExpiryOnDate && !s.Today.Before(u.Expired.Date) {
			add(Finding{Check: AccountExpired, Severity: Low, Accounts: []string{name},
				Summary: fmt.Sprintf("account %s expired on %s", name, u.Expired.Date),
				Why:     "a stale account with a password that still works once its date is moved; disable it for good (or delete it)",
				Fix:     "dsmctl user update " + name + " --expire disabled"})
		}
		// guest has no password of its own to age or change.
		if off || strings.EqualFold(name, "guest") {
			continue
		}
		// The exemption (passwd_never_expire) matters only while
		// passwords expire (PasswordExpiry's password_expire_enable): with
		// expiry off every password is as good as exempt, so none is
		// reported. A choice; no source says how DSM shows it then.
		if s.Expiry.Enabled && u.PasswordNeverExpires {
			add(Finding{Check: PasswordNeverExpires, Severity: Low, Accounts: []string{name},
				Summary: "the password of " + name + " never expires, though passwords expire",
				Why:     fmt.Sprintf("it escapes the %d-day maximum age the NAS sets for everyone else", s.Expiry.MaxAge),
				Fix:     "dsmctl user update " + name + " --password-never-expires=false"})
		}
		if s.Expiry.Enabled && !u.PasswordNeverExpires && !u.PasswordLastChange.IsZero() &&
			dsm.DateOf(u.PasswordLastChange.Time().AddDate(0, 0, s.Expiry.MaxAge)).Before(s.Today) {
			add(Finding{Check: PasswordTooOld, Severity: Medium, Accounts: []string{name},
				Summary: fmt.Sprintf("the password of %s was last changed on %s, more than %d days ago", name, u.PasswordLastChange, s.Expiry.MaxAge),
				Why:     "an old password has had more time to leak; it is past the maximum age the NAS sets",
				Fix:     "dsmctl user update " + name + " --generate-password"})
		}
		if u.PasswordPending {
			add(Finding{Check: FirstPasswordUnchanged, Severity: Low, Accounts: []string{name},
				Summary: name + " never changed the first password an administrator set",
				Why:     "the password was known to someone else, and the account may be unused; disable it until its user needs it",
				Fix:     "dsmctl user update " + name + " --expire disabled"})
		}
	}
	slices.Sort(enabledAdmins)

	if len(enabledAdmins) > 0 && s.Enforcement != dsm.EnforceAdmins && s.Enforcement != dsm.EnforceAll {
		add(Finding{Check: TwoStepNotEnforced, Severity: Medium, Accounts: enabledAdmins,
			Summary: fmt.Sprintf("2-step verification is not enforced for administrators (policy: %s)", s.Enforcement),
			Why:     "without enforcement, an administrator can turn 2-step off or a new one can be added without it; fix admin-no-2fa first, as an administrator without 2-step cannot sign in once it is enforced",
			Fix:     "dsmctl policy 2fa set --enforce admins"})
	}
	if len(s.Admins) > MaxAdmins {
		add(manyAdmins(s))
	}
	if f, ok := weakPolicy(s); ok {
		add(f)
	}
	if !s.AutoBlock.Enabled {
		add(Finding{Check: AutoBlockOff, Severity: Medium,
			Summary: "auto-block is off",
			Why:     "an address may try passwords without end; auto-block stops it after a few failures",
			Fix:     "dsmctl security autoblock set --enable"})
	}
	if !s.Protection.Enabled {
		add(Finding{Check: AccountProtectionOff, Severity: Medium,
			Summary: "account protection is off",
			Why:     "guesses of one account's password from many addresses are never stopped; account protection locks the account for a while",
			Fix:     "dsmctl security protection set --enable"})
	}
	if s.Me != "" && isAdmin[strings.ToLower(s.Me)] {
		for _, d := range s.Devices {
			add(Finding{Check: TrustedDevice, Severity: Low, Accounts: []string{s.Me},
				Summary: fmt.Sprintf("administrator %s trusts device %q (%s) to sign in without a 2-step code", s.Me, d.Name, d.ID),
				Why:     "whoever holds that device's token needs only the password; forget devices you no longer use (DSM lists only the devices of the account the audit signs in as)",
				Fix:     "dsmctl 2fa forget " + d.ID})
		}
	}
	sortFindings(out)
	return out
}

// manyAdmins lists the members of administrators. DSM keeps no date of
// joining a group (SYNO.Core.Group.Member list gives names and uids
// only), so the finding names the members by uid, highest first: DSM
// gives a new local user the next uid (admin 1024, guest 1025, then 1026
// up, as the simulator models it), so the highest uid is the newest
// account. A choice: a newer account need not have joined later.
func manyAdmins(s *Snapshot) Finding {
	uid := map[string]int{}
	for _, u := range s.Users {
		uid[strings.ToLower(u.Name)] = u.UID
	}
	admins := slices.Clone(s.Admins)
	slices.SortFunc(admins, func(a, b string) int {
		return cmp.Or(cmp.Compare(uid[strings.ToLower(b)], uid[strings.ToLower(a)]), cmp.Compare(a, b))
	})
	newest := admins[0]
	accounts := slices.Sorted(slices.Values(s.Admins))
	return Finding{Check: ManyAdmins, Severity: Low, Accounts: accounts,
		Summary: fmt.Sprintf("administrators has %d members (more than %d); newest accounts first: %s", len(admins), MaxAdmins, strings.Join(admins, ", ")),
		Why:     "each administrator is a password that can change everything; DSM keeps no date of joining, so the newest accounts (highest uid) are shown first",
		Fix:     "dsmctl user leave " + newest + " " + dsm.GroupAdministrators}
}

// weakPolicy checks the password policy against the baseline.
func weakPolicy(s *Snapshot) (Finding, bool) {
	want := BaselineSingleFactorLength
	if s.Enforcement == dsm.EnforceAll {
		want = BaselineMultiFactorLength
	}
	st := s.Policy.Strong
	var short []string
	length := 0
	if st.MinLengthEnabled {
		length = st.MinLength
	}
	if length < want {
		short = append(short, fmt.Sprintf("a minimum length of %d (want %d)", length, want))
	}
	if !st.ExcludeCommon {
		short = append(short, "common passwords allowed")
	}
	if len(short) == 0 {
		return Finding{}, false
	}
	fix := fmt.Sprintf("dsmctl policy password set --min-length %d --exclude-common", max(length, want))
	return Finding{Check: WeakPasswordPolicy, Severity: Medium,
		Summary: "the password policy is below the baseline: " + strings.Join(short, ", "),
		Why: fmt.Sprintf("NIST SP 800-63B-4 section 3.1.1.2 asks for at least %d characters for a password that is the only factor (%d with a second factor, as when 2-step is enforced for all) and a blocklist of common passwords",
			BaselineSingleFactorLength, BaselineMultiFactorLength),
		Fix: fix}, true
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), cmp.Compare(a.Check, b.Check),
			slices.Compare(a.Accounts, b.Accounts), cmp.Compare(a.Summary, b.Summary))
	})
}

// Ignore is a list of accepted risks: CHECK (every finding of the check)
// or CHECK:ACCOUNT (the one about that account).
type Ignore map[string]bool

// Add adds one entry, checking that the check exists.
func (ig Ignore) Add(entry string) error {
	e := strings.TrimSpace(entry)
	check, account, hasAccount := strings.Cut(e, ":")
	if !slices.Contains(Checks, check) {
		return fmt.Errorf("ignore %.64q: unknown check %.32q; the checks are %s", entry, check, strings.Join(Checks, ", "))
	}
	if hasAccount {
		if !perAccount[check] {
			return fmt.Errorf("ignore %.64q: check %s is not about one account; give %s alone", entry, check, check)
		}
		if err := dsm.ValidateUserName(account); err != nil {
			return fmt.Errorf("ignore %.64q: %w", entry, err)
		}
		e = check + ":" + account
	}
	ig[strings.ToLower(e)] = true
	return nil
}

// Filter returns the findings ig does not accept, and how many it did.
func (ig Ignore) Filter(fs []Finding) ([]Finding, int) {
	out := []Finding{}
	for _, f := range fs {
		if ig[strings.ToLower(f.Check)] || ig[strings.ToLower(f.Key())] {
			continue
		}
		out = append(out, f)
	}
	return out, len(fs) - len(out)
}
