package dsm

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds DSM's rules and limits as the client knows them, and the
// checks that apply them before any call. The simulator (internal/sim)
// keeps its own copy of the same rules; rules_agreement_test.go holds the
// two against each other.

// Limits published by Synology for DSM 7
// (https://www.synology.com/en-us/dsm/software_spec/account_privilege).
const (
	// MaxUserNameLength is the longest user name, in Unicode characters.
	MaxUserNameLength = 64
	// MaxGroupNameLength is the longest group name, in Unicode characters.
	MaxGroupNameLength = 32
	// MaxPasswordLength is the longest password, in Unicode characters.
	MaxPasswordLength = 127
	// MaxDescriptionLength is the longest user or group description, in
	// Unicode characters.
	MaxDescriptionLength = 64
	// MaxPasswordAge is the longest a password can be valid, in days
	// (PasswordExpiry.MaxAge is 1 to MaxPasswordAge).
	MaxPasswordAge = 999
	// MaxLoginPromptDays is the most days before expiry DSM can start
	// telling users at login (PasswordExpiry.LoginPromptDays is 1 to
	// MaxLoginPromptDays).
	MaxLoginPromptDays = 99
)

// Limits no public source gives: these are this package's choices, and the
// simulator models the same ones.
const (
	// MaxEmailLength is the longest email address, in bytes.
	MaxEmailLength = 512
	// MaxPasswordHistory is the most earlier passwords the policy can
	// remember (StrongPassword.HistoryCount is 0 to MaxPasswordHistory).
	// No public source gives DSM's bound; 24 is the bound of the common
	// "enforce password history" policies.
	MaxPasswordHistory = 24
	// MaxPasswordMinAge is the longest minimum age of a password, in days:
	// one below MaxPasswordAge, so that a minimum age stays below some
	// valid maximum age. While expiry is on, the minimum age must also be
	// below PasswordExpiry.MaxAge.
	MaxPasswordMinAge = MaxPasswordAge - 1
	// MaxMailNotificationDays is the most days before expiry DSM can mail
	// users. It is taken to match MaxLoginPromptDays, which Synology
	// publishes.
	MaxMailNotificationDays = 99
)

// The punctuation DSM refuses in names. Besides these, a name may not start
// with "-" or a space, nor end with a space. Sources: SynologyWiki's
// notes on the user wizard list the user set ("The first character cannot
// be a minus or a space, and the last character cannot be a space",
// http://www.synology.com/wiki/index.php/Managing_the_File_Server_Abilities_of_the_Synology_System,
// from the DSM 3 era), and DSM 6's group help lists the same set without
// "#" and the same rule for the first and last characters
// (https://kb.synology.com/en-ca/DSM/help/DSM/AdminCenter/file_group_create?version=6).
// A space is U+0020, as the pages write it.
// Control characters are refused too: Synology's pages speak of
// displayable characters.
const (
	// UserNameForbiddenChars are the characters DSM refuses in user names.
	UserNameForbiddenChars = "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~"
	// GroupNameForbiddenChars are the characters DSM refuses in group
	// names: those of user names but "#".
	GroupNameForbiddenChars = "!\"$%&'()*+,/:;<=>?@[\\]^`{|}~"
)

// DSM's default groups, which cannot be deleted or renamed (Synology's
// DSM 7 specification, above).
const (
	// GroupUsers is the group every local user belongs to and cannot
	// leave.
	GroupUsers = "users"
	// GroupAdministrators is the group of administrators; DSM keeps at
	// least one enabled member in it.
	GroupAdministrators = "administrators"
	// GroupHTTP is the group of DSM's web services.
	GroupHTTP = "http"
)

// DSM's default and system accounts, which cannot be deleted or renamed
// (Synology's DSM 7 specification, above).
const (
	// AccountAdmin is the default administrator account.
	AccountAdmin = "admin"
	// AccountGuest is the default guest account.
	AccountGuest = "guest"
	// AccountSynologyCMS, AccountMailerDaemon and AccountPostmaster are
	// system accounts.
	AccountSynologyCMS  = "SynologyCMS"
	AccountMailerDaemon = "MAILER-DAEMON"
	AccountPostmaster   = "POSTMASTER"
)

var (
	builtinGroups   = []string{GroupAdministrators, GroupUsers, GroupHTTP}
	builtinAccounts = []string{AccountAdmin, AccountGuest, AccountSynologyCMS, AccountMailerDaemon, AccountPostmaster}
)

// IsBuiltinGroup reports whether name is one of DSM's default groups
// (GroupUsers, GroupAdministrators, GroupHTTP), in any case.
func IsBuiltinGroup(name string) bool { return containsFold(builtinGroups, name) }

// IsBuiltinAccount reports whether name is one of DSM's default or system
// accounts (AccountAdmin, AccountGuest, AccountSynologyCMS,
// AccountMailerDaemon, AccountPostmaster), in any case.
func IsBuiltinAccount(name string) bool { return containsFold(builtinAccounts, name) }

// containsFold reports whether list holds name in lower case or any other.
// Lower-casing (not Unicode case folding) is how DSM's names are compared
// by the simulator too: "ſ" is not "s".
func containsFold(list []string, name string) bool {
	n := strings.ToLower(name)
	return slices.ContainsFunc(list, func(s string) bool { return strings.ToLower(s) == n })
}

// ValidateUserName checks a user name against DSM's rules: not empty, at
// most MaxUserNameLength characters of valid UTF-8, no control character,
// none of UserNameForbiddenChars, not starting with "-" or a space, not
// ending with a space.
func ValidateUserName(name string) error {
	return validateName("user", name, MaxUserNameLength, UserNameForbiddenChars)
}

// ValidateGroupName checks a group name as ValidateUserName does, with
// MaxGroupNameLength and GroupNameForbiddenChars.
func ValidateGroupName(name string) error {
	return validateName("group", name, MaxGroupNameLength, GroupNameForbiddenChars)
}

func validateName(kind, name string, maxLen int, forbidden string) error {
	if name == "" {
		return invalid("the %s name is empty", kind)
	}
	if !utf8.ValidString(name) {
		return invalid("the %s name is not valid UTF-8", kind)
	}
	if n := utf8.RuneCountInString(name); n > maxLen {
		return invalid("the %s name %q has %d characters; DSM allows at most %d", kind, name, n, maxLen)
	}
	// DSM's rule speaks of a space: U+0020. Other white space is a
	// control character (refused below) or an ordinary character to DSM.
	if name[0] == ' ' || name[len(name)-1] == ' ' {
		return invalid("the %s name %q starts or ends with a space", kind, name)
	}
	if name[0] == '-' {
		return invalid("the %s name %q starts with \"-\", which DSM refuses", kind, name)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return invalid("the %s name %q contains a control character", kind, name)
	}
	if i := strings.IndexAny(name, forbidden); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return invalid("the %s name %q contains %q; DSM refuses the characters %s", kind, name, r, forbidden)
	}
	return nil
}

// ValidatePassword checks a password against DSM's limits: valid UTF-8 and
// at most MaxPasswordLength characters. Whether it meets the NAS's
// password policy is PasswordPolicy.Check's question.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return invalid("the password is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(pw); n > MaxPasswordLength {
		return invalid("the password has %d characters; DSM allows at most %d", n, MaxPasswordLength)
	}
	return nil
}

// ValidateDescription checks a user or group description against DSM's
// limits: valid UTF-8, at most MaxDescriptionLength characters, no control
// characters.
func ValidateDescription(d string) error {
	if !utf8.ValidString(d) {
		return invalid("the description is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLength {
		return invalid("the description has %d characters; DSM allows at most %d", n, MaxDescriptionLength)
	}
	if strings.IndexFunc(d, unicode.IsControl) >= 0 {
		return invalid("the description contains a control character")
	}
	return nil
}

// ValidateEmail accepts "" or one address such as alice@example.com: at
// most MaxEmailLength bytes of valid UTF-8, a non-empty part before one
// "@" and a non-empty host after it, no white space or control
// characters. What DSM checks beyond that shape is not known, so the
// client checks no more (a display name, "Bob <bob@example.com>", has a
// space and is refused).
func ValidateEmail(e string) error {
	if e == "" {
		return nil
	}
	if len(e) > MaxEmailLength {
		return invalid("the email address is longer than %d bytes", MaxEmailLength)
	}
	if !utf8.ValidString(e) {
		return invalid("the email address is not valid UTF-8")
	}
	local, host, ok := strings.Cut(e, "@")
	if !ok || local == "" || host == "" || strings.Contains(host, "@") ||
		strings.IndexFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return invalid("%q is not an email address such as alice@example.com", e)
	}
	return nil
}

func validateExpiry(e Expiry, today Date) error {
	switch e.Kind {
	case ExpiryNever, ExpiryDisabled:
		return nil
	case ExpiryOnDate:
		if e.Date.IsZero() {
			return invalid("the expiry date is missing")
		}
		if e.Date.Before(today) {
			return invalid("the expiry date %s is in the past; use disabled to disable the account now", e.Date)
		}
		return nil
	}
	return invalid("unknown expiry kind %d", e.Kind)
}

// The checks below let a program refuse a mistake before it connects at
// all. Login, Create and JoinGroups run the same code before their calls.

// ValidateOTPCode checks a 2-step code as Login does: empty (no code) or
// digits only.
func ValidateOTPCode(code string) error {
	if strings.TrimFunc(code, unicode.IsDigit) != "" {
		return invalid("the 2-step code must be digits only")
	}
	return nil
}

// Validate reports what List and All refuse in o, as an *ArgError, without
// any call: a negative offset, limit or page size, an unknown sort field
// or user field.
func (o ListOptions) Validate() error {
	if err := o.validate(); err != nil {
		return argError("list users", err)
	}
	return nil
}

// Validate reports what Create refuses in r, as an *ArgError, without any
// call, so that a program can check a request before it connects. An
// empty Password passes here, so the rest of a request can be checked
// before the password is read or generated; Create refuses it.
func (r UserCreateRequest) Validate() error {
	if err := r.validate(DateOf(time.Now()), false); err != nil {
		return argError("create user", err)
	}
	return nil
}

// ValidateGroupChange reports what JoinGroups refuses, as an *ArgError,
// without any call: a bad user or group name, no group at all, leaving
// GroupUsers, or a group both joined and left.
func ValidateGroupChange(name string, join, leave []string) error {
	if err := ValidateUserName(name); err != nil {
		return argError("change groups", err)
	}
	op := fmt.Sprintf("change groups of %s", name)
	if len(join) == 0 && len(leave) == 0 {
		return argErrorf(op, "no group to join or leave")
	}
	for _, g := range slices.Concat(join, leave) {
		if err := ValidateGroupName(g); err != nil {
			return argError(op, err)
		}
	}
	for _, g := range leave {
		if strings.EqualFold(g, GroupUsers) {
			return argErrorf(op, "every user belongs to %q and cannot leave it", GroupUsers)
		}
		if slices.ContainsFunc(join, func(j string) bool { return strings.EqualFold(j, g) }) {
			return argErrorf(op, "%q is both joined and left", g)
		}
	}
	return nil
}

// Validate reports what SetPasswordPolicy refuses in p: a minimum length
// outside 1 to MaxPasswordLength while it is on, a history count outside 0
// to MaxPasswordHistory, or a count of 0 while history is excluded.
func (p PasswordPolicy) Validate() error {
	st := p.Strong
	if st.MinLengthEnabled && (st.MinLength < 1 || st.MinLength > MaxPasswordLength) {
		return invalid("minimum length %d must be from 1 to %d", st.MinLength, MaxPasswordLength)
	}
	if st.HistoryCount < 0 || st.HistoryCount > MaxPasswordHistory {
		return invalid("history count %d must be from 0 to %d", st.HistoryCount, MaxPasswordHistory)
	}
	if st.ExcludeHistory && st.HistoryCount == 0 {
		return invalid("history count %d must be at least 1 when history is excluded", st.HistoryCount)
	}
	return nil
}

// Validate reports what SetPasswordExpiry refuses in e. Each number is
// checked while its setting is on: MaxAge from 1 to MaxPasswordAge,
// LoginPromptDays from 1 to MaxLoginPromptDays, MinAge from 1 to
// MaxPasswordMinAge and below MaxAge while expiry is on,
// MailNotificationDays from 1 to MaxMailNotificationDays.
func (e PasswordExpiry) Validate() error {
	if e.Enabled && (e.MaxAge < 1 || e.MaxAge > MaxPasswordAge) {
		return invalid("maximum age %d must be from 1 to %d days", e.MaxAge, MaxPasswordAge)
	}
	if e.LoginPrompt && (e.LoginPromptDays < 1 || e.LoginPromptDays > MaxLoginPromptDays) {
		return invalid("login prompt %d must be from 1 to %d days before expiry", e.LoginPromptDays, MaxLoginPromptDays)
	}
	if e.MinAgeEnabled && (e.MinAge < 1 || e.MinAge > MaxPasswordMinAge || (e.Enabled && e.MinAge >= e.MaxAge)) {
		return invalid("minimum age %d must be from 1 to %d days and below the maximum age", e.MinAge, MaxPasswordMinAge)
	}
	if e.MailNotification && (e.MailNotificationDays < 1 || e.MailNotificationDays > MaxMailNotificationDays) {
		return invalid("mail notification days %d must be from 1 to %d", e.MailNotificationDays, MaxMailNotificationDays)
	}
	return nil
}

// Bounds of the auto-block settings (AutoBlock), as DSM's UI sets them
// (math65/dsmaccess DSMLogSecurityService.swift, DSM 7.4).
const (
	AutoBlockMinAttempts      = 1
	AutoBlockMaxAttempts      = 100
	AutoBlockMaxWithinMinutes = 1440
	// AutoBlockMaxExpireDays is the longest block in days; 0 is never
	// lifted.
	AutoBlockMaxExpireDays = 2000
)

// Bounds of the account protection settings (AccountProtection). DSM's
// are not published: these are this package's choices, as wide as
// auto-block's, and the simulator models the same ones.
const (
	AccountProtectionMaxAttempts      = 100
	AccountProtectionMaxWithinMinutes = 1440
	AccountProtectionMaxLockMinutes   = 525600 // a year
)

// MaxAddressRules is the most entries the allow and block lists hold
// together, and the most one call adds or removes. A choice: DSM's limit
// is unknown.
const MaxAddressRules = 1024
