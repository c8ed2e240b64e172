package dsm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PolicyService reads and sets the password policy, the password expiry
// settings and the user name policy.
type PolicyService struct {
	c *Client
}

// PasswordPolicy is DSM's password strength policy.
type PasswordPolicy struct {
	// ResetByEmail lets users reset a forgotten password by email.
	ResetByEmail bool `json:"reset_by_email"`
	// MustChange makes new users change their password at first login.
	MustChange bool `json:"must_change"`
	// Strong holds the strength rules.
	Strong StrongPassword `json:"strong_password"`
}

// StrongPassword are the strength rules of a PasswordPolicy.
type StrongPassword struct {
	MinLengthEnabled bool `json:"min_length_enabled"`
	MinLength        int  `json:"min_length"`
	MixedCase        bool `json:"mixed_case"`
	Digit            bool `json:"digit"`
	Special          bool `json:"special"`
	ExcludeUsername  bool `json:"exclude_username"`
	ExcludeCommon    bool `json:"exclude_common"`
	ExcludeHistory   bool `json:"exclude_history"`
	// HistoryCount is how many earlier passwords ExcludeHistory remembers
	// (0 to MaxPasswordHistory).
	HistoryCount int `json:"history_count"`
}

type strongWire struct {
	MinLengthEnable       flexBool `json:"min_length_enable"`
	MinLength             flexInt  `json:"min_length"`
	MixedCase             flexBool `json:"mixed_case"`
	IncludedNumericChar   flexBool `json:"included_numeric_char"`
	IncludedSpecialChar   flexBool `json:"included_special_char"`
	ExcludeUsername       flexBool `json:"exclude_username"`
	ExcludeCommonPassword flexBool `json:"exclude_common_password"`
	ExcludeHistory        flexBool `json:"exclude_history"`
	HistoryNum            flexInt  `json:"history_num"`
}

// PasswordPolicy returns the password strength policy.
//
// DSM: SYNO.Core.User.PasswordPolicy get.
func (s *PolicyService) PasswordPolicy(ctx context.Context) (PasswordPolicy, error) {
	var d struct {
		ResetByEmail flexBool   `json:"enable_reset_passwd_by_email"`
		MustChange   flexBool   `json:"password_must_change"`
		Strong       strongWire `json:"strong_password"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.User.PasswordPolicy", "get", nil, &d)); err != nil {
		return PasswordPolicy{}, err
	}
	w := d.Strong
	return PasswordPolicy{
		ResetByEmail: bool(d.ResetByEmail),
		MustChange:   bool(d.MustChange),
		Strong: StrongPassword{
			MinLengthEnabled: bool(w.MinLengthEnable), MinLength: int(w.MinLength),
			MixedCase: bool(w.MixedCase), Digit: bool(w.IncludedNumericChar), Special: bool(w.IncludedSpecialChar),
			ExcludeUsername: bool(w.ExcludeUsername), ExcludeCommon: bool(w.ExcludeCommonPassword),
			ExcludeHistory: bool(w.ExcludeHistory), HistoryCount: int(w.HistoryNum),
		},
	}, nil
}

// SetPasswordPolicy replaces the password strength policy.
//
// DSM: SYNO.Core.User.PasswordPolicy set.
func (s *PolicyService) SetPasswordPolicy(ctx context.Context, p PasswordPolicy) error {
	if err := p.Validate(); err != nil {
		return argError("set password policy", err)
	}
	st := p.Strong
	strong := map[string]any{
		"min_length_enable": st.MinLengthEnabled, "min_length": st.MinLength,
		"mixed_case": st.MixedCase, "included_numeric_char": st.Digit, "included_special_char": st.Special,
		"exclude_username": st.ExcludeUsername, "exclude_common_password": st.ExcludeCommon,
		"exclude_history": st.ExcludeHistory, "history_num": st.HistoryCount,
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.User.PasswordPolicy", "set", Params{
		"enable_reset_passwd_by_email": p.ResetByEmail,
		"password_must_change":         p.MustChange,
		"strong_password":              strong,
	}, nil))
}

// PasswordExpiry are DSM's password expiry settings.
type PasswordExpiry struct {
	Enabled bool `json:"enabled"`
	// MaxAge is how many days a password is valid (1 to MaxPasswordAge).
	MaxAge        int  `json:"max_age"`
	MinAgeEnabled bool `json:"min_age_enabled"`
	// MinAge is how many days must pass between changes.
	MinAge      int  `json:"min_age"`
	LoginPrompt bool `json:"login_prompt"`
	// LoginPromptDays is how many days before expiry users are told
	// (1 to MaxLoginPromptDays).
	LoginPromptDays        int  `json:"login_prompt_days"`
	AllowResetAfterExpired bool `json:"allow_reset_after_expired"`
	MailNotification       bool `json:"mail_notification"`
	MailNotificationDays   int  `json:"mail_notification_days"`
}

// PasswordExpiry returns the password expiry settings.
//
// DSM: SYNO.Core.User.PasswordExpiry get.
func (s *PolicyService) PasswordExpiry(ctx context.Context) (PasswordExpiry, error) {
	var d struct {
		Enable               flexBool `json:"password_expire_enable"`
		MaxAge               flexInt  `json:"max_age"`
		MinAgeEnable         flexBool `json:"min_age_enable"`
		MinAge               flexInt  `json:"min_age"`
		LoginPrompt          flexBool `json:"enable_login_prompt"`
		LoginPromptDays      flexInt  `json:"login_prompt_days"`
		AllowReset           flexBool `json:"allow_reset_after_expired"`
		MailNotification     flexBool `json:"enable_mail_notification"`
		MailNotificationDays flexInt  `json:"mail_notification_days"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.User.PasswordExpiry", "get", nil, &d)); err != nil {
		return PasswordExpiry{}, err
	}
	return PasswordExpiry{
		Enabled: bool(d.Enable), MaxAge: int(d.MaxAge), MinAgeEnabled: bool(d.MinAgeEnable), MinAge: int(d.MinAge),
		LoginPrompt: bool(d.LoginPrompt), LoginPromptDays: int(d.LoginPromptDays),
		AllowResetAfterExpired: bool(d.AllowReset), MailNotification: bool(d.MailNotification),
		MailNotificationDays: int(d.MailNotificationDays),
	}, nil
}

// SetPasswordExpiry replaces the password expiry settings. neverExpire,
// when not nil, is the list of users whose password never expires.
//
// DSM: SYNO.Core.User.PasswordExpiry set.
func (s *PolicyService) SetPasswordExpiry(ctx context.Context, e PasswordExpiry, neverExpire []string) error {
	if err := e.Validate(); err != nil {
		return argError("set password expiry", err)
	}
	for _, n := range neverExpire {
		if err := ValidateUserName(n); err != nil {
			return argError("set password expiry", fmt.Errorf("never-expire list: %w", err))
		}
	}
	p := Params{
		"password_expire_enable": e.Enabled, "max_age": e.MaxAge,
		"min_age_enable": e.MinAgeEnabled, "min_age": e.MinAge,
		"enable_login_prompt": e.LoginPrompt, "login_prompt_days": e.LoginPromptDays,
		"allow_reset_after_expired": e.AllowResetAfterExpired,
		"enable_mail_notification":  e.MailNotification, "mail_notification_days": e.MailNotificationDays,
	}
	if neverExpire != nil {
		p["never_expired_list"] = neverExpire
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.User.PasswordExpiry", "set", p, nil))
}

// ReservedNames returns the names DSM reserves and refuses for new users.
//
// DSM: SYNO.Core.User.UsernamePolicy get.
func (s *PolicyService) ReservedNames(ctx context.Context) ([]string, error) {
	var names []string
	if err := s.c.do(ctx, newRead("SYNO.Core.User.UsernamePolicy", "get", nil, &names)); err != nil {
		return nil, err
	}
	return names, nil
}

// PasswordRule names a rule of the password policy.
type PasswordRule string

// The rules CheckPassword can report.
const (
	RuleMinLength       PasswordRule = "min_length"
	RuleMixedCase       PasswordRule = "mixed_case"
	RuleDigit           PasswordRule = "included_numeric_char"
	RuleSpecial         PasswordRule = "included_special_char"
	RuleExcludeUsername PasswordRule = "exclude_username"
	RuleExcludeCommon   PasswordRule = "exclude_common_password"
)

// PasswordViolation is one policy rule a password breaks.
type PasswordViolation struct {
	Rule    PasswordRule `json:"rule"`
	Message string       `json:"message"`
}

// Check returns the rules of p that password breaks for user name.
func (p PasswordPolicy) Check(name, password string) []PasswordViolation {
	st := p.Strong
	var out []PasswordViolation
	add := func(r PasswordRule, format string, args ...any) {
		out = append(out, PasswordViolation{Rule: r, Message: fmt.Sprintf(format, args...)})
	}
	if st.MinLengthEnabled && utf8.RuneCountInString(password) < st.MinLength {
		add(RuleMinLength, "shorter than %d characters", st.MinLength)
	}
	var upper, lower, digit, special bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsLetter(r):
			special = true
		}
	}
	if st.MixedCase && !(upper && lower) {
		add(RuleMixedCase, "needs both upper and lower case letters")
	}
	if st.Digit && !digit {
		add(RuleDigit, "needs a digit")
	}
	if st.Special && !special {
		add(RuleSpecial, "needs a special character")
	}
	if st.ExcludeUsername && name != "" && strings.Contains(strings.ToLower(password), strings.ToLower(name)) {
		add(RuleExcludeUsername, "contains the user name")
	}
	if st.ExcludeCommon && isCommonPassword(password) {
		add(RuleExcludeCommon, "is a commonly used password")
	}
	return out
}

// commonPasswords are passwords found at the top of every leaked-password
// list; DSM refuses them when the policy excludes common passwords.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`123456 password 12345678 qwerty 123456789 12345 1234 111111
		1234567 dragon 123123 baseball abc123 football monkey letmein shadow master 666666
		qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
		121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter
		buster soccer harley batman andrew tigger sunshine iloveyou 2000 charlie robert
		thomas hockey ranger daniel starwars klaster 112233 george computer michelle
		jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass maggie
		159753 aaaaaa ginger princess joshua cheese amanda summer love ashley nicole
		chelsea biteme matthew access yankees 987654321 dallas austin thunder taylor
		matrix admin administrator welcome password1 password123 passw0rd p@ssw0rd
		p@ssword qwerty123 admin123 welcome1 abcd1234 synology changeme`) {
		commonPasswords[p] = true
	}
}

func isCommonPassword(pw string) bool { return commonPasswords[strings.ToLower(pw)] }

// GeneratedPasswordLength is the length of a password Generate makes,
// unless the policy asks for more.
const GeneratedPasswordLength = 20

// The characters of generated passwords: no look-alikes (0/O, 1/l/I), and
// special characters that need no quoting in a shell, a CSV or a TSV file.
const (
	genLower   = "abcdefghijkmnopqrstuvwxyz"
	genUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genDigit   = "23456789"
	genSpecial = "-_.+=@%"
)

// Generate makes up a random password (crypto/rand) for user name that
// meets p: GeneratedPasswordLength characters, or the policy's minimum if
// it is higher, with lower and upper case letters, a digit and a special
// character whatever the policy says.
func (p PasswordPolicy) Generate(name string) (string, error) {
	n := GeneratedPasswordLength
	if p.Strong.MinLengthEnabled && p.Strong.MinLength > n {
		n = p.Strong.MinLength
	}
	if n > MaxPasswordLength {
		return "", fmt.Errorf("dsm: the password policy's minimum length %d is above DSM's maximum of %d", n, MaxPasswordLength)
	}
	all := genLower + genUpper + genDigit + genSpecial
	for range 100 {
		b := make([]byte, n)
		// One of each class first, then any; shuffled below.
		for i, set := range []string{genLower, genUpper, genDigit, genSpecial} {
			b[i] = set[randIndex(len(set))]
		}
		for i := 4; i < n; i++ {
			b[i] = all[randIndex(len(all))]
		}
		for i := n - 1; i > 0; i-- {
			k := randIndex(i + 1)
			b[i], b[k] = b[k], b[i]
		}
		if pw := string(b); len(p.Check(name, pw)) == 0 {
			return pw, nil
		}
	}
	return "", errors.New("dsm: could not generate a password that meets the password policy")
}

// randIndex returns a uniform random number in [0, n), n <= 256.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:]) // never fails (crypto/rand)
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// TestPassword asks DSM whether it would accept password for the user
// name with the given description (both may be ""), without changing
// anything: nil when it would, else an error matching ErrWeakPassword.
// Unlike Users.CheckPassword and PasswordPolicy.Check, which judge here
// and never send the password, DSM judges with what only it knows, such
// as its list of common passwords and, for an existing user, the password
// history. DSM's table lets every user call it. The password travels
// encrypted over plain http.
//
// DSM: SYNO.Core.User.PasswordPolicy check.
func (s *PolicyService) TestPassword(ctx context.Context, name, description, password string) error {
	if name != "" {
		if err := ValidateUserName(name); err != nil {
			return argError("test password", err)
		}
	}
	if err := ValidateDescription(description); err != nil {
		return argError("test password", err)
	}
	if err := ValidatePassword(password); err != nil {
		return argError("test password", err)
	}
	p := Params{}
	if name != "" {
		p["name"] = name
	}
	if description != "" {
		p["description"] = description
	}
	return s.c.do(ctx, newRead("SYNO.Core.User.PasswordPolicy", "check", p, nil).withSecret(Params{"password": password}))
}
