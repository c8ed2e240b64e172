package sim

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error codes of password changes, with the meanings of DSM's own web UI
// strings (no Synology guide documents SYNO.Core.User).
const (
	codePasswordPolicy  = 3121 // fails the strong-password rules
	codePasswordHistory = 3122 // used before (history)
	codePasswordCommon  = 3123 // too common
	codePasswordInvalid = 3124 // wrong current password
)

// pbkdf2Iterations is the cost of a stored password hash. It is low for a
// password store because the simulator hashes on every login of every
// test (under the race detector too); the count is stored with each hash,
// so it can be raised without breaking state files.
const pbkdf2Iterations = 1000

// keptHistory is how many earlier passwords each user keeps hashes of,
// whatever history_num says, so raising history_num takes effect at once.
const keptHistory = 24

// passwordHash is a salted PBKDF2-SHA256 hash: the simulator never keeps
// a password, in memory or on disk.
type passwordHash struct {
	Salt []byte `json:"salt"`
	Hash []byte `json:"hash"`
	Iter int    `json:"iter"`
}

func hashPassword(pw string) passwordHash {
	salt := make([]byte, 16)
	rand.Read(salt)
	return passwordHash{Salt: salt, Hash: derive(pw, salt, pbkdf2Iterations), Iter: pbkdf2Iterations}
}

func derive(pw string, salt []byte, iter int) []byte {
	k, err := pbkdf2.Key(sha256.New, pw, salt, iter, 32)
	if err != nil {
		panic("sim: pbkdf2: " + err.Error())
	}
	return k
}

// matches reports whether pw is the password h was made from.
func (h passwordHash) matches(pw string) bool {
	if len(h.Hash) == 0 || h.Iter <= 0 {
		return false
	}
	return subtle.ConstantTimeCompare(derive(pw, h.Salt, h.Iter), h.Hash) == 1
}

// setPassword gives u a new password, keeps the old one's hash in the
// history and records the day of the change.
func (u *user) setPassword(pw string, day int) {
	if len(u.password.Hash) > 0 {
		u.history = append([]passwordHash{u.password}, u.history...)
		if len(u.history) > keptHistory {
			u.history = u.history[:keptHistory]
		}
	}
	u.password = hashPassword(pw)
	u.passwordLastChange = day
}

// passwordPolicy is SYNO.Core.User.PasswordPolicy's data.
type passwordPolicy struct {
	ResetByEmail bool           `json:"enable_reset_passwd_by_email"`
	MustChange   bool           `json:"password_must_change"`
	Strong       strongPassword `json:"strong_password"`
}

// strongPassword is the strong_password object of the password policy.
type strongPassword struct {
	MinLengthEnable       bool `json:"min_length_enable"`
	MinLength             int  `json:"min_length"`
	MixedCase             bool `json:"mixed_case"`
	IncludedNumericChar   bool `json:"included_numeric_char"`
	IncludedSpecialChar   bool `json:"included_special_char"`
	ExcludeUsername       bool `json:"exclude_username"`
	ExcludeCommonPassword bool `json:"exclude_common_password"`
	ExcludeHistory        bool `json:"exclude_history"`
	HistoryNum            int  `json:"history_num"`
}

// defaultPasswordPolicy is the policy of a fresh DSM 7.2 (the seed's
// example, with the rules it leaves out off).
func defaultPasswordPolicy() passwordPolicy {
	return passwordPolicy{Strong: strongPassword{
		MinLengthEnable:     true,
		MinLength:           8,
		MixedCase:           true,
		IncludedNumericChar: true,
		ExcludeUsername:     true,
	}}
}

// passwordExpiry is SYNO.Core.User.PasswordExpiry's data.
type passwordExpiry struct {
	Enable                 bool   `json:"password_expire_enable"`
	MaxAge                 int    `json:"max_age"`
	MinAgeEnable           bool   `json:"min_age_enable"`
	MinAge                 int    `json:"min_age"`
	EnableLoginPrompt      bool   `json:"enable_login_prompt"`
	LoginPromptDays        int    `json:"login_prompt_days"`
	AllowResetAfterExpired bool   `json:"allow_reset_after_expired"`
	EnableMailNotification bool   `json:"enable_mail_notification"`
	MailNotificationDays   string `json:"mail_notification_days"` // DSM sends a string, "" when unset
}

// defaultPasswordExpiry is the setting of a fresh DSM 7.2: off.
func defaultPasswordExpiry() passwordExpiry {
	return passwordExpiry{MaxAge: 90, MinAge: 1, LoginPromptDays: 1, AllowResetAfterExpired: true}
}

// checkPassword applies the policy to a new password pw for user name:
// 3121 for a broken rule (length, classes, the user name, more than 127
// characters), 3123 for a common password, 3122 for a reuse when history
// is on. The history check needs u (nil for a new user).
func (p passwordPolicy) checkPassword(name, pw string, u *user) error {
	st := p.Strong
	if !utf8.ValidString(pw) || utf8.RuneCountInString(pw) > maxPasswordLen {
		return fail(codePasswordPolicy)
	}
	if st.MinLengthEnable && utf8.RuneCountInString(pw) < st.MinLength {
		return fail(codePasswordPolicy)
	}
	var upper, lower, digit, special bool
	for _, r := range pw {
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
	if st.MixedCase && !(upper && lower) || st.IncludedNumericChar && !digit || st.IncludedSpecialChar && !special {
		return fail(codePasswordPolicy)
	}
	if st.ExcludeUsername && name != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(name)) {
		return fail(codePasswordPolicy)
	}
	if st.ExcludeCommonPassword && commonPasswords[strings.ToLower(pw)] {
		return fail(codePasswordCommon)
	}
	if st.ExcludeHistory && u != nil {
		n := max(st.HistoryNum, 1) // the current password counts as the first
		hashes := append([]passwordHash{u.password}, u.history...)
		for _, h := range hashes[:min(n, len(hashes))] {
			if h.matches(pw) {
				return fail(codePasswordHistory)
			}
		}
	}
	return nil
}

// commonPasswords is the simulator's own list of too-common passwords
// (exclude_common_password), compared in lower case. Several pass the
// default rules once capitalised, so the rule is observable.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`
		123456 123456789 12345678 password qwerty123 qwerty 1q2w3e4r 111111 1234567890
		iloveyou abc123 password1 password123 passw0rd p@ssw0rd p@ssword welcome welcome1
		welcome123 admin admin123 administrator letmein letmein1 monkey dragon sunshine
		princess football baseball superman batman trustno1 qwertyuiop asdfghjkl zxcvbnm
		1qaz2wsx qazwsx changeme changeme1 synology synology1 diskstation default secret
		secret123 summer2024 winter2024 spring2024 autumn2024 summer2025 winter2025
		password2024 password2025 hello123 freedom whatever master master123 shadow
		michael jennifer jordan hunter2 starwars pokemon computer internet samsung
		abcd1234 abcdef1 aa123456 a1b2c3d4 iloveyou1 football1 charlie123 qwe123
	`) {
		commonPasswords[p] = true
	}
}
