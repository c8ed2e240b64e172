package dsm

import (
	"strings"
	"testing"
)

func TestNameRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		user, group bool // accepted as a user name, as a group name
	}{
		{"bob", true, true},
		{"Bob Smith", true, true},
		{"bob-", true, true},
		{"b-ob", true, true},
		{"-bob", false, false},
		{" bob", false, false},
		{"bob ", false, false},
		{"\u00a0bob", true, true}, // a no-break space is no space to DSM
		{"a#b", false, true},
		{"a/b", false, false},
		{"a\tb", false, false},
		{"a\x7fb", false, false},
		{"a\xffb", false, false},
		{"ünïcödé", true, true},
		{strings.Repeat("é", MaxGroupNameLength), true, true},
		{strings.Repeat("é", MaxGroupNameLength+1), true, false},
		{strings.Repeat("é", MaxUserNameLength+1), false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := ValidateUserName(tt.name) == nil; got != tt.user {
			t.Errorf("ValidateUserName(%q) accepts: %v, want %v", tt.name, got, tt.user)
		}
		if got := ValidateGroupName(tt.name) == nil; got != tt.group {
			t.Errorf("ValidateGroupName(%q) accepts: %v, want %v", tt.name, got, tt.group)
		}
	}
}

func TestBuiltinNames(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"admin": true, "ADMIN": true, "guest": true, "synologycms": true, "Mailer-Daemon": true, "postmaster": true,
		"root": false, "alice": false, "ſynologycms": false,
	} {
		if got := IsBuiltinAccount(name); got != want {
			t.Errorf("IsBuiltinAccount(%q) = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{"users": true, "Administrators": true, "HTTP": true, "staff": false, "user": false} {
		if got := IsBuiltinGroup(name); got != want {
			t.Errorf("IsBuiltinGroup(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestPolicyLimits(t *testing.T) {
	t.Parallel()
	history := func(exclude bool, n int) PasswordPolicy {
		return PasswordPolicy{Strong: StrongPassword{ExcludeHistory: exclude, HistoryCount: n}}
	}
	for _, tt := range []struct {
		p    PasswordPolicy
		want bool
	}{
		{history(true, 1), true}, {history(true, MaxPasswordHistory), true}, {history(false, 0), true},
		{history(true, 0), false}, {history(true, MaxPasswordHistory+1), false}, {history(false, -1), false},
	} {
		if got := tt.p.Validate() == nil; got != tt.want {
			t.Errorf("%+v: accepted %v, want %v", tt.p.Strong, got, tt.want)
		}
	}
	for _, tt := range []struct {
		e    PasswordExpiry
		want bool
	}{
		{PasswordExpiry{Enabled: true, MaxAge: MaxPasswordAge}, true},
		{PasswordExpiry{Enabled: true, MaxAge: MaxPasswordAge + 1}, false},
		{PasswordExpiry{MinAgeEnabled: true, MinAge: MaxPasswordMinAge}, true},
		{PasswordExpiry{MinAgeEnabled: true, MinAge: MaxPasswordMinAge + 1}, false},
		{PasswordExpiry{Enabled: true, MaxAge: 30, MinAgeEnabled: true, MinAge: 30}, false},
		{PasswordExpiry{MailNotification: true, MailNotificationDays: MaxMailNotificationDays}, true},
		{PasswordExpiry{MailNotification: true, MailNotificationDays: MaxMailNotificationDays + 1}, false},
		{PasswordExpiry{LoginPrompt: true, LoginPromptDays: MaxLoginPromptDays + 1}, false},
	} {
		if got := tt.e.Validate() == nil; got != tt.want {
			t.Errorf("%+v: accepted %v, want %v", tt.e, got, tt.want)
		}
	}
}
