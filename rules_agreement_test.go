package dsm_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// The client's rules (validate.go) and the simulator's (internal/sim) are
// two copies of DSM's rules, kept apart on purpose: the simulator is the
// oracle. TestRulesAgreement runs one corpus through both and requires the
// same verdict for every value. The simulator is driven over HTTP with
// the values as the test writes them, past the client's checks: a valid
// UTF-8 string is sent JSON-quoted, as the client sends it; anything else
// is sent as raw bytes (JSON-quoting would turn invalid UTF-8 into U+FFFD).

// rulesNAS calls a simulator in a session, with parameters encoded by hand.
type rulesNAS struct {
	url  string
	sess dsm.Session
	hc   *http.Client
}

// call makes one call and returns whether it succeeded and DSM's code.
func (n *rulesNAS) call(t *testing.T, api, method string, kv ...string) (ok bool, code int) {
	t.Helper()
	form := url.Values{"api": {api}, "version": {"1"}, "method": {method}, "_sid": {n.sess.SID}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, n.url+"/webapi/entry.cgi", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-SYNO-TOKEN", n.sess.SynoToken)
	resp, err := n.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Success bool `json:"success"`
		Error   struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: %v", api, method, err)
	}
	return env.Success, env.Error.Code
}

// str encodes a string parameter: JSON-quoted when it is valid UTF-8, as
// the client sends it, else the raw bytes.
func str(s string) string {
	if !utf8.ValidString(s) {
		return s
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// verdict is one value put to both sides.
type verdict struct {
	rule  string // what is checked
	value string // the value, for messages
	// client is the client's check: nil means accepted.
	client error
	// sim puts the value to the simulator and reports whether it was
	// accepted, with DSM's code when it was not.
	sim func(t *testing.T, n *rulesNAS) (ok bool, code int)
	// refusal is the code the simulator refuses the rule's values with;
	// any other code is a failure of the test itself.
	refusal int
}

// rulesPassword meets the simulator's rules once its policy is off.
const rulesPassword = "Rules-Pass-2468"

func TestRulesAgreement(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "rules", Password: rulesPassword}),
		dsmtest.WithGroup(dsmtest.Group{Name: "rules"}))
	// The raw calls below carry no X-SYNO-HASH: a session without the
	// secure sign-in, which a loopback client may change things with.
	c := newClient(t, srv, dsm.WithSecureSignIn(dsm.SecureSignInOff))
	sess, err := c.Auth.Login(t.Context(), dsm.Credentials{Account: dsm.AccountAdmin, Password: srv.AdminPassword()})
	if err != nil {
		t.Fatal(err)
	}
	// The password policy off: only the rule at hand decides.
	if err := c.Policy.SetPasswordPolicy(t.Context(), dsm.PasswordPolicy{}); err != nil {
		t.Fatal(err)
	}
	nas := &rulesNAS{url: srv.URL(), sess: sess, hc: srv.HTTPClient()}

	var cases []verdict
	add := func(rule, value string, client error, refusal int, sim func(t *testing.T, n *rulesNAS) (bool, int)) {
		cases = append(cases, verdict{rule: rule, value: value, client: client, sim: sim, refusal: refusal})
	}

	// Names: every ASCII punctuation character inside a name, spaces and
	// "-" at either end, white space that is not U+0020, control and
	// format characters, other scripts, invalid UTF-8, and lengths at and
	// over each limit counted in characters of 1 to 4 bytes.
	names := []string{"", "alice", "Alice Smith", "a.b", ".", "..", "a-", "-a", "--", " a", "a ", " ", "a  b",
		"\u00a0a", "a\u00a0", "\u3000a", "\u2028a", "\u200ba", "a\u202eb", "\ufeffa",
		"a\x00b", "a\tb", "a\nb", "a\rb", "a\x1fb", "a\x7fb", "a\u0085b", "\ta",
		"ünïcödé", "名前", "имя", "🙂", "e\u0301", "a\xffb", "\xc3", "a\xed\xa0\x80b"}
	for _, r := range "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" {
		names = append(names, "a"+string(r)+"b", string(r)+"a", "a"+string(r))
	}
	for _, n := range []int{dsm.MaxGroupNameLength, dsm.MaxUserNameLength, dsm.MaxShareNameLength} {
		for _, ch := range []string{"x", "é", "名", "🙂"} {
			names = append(names, strings.Repeat(ch, n), strings.Repeat(ch, n+1))
		}
	}
	for _, name := range slices.Compact(slices.Sorted(slices.Values(names))) {
		add("user name", name, dsm.ValidateUserName(name), 3103, func(t *testing.T, n *rulesNAS) (bool, int) {
			ok, code := n.call(t, "SYNO.Core.User", "create", "name", str(name), "password", str(rulesPassword))
			if ok {
				n.call(t, "SYNO.Core.User", "delete", "name", jsonText([]string{name}))
			}
			return ok, code
		})
		add("group name", name, dsm.ValidateGroupName(name), 3208, func(t *testing.T, n *rulesNAS) (bool, int) {
			ok, code := n.call(t, "SYNO.Core.Group", "create", "name", str(name))
			if ok {
				n.call(t, "SYNO.Core.Group", "delete", "name", jsonText([]string{name}))
			}
			return ok, code
		})
		add("shared folder name", name, dsm.ValidateShareName(name), 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			ok, code := n.call(t, "SYNO.Core.Share", "create", "name", str(name), "shareinfo", jsonText(map[string]string{"vol_path": "/volume1"}))
			if ok {
				n.call(t, "SYNO.Core.Share", "delete", "name", jsonText([]string{name}))
			}
			return ok, code
		})
	}

	// Descriptions, of users and of groups.
	descs := []string{"", "Alice Liddell", " padded ", "-dash", "a/b:c#d!?", "名前とか", "🙂",
		"a\tb", "a\nb", "a\x7fb", "a\u0085b", "a\u200bb", "a\xffb"}
	for _, ch := range []string{"x", "é", "🙂"} {
		descs = append(descs, strings.Repeat(ch, dsm.MaxDescriptionLength), strings.Repeat(ch, dsm.MaxDescriptionLength+1))
	}
	for _, d := range descs {
		add("user description", d, dsm.ValidateDescription(d), 3103, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.User", "set", "name", str("rules"), "description", str(d))
		})
		add("group description", d, dsm.ValidateDescription(d), 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.Group", "set", "name", str("rules"), "description", str(d))
		})
	}

	// Email addresses.
	atLimit := strings.Repeat("a", dsm.MaxEmailLength-len("@example.com")) + "@example.com"
	emails := []string{"", "alice@example.com", "alice@localhost", "alice+tag@example.com", "ü@example.com",
		"alice", "@example.com", "alice@", "@", "a@b@c", "alice @example.com", "alice@exa mple.com", " alice@example.com",
		"alice@example.com\n", "alice\u00a0@example.com", "a\x00@example.com", "a\xff@example.com",
		"Bob <bob@example.com>", "<bob@example.com>", "a..b@example.com", "alice@[127.0.0.1]",
		atLimit, "a" + atLimit}
	for _, e := range emails {
		add("email", e, dsm.ValidateEmail(e), 3103, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.User", "set", "name", str("rules"), "email", str(e))
		})
	}

	// Passwords: DSM's limits only (the policy is off).
	passwords := []string{"", "x", "with space", "tab\tinside", "a\xffb"}
	for _, ch := range []string{"x", "é", "🙂"} {
		passwords = append(passwords, strings.Repeat(ch, dsm.MaxPasswordLength), strings.Repeat(ch, dsm.MaxPasswordLength+1))
	}
	for _, pw := range passwords {
		add("password", fmt.Sprintf("%d bytes, %d characters: %.12q", len(pw), utf8.RuneCountInString(pw), pw), dsm.ValidatePassword(pw), 3121,
			func(t *testing.T, n *rulesNAS) (bool, int) {
				return n.call(t, "SYNO.Core.User", "set", "name", str("rules"), "password", str(pw))
			})
	}

	// The password policy: history counts and minimum lengths, each rule
	// on and off. Every field is sent, so the state left by the case
	// before does not matter.
	var policies []dsm.StrongPassword
	for _, n := range []int{-1, 0, 1, dsm.MaxPasswordHistory, dsm.MaxPasswordHistory + 1, 50, 999} {
		policies = append(policies, dsm.StrongPassword{ExcludeHistory: true, HistoryCount: n}, dsm.StrongPassword{HistoryCount: n})
	}
	for _, n := range []int{-1, 0, 1, 6, dsm.MaxPasswordLength, dsm.MaxPasswordLength + 1} {
		policies = append(policies, dsm.StrongPassword{MinLengthEnabled: true, MinLength: n}, dsm.StrongPassword{MinLength: n})
	}
	for _, st := range policies {
		add("password policy", fmt.Sprintf("%+v", st), dsm.PasswordPolicy{Strong: st}.Validate(), 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.User.PasswordPolicy", "set", "strong_password", jsonText(map[string]any{
				"min_length_enable": st.MinLengthEnabled, "min_length": st.MinLength, "mixed_case": false,
				"included_numeric_char": false, "included_special_char": false, "exclude_username": false,
				"exclude_common_password": false, "exclude_history": st.ExcludeHistory, "history_num": st.HistoryCount,
			}))
		})
	}

	// Password expiry: ages, prompt and mail days at and over each bound,
	// each setting on and off, and the minimum age against the maximum.
	var expiries []dsm.PasswordExpiry
	for _, n := range []int{0, 1, dsm.MaxPasswordAge, dsm.MaxPasswordAge + 1} {
		expiries = append(expiries, dsm.PasswordExpiry{Enabled: true, MaxAge: n}, dsm.PasswordExpiry{MaxAge: n})
	}
	for _, n := range []int{0, 1, dsm.MaxPasswordMinAge, dsm.MaxPasswordMinAge + 1} {
		expiries = append(expiries, dsm.PasswordExpiry{MinAgeEnabled: true, MinAge: n}, dsm.PasswordExpiry{MinAge: n})
	}
	for _, n := range []int{29, 30, 31} {
		expiries = append(expiries, dsm.PasswordExpiry{Enabled: true, MaxAge: 30, MinAgeEnabled: true, MinAge: n})
	}
	for _, n := range []int{0, 1, dsm.MaxLoginPromptDays, dsm.MaxLoginPromptDays + 1} {
		expiries = append(expiries, dsm.PasswordExpiry{LoginPrompt: true, LoginPromptDays: n}, dsm.PasswordExpiry{LoginPromptDays: n})
	}
	for _, n := range []int{0, 1, dsm.MaxMailNotificationDays, dsm.MaxMailNotificationDays + 1} {
		expiries = append(expiries, dsm.PasswordExpiry{MailNotification: true, MailNotificationDays: n}, dsm.PasswordExpiry{MailNotificationDays: n})
	}
	for _, e := range expiries {
		add("password expiry", fmt.Sprintf("%+v", e), e.Validate(), 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.User.PasswordExpiry", "set",
				"password_expire_enable", strconv.FormatBool(e.Enabled), "max_age", strconv.Itoa(e.MaxAge),
				"min_age_enable", strconv.FormatBool(e.MinAgeEnabled), "min_age", strconv.Itoa(e.MinAge),
				"enable_login_prompt", strconv.FormatBool(e.LoginPrompt), "login_prompt_days", strconv.Itoa(e.LoginPromptDays),
				"allow_reset_after_expired", "true",
				"enable_mail_notification", strconv.FormatBool(e.MailNotification), "mail_notification_days", strconv.Itoa(e.MailNotificationDays))
		})
	}

	// Auto-block: each threshold at and over its bounds, enabled or not
	// (DSM ignores the thresholds of a disabled auto-block).
	var blocks []dsm.AutoBlock
	for _, on := range []bool{true, false} {
		for _, n := range []int{-1, 0, dsm.AutoBlockMinAttempts, dsm.AutoBlockMaxAttempts, dsm.AutoBlockMaxAttempts + 1} {
			blocks = append(blocks, dsm.AutoBlock{Enabled: on, Attempts: n, WithinMinutes: 5})
		}
		for _, n := range []int{0, 1, dsm.AutoBlockMaxWithinMinutes, dsm.AutoBlockMaxWithinMinutes + 1} {
			blocks = append(blocks, dsm.AutoBlock{Enabled: on, Attempts: 5, WithinMinutes: n})
		}
		for _, n := range []int{-1, 0, 1, dsm.AutoBlockMaxExpireDays, dsm.AutoBlockMaxExpireDays + 1} {
			blocks = append(blocks, dsm.AutoBlock{Enabled: on, Attempts: 5, WithinMinutes: 5, ExpireDays: n})
		}
	}
	for _, a := range blocks {
		add("auto-block", fmt.Sprintf("%+v", a), a.Validate(), 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.Security.AutoBlock", "set", "enable", strconv.FormatBool(a.Enabled),
				"attempts", strconv.Itoa(a.Attempts), "within_mins", strconv.Itoa(a.WithinMinutes), "expire_day", strconv.Itoa(a.ExpireDays))
		})
	}
	// Account protection: each threshold at and over its bounds.
	var protections []dsm.AccountProtection
	ok := dsm.LoginLimit{Attempts: 5, WithinMinutes: 1, LockMinutes: 30}
	for _, l := range []dsm.LoginLimit{
		{Attempts: 0, WithinMinutes: 1, LockMinutes: 30}, {Attempts: dsm.AccountProtectionMaxAttempts, WithinMinutes: 1, LockMinutes: 30},
		{Attempts: dsm.AccountProtectionMaxAttempts + 1, WithinMinutes: 1, LockMinutes: 30},
		{Attempts: 5, WithinMinutes: 0, LockMinutes: 30}, {Attempts: 5, WithinMinutes: dsm.AccountProtectionMaxWithinMinutes, LockMinutes: 30},
		{Attempts: 5, WithinMinutes: dsm.AccountProtectionMaxWithinMinutes + 1, LockMinutes: 30},
		{Attempts: 5, WithinMinutes: 1, LockMinutes: 0}, {Attempts: 5, WithinMinutes: 1, LockMinutes: dsm.AccountProtectionMaxLockMinutes},
		{Attempts: 5, WithinMinutes: 1, LockMinutes: dsm.AccountProtectionMaxLockMinutes + 1},
	} {
		protections = append(protections, dsm.AccountProtection{Enabled: true, Untrusted: l, Trusted: ok}, dsm.AccountProtection{Untrusted: ok, Trusted: l})
	}
	for _, p := range protections {
		add("account protection", fmt.Sprintf("%+v", p), p.Validate(), 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			return n.call(t, "SYNO.Core.SmartBlock", "set", "enabled", strconv.FormatBool(p.Enabled),
				"untrust_try", strconv.Itoa(p.Untrusted.Attempts), "untrust_minute", strconv.Itoa(p.Untrusted.WithinMinutes), "untrust_lock", strconv.Itoa(p.Untrusted.LockMinutes),
				"trust_try", strconv.Itoa(p.Trusted.Attempts), "trust_minute", strconv.Itoa(p.Trusted.WithinMinutes), "trust_lock", strconv.Itoa(p.Trusted.LockMinutes))
		})
	}
	// Allow-list entries: addresses and networks, and what is neither.
	for _, a := range []string{"192.0.2.7", "2001:db8::7", "::ffff:192.0.2.7", "192.168.1.0/24", "192.168.1.7/24", "10.0.0.0/8", "0.0.0.0/0",
		"2001:db8::/32", "::/0", "192.0.2.7/32", "10.0.0.0/33", "2001:db8::/129", "::ffff:10.0.0.0/104", "fe80::1%eth0", "", " ", "nonsense",
		"192.0.2", "192.0.2.256", "1.2.3.4/", "/24", "1.2.3.4/-1", "01.2.3.4", "example.com"} {
		_, err := dsm.ParseAddressRule(a)
		add("allow-list entry", a, err, 120, func(t *testing.T, n *rulesNAS) (bool, int) {
			ok, code := n.call(t, "SYNO.Core.Security.AutoBlock.Rules", "create", "type", str("allow"), "ip", jsonText([]string{a}))
			if ok {
				n.call(t, "SYNO.Core.Security.AutoBlock.Rules", "delete", "type", str("allow"), "ip", jsonText([]string{a}))
			}
			return ok, code
		})
	}

	// Built-in names: the client's lists against what the simulator will
	// not delete (none of these names but the built-in ones exists).
	noSuchUser, noSuchGroup := 3106, 3204
	for _, name := range []string{"admin", "ADMIN", "guest", "Guest", "SynologyCMS", "synologycms", "MAILER-DAEMON", "mailer-daemon",
		"POSTMASTER", "Postmaster", "ſynologycms", "admin ", "administrator", "root", "nobody"} {
		builtin := error(nil)
		if dsm.IsBuiltinAccount(name) {
			builtin = fmt.Errorf("a built-in account")
		}
		add("undeletable account", name, builtin, 3115, func(t *testing.T, n *rulesNAS) (bool, int) {
			ok, code := n.call(t, "SYNO.Core.User", "delete", "name", jsonText([]string{name}))
			return ok || code == noSuchUser, code
		})
	}
	for _, name := range []string{"users", "USERS", "administrators", "Administrators", "http", "HTTP", "user", "admin", "root", "everyone"} {
		builtin := error(nil)
		if dsm.IsBuiltinGroup(name) {
			builtin = fmt.Errorf("a built-in group")
		}
		add("undeletable group", name, builtin, 3207, func(t *testing.T, n *rulesNAS) (bool, int) {
			ok, code := n.call(t, "SYNO.Core.Group", "delete", "name", jsonText([]string{name}))
			return ok || code == noSuchGroup, code
		})
	}

	for _, tc := range cases {
		simOK, code := tc.sim(t, nas)
		if !simOK && code != tc.refusal {
			t.Errorf("%s %q: the simulator answered %d, not the rule's refusal %d: the case tests something else", tc.rule, tc.value, code, tc.refusal)
			continue
		}
		if clientOK := tc.client == nil; clientOK != simOK {
			reason := "accepts"
			if !clientOK {
				reason = "refuses: " + tc.client.Error()
			}
			t.Errorf("%s %q: the client %s; the simulator %s", tc.rule, tc.value, reason, map[bool]string{true: "accepts", false: "refuses (" + strconv.Itoa(code) + ")"}[simOK])
		}
	}
}
