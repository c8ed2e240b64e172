package dsm

import (
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
