package dsm

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
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

// The checks a program can make before it connects give the verdicts of
// the calls that make them again: an *ArgError from the call exactly when
// the check refuses.
func TestPreflightChecksAgree(t *testing.T) {
	t.Parallel()
	f := newFakeDSM(t, func(*http.Request, url.Values) any { return fail(100) })
	c := f.client(t, WithSession(Session{SID: "s"}))
	ctx := t.Context()
	isArgError := func(err error) bool { var ae *ArgError; return errors.As(err, &ae) }

	for _, code := range []string{"", "123456", "12a456", " 123456", "123456\n", "１２３４５６"} {
		_, err := c.Auth.Login(ctx, Credentials{Account: "bob", Password: "pw", OTPCode: code})
		if pre, call := ValidateOTPCode(code) != nil, isArgError(err); pre != call {
			t.Errorf("2-step code %q: ValidateOTPCode refuses %v, Login %v (%v)", code, pre, call, err)
		}
	}

	past := ExpiresOn(DateOf(time.Now().AddDate(0, 0, -2)))
	for _, r := range []UserCreateRequest{
		{Name: "bob", Password: "pw"},
		{Name: "-bob", Password: "pw"},
		{Name: "bob", Password: strings.Repeat("p", MaxPasswordLength+1)},
		{Name: "bob", Password: "pw", Description: strings.Repeat("d", MaxDescriptionLength+1)},
		{Name: "bob", Password: "pw", Email: "bob at home"},
		{Name: "bob", Password: "pw", SendPassword: true},
		{Name: "bob", Password: "pw", SendPassword: true, NotifyByEmail: true},
		{Name: "bob", Password: "pw", Expiry: past},
	} {
		_, err := c.Users.Create(ctx, r)
		if pre, call := r.Validate() != nil, isArgError(err); pre != call {
			t.Errorf("%+v: Validate refuses %v, Create %v (%v)", r, pre, call, err)
		}
	}

	for _, tt := range []struct {
		name        string
		join, leave []string
	}{
		{"bob", []string{"staff"}, nil},
		{"bob", nil, []string{"staff"}},
		{"bob", nil, nil},
		{"-bob", []string{"staff"}, nil},
		{"bob", []string{"a/b"}, nil},
		{"bob", []string{"a#b"}, nil},
		{"bob", nil, []string{"Users"}},
		{"bob", []string{"staff"}, []string{"STAFF"}},
	} {
		_, err := c.Users.JoinGroups(ctx, tt.name, tt.join, tt.leave)
		if pre, call := ValidateGroupChange(tt.name, tt.join, tt.leave) != nil, isArgError(err); pre != call {
			t.Errorf("%s join %v leave %v: ValidateGroupChange refuses %v, JoinGroups %v (%v)", tt.name, tt.join, tt.leave, pre, call, err)
		}
	}
}
