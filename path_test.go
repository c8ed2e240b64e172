package dsm

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// silentListener accepts connections and never answers: a NAS that hangs.
func silentListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln
}

// A NAS that accepts the connection and never answers does not hang a
// call: each bound that can run out names the call, the host and itself.
func TestTimeoutsNameCallHostAndBound(t *testing.T) {
	t.Parallel()
	short := Timeouts{Connect: time.Second, TLSHandshake: 50 * time.Millisecond, ResponseHeader: 50 * time.Millisecond, IdleConn: time.Second}
	long := Timeouts{Connect: time.Minute, TLSHandshake: time.Minute, ResponseHeader: time.Minute, IdleConn: time.Minute}
	tests := []struct {
		name, scheme string
		opts         []Option
		call, bound  string // the request that ran out (discovery comes first), the bound
	}{
		{"response header", "http", []Option{WithTimeouts(short)}, "SYNO.API.Info query", "the response header timeout of 50ms"},
		{"TLS handshake", "https", []Option{WithTimeouts(short)}, "SYNO.API.Info query", "the TLS handshake timeout of 50ms"},
		{"whole call", "http", []Option{WithTimeouts(long), WithTimeout(80 * time.Millisecond)}, "SYNO.Core.User list", "the call timeout of 80ms (WithTimeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln := silentListener(t)
			c, err := NewClient(tt.scheme+"://"+ln.Addr().String(), append([]Option{WithRetry(NoRetry), WithSession(Session{SID: "s"})}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil)
			var te *TimeoutError
			if !errors.As(err, &te) {
				t.Fatalf("error %v (%T), want a *TimeoutError", err, err)
			}
			api, method, _ := strings.Cut(tt.call, " ")
			want := &TimeoutError{API: api, Method: method, Host: ln.Addr().String(), Bound: tt.bound}
			if d := cmp.Diff(want, te, cmpIgnoreErr); d != "" {
				t.Errorf("timeout error (-want +got):\n%s", d)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Error("a *TimeoutError does not match context.DeadlineExceeded")
			}
			for _, s := range []string{tt.call, ln.Addr().String(), tt.bound} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not name %q", err, s)
				}
			}
		})
	}
}

var cmpIgnoreErr = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Err" }, cmp.Ignore())

// A client made without options is bounded: every stage of the transport
// and the call as a whole.
func TestDefaultsBoundEveryCall(t *testing.T) {
	c, err := NewClient("nas")
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != DefaultCallTimeout || c.timeout <= 0 {
		t.Errorf("call timeout %v, want %v", c.timeout, DefaultCallTimeout)
	}
	tr := c.hc.Transport.(*http.Transport)
	if tr.TLSHandshakeTimeout != DefaultTimeouts.TLSHandshake || tr.ResponseHeaderTimeout != DefaultTimeouts.ResponseHeader ||
		tr.IdleConnTimeout != DefaultTimeouts.IdleConn || tr.DialContext == nil {
		t.Errorf("transport timeouts: TLS %v, header %v, idle %v", tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tr.IdleConnTimeout)
	}
	for _, tm := range []Timeouts{{}, {Connect: time.Second, TLSHandshake: time.Second, ResponseHeader: -1, IdleConn: time.Second}} {
		if _, err := NewClient("nas", WithTimeouts(tm)); err == nil {
			t.Errorf("WithTimeouts(%+v) accepted", tm)
		}
	}
}

// Close releases the client's idle connections.
func TestCloseReleasesIdleConnections(t *testing.T) {
	closed := make(chan struct{}, 8)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"success":true,"data":{}}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.APIs(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a bound on the failure only
		t.Fatal("the idle connection is still open after Close")
	}
}

// WaitProgress reports every status, waits on the client's clock with a
// growing interval, and Wait is the same without the callback.
func TestWaitProgressUsesClientClock(t *testing.T) {
	var polls int
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		switch form.Get("api") + " " + form.Get("method") {
		case "SYNO.Core.User.Group join_status":
			polls++
			return ok(map[string]any{"finish": polls >= 3, "success": true, "data": map[string]any{"progress": polls - 1, "total": 2}})
		case "SYNO.Core.User get":
			return ok(map[string]any{"users": []any{map[string]any{"name": "bob", "groups": []string{"users", "staff"}}}})
		}
		return fail(103)
	})
	c := f.client(t, WithSession(Session{SID: "s"}))
	waits := fakeClock(c)
	task, err := c.Users.GroupTask("@administrators/groupbatch1", "bob", []string{"staff"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []TaskStatus
	st, err := task.WaitProgress(t.Context(), func(st TaskStatus) { seen = append(seen, st) })
	if err != nil {
		t.Fatal(err)
	}
	want := []TaskStatus{{Success: true, Progress: 0, Total: 2}, {Success: true, Progress: 1, Total: 2}, {Finished: true, Success: true, Progress: 2, Total: 2}}
	if d := cmp.Diff(want, seen); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	if st != want[2] {
		t.Errorf("final status %+v", st)
	}
	if d := cmp.Diff([]time.Duration{taskPollStart, 2 * taskPollStart}, *waits); d != "" {
		t.Errorf("waits on the client's clock (-want +got):\n%s", d)
	}
}

// The client's clock decides what "today" and "now" are: an expiry date
// in the past of the injected clock is refused, and a confirmation token
// expires 300 s after the injected now.
func TestClockIsInjected(t *testing.T) {
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		if form.Get("api") == "SYNO.Core.User.PasswordConfirm" {
			return ok(map[string]any{"SynoConfirmPWToken": "tok"})
		}
		return fail(103)
	})
	f.info["SYNO.Core.User.PasswordConfirm"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 2, RequestFormat: "JSON"}
	c := f.client(t, WithSession(Session{SID: "s"}))
	now := time.Date(2040, 6, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	_, err := c.Users.Create(t.Context(), UserCreateRequest{Name: "bob", Password: "pw", Expiry: ExpiresOn(Date{2039, 12, 31})})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "in the past") {
		t.Errorf("an expiry before the client's today: %v", err)
	}
	tok, err := c.Auth.ConfirmPassword(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Expires.Equal(now.Add(ConfirmTokenLifetime)) {
		t.Errorf("token expires %v, want %v", tok.Expires, now.Add(ConfirmTokenLifetime))
	}
}

var retrySeed = flag.Uint64("retry.seed", 20261201, "first seed of the retry jitter in TestRetryBoundedInTime")

// The retry policy's time bound holds whatever the jitter draws: 200
// seeds from -retry.seed, each replayable, through the retry loop, and
// the first of them through a whole call.
func TestRetryBoundedInTime(t *testing.T) {
	const maxElapsed = 3 * time.Second
	policy := WithRetry(RetryPolicy{MaxAttempts: 10, MaxElapsed: maxElapsed, InitialBackoff: time.Second, MaxBackoff: time.Second})
	check := func(seed uint64, n int, waits []time.Duration) {
		t.Helper()
		// Waits of 0.5-1 s within 3 s: at least 3 waits fit, at most 6.
		if n < 4 || n > 7 || n != len(waits)+1 {
			t.Errorf("seed %d (replay: -retry.seed=%d): %d attempts after waits %v", seed, seed, n, waits)
		}
		var sum time.Duration
		for _, w := range waits {
			if w < 500*time.Millisecond || w > time.Second {
				t.Errorf("seed %d (replay: -retry.seed=%d): wait %v outside 0.5-1 s", seed, seed, w)
			}
			sum += w
		}
		if sum > maxElapsed {
			t.Errorf("seed %d (replay: -retry.seed=%d): last attempt %v after the first, beyond %v", seed, seed, sum, maxElapsed)
		}
	}
	for seed := *retrySeed; seed < *retrySeed+200; seed++ {
		c, err := NewClient("nas", policy, WithJitterSource(rand.NewPCG(seed, seed)))
		if err != nil {
			t.Fatal(err)
		}
		waits := fakeClock(c)
		n := 0
		err = c.withRetry(t.Context(), newRead("SYNO.Core.User", "list", nil, nil), func() error {
			n++
			return &APIError{Code: 117, API: "SYNO.Core.User", Method: "list"}
		})
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("seed %d: %v", seed, err)
		}
		check(seed, n, *waits)
	}

	seed := *retrySeed
	f := newFlakyDSM(t)
	f.faults["SYNO.Core.User list"] = slices.Repeat([]string{"busy"}, 9)
	c := f.client(t, WithSession(Session{SID: "s"}), WithJitterSource(rand.NewPCG(seed, seed)), policy)
	waits := fakeClock(c)
	if _, _, err := c.Users.List(t.Context(), ListOptions{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("seed %d: %v", seed, err)
	}
	check(seed, f.count("SYNO.Core.User list"), *waits)
}

// A session refused again right after its renewal is DSM refusing the
// call without doing it: the next attempt goes on, instead of failing
// the call with 119.
func TestExpiryRightAfterRenewalIsRetried(t *testing.T) {
	var lists, logins int
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		switch form.Get("api") + " " + form.Get("method") {
		case "SYNO.API.Auth login":
			logins++
			return ok(map[string]any{"sid": fmt.Sprint("sid", logins), "synotoken": "tok"})
		case "SYNO.Core.User list":
			lists++
			if lists <= 2 {
				return fail(119)
			}
			return ok(map[string]any{"total": 0})
		}
		return fail(103)
	})
	c := f.client(t, WithCredentials(Credentials{Account: "admin", Password: "pw"}))
	if _, _, err := c.Users.List(t.Context(), ListOptions{}); err != nil {
		t.Fatalf("list after two expiries in a row: %v", err)
	}
	if lists != 3 || logins != 2 {
		t.Errorf("%d lists and %d logins, want 3 and 2", lists, logins)
	}
}

// fakeClock gives c a clock that moves only when c waits, and returns the
// waits it records.
func fakeClock(c *Client) *[]time.Duration {
	clock := time.Unix(1_800_000_000, 0)
	var waits []time.Duration
	c.now = func() time.Time { return clock }
	c.sleepUntil = func(_ context.Context, t time.Time) error {
		waits = append(waits, t.Sub(clock))
		clock = t
		return nil
	}
	return &waits
}
