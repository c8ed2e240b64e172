package dsm

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	policies := []PasswordPolicy{
		{},
		{Strong: StrongPassword{MinLengthEnabled: true, MinLength: 8, MixedCase: true, Digit: true, Special: true, ExcludeUsername: true, ExcludeCommon: true}},
		{Strong: StrongPassword{MinLengthEnabled: true, MinLength: 64, MixedCase: true}},
		{Strong: StrongPassword{MinLengthEnabled: true, MinLength: MaxPasswordLength}},
	}
	seen := map[string]bool{}
	for _, p := range policies {
		for range 20 {
			pw, err := p.Generate("bob")
			if err != nil {
				t.Fatal(err)
			}
			if v := p.Check("bob", pw); len(v) > 0 {
				t.Errorf("generated %q breaks %v", pw, v)
			}
			if want := max(GeneratedPasswordLength, p.Strong.MinLength); len(pw) != want {
				t.Errorf("generated %d characters, want %d", len(pw), want)
			}
			var lower, upper, digit, special bool
			for _, r := range pw {
				lower = lower || unicode.IsLower(r)
				upper = upper || unicode.IsUpper(r)
				digit = digit || unicode.IsDigit(r)
				special = special || strings.ContainsRune(genSpecial, r)
			}
			if !lower || !upper || !digit || !special {
				t.Errorf("generated %q lacks a character class", pw)
			}
			if seen[pw] {
				t.Errorf("generated %q twice", pw)
			}
			seen[pw] = true
		}
	}
}

func TestTestPassword(t *testing.T) {
	t.Parallel()
	f := newFakeDSM(t, func(_ *http.Request, form url.Values) any {
		if form.Get("api") != "SYNO.Core.User.PasswordPolicy" || form.Get("method") != "check" {
			return fail(103)
		}
		if form.Get("password") == `"weak"` {
			return fail(3121)
		}
		return ok(nil)
	})
	f.info["SYNO.Core.User.PasswordPolicy"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}
	c := f.client(t, WithSession(Session{SID: "s"}))
	if err := c.Policy.TestPassword(t.Context(), "carol", "Carol C", "Str0ng-enough"); err != nil {
		t.Fatal(err)
	}
	// The form as DSM's create-user wizard sends it: name, description
	// and password (over https in the body; JSON strings for a JSON API).
	r := f.last("SYNO.Core.User.PasswordPolicy")
	for k, v := range map[string]string{"name": `"carol"`, "description": `"Carol C"`, "password": `"Str0ng-enough"`, "version": "1"} {
		if got := r.form.Get(k); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	if err := c.Policy.TestPassword(t.Context(), "", "", "weak"); !errors.Is(err, ErrWeakPassword) {
		t.Errorf("a refused password: %v, want ErrWeakPassword", err)
	}
	if r := f.last("SYNO.Core.User.PasswordPolicy"); r.form.Has("name") || r.form.Has("description") {
		t.Errorf("empty name and description were sent: %v", r.form)
	}
	n := len(f.forms("SYNO.Core.User.PasswordPolicy", "check"))
	for _, bad := range [][3]string{{"bad/name", "", "pw"}, {"", strings.Repeat("d", 65), "pw"}, {"", "", strings.Repeat("p", 128)}} {
		if err := c.Policy.TestPassword(t.Context(), bad[0], bad[1], bad[2]); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("TestPassword(%q, %q, %d characters): %v, want ErrInvalidArgument", bad[0], bad[1], len(bad[2]), err)
		}
	}
	if m := len(f.forms("SYNO.Core.User.PasswordPolicy", "check")); m != n {
		t.Errorf("invalid arguments were sent to DSM (%d calls)", m-n)
	}
}
