package dsmtest_test

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// dsmAnswer is the DSM envelope, decoded here without package dsm.
type dsmAnswer struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   struct {
		Code int `json:"code"`
	} `json:"error"`
}

// post sends one form call over the real listener.
func post(t *testing.T, hc *http.Client, srv *dsmtest.Server, kv ...string) dsmAnswer {
	t.Helper()
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	resp, err := hc.PostForm(srv.URL()+"/webapi/entry.cgi", f)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a dsmAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

func login(account, passwd string, extra ...string) []string {
	return append([]string{"api", "SYNO.API.Auth", "version", "7", "method", "login", "account", account, "passwd", passwd, "format", "sid"}, extra...)
}

func code(a dsmAnswer) int {
	if a.Success {
		return 0
	}
	return a.Error.Code
}

func TestServerOverHTTP(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 11, 28, 10, 0, 5, 0, time.UTC)
	srv := dsmtest.Start(t,
		dsmtest.WithAdminPassword("Adm1n!"),
		dsmtest.WithTime(start),
		dsmtest.WithSessionIdleTimeout(time.Minute),
		dsmtest.WithAutoBlock(2, time.Minute, time.Hour),
		dsmtest.WithUser(dsmtest.User{Name: "otto", Password: "otto-pw", OTPSecret: "JBSWY3DPEHPK3PXP", Description: "Otto"}),
		dsmtest.WithUser(dsmtest.User{Name: "enf", Password: "enf-pw", OTPEnforced: true}),
		dsmtest.WithUser(dsmtest.User{Name: "off", Password: "off-pw", Disabled: true}),
	)
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || srv.Certificate() != nil {
		t.Fatalf("URL() = %q, Certificate() = %v", srv.URL(), srv.Certificate())
	}
	if srv.AdminPassword() != "Adm1n!" {
		t.Errorf("AdminPassword() = %q", srv.AdminPassword())
	}
	if d := srv.Now().Sub(start); d < 0 || d > 5*time.Second {
		t.Errorf("Now() = %v, want about %v", srv.Now(), start)
	}
	hc := srv.HTTPClient()

	a := post(t, hc, srv, login("admin", "Adm1n!")...)
	var sess struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(a.Data, &sess); err != nil || sess.SID == "" {
		t.Fatalf("login: %+v", a)
	}
	whoami := []string{"api", "SYNO.Core.NormalUser", "version", "1", "method", "get", "_sid", sess.SID}
	if a := post(t, hc, srv, whoami...); !a.Success {
		t.Errorf("whoami: %+v", a)
	}
	srv.Advance(2 * time.Minute)
	if a := post(t, hc, srv, whoami...); code(a) != 119 {
		t.Errorf("after the idle timeout: code %d, want 119", code(a))
	}

	if c := code(post(t, hc, srv, login("otto", "otto-pw")...)); c != 403 {
		t.Errorf("otto without code: %d, want 403", c)
	}
	if c := code(post(t, hc, srv, login("otto", "otto-pw", "otp_code", dsmtest.TOTP("JBSWY3DPEHPK3PXP", srv.Now()))...)); c != 0 {
		t.Errorf("otto with TOTP(Now()): %d, want success", c)
	}
	if c := code(post(t, hc, srv, login("enf", "enf-pw")...)); c != 406 {
		t.Errorf("enforced: %d, want 406", c)
	}
	if c := code(post(t, hc, srv, login("off", "off-pw")...)); c != 401 {
		t.Errorf("disabled: %d, want 401", c)
	}
	if srv.Logins() != 2 {
		t.Errorf("Logins() = %d, want 2", srv.Logins())
	}
	for range 2 {
		post(t, hc, srv, login("admin", "wrong")...)
	}
	if c := code(post(t, hc, srv, login("admin", "Adm1n!")...)); c != 407 {
		t.Errorf("after 2 failures: %d, want 407", c)
	}
	srv.Advance(time.Hour)
	if c := code(post(t, hc, srv, login("admin", "Adm1n!")...)); c != 0 {
		t.Errorf("after the block: %d, want success", c)
	}
}

func TestNewServerErrors(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]dsmtest.Option{
		"bad TOTP secret": dsmtest.WithUser(dsmtest.User{Name: "x", OTPSecret: "!!"}),
		"duplicate admin": dsmtest.WithUser(dsmtest.User{Name: "Admin"}),
		"unmodelled DSM":  dsmtest.WithDSMVersion("6.2"),
	} {
		if srv, err := dsmtest.NewServer(opt); err == nil {
			srv.Close()
			t.Errorf("%s: NewServer succeeded", name)
		}
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithTLS())
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") || srv.Certificate() == nil {
		t.Fatalf("URL() = %q, Certificate() = %v", srv.URL(), srv.Certificate())
	}
	if a := post(t, srv.HTTPClient(), srv, "api", "SYNO.API.Info", "version", "1", "method", "query", "query", "all"); !a.Success {
		t.Errorf("Info over TLS: %+v", a)
	}
	_, err := http.Get(srv.URL() + "/webapi/query.cgi")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("default client: err = %v, want x509.UnknownAuthorityError", err)
	}
	me, err := srv.Client().Auth.Whoami(t.Context())
	if err != nil || me.Account != "admin" {
		t.Errorf("Client over TLS: Whoami = %+v, %v", me, err)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	srv, err := dsmtest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	srv.Close()
	if _, err := http.Get(srv.URL() + "/webapi/query.cgi"); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	if srv.Handler() == nil {
		t.Fatal("Handler() = nil")
	}
}

// TestClientRelogin: the client of Client() logs in once, and exactly once
// more after its session expires, however many calls run at once.
func TestClientRelogin(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c := srv.Client()
	if _, err := c.Auth.Whoami(t.Context()); err != nil {
		t.Fatal(err)
	}
	if srv.Logins() != 1 {
		t.Fatalf("Logins() = %d after the first call, want 1", srv.Logins())
	}
	srv.Advance(16 * time.Minute)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Auth.Whoami(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if srv.Logins() != 2 {
		t.Errorf("Logins() = %d after expiry and 8 concurrent calls, want 2", srv.Logins())
	}
}

func TestTOTP(t *testing.T) {
	t.Parallel()
	// RFC 6238 SHA1 seed "12345678901234567890", t = 59 s.
	if got := dsmtest.TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", time.Unix(59, 0)); got != "287082" {
		t.Errorf("TOTP = %q, want 287082", got)
	}
	if got := dsmtest.TOTP("not base32!", time.Now()); got != "" {
		t.Errorf("TOTP of a bad secret = %q, want \"\"", got)
	}
}

func TestWithDSMVersion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		version   string
		inherited []string // what the client makes of the groups field
	}{
		{"7.2", []string{"users"}}, // {name, inherited} objects
		{"7.3", []string{"users"}},
		{"7.4", nil}, // names only
	} {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			srv := dsmtest.Start(t, dsmtest.WithDSMVersion(tt.version), dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1", Admin: true}))
			u, err := srv.Client().Users.Get(t.Context(), "alice", dsm.FieldGroups)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{"administrators", "users"}, u.Groups); d != "" {
				t.Errorf("groups (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.inherited, u.InheritedGroups); d != "" {
				t.Errorf("inherited groups (-want +got):\n%s", d)
			}
		})
	}
}
