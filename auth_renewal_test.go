package dsm

import (
	"testing"
)

// TestRenewalDoesNotResendOTPCode checks that a 2-step code given for the
// first login is used for that login only: once the session expires, the
// client logs in again without it (a code is good for one login, and by
// then it is stale).
func TestRenewalDoesNotResendOTPCode(t *testing.T) {
	cred := Credentials{Account: "a", Password: "right", OTPCode: "123456"}
	for _, tt := range []struct {
		name  string
		login func(*testing.T, *sessionFake) *Client
	}{
		{"WithCredentials", func(t *testing.T, f *sessionFake) *Client {
			return f.client(t, WithCredentials(cred))
		}},
		{"Auth.Login", func(t *testing.T, f *sessionFake) *Client {
			c := f.client(t)
			if _, err := c.Auth.Login(t.Context(), cred); err != nil {
				t.Fatal(err)
			}
			return c
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSessionFake(t)
			c := tt.login(t, f)
			if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
				t.Fatal(err)
			}
			f.expire()
			if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
				t.Fatalf("call after expiry: %v", err)
			}
			logins := f.forms("SYNO.API.Auth", "login")
			if len(logins) != 2 {
				t.Fatalf("%d logins, want 2 (the first and the renewal)", len(logins))
			}
			if got := logins[0].Get("otp_code"); got != "123456" {
				t.Errorf("first login: otp_code %q, want 123456", got)
			}
			if logins[1].Has("otp_code") {
				t.Errorf("the renewal sent otp_code %q again", logins[1].Get("otp_code"))
			}
			if logins[1].Get("account") != "a" || logins[1].Get("passwd") != "right" {
				t.Errorf("the renewal sent account %q, passwd %q", logins[1].Get("account"), logins[1].Get("passwd"))
			}
		})
	}
}
