package dsm

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// sessionFake is a fake DSM with sessions: login hands out numbered SIDs,
// and expire() makes every current session answer 119.
type sessionFake struct {
	*fakeDSM
	logins  atomic.Int32
	mu      sync.Mutex
	valid   map[string]bool
	lastReq url.Values
}

func newSessionFake(t *testing.T) *sessionFake {
	s := &sessionFake{valid: map[string]bool{}}
	s.fakeDSM = newFakeDSM(t, s.answer)
	return s
}

func (s *sessionFake) answer(r *http.Request, form url.Values) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch form.Get("api") + " " + form.Get("method") {
	case "SYNO.API.Auth login":
		s.lastReq = form
		if form.Get("passwd") != "right" {
			return fail(400)
		}
		n := s.logins.Add(1)
		sid := "sid" + string(rune('A'+n-1))
		s.valid[sid] = true
		return ok(map[string]any{"sid": sid, "synotoken": "tok" + sid, "device_id": "", "account": form.Get("account")})
	case "SYNO.API.Auth logout":
		delete(s.valid, form.Get("_sid"))
		return ok(nil)
	case "SYNO.Core.User list":
		if !s.valid[form.Get("_sid")] {
			return fail(119)
		}
		if r.Header.Get("X-SYNO-TOKEN") != "tok"+form.Get("_sid") {
			return fail(403)
		}
		return ok(map[string]any{"total": 1})
	case "SYNO.Core.User get":
		return fail(105)
	}
	return fail(103)
}

func (s *sessionFake) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.valid)
}

func TestLoginParameters(t *testing.T) {
	f := newSessionFake(t)
	c := f.client(t)
	sess, err := c.Auth.Login(t.Context(), Credentials{Account: "bob", Password: "right", OTPCode: "123456", DeviceName: "laptop", DeviceID: "DEV1"})
	if err != nil {
		t.Fatal(err)
	}
	if sess.SID != "sidA" || sess.SynoToken != "toksidA" || sess.Account != "bob" {
		t.Errorf("session %+v", sess)
	}
	got := f.lastReq
	want := map[string]string{
		"api": "SYNO.API.Auth", "version": "7", "method": "login", "session": "webui", "format": "sid",
		"enable_syno_token": "yes", "account": "bob", "passwd": "right", "otp_code": "123456",
		"enable_device_token": "yes", "device_name": "laptop", "device_id": "DEV1",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
	if strings.Contains(sess.String(), "sidA") || strings.Contains(sess.GoString(), "toksidA") {
		t.Errorf("Session.String shows secrets: %s", sess)
	}
}

// TestLoginAuthVersion: the login uses the highest SYNO.API.Auth version
// the NAS offers, 7 on DSM 7: on DSM 7.4 a version 6 session cannot
// change users or groups (math65/dsmaccess commit f7dfb61).
func TestLoginAuthVersion(t *testing.T) {
	for _, tt := range []struct {
		offer   APIInfo
		version string
		path    string
	}{
		{APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 7}, "7", "/webapi/entry.cgi"},
		{APIInfo{Path: "auth.cgi", MinVersion: 1, MaxVersion: 6}, "6", "/webapi/auth.cgi"},
	} {
		t.Run(fmt.Sprintf("offers %d-%d", tt.offer.MinVersion, tt.offer.MaxVersion), func(t *testing.T) {
			f := newSessionFake(t)
			f.info["SYNO.API.Auth"] = tt.offer
			c := f.client(t)
			if _, err := c.Auth.Login(t.Context(), Credentials{Account: "a", Password: "right"}); err != nil {
				t.Fatal(err)
			}
			r := f.last("SYNO.API.Auth")
			if r.form.Get("version") != tt.version || r.path != tt.path {
				t.Errorf("login sent version %s to %s, want %s to %s", r.form.Get("version"), r.path, tt.version, tt.path)
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	f := newSessionFake(t)
	c := f.client(t)
	_, err := c.Auth.Login(t.Context(), Credentials{Account: "a", Password: "wrong-pw"})
	if !errors.Is(err, ErrWrongCredentials) {
		t.Fatalf("error %v, want ErrWrongCredentials", err)
	}
	if strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("error shows the password: %v", err)
	}
	if _, ok := c.Auth.Session(); ok {
		t.Error("a failed login left a session")
	}
}

func TestRenewalOnExpiry(t *testing.T) {
	f := newSessionFake(t)
	c := f.client(t, WithCredentials(Credentials{Account: "a", Password: "right"}))
	if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.logins.Load(); n != 1 {
		t.Fatalf("%d logins before expiry, want 1 (lazy login)", n)
	}
	f.expire()
	if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
		t.Fatalf("call after expiry: %v", err)
	}
	if n := f.logins.Load(); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}
	// 105 is a permission problem: no new login.
	err := c.Call(t.Context(), "SYNO.Core.User", "get", nil, nil)
	if !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("error %v, want ErrPermissionDenied", err)
	}
	if n := f.logins.Load(); n != 2 {
		t.Errorf("105 caused a login: %d logins", n)
	}
}

func TestNoRenewalWithoutCredentials(t *testing.T) {
	f := newSessionFake(t)
	c := f.client(t, WithSession(Session{SID: "gone", SynoToken: "x"}))
	err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil)
	if !errors.Is(err, ErrSessionExpired) {
		t.Errorf("error %v, want ErrSessionExpired", err)
	}
	if f.logins.Load() != 0 {
		t.Error("logged in without credentials")
	}
}

func TestConcurrentRenewalLogsInOnce(t *testing.T) {
	f := newSessionFake(t)
	c := f.client(t, WithCredentials(Credentials{Account: "a", Password: "right"}))
	if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
		t.Fatal(err)
	}
	f.expire()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.logins.Load(); n != 2 {
		t.Errorf("%d logins for 32 concurrent calls after one expiry, want 2 (initial + one renewal)", n)
	}
}

func TestLogoutForgetsSession(t *testing.T) {
	f := newSessionFake(t)
	c := f.client(t)
	if _, err := c.Auth.Login(t.Context(), Credentials{Account: "a", Password: "right"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth.Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := f.last("SYNO.API.Auth"); r.form.Get("method") != "logout" || r.form.Get("_sid") != "sidA" || r.form.Get("session") != "webui" {
		t.Errorf("logout request %v", r.form)
	}
	if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("after logout: %v, want ErrNotLoggedIn", err)
	}
	if err := c.Auth.Logout(t.Context()); err != nil {
		t.Errorf("second logout: %v", err)
	}
}

func TestLoginOverHTTPUsesEnvelope(t *testing.T) {
	v, key := loadVectors(t)
	var mu sync.Mutex
	var inClear, opened url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch r.Form.Get("api") {
		case "SYNO.API.Info":
			w.Write([]byte(`{"success":true,"data":{"SYNO.API.Auth":{"path":"entry.cgi","minVersion":1,"maxVersion":7},"SYNO.API.Encryption":{"path":"entry.cgi","minVersion":1,"maxVersion":1,"requestFormat":"JSON"}}}`))
		case "SYNO.API.Encryption":
			w.Write([]byte(`{"success":true,"data":{"cipherkey":"__cIpHeRtExT","ciphertoken":"__cIpHeRtOkEn","public_key":"` + v.GetinfoData.PublicKey + `","server_time":1764325000}}`))
		case "SYNO.API.Auth":
			_, plain, err := referenceOpen(key, r.PostForm.Get("__cIpHeRtExT"))
			if err != nil {
				w.Write([]byte(`{"success":false,"error":{"code":400}}`))
				return
			}
			mu.Lock()
			inClear = r.PostForm
			opened, _ = url.ParseQuery(plain)
			mu.Unlock()
			w.Write([]byte(`{"success":true,"data":{"sid":"S","synotoken":"T"}}`))
		}
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Auth.Login(t.Context(), Credentials{Account: "admin", Password: "p@ss wörd&=+", OTPCode: "654321"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, k := range []string{"account", "passwd", "otp_code"} {
		if inClear.Has(k) {
			t.Errorf("%s travels in clear over http", k)
		}
	}
	if opened.Get("passwd") != "p@ss wörd&=+" || opened.Get("account") != "admin" || opened.Get("otp_code") != "654321" {
		t.Errorf("envelope holds %v", opened)
	}
	if opened.Get("__cIpHeRtOkEn") != "1764325000" {
		t.Errorf("envelope token %q, want the server time", opened.Get("__cIpHeRtOkEn"))
	}
	if inClear.Get("session") != "webui" || inClear.Get("enable_syno_token") != "yes" {
		t.Errorf("clear part %v lacks session or enable_syno_token", inClear)
	}
}
