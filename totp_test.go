package dsm

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// rfcSeed is the RFC 6238 test key "12345678901234567890" in base32.
const rfcSeed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestTOTPRFC6238Vectors(t *testing.T) {
	k, err := TOTP(strings.ToLower("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"))
	if err != nil {
		t.Fatal(err)
	}
	// RFC 6238 appendix B, SHA-1, last 6 of the 8 digits.
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037", 20000000000: "353130"} {
		if got := k.Code(time.Unix(unix, 0)); got != want {
			t.Errorf("T=%d: %s, want %s", unix, got, want)
		}
	}
	if s := k.String() + k.GoString(); strings.Contains(s, "GEZD") || !strings.Contains(s, "redacted") {
		t.Errorf("TOTPKey prints %q", s)
	}
	for _, bad := range []string{"", "not base32 at all!", "ABC"} {
		if _, err := TOTP(bad); err == nil {
			t.Errorf("TOTP(%q) accepted", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error quotes the seed: %v", err)
		}
	}
}

// otpFake checks codes like DSM: each code once per window.
type otpFake struct {
	*fakeDSM
	key      *TOTPKey
	now      func() time.Time
	mu       sync.Mutex
	lastStep int64
	attempts []string
}

func newOTPFake(t *testing.T, now func() time.Time) *otpFake {
	k, _ := TOTP(rfcSeed)
	f := &otpFake{key: k, now: now}
	f.fakeDSM = newFakeDSM(t, func(r *http.Request, form url.Values) any {
		f.mu.Lock()
		defer f.mu.Unlock()
		if form.Get("method") != "login" {
			return ok(nil)
		}
		code := form.Get("otp_code")
		f.attempts = append(f.attempts, code)
		if form.Get("device_id") == "TRUSTED" {
			return ok(map[string]any{"sid": "S", "synotoken": "T"})
		}
		if code == "" {
			return map[string]any{"success": false, "error": map[string]any{"code": 403, "errors": map[string]any{"types": []any{map[string]any{"type": "otp"}}}}}
		}
		step := f.now().Unix() / 30
		if code != k.codeAt(step) || step <= f.lastStep {
			return fail(404)
		}
		f.lastStep = step
		return ok(map[string]any{"sid": "S", "synotoken": "T"})
	})
	return f
}

func TestLoginWithTOTP(t *testing.T) {
	clock := time.Unix(1_800_000_010, 0) // 10 s into a window
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	f := newOTPFake(t, now)
	var slept []time.Time
	mk := func() *Client {
		c := f.client(t)
		c.now = now
		c.sleepUntil = func(ctx context.Context, until time.Time) error {
			mu.Lock()
			slept = append(slept, until)
			clock = until
			mu.Unlock()
			return nil
		}
		return c
	}
	key, _ := TOTP(rfcSeed)
	var told []time.Duration
	cred := Credentials{Account: "alice", Password: "pw", TOTP: key, TOTPWait: func(d time.Duration) { told = append(told, d) }}

	if _, err := mk().Auth.Login(t.Context(), cred); err != nil {
		t.Fatalf("first login: %v", err)
	}
	if len(slept) != 0 {
		t.Fatalf("first login waited: %v", slept)
	}
	// The same window's code is now used: the next login waits for the
	// next window, once.
	if _, err := mk().Auth.Login(t.Context(), cred); err != nil {
		t.Fatalf("second login in the same window: %v", err)
	}
	if len(slept) != 1 || slept[0] != time.Unix(1_800_000_010/30*30+30, 0) {
		t.Errorf("waits %v, want one until the next window", slept)
	}
	// TOTPWait is told before, with the wait: 20 s, from 10 s into the
	// window.
	if len(told) != 1 || told[0] != 20*time.Second {
		t.Errorf("TOTPWait told %v, want [20s]", told)
	}
	// Never more than one retry: a wrong seed fails after two attempts.
	wrong, _ := TOTP("JBSWY3DPEHPK3PXPJBSWY3DP")
	f.attempts = nil
	_, err := mk().Auth.Login(t.Context(), Credentials{Account: "alice", Password: "pw", TOTP: wrong})
	if !errors.Is(err, ErrOTPRejected) {
		t.Fatalf("wrong seed: %v, want ErrOTPRejected", err)
	}
	if len(f.attempts) != 2 {
		t.Errorf("%d attempts with a wrong seed, want 2", len(f.attempts))
	}
	// A trusted device needs no code: none is computed or sent.
	f.attempts = nil
	trusted := cred
	trusted.DeviceID = "TRUSTED"
	if _, err := mk().Auth.Login(t.Context(), trusted); err != nil {
		t.Fatal(err)
	}
	if len(f.attempts) != 1 || f.attempts[0] != "" {
		t.Errorf("attempts %q, want one without a code", f.attempts)
	}
	// A device token DSM no longer accepts: the code is computed then.
	f.attempts = nil
	stale := cred
	stale.DeviceID = "STALE"
	mu.Lock()
	clock = clock.Add(time.Minute)
	mu.Unlock()
	if _, err := mk().Auth.Login(t.Context(), stale); err != nil {
		t.Fatal(err)
	}
	if len(f.attempts) != 2 || f.attempts[0] != "" || f.attempts[1] == "" {
		t.Errorf("attempts %q, want one without and one with a code", f.attempts)
	}
}

func TestCredentialsCodeAndSeedExclusive(t *testing.T) {
	key, _ := TOTP(rfcSeed)
	_, err := NewClient("nas", WithCredentials(Credentials{Account: "a", Password: "p", OTPCode: "123456", TOTP: key}))
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("error %v", err)
	}
}
