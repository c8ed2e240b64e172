package dsm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeDSM is a tiny scripted DSM for unit tests of the client's call path.
// The end-to-end tests use dsmtest instead.
type fakeDSM struct {
	t      *testing.T
	srv    *httptest.Server
	info   map[string]APIInfo
	handle func(r *http.Request, form url.Values) any // returns the answer body

	mu       sync.Mutex
	requests []recorded
	infoHits atomic.Int32
}

// recorded is one request the fake served; path is below fakeBasePath.
type recorded struct {
	method, path, rawQuery string
	form                   url.Values
	header                 http.Header
}

func defaultInfo() map[string]APIInfo {
	return map[string]APIInfo{
		"SYNO.API.Auth":        {Path: "entry.cgi", MinVersion: 1, MaxVersion: 7},
		"SYNO.API.Encryption":  {Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"},
		"SYNO.Core.NormalUser": {Path: "entry.cgi", MinVersion: 1, MaxVersion: 2, RequestFormat: "JSON"},
		"SYNO.Core.User":       {Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"},
		"SYNO.Core.User.Group": {Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"},
		"SYNO.Core.Group":      {Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"},
	}
}

// fakeBasePath is the path the fake serves under, as a NAS behind a
// reverse proxy at https://proxy/nas/ does. Clients of the fake have it in
// their base URL, and a request outside it fails the test: every test of
// the fake also checks that the client keeps the path prefix.
const fakeBasePath = "/nas"

// newFakeDSM starts a fake over https.
func newFakeDSM(t *testing.T, handle func(r *http.Request, form url.Values) any) *fakeDSM {
	t.Helper()
	return startFakeDSM(t, handle, true)
}

// newPlainFakeDSM starts a fake over plain http, where the client sends
// its secrets in the SYNO.API.Encryption envelope.
func newPlainFakeDSM(t *testing.T, handle func(r *http.Request, form url.Values) any) *fakeDSM {
	t.Helper()
	return startFakeDSM(t, handle, false)
}

func startFakeDSM(t *testing.T, handle func(r *http.Request, form url.Values) any, tls bool) *fakeDSM {
	t.Helper()
	f := &fakeDSM{t: t, info: defaultInfo(), handle: handle}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

// url returns the base URL of the fake, with its path prefix.
func (f *fakeDSM) url() string { return f.srv.URL + fakeBasePath + "/" }

// client returns a client of the fake that trusts its certificate.
func (f *fakeDSM) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(f.url(), append([]Option{WithHTTPClient(f.srv.Client())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c.sleepUntil = func(ctx context.Context, _ time.Time) error { return ctx.Err() } // retries without waiting
	return c
}

// underBase returns the path of r below fakeBasePath. A request outside it
// fails the test and is answered 404.
func (f *fakeDSM) underBase(w http.ResponseWriter, r *http.Request) (string, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, fakeBasePath+"/")
	if !ok {
		f.t.Errorf("request to %s: the client dropped the base URL's path %s", r.URL.Path, fakeBasePath)
		http.NotFound(w, r)
		return "", false
	}
	return "/" + rest, true
}

func (f *fakeDSM) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := f.underBase(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, path, r.URL.RawQuery, r.PostForm, r.Header.Clone()})
	f.mu.Unlock()
	var answer any
	if r.Form.Get("api") == "SYNO.API.Info" {
		f.infoHits.Add(1)
		out := map[string]APIInfo{}
		for _, n := range strings.Split(r.Form.Get("query"), ",") {
			if ai, ok := f.info[n]; ok {
				out[n] = ai
			}
		}
		answer = map[string]any{"success": true, "data": out}
	} else {
		answer = f.handle(r, r.Form)
	}
	switch a := answer.(type) {
	case func(http.ResponseWriter):
		a(w) // an answer that sets headers or cookies
	case []byte:
		w.Write(a)
	case int:
		w.WriteHeader(a)
	default:
		json.NewEncoder(w).Encode(a)
	}
}

func (f *fakeDSM) last(api string) recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].form.Get("api") == api {
			return f.requests[i]
		}
	}
	f.t.Fatalf("no request for %s", api)
	return recorded{}
}

// forms returns the forms of the requests for api and method, in order.
func (f *fakeDSM) forms(api, method string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, r := range f.requests {
		if r.form.Get("api") == api && r.form.Get("method") == method {
			out = append(out, r.form)
		}
	}
	return out
}

func ok(data any) map[string]any { return map[string]any{"success": true, "data": data} }
func fail(code int) map[string]any {
	return map[string]any{"success": false, "error": map[string]any{"code": code}}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "https://nas:5001", want: "https://nas:5001"},
		{in: "http://10.0.0.5:5000", want: "http://10.0.0.5:5000"},
		{in: "nas", want: "https://nas:5001"},
		{in: "10.0.0.5", want: "https://10.0.0.5:5001"},
		{in: "nas.local:5443", want: "https://nas.local:5443"},
		{in: "fe80::1", want: "https://[fe80::1]:5001"},
		{in: "https://nas.example.com/", want: "https://nas.example.com"},
		{in: "https://proxy/nas/webapi/", want: "https://proxy/nas"},
		{in: "", err: "empty NAS address"},
		{in: "ftp://nas", err: `scheme "ftp"`},
		{in: "https://admin:pw@nas", err: "must not contain credentials"},
		{in: "https://nas?x=1", err: "query"},
		{in: "https://nas:99999", err: "port"},
		{in: "nas/webapi", err: "no scheme"},
		{in: "https://", err: "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := NewClient(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("NewClient(%q) error %v, want one containing %q", tt.in, err, tt.err)
				}
				if strings.Contains(tt.in, "pw") && strings.Contains(err.Error(), "pw") {
					t.Errorf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.BaseURL(); got != tt.want {
				t.Errorf("BaseURL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"nil http client", WithHTTPClient(nil), "nil"},
		{"negative timeout", WithTimeout(-time.Second), "negative"},
		{"nil logger", WithLogger(nil), "nil"},
		{"empty user agent", WithUserAgent(" "), "User-Agent"},
		{"user agent newline", WithUserAgent("a\r\nX-Evil: 1"), "User-Agent"},
		{"credentials without password", WithCredentials(Credentials{Account: "a"}), "password is empty"},
		{"credentials without account", WithCredentials(Credentials{Password: "p"}), "account name is empty"},
		{"otp not digits", WithCredentials(Credentials{Account: "a", Password: "p", OTPCode: "12a"}), "digits"},
		{"session without sid", WithSession(Session{Account: "a"}), "no SID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient("nas", tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestInsecureSkipVerifyKeepsCallerClient(t *testing.T) {
	tr := &http.Transport{}
	hc := &http.Client{Transport: tr}
	c, err := NewClient("nas", WithHTTPClient(hc), WithInsecureSkipVerify())
	if err != nil {
		t.Fatal(err)
	}
	if tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify {
		t.Error("the caller's transport was modified")
	}
	if !c.hc.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify {
		t.Error("verification not turned off on the client's copy")
	}
	def, _ := NewClient("nas")
	if tc := def.hc.Transport.(*http.Transport).TLSClientConfig; tc != nil && tc.InsecureSkipVerify {
		t.Error("verification is off by default")
	}
}

func TestCallWireFormat(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		return ok(map[string]any{"users": []any{}})
	})
	c := f.client(t, WithSession(Session{Account: "admin", SID: "SID123", SynoToken: "TOK456"}))
	params := Params{"name": "true", "offset": 0, "flag": false, "additional": []string{"email", "groups"}, "big": int64(1) << 40}
	if err := c.Call(t.Context(), "SYNO.Core.User", "list", params, nil); err != nil {
		t.Fatal(err)
	}
	r := f.last("SYNO.Core.User")
	if r.method != http.MethodPost {
		t.Errorf("method %s, want POST", r.method)
	}
	if r.path != "/webapi/entry.cgi" {
		t.Errorf("path %s", r.path)
	}
	if r.rawQuery != "" {
		t.Errorf("query string %q: every parameter belongs in the body", r.rawQuery)
	}
	want := url.Values{
		"api": {"SYNO.Core.User"}, "version": {"1"}, "method": {"list"},
		"name": {`"true"`}, "offset": {"0"}, "flag": {"false"},
		"additional": {`["email","groups"]`}, "big": {"1099511627776"},
		"_sid": {"SID123"},
	}
	if d := cmp.Diff(want, r.form); d != "" {
		t.Errorf("form (-want +got):\n%s", d)
	}
	if got := r.header.Get("X-SYNO-TOKEN"); got != "TOK456" {
		t.Errorf("X-SYNO-TOKEN %q", got)
	}
	if got := r.header.Get("User-Agent"); got != DefaultUserAgent {
		t.Errorf("User-Agent %q", got)
	}
}

func TestVersionChoice(t *testing.T) {
	tests := []struct {
		name    string
		server  APIInfo
		present bool
		want    string // version sent, or error text
	}{
		{"server max 7", APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 7}, true, "7"},
		{"server max 6", APIInfo{Path: "auth.cgi", MinVersion: 1, MaxVersion: 6}, true, "6"},
		{"server newer than client", APIInfo{Path: "entry.cgi", MinVersion: 8, MaxVersion: 9}, true, "error: client speaks 6-7, server offers 8-9"},
		{"server too old", APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 3}, true, "error: client speaks 6-7, server offers 1-3"},
		{"missing", APIInfo{}, false, "error: does not offer SYNO.API.Auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
				return ok(map[string]any{"sid": "s", "synotoken": "t"})
			})
			delete(f.info, "SYNO.API.Auth")
			if tt.present {
				f.info["SYNO.API.Auth"] = tt.server
			}
			c := f.client(t)
			v, err := c.resolveForTest(t.Context(), "SYNO.API.Auth")
			if strings.HasPrefix(tt.want, "error: ") {
				if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tt.want, "error: ")) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("error %v is not ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(v) != tt.want {
				t.Errorf("version %d, want %s", v, tt.want)
			}
		})
	}
}

// resolveForTest returns the version chosen for api.
func (c *Client) resolveForTest(ctx context.Context, api string) (int, error) {
	_, v, err := c.resolve(ctx, api, 0, nil)
	return v, err
}

func TestDiscoveryOnceUnderConcurrency(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any { return ok(nil) })
	c := f.client(t, WithSession(Session{SID: "s"}))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.infoHits.Load(); n != 1 {
		t.Errorf("SYNO.API.Info asked %d times, want 1", n)
	}
	// An API outside the known set is asked for once, by name.
	for range 2 {
		err := c.Call(t.Context(), "SYNO.Other.Thing", "get", nil, nil)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "SYNO.Other.Thing") {
			t.Errorf("error %v, want ErrUnsupported naming the API", err)
		}
	}
	if n := f.infoHits.Load(); n != 2 {
		t.Errorf("SYNO.API.Info asked %d times, want 2", n)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	tests := []struct {
		name     string
		answer   any
		sentinel error
		target   any
		text     string
	}{
		{"permission", fail(105), ErrPermissionDenied, new(*APIError), "code 105: this session does not have permission"},
		{"busy", fail(117), ErrBusy, new(*APIError), "code 117"},
		{"unknown method", fail(103), ErrUnsupported, new(*APIError), "method does not exist"},
		{"no error member", map[string]any{"success": false}, nil, new(*APIError), "code 100"},
		{"bad gateway", 502, ErrBusy, new(*StatusError), "HTTP 502"},
		{"not found", 404, nil, new(*StatusError), "HTTP 404"},
		{"html", []byte("<html>secret-ish</html>"), nil, new(*MalformedError), "not a JSON envelope"},
		{"truncated", []byte(`{"success":true,"data":{"users":[`), nil, new(*MalformedError), "malformed answer"},
		{"no success", []byte(`{"data":{}}`), nil, new(*MalformedError), `no "success"`},
		{"wrong data type", []byte(`{"success":true,"data":{"total":"many"}}`), nil, new(*MalformedError), "field total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDSM(t, func(r *http.Request, form url.Values) any { return tt.answer })
			c := f.client(t, WithSession(Session{SID: "s"}))
			var out struct {
				Total int `json:"total"`
			}
			err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, &out)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("%v is not %v", err, tt.sentinel)
			}
			if !errors.As(err, tt.target) {
				t.Errorf("%v is not a %T", err, tt.target)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not contain %q", err, tt.text)
			}
			if strings.Contains(err.Error(), "secret-ish") {
				t.Errorf("error repeats the body: %v", err)
			}
		})
	}
}

func TestAPIErrorSentinels(t *testing.T) {
	tests := []struct {
		api  string
		code int
		want error
	}{
		{"SYNO.API.Auth", 400, ErrWrongCredentials},
		{"SYNO.API.Auth", 401, ErrAccountDisabled},
		{"SYNO.API.Auth", 403, ErrOTPRequired},
		{"SYNO.API.Auth", 404, ErrOTPRejected},
		{"SYNO.API.Auth", 406, ErrOTPEnforced},
		{"SYNO.API.Auth", 407, ErrIPBlocked},
		{"SYNO.API.Auth", 408, ErrPasswordExpired},
		{"SYNO.API.Auth", 409, ErrPasswordExpired},
		{"SYNO.API.Auth", 410, ErrPasswordExpired},
		{"SYNO.API.Auth", 411, ErrAccountLocked},
		{"SYNO.Core.User", 105, ErrPermissionDenied},
		{"SYNO.Core.User", 106, ErrSessionExpired},
		{"SYNO.Core.User", 107, ErrSessionExpired},
		{"SYNO.Core.User", 119, ErrSessionExpired},
		{"SYNO.Core.User", 102, ErrUnsupported},
		{"SYNO.Core.User", 104, ErrUnsupported},
		{"SYNO.Core.User", 109, ErrBusy},
		{"SYNO.Core.User", 110, ErrBusy},
		{"SYNO.Core.User", 111, ErrBusy},
		{"SYNO.Core.User", 118, ErrBusy},
	}
	all := []error{ErrWrongCredentials, ErrAccountDisabled, ErrOTPRequired, ErrOTPRejected, ErrOTPEnforced,
		ErrIPBlocked, ErrPasswordExpired, ErrAccountLocked, ErrPermissionDenied, ErrSessionExpired, ErrUnsupported, ErrBusy}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &APIError{Code: tt.code, API: tt.api, Method: "m"})
			for _, s := range all {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(%d, %v) = %v", tt.code, s, got)
				}
			}
		})
	}
	// A 403 outside SYNO.API.Auth is the missing-SynoToken refusal, not 2-step.
	err := &APIError{Code: 403, API: "SYNO.Core.User", Method: "create"}
	if errors.Is(err, ErrOTPRequired) {
		t.Error("403 of SYNO.Core.User matches ErrOTPRequired")
	}
	if !strings.Contains(err.Error(), "SynoToken") {
		t.Errorf("message %q does not mention the SynoToken", err)
	}
}

func TestOTPTypes(t *testing.T) {
	e := &APIError{Code: 403, API: "SYNO.API.Auth", Method: "login",
		Details: json.RawMessage(`{"token":"x","types":[{"type":"authenticator"},{"type":"fido"},{"type":"otp"}]}`)}
	if d := cmp.Diff([]string{"authenticator", "fido", "otp"}, e.OTPTypes()); d != "" {
		t.Error(d)
	}
	if !strings.Contains(e.Error(), "offered: authenticator, fido, otp") {
		t.Errorf("message %q does not list the offered types", e)
	}
}

func TestContextCancelled(t *testing.T) {
	block := make(chan struct{})
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		<-block
		return ok(nil)
	})
	defer close(block)
	c := f.client(t, WithSession(Session{SID: "s"}))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := c.Call(ctx, "SYNO.Core.User", "list", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want context.DeadlineExceeded", err)
	}
	c2 := f.client(t, WithSession(Session{SID: "s"}), WithTimeout(50*time.Millisecond))
	err = c2.Call(t.Context(), "SYNO.Core.User", "list", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WithTimeout: error %v, want context.DeadlineExceeded", err)
	}
}

func TestNotLoggedIn(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any { return ok(nil) })
	c := f.client(t)
	if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("error %v, want ErrNotLoggedIn", err)
	}
}

func TestDebugLogHasNoSecrets(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		if form.Get("api") == "SYNO.API.Auth" {
			return ok(map[string]any{"sid": "SIDSECRET", "synotoken": "TOKSECRET", "device_id": "DEVSECRET"})
		}
		return fail(105)
	})
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := f.client(t, WithLogger(log))
	if _, err := c.Auth.Login(t.Context(), Credentials{Account: "admin", Password: "PWSECRET", OTPCode: "123456", DeviceID: "OLDDEV"}); err != nil {
		t.Fatal(err)
	}
	_ = c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil)
	out := buf.String()
	for _, want := range []string{"api=SYNO.API.Auth", "method=login", "version=7", "status=200", "code=105", "duration="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"SIDSECRET", "TOKSECRET", "DEVSECRET", "PWSECRET", "123456", "OLDDEV"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains secret %q:\n%s", secret, out)
		}
	}
}

// recordingReader keeps what was read: the secure sign-in's private keys.
type recordingReader struct {
	r    io.Reader
	read []byte
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.read = append(r.read, p[:n]...)
	return n, err
}

// TestDebugLogHasNoNoiseKeys: the secure sign-in's private keys and the
// session's signing key never reach the log or an error, whether the
// handshake works, falls back or is refused.
func TestDebugLogHasNoNoiseKeys(t *testing.T) {
	var texts []string
	var keys [][]byte
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for i, q := range []nasQuirks{{}, {ik: "garbage"}, {refuseIK: 120}, {ik: "absent"}} {
		for _, mode := range []SecureSignInMode{SecureSignInAuto, SecureSignInRequired} {
			n := newNoiseNAS(t, q)
			c := n.client(t, byte(20+i), WithLogger(logger), WithSecureSignIn(mode))
			rec := &recordingReader{r: c.random}
			c.random = rec
			sess, err := c.Auth.Login(t.Context(), admin)
			if err != nil {
				texts = append(texts, err.Error())
			}
			for _, call := range []string{"list", "create", "get"} {
				if err := c.Call(t.Context(), "SYNO.Core.User", call, nil, nil); err != nil {
					texts = append(texts, err.Error())
				}
			}
			if sess.SecureSignIn {
				k, _ := base64.RawURLEncoding.DecodeString(sess.Signing.Key)
				keys = append(keys, k)
				texts = append(texts, fmt.Sprint(sess), fmt.Sprintf("%#v", sess))
			}
			for off := 0; off+32 <= len(rec.read); off += 32 {
				keys = append(keys, rec.read[off:off+32])
			}
			keys = append(keys, n.static.Private)
		}
	}
	if len(keys) < 10 {
		t.Fatalf("only %d keys made: the test does not exercise the handshake", len(keys))
	}
	all := log.String() + strings.Join(texts, "\n")
	for _, k := range keys {
		for _, enc := range []string{hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k)} {
			if strings.Contains(all, enc[:20]) {
				t.Errorf("a key shows in the log or an error: %s", enc)
			}
		}
	}
}

func TestCallRefusesReservedParameters(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any { return ok(nil) })
	c := f.client(t, WithSession(Session{SID: "s"}))
	for _, k := range []string{"api", "version", "method", "_sid"} {
		err := c.Call(t.Context(), "SYNO.Core.User", "list", Params{k: "x"}, nil)
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s: error %v", k, err)
		}
	}
	if err := c.Call(t.Context(), "SYNO.Core.User", "", nil, nil); err == nil {
		t.Error("empty method accepted")
	}
	if len(f.requests) != 0 {
		t.Errorf("%d requests sent for refused calls", len(f.requests))
	}
}

// TestParseBaseURLHidesCredentials gives each of parseBaseURL's error
// paths an address with a password in it: the error names the
// credentials and never repeats the password.
func TestParseBaseURLHidesCredentials(t *testing.T) {
	const pw = "Sekrit-PW"
	for _, in := range []string{
		"ftp://admin:" + pw + "@nas",         // scheme
		"http://[admin:" + pw + "@nas",       // url.Parse fails
		"admin:" + pw + "@nas/webapi",        // path without scheme
		"https://admin:" + pw + "@",          // no host
		"https://admin:" + pw + "@nas?x=1",   // query
		"https://admin:" + pw + "@nas#f",     // fragment
		"https://admin:" + pw + "@nas:99999", // port
		"https://admin:" + pw + "@nas",       // otherwise valid
		"https://admin:p/w@" + pw + "@nas",   // a password with "/" and "@"
		"nas/x:" + pw + "@",                  // no scheme, "@" in the path
	} {
		t.Run(in, func(t *testing.T) {
			_, err := NewClient(in)
			if err == nil || !strings.Contains(err.Error(), "must not contain credentials") {
				t.Fatalf("NewClient(%q) error %v, want the credentials refused", in, err)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "p/w") {
				t.Errorf("error repeats the password: %v", err)
			}
		})
	}
}

func TestRedactUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"https://nas:5001":           "https://nas:5001",
		"https://admin:pw@nas":       "https://REDACTED@nas",
		"http://[admin:pw@h":         "http://REDACTED@h",
		"admin:pw@nas":               "REDACTED@nas",
		"https://a:p/w@x?y#z@nas/wa": "https://REDACTED@nas/wa",
		"http://a:b://c@h":           "http://REDACTED@h",
	} {
		if got := redactUserinfo(in); got != want {
			t.Errorf("redactUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
