package sim

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// adminCall makes a call in an admin session.
func adminCall(t *testing.T, s *Server, sess loginData, api, method string, kv ...string) answer {
	t.Helper()
	f := form(append([]string{"api", api, "version", "1", "method", method, "_sid", sess.SID, "SynoToken", sess.SynoToken}, kv...)...)
	return s.do(t, call{form: f})
}

// TestAutoBlockWire holds SYNO.Core.Security.AutoBlock and its Rules to
// the shapes and codes DSM answers (math65/dsmaccess, ychiu1211/dsmctl).
func TestAutoBlockWire(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	sess := s.mustLogin(t, "admin", adminPW)
	var got map[string]any
	adminCall(t, s, sess, "SYNO.Core.Security.AutoBlock", "get").data(t, &got)
	if diff := cmp.Diff(map[string]any{"enable": true, "attempts": 5.0, "within_mins": 10.0, "expire_day": 1.0}, got); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		kv   []string
		code int
	}{
		{[]string{"enable", "true", "attempts", "0"}, 120},
		{[]string{"enable", "true", "attempts", "101"}, 120},
		{[]string{"enable", "true", "within_mins", "1441"}, 120},
		{[]string{"enable", "true", "expire_day", "2001"}, 120},
		{[]string{"enable", "True"}, 120},
		{[]string{"enable", "false", "attempts", "0"}, 0}, // ignored while off
		{[]string{"enable", "true", "attempts", "3", "within_mins", "1440", "expire_day", "0"}, 0},
	} {
		if c := adminCall(t, s, sess, "SYNO.Core.Security.AutoBlock", "set", tt.kv...).code(); c != tt.code {
			t.Errorf("set %v: code %d, want %d", tt.kv, c, tt.code)
		}
	}
	adminCall(t, s, sess, "SYNO.Core.Security.AutoBlock", "get").data(t, &got)
	if diff := cmp.Diff(map[string]any{"enable": true, "attempts": 3.0, "within_mins": 1440.0, "expire_day": 0.0}, got); diff != "" {
		t.Errorf("after set (-want +got):\n%s", diff)
	}

	rules := "SYNO.Core.Security.AutoBlock.Rules"
	for _, tt := range []struct {
		kv   []string
		code int
	}{
		{[]string{"type", `"deny"`}, codeRulesBadRequest},
		{[]string{"action", `"load"`}, codeRulesBadRequest},
		{[]string{"action", `"load"`, "type", `"other"`}, 120},
		{[]string{"action", `"load"`, "type", `"deny"`}, 0},
	} {
		if c := adminCall(t, s, sess, rules, "list", tt.kv...).code(); c != tt.code {
			t.Errorf("list %v: code %d, want %d", tt.kv, c, tt.code)
		}
	}
	if c := adminCall(t, s, sess, rules, "create", "type", `"allow"`).code(); c != codeMissingParameters {
		t.Errorf("create without ip: %d", c)
	}
	if c := adminCall(t, s, sess, rules, "create", "type", `"deny"`, "ip", `["203.0.113.9"]`, "block_days", "2").code(); c != 0 {
		t.Fatalf("create deny: %d", c)
	}
	// The block list blocks, for block_days.
	bad := call{form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", "admin", "passwd", adminPW), addr: "203.0.113.9:999"}
	if c := s.do(t, bad).code(); c != codeAddressBlocked {
		t.Errorf("login from a denied address: %d, want 407", c)
	}
	var list struct {
		Info   []map[string]any `json:"ip_info"`
		Offset int              `json:"offset"`
		Total  int              `json:"total"`
	}
	adminCall(t, s, sess, rules, "list", "action", `"load"`, "type", `"deny"`, "offset", "0", "limit", "10").data(t, &list)
	if list.Total != 1 || len(list.Info) != 1 || list.Info[0]["ip"] != "203.0.113.9" || list.Info[0]["expire_time"].(float64) == 0 {
		t.Errorf("deny list %+v", list)
	}
	s.Advance(49 * time.Hour)
	if c := s.do(t, bad).code(); c != 0 {
		t.Errorf("login after block_days: %d", c)
	}
}

// TestOTPWire holds SYNO.Core.OTP, OTP.Admin and OTP.EnforcePolicy to
// their shapes.
func TestOTPWire(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "Alice-pw1"}}})
	alice := s.mustLogin(t, "alice", "Alice-pw1")
	call := func(sess loginData, api, method string, kv ...string) answer {
		return adminCall(t, s, sess, api, method, append([]string{"version", "2"}, kv...)...)
	}
	if c := call(alice, "SYNO.Core.OTP", "get_qrcode", "account", `"admin"`).code(); c != codePermission {
		t.Errorf("get_qrcode for another account: %d, want 105", c)
	}
	var qr struct {
		AppAccount string `json:"appAccount"`
		Img        string `json:"img"`
		Key        string `json:"key"`
	}
	call(alice, "SYNO.Core.OTP", "get_qrcode", "account", `"alice"`).data(t, &qr)
	png, err := base64.StdEncoding.DecodeString(qr.Img)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("img is not a base64 PNG: %v", err)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(qr.Key)
	if qr.AppAccount != "alice@DiskStation" || err != nil || len(key) != otpSeedBytes {
		t.Errorf("appAccount %q, key of %d bytes (%v)", qr.AppAccount, len(key), err)
	}
	if c := call(alice, "SYNO.Core.OTP", "auth_tmp_code", "code", `"000000"`).code(); c != codeOTPSetupRejected && totpCode(key, totpStepAt(s.Now())) != "000000" {
		t.Errorf("a wrong code: %d", c)
	}
	if c := call(alice, "SYNO.Core.OTP", "auth_tmp_code", "code", `"`+totpCode(key, totpStepAt(s.Now()))+`"`).code(); c != 0 {
		t.Fatalf("the right code: %d", c)
	}
	var one map[string]any
	call(alice, "SYNO.Core.OTP", "get_one").data(t, &one)
	if one["otp_set"] != true {
		t.Errorf("get_one %v", one)
	}
	if c := call(alice, "SYNO.Core.OTP.Admin", "get", "name", `"alice"`).code(); c != codePermission {
		t.Errorf("OTP.Admin get by a user: %d, want 105", c)
	}

	admin := s.mustLogin(t, "admin", adminPW)
	var adm map[string]any
	adminCall(t, s, admin, "SYNO.Core.OTP.Admin", "get", "name", `"alice"`).data(t, &adm)
	if diff := cmp.Diff(map[string]any{"users": []any{map[string]any{"name": "alice", "enable_otp": true}}}, adm); diff != "" {
		t.Errorf("OTP.Admin get (-want +got):\n%s", diff)
	}
	if c := adminCall(t, s, admin, "SYNO.Core.OTP.Admin", "get").code(); c != codeMissingParameters {
		t.Errorf("OTP.Admin get without name: %d", c)
	}
	var pol map[string]any
	adminCall(t, s, admin, "SYNO.Core.OTP.EnforcePolicy", "get").data(t, &pol)
	if diff := cmp.Diff(map[string]any{"enable_otp_enforcement": false, "otp_enforce_option": "none"}, pol); diff != "" {
		t.Errorf("EnforcePolicy get (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		kv   []string
		code int
		want string
	}{
		{[]string{"enable_otp_enforcement", "true", "otp_enforce_option", `"custom"`}, 120, "none"},
		{[]string{"enable_otp_enforcement", "true"}, codeMissingParameters, "none"},
		{[]string{"enable_otp_enforcement", "true", "otp_enforce_option", `"admin"`}, 0, "admin"},
		{[]string{"enable_otp_enforcement", "false", "otp_enforce_option", `"user"`}, 0, "none"},
	} {
		if c := adminCall(t, s, admin, "SYNO.Core.OTP.EnforcePolicy", "set", tt.kv...).code(); c != tt.code {
			t.Errorf("set %v: %d, want %d", tt.kv, c, tt.code)
		}
		adminCall(t, s, admin, "SYNO.Core.OTP.EnforcePolicy", "get").data(t, &pol)
		if pol["otp_enforce_option"] != tt.want {
			t.Errorf("after set %v: %v, want %s", tt.kv, pol, tt.want)
		}
	}
}

// TestSecurityStateBounds: a state whose security record is out of
// bounds is refused on load.
func TestSecurityStateBounds(t *testing.T) {
	t.Parallel()
	for _, sec := range []securityState{
		{AutoBlock: limitSetting{Attempts: 0, Within: time.Minute, BlockFor: time.Hour}, Untrusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Trusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, OTPEnforce: "none"},
		{AutoBlock: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Untrusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Trusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, OTPEnforce: "all"},
		{AutoBlock: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Untrusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Trusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, OTPEnforce: "none", Allow: []ipRule{{Prefix: "nonsense"}}},
		{AutoBlock: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Untrusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Trusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, OTPEnforce: "none", Deny: make([]ipRule, maxIPRules+1)},
	} {
		st := newStore()
		st.security = &sec
		if err := checkState(st); err == nil {
			b, _ := json.Marshal(sec)
			t.Errorf("accepted %s", b)
		}
	}
	st := newStore()
	st.security = &securityState{AutoBlock: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Untrusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, Trusted: limitSetting{Attempts: 1, Within: 1, BlockFor: 1}, OTPEnforce: "user", Allow: []ipRule{{Prefix: "10.0.0.0/8"}}}
	if err := checkState(st); err != nil {
		t.Errorf("a good state refused: %v", err)
	}
}

// TestNormalUserOTPEnforced: NormalUser get's OTP_enforced follows the
// enforcement policy.
func TestNormalUserOTPEnforced(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "Alice-pw1"}}})
	alice := s.mustLogin(t, "alice", "Alice-pw1")
	admin := s.mustLogin(t, "admin", adminPW)
	for _, opt := range []string{"user", "admin"} {
		if c := adminCall(t, s, admin, "SYNO.Core.OTP.EnforcePolicy", "set", "enable_otp_enforcement", "true", "otp_enforce_option", `"`+opt+`"`).code(); c != 0 {
			t.Fatal(c)
		}
		var me map[string]any
		adminCall(t, s, alice, "SYNO.Core.NormalUser", "get").data(t, &me)
		if want := opt == "user"; me["OTP_enforced"] != want {
			t.Errorf("policy %s: OTP_enforced %v, want %v", opt, me["OTP_enforced"], want)
		}
	}
}
