package sim

import (
	"crypto/ecdh"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDispatchErrors covers the common error codes of the dispatcher.
func TestDispatchErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	info := func(kv ...string) call { return call{form: form(kv...)} }
	tests := []struct {
		name string
		c    call
		want int
	}{
		{"ok", info("api", "SYNO.API.Info", "method", "query", "version", "1"), 0},
		{"no api", info("method", "query", "version", "1"), 101},
		{"unknown api", info("api", "SYNO.No.Such", "method", "query", "version", "1"), 102},
		{"no method", info("api", "SYNO.API.Info", "version", "1"), 101},
		{"no version", info("api", "SYNO.API.Info", "method", "query"), 101},
		{"version too high", info("api", "SYNO.API.Info", "method", "query", "version", "2"), 104},
		{"version zero", info("api", "SYNO.API.Info", "method", "query", "version", "0"), 104},
		{"version not a number", info("api", "SYNO.API.Info", "method", "query", "version", "one"), 104},
		{"auth version 8", info("api", "SYNO.API.Auth", "method", "logout", "version", "8"), 104},
		{"auth version 1", info("api", "SYNO.API.Auth", "method", "logout", "version", "1"), 0},
		{"unknown method", info("api", "SYNO.API.Info", "method", "nope", "version", "1"), 103},
		{"method version range", info("api", "SYNO.Test.Sim", "method", "v2only", "version", "3"), 104},
		{"method version in range", info("api", "SYNO.Test.Sim", "method", "v2only", "version", "2"), 0},
		{"listed API, method not served", info("api", "SYNO.Entry.Request", "method", "batch", "version", "1"), 103},
		{"panic becomes 100", info("api", "SYNO.Test.Sim", "method", "panic", "version", "1"), 100},
		{"JSON-quoted method and version", info("api", "SYNO.API.Info", "method", `"query"`, "version", "1"), 0},
		{"api from path", call{path: "/webapi/entry.cgi/SYNO.API.Info", form: form("method", "query", "version", "1")}, 0},
		{"param wins over path", call{path: "/webapi/entry.cgi/SYNO.No.Such", form: form("api", "SYNO.API.Info", "method", "query", "version", "1")}, 0},
		{"unknown api in path", call{path: "/webapi/entry.cgi/SYNO.No.Such", form: form("method", "query", "version", "1")}, 102},
		{"query.cgi serves Info", call{path: "/webapi/query.cgi", form: form("api", "SYNO.API.Info", "method", "query", "version", "1")}, 0},
		{"query.cgi serves only Info", call{path: "/webapi/query.cgi", form: form("api", "SYNO.API.Auth", "method", "logout", "version", "7")}, 102},
		{"auth.cgi", call{path: "/webapi/auth.cgi", form: form("api", "SYNO.API.Auth", "method", "logout", "version", "7")}, 0},
		{"GET with query", call{verb: http.MethodGet, query: form("api", "SYNO.API.Info", "method", "query", "version", "1")}, 0},
		{"query and form merged", call{query: form("api", "SYNO.API.Info"), form: form("method", "query", "version", "1")}, 0},
		{"session needed", info("api", "SYNO.Core.NormalUser", "method", "get", "version", "1"), 119},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := s.do(t, tt.c)
			if a.resp.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d, want 200", a.resp.StatusCode)
			}
			if a.code() != tt.want {
				t.Errorf("code = %d, want %d (%s)", a.code(), tt.want, a.raw)
			}
			if !a.Success && strings.Contains(a.raw, `"data"`) {
				t.Errorf("error answer carries data: %s", a.raw)
			}
		})
	}
}

// TestTransport covers what is answered outside the API envelope, and the
// malformed requests that must still get an envelope.
func TestTransport(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{MaxBodyBytes: 4096})
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantCode   int
	}{
		{"not webapi", httptest.NewRequest("GET", "/index.cgi", nil), 404, 0},
		{"unknown cgi", httptest.NewRequest("GET", "/webapi/nope.cgi?api=SYNO.API.Info&method=query&version=1", nil), 404, 0},
		{"suffix on legacy cgi", httptest.NewRequest("GET", "/webapi/auth.cgi/SYNO.API.Auth", nil), 404, 0},
		{"PUT", httptest.NewRequest("PUT", "/webapi/entry.cgi", nil), 405, 0},
		{"bad escape in query", httptest.NewRequest("GET", "/webapi/entry.cgi?api=%zz", nil), 200, 101},
		{"body too large", formRequest("api=SYNO.API.Info&method=query&version=1&x=" + strings.Repeat("a", 5000)), 200, 101},
		{"body just fits", formRequest("api=SYNO.API.Info&method=query&version=1&x=" + strings.Repeat("a", 4000)), 200, 0},
		{"bad escape in body", formRequest("api=SYNO.API.Info&method=%zz"), 200, 101},
		{"empty", httptest.NewRequest("POST", "/webapi/entry.cgi", nil), 200, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := serveRequest(t, s, tt.req)
			if a.resp.StatusCode != tt.wantStatus {
				t.Fatalf("HTTP %d, want %d", a.resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus == 200 && a.code() != tt.wantCode {
				t.Errorf("code = %d, want %d (%s)", a.code(), tt.wantCode, a.raw)
			}
			if tt.wantStatus == 200 && !strings.HasPrefix(a.resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type = %q", a.resp.Header.Get("Content-Type"))
			}
		})
	}
}

func formRequest(body string) *http.Request {
	r := httptest.NewRequest("POST", "/webapi/entry.cgi", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// TestJSONFormatParams: APIs with requestFormat JSON read "alice" and
// alice alike; other values stay as written.
func TestJSONFormatParams(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	for in, want := range map[string]string{`alice`: "alice", `"alice"`: "alice", `"bob smith"`: "bob smith", `123`: "123", `"true"`: "true", `"unterminated`: `"unterminated`, `["a"]`: `["a"]`} {
		a := s.do(t, call{form: form("api", "SYNO.Test.Sim", "method", "echo", "version", "1", "name", in)})
		var d echoData
		a.data(t, &d)
		if d.Name != want {
			t.Errorf("name=%s read as %q, want %q", in, d.Name, want)
		}
	}
}

// wantInfo is what SYNO.API.Info query answers for these APIs on DSM
// 7.2 (synology-community/go-synology pkg/api/api_info.json, as
// testdata/real/info_query.json holds it).
var wantInfo = map[string]apiInfo{
	"SYNO.API.Info":                  {"entry.cgi", 1, 1, "JSON"},
	"SYNO.API.Auth":                  {"entry.cgi", 1, 7, ""},
	"SYNO.API.Auth.UIConfig":         {"entry.cgi", 1, 1, "JSON"},
	"SYNO.API.Encryption":            {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Entry.Request":             {"entry.cgi", 1, 2, "JSON"},
	"SYNO.Core.User":                 {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.User.Group":           {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.User.PasswordPolicy":  {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.User.PasswordExpiry":  {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.User.PasswordConfirm": {"entry.cgi", 1, 2, "JSON"},
	"SYNO.Core.User.PasswordMeter":   {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.User.UsernamePolicy":  {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.Group":                {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.Group.Member":         {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.NormalUser":           {"entry.cgi", 1, 2, "JSON"},
	"SYNO.DSM.Info":                  {"entry.cgi", 2, 2, "JSON"},
	"SYNO.API.Auth.Type":             {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.Share":                {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.Share.Permission":     {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.Storage.Volume":       {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.User.Home":            {"entry.cgi", 1, 1, "JSON"},
	// Quotas, application privileges, speed limits (kwent/syno
	// definitions/7.x/_full.json: DSM 7's versions).
	"SYNO.Core.Quota":            {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.Share.Quota":      {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.AppPriv.App":      {"entry.cgi", 1, 3, "JSON"},
	"SYNO.Core.AppPriv.Rule":     {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.BandwidthControl": {"entry.cgi", 1, 2, "JSON"},

	"SYNO.Core.OTP":                      {"entry.cgi", 1, 2, "JSON"},
	"SYNO.Core.OTP.Admin":                {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.OTP.EnforcePolicy":        {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.TrustDevice":              {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.Security.AutoBlock":       {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.Security.AutoBlock.Rules": {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.SmartBlock":               {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.SmartBlock.Untrusted":     {"entry.cgi", 1, 1, "JSON"},
	"SYNO.Core.SmartBlock.Trusted":       {"entry.cgi", 1, 1, "JSON"},
}

func TestInfo(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tests := []struct {
		query string
		want  []string // nil: every API of the table
	}{
		{"all", nil},
		{`"all"`, nil},
		{"SYNO.API.Auth", []string{"SYNO.API.Auth"}},
		{"SYNO.API.Auth,SYNO.Core.User, SYNO.No.Such", []string{"SYNO.API.Auth", "SYNO.Core.User"}},
		{"SYNO.No.Such", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			a := s.do(t, call{verb: http.MethodGet, path: "/webapi/query.cgi", query: form("api", "SYNO.API.Info", "version", "1", "method", "query", "query", tt.query)})
			var got map[string]apiInfo
			a.data(t, &got)
			delete(got, "SYNO.Test.Sim")
			want := map[string]apiInfo{}
			if tt.want == nil {
				want = wantInfo
			}
			for _, n := range tt.want {
				want[n] = wantInfo[n]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
		})
	}
	// Every API Info lists is one the dispatcher knows, and the other way round.
	a := s.do(t, call{form: form("api", "SYNO.API.Info", "version", "1", "method", "query", "query", "all")})
	if !strings.Contains(a.raw, `"requestFormat":"JSON"`) || strings.Contains(a.raw, `"SYNO.API.Auth":{"path":"entry.cgi","minVersion":1,"maxVersion":7,"requestFormat"`) {
		t.Errorf("requestFormat must be JSON where the table says and absent elsewhere: %s", a.raw)
	}
}

func TestUIConfig(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	a := s.do(t, call{path: "/webapi/entry.cgi/SYNO.API.Auth.UIConfig", form: form("api", "SYNO.API.Auth.UIConfig", "method", "get", "version", "1")})
	if !a.Success {
		t.Fatalf("UIConfig get: %s", a.raw)
	}
	var ssid string
	for _, c := range a.resp.Cookies() {
		if c.Name == "_SSID" {
			ssid = c.Value
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(ssid)
	if err != nil || len(raw) != 32 {
		t.Fatalf("_SSID = %q: want base64url (no padding) of 32 bytes (%v)", ssid, err)
	}
	if _, err := ecdh.X25519().NewPublicKey(raw); err != nil {
		t.Errorf("_SSID is not an X25519 key: %v", err)
	}
	b := s.do(t, call{path: "/webapi/entry.cgi/SYNO.API.Auth.UIConfig", form: form("method", "get", "version", "1")})
	for _, c := range b.resp.Cookies() {
		if c.Name == "_SSID" && c.Value != ssid {
			t.Errorf("_SSID changed between calls: the server key is static")
		}
	}
}

// FuzzServeHTTP sends arbitrary paths, query strings and bodies: the
// answer is always 200 with a JSON envelope (or 404/405 outside the API),
// and never code 100, which would mean a handler panicked.
func FuzzServeHTTP(f *testing.F) {
	f.Add("/webapi/entry.cgi", "api=SYNO.API.Info&method=query&version=1&query=all", "")
	f.Add("/webapi/auth.cgi", "", "api=SYNO.API.Auth&method=login&version=7&account=admin&passwd=x&otp_code=123456&device_id=x")
	f.Add("/webapi/entry.cgi/SYNO.Core.User", "method=list&version=1&_sid=x", "offset=-5&limit=%22a%22")
	f.Add("/webapi/entry.cgi", "api=SYNO.Core.User&method=list&version=1", "__cIpHeRtExT=%7B%22rsa%22%3A%22%22%7D")
	f.Add("/webapi/entry.cgi", "api=SYNO.API.Auth&method=login&version=7", "account=admin&passwd=x&ik_message=zJrJ0ThZs1kfLMQiVysr_jnRbjfbbfptFQXYbBTXyHzo_pwfX1zKN3Yti1RszTT0TFvkcNoQScDM4-YNWEfMBTMAGmW4Oj6Oy34kg21xPhtxGGM5K6lGKxjwFQEbhjy_iSxF91-Lomxz507_eK7j4ZAX4Yk")
	s := newServer(f, Config{AutoBlockAttempts: -1})
	d := s.mustLogin(f, "admin", adminPW)
	f.Fuzz(func(t *testing.T, path, query, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#%\x00\r\n\t") {
			return
		}
		req := httptest.NewRequest("POST", "/", strings.NewReader(strings.ReplaceAll(body, "SID", d.SID)))
		req.URL.Path, req.URL.RawQuery = path, strings.ReplaceAll(query, "SID", d.SID)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-SYNO-TOKEN", d.SynoToken)
		req.RemoteAddr = lanAddr
		a := serveRequest(t, s, req)
		switch a.resp.StatusCode {
		case 200:
			if a.code() == 100 || a.code() == -1 {
				t.Errorf("answer %s", a.raw)
			}
		case 404, 405:
		default:
			t.Errorf("HTTP %d", a.resp.StatusCode)
		}
	})
}
