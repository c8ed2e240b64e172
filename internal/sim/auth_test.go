package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loginCall is a login request (format=sid, SynoToken on) plus extra fields.
func loginCall(account, passwd string, extra ...string) call {
	return call{path: "/webapi/auth.cgi", form: form(append([]string{"api", "SYNO.API.Auth", "version", "7", "method", "login",
		"account", account, "passwd", passwd, "session", "webui", "format", "sid", "enable_syno_token", "yes"}, extra...)...)}
}

func totpAt(t testing.TB, tm time.Time) string {
	t.Helper()
	c, err := TOTP(otpSecret, tm)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seeded users of the login tests.
var loginUsers = []User{
	{Name: "alice", Password: "alice-pw", Description: "Alice A.", Email: "alice@example.com"},
	{Name: "otto", Password: "otto-pw", OTPSecret: otpSecret},
	{Name: "enf", Password: "enf-pw", OTPEnforced: true},
	{Name: "ottoenf", Password: "oe-pw", OTPSecret: otpSecret, OTPEnforced: true},
	{Name: "gone", Password: "gone-pw", Disabled: true},
	{Name: "root2", Password: "root2-pw", Admin: true},
}

func TestLogin(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: loginUsers})
	now := s.Now()
	tests := []struct {
		name string
		c    call
		want int
	}{
		{"admin", loginCall("admin", adminPW), 0},
		{"account is case-insensitive", loginCall("ADMIN", adminPW), 0},
		{"local user", loginCall("alice", "alice-pw"), 0},
		{"version 1", call{form: form("api", "SYNO.API.Auth", "version", "1", "method", "login", "account", "alice", "passwd", "alice-pw")}, 0},
		{"version 6 over GET", call{verb: http.MethodGet, path: "/webapi/auth.cgi", query: form("api", "SYNO.API.Auth", "version", "6", "method", "login", "account", "alice", "passwd", "alice-pw")}, 0},
		{"ignored client params", loginCall("alice", "alice-pw", "client", "browser", "logintype", "local", "rememberme", "0"), 0},
		{"empty ik_message is none", loginCall("alice", "alice-pw", "ik_message", ""), 0},
		{"unreadable ik_message", loginCall("alice", "alice-pw", "ik_message", "AAAA"), codeBadIKMessage},
		{"unreadable ik_message, wrong password", loginCall("alice", "nope", "ik_message", "AAAA"), codeBadIKMessage},
		{"empty otp_code without 2-step", loginCall("alice", "alice-pw", "otp_code", ""), 0},
		{"wrong password", loginCall("alice", "nope"), 400},
		{"password is case-sensitive", loginCall("alice", "ALICE-PW"), 400},
		{"no such account", loginCall("nobody", "x"), 400},
		{"no account", call{form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", "passwd", "x")}, 114},
		{"guest is disabled", loginCall("guest", ""), 401},
		{"disabled user", loginCall("gone", "gone-pw"), 401},
		{"disabled user, wrong password", loginCall("gone", "x"), 400},
		{"2-step, no code", loginCall("otto", "otto-pw"), 403},
		{"2-step, empty code", loginCall("otto", "otto-pw", "otp_code", ""), 403},
		{"2-step, wrong code", loginCall("otto", "otto-pw", "otp_code", "000000"), 404},
		{"2-step, code of 5 digits", loginCall("otto", "otto-pw", "otp_code", totpAt(t, now)[:5]), 404},
		{"2-step, code from the far past", loginCall("otto", "otto-pw", "otp_code", totpAt(t, now.Add(-5*time.Minute))), 404},
		{"2-step, wrong password first", loginCall("otto", "x", "otp_code", totpAt(t, now)), 400},
		{"2-step enforced, not set up", loginCall("enf", "enf-pw"), 406},
		{"2-step enforced, wrong password", loginCall("enf", "x"), 400},
		{"2-step enforced and set up", loginCall("ottoenf", "oe-pw"), 403},
		{"unknown device_id", loginCall("otto", "otto-pw", "device_id", "forged"), 403},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.c.addr = fmt.Sprintf("198.51.100.%d:999", i) // no auto-block across cases
			a := s.do(t, tt.c)
			if a.code() != tt.want {
				t.Fatalf("code = %d, want %d (%s)", a.code(), tt.want, a.raw)
			}
			if tt.want != 0 {
				if strings.Contains(a.raw, "ik_message") {
					t.Errorf("a refusal has ik_message: %s", a.raw)
				}
				if tt.want != 403 && a.Error.Errors != nil {
					t.Errorf("unexpected errors member: %s", a.raw)
				}
				return
			}
			var d map[string]any
			a.data(t, &d)
			keys := make([]string, 0, len(d))
			for k := range d {
				keys = append(keys, k)
			}
			// Version 7 answers device_id, account and ik_message ("" to a
			// client that sent none, home-assistant/core #64867); version 6 and older
			// did and no account.
			wantKeys, device := []string{"account", "device_id", "ik_message", "is_portal_port", "sid", "synotoken"}, "device_id"
			v7 := tt.c.form.Get("version")+tt.c.query.Get("version") == "7"
			if !v7 {
				wantKeys, device = []string{"did", "is_portal_port", "sid", "synotoken"}, "did"
			}
			if diff := cmp.Diff(wantKeys, keys, sortStrings); diff != "" {
				t.Errorf("data keys (-want +got):\n%s", diff)
			}
			if d["sid"] == "" || d["is_portal_port"] != false || d[device] != "" || (v7 && d["ik_message"] != "") {
				t.Errorf("data = %v", d)
			}
		})
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestLoginAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: loginUsers})

	// format=sid, SynoToken asked: no cookie, a token, the stored account name.
	a := s.do(t, loginCall("Alice", "alice-pw"))
	var d loginData
	a.data(t, &d)
	if d.Account != "alice" || len(d.SID) < 32 || len(d.SynoToken) < 16 || d.SID == d.SynoToken {
		t.Errorf("login data = %+v", d)
	}
	if len(a.resp.Cookies()) != 0 {
		t.Errorf("format=sid set cookies %v", a.resp.Cookies())
	}
	if s.Logins() != 1 {
		t.Errorf("Logins() = %d, want 1", s.Logins())
	}

	// format=cookie: cookie id=<sid>, sid still in data; no SynoToken asked: "".
	b := s.do(t, call{form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", "alice", "passwd", "alice-pw", "format", "cookie")})
	var e loginData
	b.data(t, &e)
	var cookie string
	for _, c := range b.resp.Cookies() {
		if c.Name == "id" {
			cookie = c.Value
		}
	}
	if e.SID == "" || cookie != e.SID || e.SynoToken != "" || e.SID == d.SID {
		t.Errorf("cookie login: data %+v, cookie id=%q", e, cookie)
	}
	if s.Logins() != 2 {
		t.Errorf("Logins() = %d, want 2", s.Logins())
	}
}

func TestLoginOTPRequiredAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: loginUsers})
	a := s.do(t, loginCall("otto", "otto-pw"))
	if a.code() != 403 {
		t.Fatalf("code %d, want 403", a.code())
	}
	var details struct {
		Token string `json:"token"`
		Types []struct {
			Type string `json:"type"`
		} `json:"types"`
	}
	if err := json.Unmarshal(a.Error.Errors, &details); err != nil {
		t.Fatalf("errors = %s: %v", a.Error.Errors, err)
	}
	if details.Token == "" || len(details.Types) != 3 || details.Types[0].Type != "authenticator" || details.Types[1].Type != "fido" || details.Types[2].Type != "otp" {
		t.Errorf("errors = %s", a.Error.Errors)
	}
	if s.Logins() != 0 {
		t.Errorf("Logins() = %d after a refused login", s.Logins())
	}
}

// TestOTPWindows: a code of the current, previous or next step works once;
// no code at or before an accepted step works again.
func TestOTPWindows(t *testing.T) {
	t.Parallel()
	// Start mid-step so the real clock does not cross a step during the test.
	start := time.Unix(1764325005, 0)
	tests := []struct {
		name  string
		codes []time.Duration // offsets of the codes, tried in order
		want  []int
	}{
		{"current", []time.Duration{0}, []int{0}},
		{"previous step", []time.Duration{-30 * time.Second}, []int{0}},
		{"next step", []time.Duration{30 * time.Second}, []int{0}},
		{"two steps back", []time.Duration{-60 * time.Second}, []int{404}},
		{"two steps ahead", []time.Duration{60 * time.Second}, []int{404}},
		{"reuse", []time.Duration{0, 0}, []int{0, 404}},
		{"older after newer", []time.Duration{0, -30 * time.Second}, []int{0, 404}},
		{"newer after older", []time.Duration{-30 * time.Second, 0}, []int{0, 0}},
		{"next then current", []time.Duration{30 * time.Second, 0}, []int{0, 404}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{Start: start, Users: loginUsers})
			for i, off := range tt.codes {
				a := s.do(t, loginCall("otto", "otto-pw", "otp_code", totpAt(t, s.Now().Add(off))))
				if a.code() != tt.want[i] {
					t.Errorf("code #%d: got %d, want %d", i, a.code(), tt.want[i])
				}
			}
		})
	}

	// The window moves with the sim clock: after 30 s, the next code is the current one.
	s := newServer(t, Config{Start: start, Users: loginUsers})
	s.do(t, loginCall("otto", "otto-pw", "otp_code", totpAt(t, s.Now())))
	s.Advance(30 * time.Second)
	if a := s.do(t, loginCall("otto", "otto-pw", "otp_code", totpAt(t, s.Now()))); !a.Success {
		t.Errorf("code of the next step after Advance: %s", a.raw)
	}
}

func TestDeviceToken(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: append(loginUsers, User{Name: "otto2", Password: "p", OTPSecret: otpSecret})})
	a := s.do(t, loginCall("otto", "otto-pw", "otp_code", totpAt(t, s.Now()), "enable_device_token", "yes", "device_name", "ci"))
	var d loginData
	a.data(t, &d)
	if len(d.DeviceID) < 32 {
		t.Fatalf("device_id = %q: want a fresh token (%s)", d.DeviceID, a.raw)
	}
	tests := []struct {
		name string
		c    call
		want int
	}{
		{"device_id skips the code", loginCall("otto", "otto-pw", "device_id", d.DeviceID), 0},
		{"device_id with a wrong code is still trusted", loginCall("otto", "otto-pw", "device_id", d.DeviceID, "otp_code", "000000"), 0},
		{"device_id does not skip the password", loginCall("otto", "x", "device_id", d.DeviceID), 400},
		{"device_id is bound to its user", loginCall("otto2", "p", "device_id", d.DeviceID), 403},
		{"other token", loginCall("otto", "otto-pw", "device_id", d.DeviceID+"x"), 403},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.c.addr = fmt.Sprintf("198.51.100.%d:1", i)
			b := s.do(t, tt.c)
			if b.code() != tt.want {
				t.Fatalf("code = %d, want %d (%s)", b.code(), tt.want, b.raw)
			}
			if tt.want == 0 {
				var e loginData
				b.data(t, &e)
				if e.DeviceID != d.DeviceID {
					t.Errorf("device_id = %q, want the trusted one echoed", e.DeviceID)
				}
			}
		})
	}
	// A second device token differs and both work.
	b := s.do(t, loginCall("otto", "otto-pw", "device_id", d.DeviceID, "enable_device_token", "yes", "device_name", "other"))
	var e loginData
	b.data(t, &e)
	if e.DeviceID == "" || e.DeviceID == d.DeviceID {
		t.Errorf("second device token %q", e.DeviceID)
	}
	if c := s.do(t, loginCall("otto", "otto-pw", "device_id", e.DeviceID)); !c.Success {
		t.Errorf("second device token refused: %s", c.raw)
	}
}

func TestAutoBlock(t *testing.T) {
	t.Parallel()
	fails := func(t *testing.T, s *Server, addr string, n int) {
		t.Helper()
		for range n {
			c := loginCall("admin", "wrong")
			c.addr = addr
			if a := s.do(t, c); a.code() != 400 {
				t.Fatalf("wrong password: code %d, want 400", a.code())
			}
		}
	}
	good := func(addr string) call { c := loginCall("admin", adminPW); c.addr = addr; return c }
	const a1, a2 = "203.0.113.1:1000", "203.0.113.2:1000"

	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{})
		fails(t, s, a1, 4)
		if a := s.do(t, good(a1)); !a.Success {
			t.Fatalf("4 failures blocked: %s", a.raw)
		}
		// The success in between forgets nothing: DSM's auto-block counts
		// failed attempts within its window, so one more blocks.
		fails(t, s, a1, 1)
		if a := s.do(t, good(a1)); a.code() != 407 {
			t.Fatalf("after 5 failures: code %d, want 407", a.code())
		}
		if a := s.do(t, good("203.0.113.1:2000")); a.code() != 407 {
			t.Errorf("other port of the blocked address: code %d, want 407", a.code())
		}
		if a := s.do(t, good(a2)); !a.Success {
			t.Errorf("other address blocked: %s", a.raw)
		}
		s.Advance(29 * time.Minute)
		if a := s.do(t, good(a1)); a.code() != 407 {
			t.Errorf("after 29 min: code %d, want 407", a.code())
		}
		s.Advance(time.Minute)
		if a := s.do(t, good(a1)); !a.Success {
			t.Errorf("after 30 min: %s", a.raw)
		}
	})
	t.Run("failures outside the window", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{})
		fails(t, s, a1, 4)
		s.Advance(10 * time.Minute)
		fails(t, s, a1, 4)
		if a := s.do(t, good(a1)); !a.Success {
			t.Errorf("failures 10 min apart blocked: %s", a.raw)
		}
	})
	t.Run("wrong 2-step codes count", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{Users: loginUsers, AutoBlockAttempts: 2})
		for range 2 {
			c := loginCall("otto", "otto-pw", "otp_code", "000000")
			c.addr = a1
			s.do(t, c)
		}
		if a := s.do(t, good(a1)); a.code() != 407 {
			t.Errorf("code %d, want 407", a.code())
		}
	})
	t.Run("configured", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{AutoBlockAttempts: 2, AutoBlockWithin: time.Minute, AutoBlockFor: time.Hour})
		fails(t, s, a1, 1)
		s.Advance(time.Minute)
		fails(t, s, a1, 1)
		if a := s.do(t, good(a1)); !a.Success {
			t.Fatalf("failures a window apart blocked: %s", a.raw)
		}
		s.Advance(time.Minute)
		fails(t, s, a1, 2)
		s.Advance(59 * time.Minute)
		if a := s.do(t, good(a1)); a.code() != 407 {
			t.Errorf("code %d, want 407", a.code())
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{AutoBlockAttempts: -1, AccountLockAttempts: -1})
		fails(t, s, a1, 20)
		if a := s.do(t, good(a1)); !a.Success {
			t.Errorf("auto-block off but blocked: %s", a.raw)
		}
	})
}

func TestAccountLock(t *testing.T) {
	t.Parallel()
	// Failures of one account from many addresses: each address stays
	// under its auto-block limit, the account gets locked.
	s := newServer(t, Config{Users: loginUsers, AccountLockAttempts: 4, AccountLockWithin: 5 * time.Minute, AccountLockFor: 20 * time.Minute})
	attempt := func(user, pw, addr string) answer {
		c := loginCall(user, pw)
		c.addr = addr
		return s.do(t, c)
	}
	for i := range 4 {
		if a := attempt("ADMIN", "wrong", fmt.Sprintf("198.51.100.%d:1", i)); a.code() != 400 {
			t.Fatalf("failure %d: code %d, want 400", i+1, a.code())
		}
	}
	if a := attempt("admin", adminPW, "198.51.100.99:1"); a.code() != 411 {
		t.Fatalf("right password of a locked account: code %d, want 411", a.code())
	}
	if a := attempt("otto", "otto-pw", "198.51.100.99:1"); a.code() == 411 {
		t.Errorf("another account is locked too")
	}
	s.Advance(20 * time.Minute)
	if a := attempt("admin", adminPW, "198.51.100.99:1"); !a.Success {
		t.Errorf("after the lock expired: %s", a.raw)
	}
}

// authed builds a call of api/method with the session's sid and token.
func authed(d loginData, kv ...string) call {
	return call{form: form(append(kv, "_sid", d.SID)...), header: http.Header{"X-Syno-Token": {d.SynoToken}}}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	whoami := []string{"api", "SYNO.Core.NormalUser", "method", "get", "version", "1"}
	t.Run("missing, unknown", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{})
		if a := s.do(t, call{form: form(whoami...)}); a.code() != 119 {
			t.Errorf("no sid: code %d, want 119", a.code())
		}
		if a := s.do(t, call{form: form(append(whoami, "_sid", "nope")...)}); a.code() != 119 {
			t.Errorf("unknown sid: code %d, want 119", a.code())
		}
		if a := s.do(t, call{form: form(whoami...), cookie: &http.Cookie{Name: "id", Value: "nope"}}); a.code() != 119 {
			t.Errorf("unknown cookie: code %d, want 119", a.code())
		}
	})
	t.Run("idle expiry, refreshed by use", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{})
		d := s.mustLogin(t, "admin", adminPW)
		for range 3 {
			s.Advance(14 * time.Minute)
			if a := s.do(t, authed(d, whoami...)); !a.Success {
				t.Fatalf("session used every 14 min expired: %s", a.raw)
			}
		}
		s.Advance(15*time.Minute + time.Second)
		if a := s.do(t, authed(d, whoami...)); a.code() != 119 {
			t.Errorf("idle 15 min: code %d, want 119", a.code())
		}
		if s.Sessions() != 0 {
			t.Errorf("Sessions() = %d after expiry", s.Sessions())
		}
	})
	t.Run("configured idle timeout", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{SessionIdleTimeout: time.Minute})
		d := s.mustLogin(t, "admin", adminPW)
		s.Advance(61 * time.Second)
		if a := s.do(t, authed(d, whoami...)); a.code() != 119 {
			t.Errorf("code %d, want 119", a.code())
		}
	})
	t.Run("cookie", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{})
		d := s.mustLogin(t, "admin", adminPW)
		if a := s.do(t, call{form: form(whoami...), cookie: &http.Cookie{Name: "id", Value: d.SID}}); !a.Success {
			t.Errorf("cookie id=<sid>: %s", a.raw)
		}
	})
	t.Run("logout", func(t *testing.T) {
		t.Parallel()
		s := newServer(t, Config{})
		d := s.mustLogin(t, "admin", adminPW)
		other := s.mustLogin(t, "admin", adminPW)
		logout := []string{"api", "SYNO.API.Auth", "method", "logout", "version", "7", "session", "webui"}
		if a := s.do(t, authed(d, logout...)); !a.Success || a.Data != nil {
			t.Fatalf("logout: %s", a.raw)
		}
		if a := s.do(t, authed(d, whoami...)); a.code() != 119 {
			t.Errorf("after logout: code %d, want 119", a.code())
		}
		if a := s.do(t, authed(other, whoami...)); !a.Success {
			t.Errorf("logout ended another session: %s", a.raw)
		}
		for _, c := range []call{{form: form(logout...)}, {form: form(append(logout, "_sid", "nope")...)}, authed(d, logout...)} {
			if a := s.do(t, c); !a.Success {
				t.Errorf("logout without a live session: %s", a.raw)
			}
		}
		if a := s.do(t, call{form: form(logout...), cookie: &http.Cookie{Name: "id", Value: other.SID}}); !a.Success {
			t.Errorf("logout by cookie: %s", a.raw)
		}
		if a := s.do(t, authed(other, whoami...)); a.code() != 119 {
			t.Errorf("after logout by cookie: code %d, want 119", a.code())
		}
	})
}

func TestSynoTokenAndAdmin(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: loginUsers})
	admin := s.mustLogin(t, "admin", adminPW)
	alice := s.mustLogin(t, "alice", "alice-pw")
	root2 := s.mustLogin(t, "root2", "root2-pw")
	noTok := s.do(t, call{form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", "admin", "passwd", adminPW, "format", "sid")})
	var plain loginData
	noTok.data(t, &plain)
	write := []string{"api", "SYNO.Test.Sim", "method", "write", "version", "1"}
	adminOnly := []string{"api", "SYNO.Test.Sim", "method", "admin", "version", "1"}
	withHeader := func(d loginData, tok string, kv ...string) call {
		c := call{form: form(append(kv, "_sid", d.SID)...)}
		if tok != "" {
			c.header = http.Header{"X-Syno-Token": {tok}}
		}
		return c
	}
	tests := []struct {
		name string
		c    call
		want int
	}{
		{"write with header", withHeader(admin, admin.SynoToken, write...), 0},
		{"write with SynoToken param", call{form: form(append(write, "_sid", admin.SID, "SynoToken", admin.SynoToken)...)}, 0},
		{"write with SynoToken in query", call{query: form("SynoToken", admin.SynoToken), form: form(append(write, "_sid", admin.SID)...)}, 0},
		{"write without token", withHeader(admin, "", write...), 403},
		{"write with wrong token", withHeader(admin, admin.SynoToken+"x", write...), 403},
		{"write with another session's token", withHeader(admin, alice.SynoToken, write...), 403},
		{"write, session without SynoToken", withHeader(plain, "", write...), 0},
		{"read needs no token", withHeader(admin, "", "api", "SYNO.Core.NormalUser", "method", "get", "version", "1"), 0},
		{"admin-only as admin", withHeader(admin, "", adminOnly...), 0},
		{"admin-only as another administrator", withHeader(root2, "", adminOnly...), 0},
		{"admin-only as a user", withHeader(alice, "", adminOnly...), 105},
		{"write by cookie without token", call{form: form(write...), cookie: &http.Cookie{Name: "id", Value: admin.SID}}, 403},
		{"write without session", call{form: form(write...), header: http.Header{"X-Syno-Token": {admin.SynoToken}}}, 119},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if a := s.do(t, tt.c); a.code() != tt.want {
				t.Errorf("code = %d, want %d (%s)", a.code(), tt.want, a.raw)
			}
		})
	}
}

func TestNormalUserGet(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: loginUsers})
	tests := []struct {
		account, passwd string
		extra           []string
		want            normalUser
	}{
		{"admin", adminPW, nil, normalUser{Username: "admin", Fullname: "System default user"}},
		{"alice", "alice-pw", nil, normalUser{Username: "alice", Fullname: "Alice A.", Email: "alice@example.com"}},
		{"otto", "otto-pw", []string{"otp_code", totpAt(t, s.Now())}, normalUser{Username: "otto", OTPEnable: true}},
		{"ottoenf", "oe-pw", []string{"otp_code", totpAt(t, s.Now())}, normalUser{Username: "ottoenf", OTPEnable: true, OTPEnforced: true}},
	}
	for _, tt := range tests {
		t.Run(tt.account, func(t *testing.T) {
			t.Parallel()
			d := s.mustLogin(t, tt.account, tt.passwd, tt.extra...)
			for _, v := range []string{"1", "2"} {
				a := s.do(t, authed(d, "api", "SYNO.Core.NormalUser", "method", "get", "version", v))
				var got normalUser
				a.data(t, &got)
				want := tt.want
				want.Editable, want.PasswordLastChange = true, day(s.Now())
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("v%s (-want +got):\n%s", v, diff)
				}
			}
		})
	}
}

// TestConcurrentUse hammers one server from many goroutines (run with
// -race): logins, calls, logouts and clock moves at once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: loginUsers, AutoBlockAttempts: -1, AccountLockAttempts: -1})
	const workers, rounds = 16, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var okLogins int
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				a := s.do(t, loginCall("alice", "alice-pw"))
				if !a.Success {
					t.Errorf("login: %s", a.raw)
					return
				}
				mu.Lock()
				okLogins++
				mu.Unlock()
				var d loginData
				a.data(t, &d)
				if b := s.do(t, authed(d, "api", "SYNO.Core.NormalUser", "method", "get", "version", "1")); !b.Success && b.code() != 119 {
					t.Errorf("whoami: %s", b.raw)
				}
				s.do(t, loginCall("alice", "bad"))
				s.do(t, call{form: form("api", "SYNO.API.Encryption", "method", "getinfo", "version", "1")})
				if w == 0 && r%5 == 0 {
					s.Advance(time.Second)
				}
				s.do(t, authed(d, "api", "SYNO.API.Auth", "method", "logout", "version", "7"))
			}
		})
	}
	wg.Wait()
	if s.Logins() != okLogins || okLogins != workers*rounds {
		t.Errorf("Logins() = %d, successful logins %d, want %d", s.Logins(), okLogins, workers*rounds)
	}
	if s.Sessions() != 0 {
		t.Errorf("Sessions() = %d after every session logged out", s.Sessions())
	}
}
