package sim

import (
	"testing"
	"time"
)

// TestTOTPRFC6238 checks the SHA1 vectors of RFC 6238 appendix B (last
// six digits).
func TestTOTPRFC6238(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, tt := range tests {
		got, err := TOTP(otpSecret, time.Unix(tt.unix, 0))
		if err != nil || got != tt.want {
			t.Errorf("TOTP(t=%d) = %q, %v; want %q", tt.unix, got, err, tt.want)
		}
	}
	// Lower case, spaces and padding are how apps show seeds.
	if got, _ := TOTP("gezd gnbv gy3t qojq gezd gnbv gy3t qojq====", time.Unix(59, 0)); got != "287082" {
		t.Errorf("TOTP of a spaced lower-case seed = %q", got)
	}
	for _, bad := range []string{"", "====", "1189"} {
		if _, err := TOTP(bad, time.Now()); err == nil {
			t.Errorf("TOTP(%q) succeeded", bad)
		}
	}
}
