package dsm

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// flakyDSM answers each (api method) from a script of faults, then
// normally; it keeps a tiny user table so creates can be checked.
type flakyDSM struct {
	*fakeDSM
	mu     sync.Mutex
	faults map[string][]string // "api method" -> faults to play in order: "busy", "502", "reset", "reset-after"
	calls  map[string]int
	users  map[string]bool
}

func newFlakyDSM(t *testing.T) *flakyDSM {
	f := &flakyDSM{faults: map[string][]string{}, calls: map[string]int{}, users: map[string]bool{}}
	f.fakeDSM = newFakeDSM(t, nil)
	f.fakeDSM.srv.Config.Handler = http.HandlerFunc(f.serveFlaky)
	return f
}

func (f *flakyDSM) serveFlaky(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.underBase(w, r); !ok {
		return
	}
	r.ParseForm()
	key := r.Form.Get("api") + " " + r.Form.Get("method")
	f.mu.Lock()
	f.calls[key]++
	var fault string
	if q := f.faults[key]; len(q) > 0 {
		fault, f.faults[key] = q[0], q[1:]
	}
	f.mu.Unlock()
	hijack := func() {
		conn, _, _ := w.(http.Hijacker).Hijack()
		if tc, ok := conn.(*tls.Conn); ok {
			conn = tc.NetConn()
		}
		conn.(*net.TCPConn).SetLinger(0) // a reset, not a clean close
		conn.Close()
	}
	switch fault {
	case "busy":
		w.Write([]byte(`{"success":false,"error":{"code":117}}`))
		return
	case "502":
		w.WriteHeader(502)
		w.Write([]byte("<html>Bad Gateway</html>"))
		return
	case "reset":
		hijack()
		return
	}
	f.fakeDSM.handle = func(r *http.Request, form url.Values) any {
		f.mu.Lock()
		defer f.mu.Unlock()
		name := strings.Trim(form.Get("name"), `"`)
		switch key {
		case "SYNO.Core.User create":
			if f.users[name] {
				return fail(3107)
			}
			f.users[name] = true
			return ok(map[string]any{"name": name, "uid": 1030})
		case "SYNO.Core.User get":
			if !f.users[name] {
				return fail(3106)
			}
			return ok(map[string]any{"users": []any{map[string]any{"name": name, "uid": 1030, "description": "", "email": ""}}})
		}
		return ok(map[string]any{"total": 0})
	}
	if fault == "reset-after" {
		// Do the work, then drop the connection before answering.
		f.fakeDSM.serve(httptestDiscard{}, r)
		hijack()
		return
	}
	f.fakeDSM.serve(w, r)
}

// httptestDiscard is a ResponseWriter that throws the answer away.
type httptestDiscard struct{}

func (httptestDiscard) Header() http.Header         { return http.Header{} }
func (httptestDiscard) Write(b []byte) (int, error) { return len(b), nil }
func (httptestDiscard) WriteHeader(int)             {}

func (f *flakyDSM) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func TestRetryReads(t *testing.T) {
	for _, faults := range [][]string{{"busy", "busy"}, {"502"}, {"reset", "502", "busy"}} {
		t.Run(strings.Join(faults, ","), func(t *testing.T) {
			f := newFlakyDSM(t)
			f.faults["SYNO.Core.User list"] = faults
			c := f.client(t, WithSession(Session{SID: "s"}))
			if _, _, err := c.Users.List(t.Context(), ListOptions{}); err != nil {
				t.Fatalf("list through %v: %v", faults, err)
			}
			if n := f.count("SYNO.Core.User list"); n != len(faults)+1 {
				t.Errorf("%d attempts, want %d", n, len(faults)+1)
			}
		})
	}
}

func TestRetryGivesUp(t *testing.T) {
	f := newFlakyDSM(t)
	f.faults["SYNO.Core.User list"] = []string{"busy", "busy", "busy", "busy", "busy"}
	c := f.client(t, WithSession(Session{SID: "s"}), WithRetry(RetryPolicy{MaxAttempts: 3, MaxElapsed: time.Minute, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	_, _, err := c.Users.List(t.Context(), ListOptions{})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("error %v, want ErrBusy", err)
	}
	if n := f.count("SYNO.Core.User list"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	// Errors that are not about the network or load are not retried.
	f2 := newFakeDSM(t, func(r *http.Request, form url.Values) any { return fail(3106) })
	c2 := f2.client(t, WithSession(Session{SID: "s"}))
	if _, err := c2.Users.Get(t.Context(), "bob"); !errors.Is(err, ErrNoSuchUser) {
		t.Fatal(err)
	}
	var n int
	for _, r := range f2.requests {
		if r.form.Get("api") == "SYNO.Core.User" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d requests for a 3106, want 1", n)
	}
}

func TestRetryCreateChecksBeforeRepeating(t *testing.T) {
	tests := []struct {
		name        string
		fault       string
		wantCreates int
	}{
		{"busy: repeated", "busy", 2},
		{"lost answer, applied: not repeated", "reset-after", 1},
		{"502 before DSM: checked, then repeated", "502", 2},
		{"reset before DSM: checked, then repeated", "reset", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlakyDSM(t)
			f.faults["SYNO.Core.User create"] = []string{tt.fault}
			var buf bytes.Buffer
			c := f.client(t, WithSession(Session{SID: "s"}), WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			got, err := c.Users.Create(t.Context(), UserCreateRequest{Name: "bob", Password: "Secret-pw-1"})
			if err != nil {
				t.Fatalf("create through %s: %v", tt.fault, err)
			}
			if got.Name != "bob" || got.UID != 1030 {
				t.Errorf("created %+v", got)
			}
			if n := f.count("SYNO.Core.User create"); n != tt.wantCreates {
				t.Errorf("%d create requests, want %d", n, tt.wantCreates)
			}
			if !strings.Contains(buf.String(), "dsm retry") {
				t.Errorf("no retry at debug level:\n%s", buf.String())
			}
			if strings.Contains(buf.String(), "Secret-pw-1") {
				t.Error("the password is in the log")
			}
		})
	}
}

func TestCallDoesNotRepeatChangesBlindly(t *testing.T) {
	f := newFlakyDSM(t)
	f.faults["SYNO.Core.User create"] = []string{"reset-after"}
	c := f.client(t, WithSession(Session{SID: "s"}))
	err := c.Call(t.Context(), "SYNO.Core.User", "create", Params{"name": "bob", "password": "x"}, nil)
	if err == nil {
		t.Fatal("an ambiguous failure of a create through Call succeeded")
	}
	if n := f.count("SYNO.Core.User create"); n != 1 {
		t.Errorf("%d create requests, want 1: Call must not repeat a change it cannot check", n)
	}
	// But a busy refusal is repeated: nothing was done.
	f.faults["SYNO.Core.User create"] = []string{"busy"}
	if err := c.Call(t.Context(), "SYNO.Core.User", "create", Params{"name": "carol", "password": "x"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRetryConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := NewClient("http://"+addr, WithSession(Session{SID: "s"}), WithRetry(RetryPolicy{MaxAttempts: 3, MaxElapsed: time.Minute, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	var waits int
	c.sleepUntil = func(ctx context.Context, _ time.Time) error { waits++; return nil }
	if err := c.Call(t.Context(), "SYNO.Core.User", "create", nil, nil); err == nil {
		t.Fatal("no error")
	}
	if waits != 2 {
		t.Errorf("%d waits, want 2 (3 attempts): a refused connection is safe to retry, even for a change", waits)
	}
}

func TestWithRetryValidates(t *testing.T) {
	for _, p := range []RetryPolicy{{}, {MaxAttempts: 3}, {MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Millisecond, MaxElapsed: time.Second}} {
		if _, err := NewClient("nas", WithRetry(p)); err == nil {
			t.Errorf("policy %+v accepted", p)
		}
	}
	if _, err := NewClient("nas", WithRetry(NoRetry)); err != nil {
		t.Errorf("NoRetry: %v", err)
	}
}

// A certificate that is not trusted is not a flaky network: no retry.
func TestRetryNotOnCertificateErrors(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any { return ok(nil) })
	for name, opt := range map[string]Option{
		"pinned other": WithCertificateFingerprint(strings.Repeat("ab", 32)),
		"system roots": WithUserAgent("x"),
	} {
		c, err := NewClient(f.url(), opt, WithSession(Session{SID: "s"}))
		if err != nil {
			t.Fatal(err)
		}
		var waits int
		c.sleepUntil = func(ctx context.Context, _ time.Time) error { waits++; return nil }
		err = c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil)
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		var ce *CertificateError
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &ce) && !errors.As(err, &ve) {
			t.Errorf("%s: %v is not a certificate error", name, err)
		}
		if classify(err) != notRetryable || waits != 0 {
			t.Errorf("%s: %v classified %d, %d retries", name, err, classify(err), waits)
		}
	}
}

func TestRetryNotOnUnknownHost(t *testing.T) {
	// A dialer that answers as a resolver does for a name that does not
	// exist, so the test needs no DNS.
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "nas.invalid", IsNotFound: true}}
	}}
	c, err := NewClient("https://nas.invalid:5001", WithSession(Session{SID: "s"}), WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	var waits int
	c.sleepUntil = func(ctx context.Context, _ time.Time) error { waits++; return nil }
	err = c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil)
	var de *net.DNSError
	if !errors.As(err, &de) {
		t.Fatalf("error %v, want a DNS error", err)
	}
	if waits != 0 {
		t.Errorf("%d retries for a host that does not exist", waits)
	}
}
