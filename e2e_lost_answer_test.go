package dsm_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// These tests lose the answer to a change on the simulator and check what
// the client concludes about it.

// callCounter is an http.RoundTripper that counts the calls a client
// sends, by "API method".
type callCounter struct {
	next http.RoundTripper

	mu    sync.Mutex
	calls map[string]int
}

func (cc *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(body)
			body.Close()
			if form, err := url.ParseQuery(string(b)); err == nil {
				cc.mu.Lock()
				cc.calls[form.Get("api")+" "+form.Get("method")]++
				cc.mu.Unlock()
			}
		}
	}
	return cc.next.RoundTrip(r)
}

func (cc *callCounter) count(call string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.calls[call]
}

// countingClient returns a client of srv logged in as admin that retries
// without waiting long, and the counter of the calls it sends.
func countingClient(t *testing.T, srv *dsmtest.Server) (*dsm.Client, *callCounter) {
	t.Helper()
	cc := &callCounter{next: srv.HTTPClient().Transport, calls: map[string]int{}}
	c := newClient(t, srv,
		dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}),
		dsm.WithHTTPClient(&http.Client{Transport: cc}),
		dsm.WithRetry(dsm.RetryPolicy{MaxAttempts: 4, MaxElapsed: time.Minute, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	return c, cc
}

// fired returns how often the simulator's faults fired, in order.
func fired(srv *dsmtest.Server) []int {
	var n []int
	for _, st := range srv.Faults() {
		n = append(n, st.Fired)
	}
	return n
}

// After a lost create answer the client looks the name up. A user of that
// name whose description or email differs from the request was there
// before: it is not taken as the one created, and the create, repeated,
// fails as DSM refuses it.
func TestE2ECreateLostAnswerComparesDescriptionAndEmail(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		existing dsmtest.User
	}{
		{"other email", dsmtest.User{Name: "lee", Password: "Older-Passw0rd!", Description: "Lee", Email: "lee@old.example.com"}},
		{"other description", dsmtest.User{Name: "lee", Password: "Older-Passw0rd!", Description: "Another Lee", Email: "lee@example.com"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := dsmtest.Start(t, dsmtest.WithUser(tt.existing),
				dsmtest.WithFault(dsmtest.Fault{API: "SYNO.Core.User", Method: "create", Kind: dsmtest.FaultResetAfter, Times: 1}))
			c, calls := countingClient(t, srv)
			ctx := t.Context()
			before, err := c.Users.Get(ctx, "lee")
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "lee", Password: "Strong-Passw0rd!", Description: "Lee", Email: "lee@example.com"})
			if !errors.Is(err, dsm.ErrNameTaken) {
				t.Errorf("Create = %+v, %v; want ErrNameTaken: the lee found after the lost answer is not the one asked for", got, err)
			}
			if n := calls.count("SYNO.Core.User create"); n != 2 {
				t.Errorf("%d create requests, want 2 (the lost one, and the repeat after the check)", n)
			}
			if d := cmp.Diff([]int{1}, fired(srv)); d != "" {
				t.Errorf("faults fired (-want +got):\n%s", d)
			}
			after, err := c.Users.Get(ctx, "lee")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(before, after); d != "" {
				t.Errorf("the existing lee changed (-before +after):\n%s", d)
			}
		})
	}
}

// After an ambiguous failure of a rename the client looks up the new
// name. A user already under that name with another uid is someone else:
// the rename did not happen, and repeated it fails as DSM refuses it.
func TestE2ERenameLostAnswerComparesUID(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "kim", Password: "Kim-Passw0rd!"}),
		dsmtest.WithUser(dsmtest.User{Name: "lee", Password: "Lee-Passw0rd!"}),
		dsmtest.WithFault(dsmtest.Fault{API: "SYNO.Core.User", Method: "set", Kind: dsmtest.FaultReset, Times: 1}))
	c, calls := countingClient(t, srv)
	ctx := t.Context()
	kim, err := c.Users.Get(ctx, "kim")
	if err != nil {
		t.Fatal(err)
	}
	lee, err := c.Users.Get(ctx, "lee")
	if err != nil {
		t.Fatal(err)
	}
	if kim.UID == lee.UID {
		t.Fatalf("kim and lee share uid %d", kim.UID)
	}
	got, err := c.Users.Update(ctx, "kim", dsm.UserUpdateRequest{NewName: dsm.Ptr("lee")})
	if !errors.Is(err, dsm.ErrNameTaken) {
		t.Errorf("Update = %+v, %v; want ErrNameTaken: lee has uid %d, kim %d, so the rename did not happen", got, err, lee.UID, kim.UID)
	}
	if n := calls.count("SYNO.Core.User set"); n != 2 {
		t.Errorf("%d set requests, want 2 (the lost one, and the repeat after the check)", n)
	}
	if d := cmp.Diff([]int{1}, fired(srv)); d != "" {
		t.Errorf("faults fired (-want +got):\n%s", d)
	}
	for _, want := range []dsm.User{kim, lee} {
		u, err := c.Users.Get(ctx, want.Name)
		if err != nil {
			t.Errorf("Get %s: %v", want.Name, err)
			continue
		}
		if d := cmp.Diff(want, u); d != "" {
			t.Errorf("user %s changed (-before +after):\n%s", want.Name, d)
		}
	}
}

// A delete whose request is lost before DSM does it is checked: the user
// is still there, so the delete is sent again, and succeeds.
func TestE2EDeleteLostBeforeWorkIsRepeated(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithUser(dsmtest.User{Name: "lee", Password: "Lee-Passw0rd!"}),
		dsmtest.WithFault(dsmtest.Fault{API: "SYNO.Core.User", Method: "delete", Kind: dsmtest.FaultReset, Times: 1}))
	c, calls := countingClient(t, srv)
	ctx := t.Context()
	if err := c.Users.Delete(ctx, "lee"); err != nil {
		t.Fatalf("Delete through a reset before the work: %v", err)
	}
	if n := calls.count("SYNO.Core.User delete"); n != 2 {
		t.Errorf("%d delete requests, want 2 (the lost one, and the repeat after the check)", n)
	}
	if n := calls.count("SYNO.Core.User get"); n != 1 {
		t.Errorf("%d get requests, want 1 (the check)", n)
	}
	if d := cmp.Diff([]int{1}, fired(srv)); d != "" {
		t.Errorf("faults fired (-want +got):\n%s", d)
	}
	if _, err := c.Users.Get(ctx, "lee"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("Get after Delete: %v, want ErrNoSuchUser", err)
	}
}
