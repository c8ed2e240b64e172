package dsm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// countingServer serves srv's handler behind a listener of its own and
// counts the requests of each "api method".
type countingServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls map[string]int
}

func newCountingServer(t *testing.T, srv *dsmtest.Server) *countingServer {
	t.Helper()
	cs := &countingServer{calls: map[string]int{}}
	h := srv.Handler()
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil {
			cs.mu.Lock()
			cs.calls[r.PostForm.Get("api")+" "+r.PostForm.Get("method")]++
			cs.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *countingServer) count(key string) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.calls[key]
}

// fastRetry retries at once: the waits are not what these tests look at.
var fastRetry = dsm.WithRetry(dsm.RetryPolicy{MaxAttempts: 4, MaxElapsed: time.Minute, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})

// A failure before the change's request was sent (here: the envelope key
// of the create, over plain http) is not ambiguous: the create is sent
// again, without the "did it happen" check, whose reads fail here.
func TestE2EFailureBeforeSendIsNotAmbiguous(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	cs := newCountingServer(t, srv)
	c := newAdminClient(t, cs.URL, srv, fastRetry)
	ctx := t.Context()
	if _, err := c.Auth.Whoami(ctx); err != nil { // log in first: the faults are for the create
		t.Fatal(err)
	}
	for _, spec := range []string{"SYNO.API.Encryption:getinfo:reset:times=1", "SYNO.Core.User:get:502:times=4"} {
		f, err := dsmtest.ParseFault(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "xavier", Password: "Correct-Horse-9"}); err != nil {
		t.Fatalf("create after a reset of its envelope key: %v", err)
	}
	if n := cs.count("SYNO.Core.User create"); n != 1 {
		t.Errorf("%d create requests, want 1", n)
	}
	if n := cs.count("SYNO.Core.User get"); n != 0 {
		t.Errorf("%d get requests: the failure before the create was sent was treated as ambiguous", n)
	}
}

// A transient failure while renewing an expired session is retried like
// any other: the call succeeds with one more login. For a change, the
// failed renewal is not ambiguous either (the change was refused with the
// session), so no "did it happen" check is made, whose reads fail here.
func TestE2ERenewalFailureIsRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults []string
		call   func(context.Context, *dsm.Client) error
		check  string // a request that must not be sent
	}{
		{"read", []string{"SYNO.Core.User:list:expire:times=1", "SYNO.API.Encryption:getinfo:reset:times=1"},
			func(ctx context.Context, c *dsm.Client) error {
				_, _, err := c.Users.List(ctx, dsm.ListOptions{})
				return err
			}, ""},
		{"change", []string{"SYNO.Core.Group:create:expire:times=1", "SYNO.API.Encryption:getinfo:reset:times=1", "SYNO.Core.Group:get:502:times=4"},
			func(ctx context.Context, c *dsm.Client) error {
				_, err := c.Groups.Create(ctx, dsm.GroupCreateRequest{Name: "ops"})
				return err
			}, "SYNO.Core.Group get"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := dsmtest.Start(t)
			cs := newCountingServer(t, srv)
			c := newAdminClient(t, cs.URL, srv, fastRetry)
			ctx := t.Context()
			if _, err := c.Auth.Whoami(ctx); err != nil {
				t.Fatal(err)
			}
			for _, spec := range tt.faults {
				f, err := dsmtest.ParseFault(spec)
				if err != nil {
					t.Fatal(err)
				}
				if err := srv.InjectFault(f); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.call(ctx, c); err != nil {
				t.Fatalf("call across an expiry whose renewal met a reset: %v", err)
			}
			if n := cs.count("SYNO.API.Auth login"); n != 2 {
				t.Errorf("%d logins, want 2 (the first and one renewal)", n)
			}
			if n := cs.count(tt.check); tt.check != "" && n != 0 {
				t.Errorf("%d %s requests: the failed renewal was treated as ambiguous", n, tt.check)
			}
		})
	}
}

func newAdminClient(t *testing.T, url string, srv *dsmtest.Server, opts ...dsm.Option) *dsm.Client {
	t.Helper()
	c, err := dsm.NewClient(url, append([]dsm.Option{dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
