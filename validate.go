package dsm

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits published by Synology for DSM 7.
const (
	MaxUserNameLength    = 64  // Unicode characters
	MaxGroupNameLength   = 32  // Unicode characters
	MaxPasswordLength    = 127 // Unicode characters
	MaxDescriptionLength = 64  // Unicode characters
	MaxEmailLength       = 512
)

// ValidateUserName checks a user name against DSM's rules: not empty, at
// most 64 characters, no control characters, none of the characters DSM
// refuses, and no leading or trailing space.
func ValidateUserName(name string) error {
	return validateName("user", name, MaxUserNameLength)
}

// ValidateGroupName checks a group name as ValidateUserName does, with
// DSM's limit of 32 characters.
func ValidateGroupName(name string) error {
	return validateName("group", name, MaxGroupNameLength)
}

// forbiddenNameChars are the characters DSM refuses in user and group
// names.
const forbiddenNameChars = "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~"

func validateName(kind, name string, maxLen int) error {
	if name == "" {
		return invalid("the %s name is empty", kind)
	}
	if !utf8.ValidString(name) {
		return invalid("the %s name is not valid UTF-8", kind)
	}
	if n := utf8.RuneCountInString(name); n > maxLen {
		return invalid("the %s name %q has %d characters; DSM allows at most %d", kind, name, n, maxLen)
	}
	if strings.TrimSpace(name) != name {
		return invalid("the %s name %q starts or ends with a space", kind, name)
	}
	if i := strings.IndexFunc(name, unicode.IsControl); i >= 0 {
		return invalid("the %s name %q contains a control character", kind, name)
	}
	if i := strings.IndexAny(name, forbiddenNameChars); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return invalid("the %s name %q contains %q; DSM refuses the characters %s", kind, name, r, forbiddenNameChars)
	}
	return nil
}

func validatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return invalid("the password is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(pw); n > MaxPasswordLength {
		return invalid("the password has %d characters; DSM allows at most %d", n, MaxPasswordLength)
	}
	return nil
}

// ValidateDescription checks a user or group description against DSM's
// limits: at most 64 characters, no control characters.
func ValidateDescription(d string) error {
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLength {
		return invalid("the description has %d characters; DSM allows at most %d", n, MaxDescriptionLength)
	}
	if strings.IndexFunc(d, unicode.IsControl) >= 0 {
		return invalid("the description contains a control character")
	}
	return nil
}

// ValidateEmail accepts "" or one plain address such as
// alice@example.com, as DSM does.
func ValidateEmail(e string) error {
	if e == "" {
		return nil
	}
	if len(e) > MaxEmailLength {
		return invalid("the email address is longer than %d bytes", MaxEmailLength)
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
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
			return invalid("the expiry date %s is in the past; use Disabled to disable the account now", e.Date)
		}
		return nil
	}
	return invalid("unknown expiry kind %d", e.Kind)
}
