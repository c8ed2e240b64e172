package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestGoldenUserGet holds dsmctl user get's table and JSON: the user's
// fields, then their shares (with where each right comes from), quotas,
// application rules and speed limits.
func TestGoldenUserGet(t *testing.T) {
	t.Parallel()
	e := goldenEnv(t)
	for _, args := range [][]string{
		{"share", "grant", "finance", "--group", "staff", "ro"},
		{"share", "grant", "public", "--user", "alice", "deny"},
		{"quota", "set", "--user", "alice", "public=20GiB", "/volume2=1536MiB"},
		{"app", "deny", "ftp", "--user", "alice"},
		{"app", "allow", "sftp", "--user", "alice", "--from", "10.0.0.0/8"},
		{"speed", "set", "FTP", "--user", "alice", "--upload", "1024", "--download", "2048"},
	} {
		e.mustRun(t, args...)
	}
	goldenRun(t, e, "user_get", "user", "get", "alice")
	goldenRun(t, e, "user_get_json", "user", "get", "alice", "-o", "json")
	// A user with nothing of their own says so in each part.
	goldenRun(t, e, "user_get_bare", "user", "get", "dave")
}

// requestLog records each HTTP request of a client as the calls it
// makes: its api and method, or those of each call of a compound
// request.
type requestLog struct {
	next http.RoundTripper

	mu       sync.Mutex
	requests [][]string
}

func (rl *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(body)
			body.Close()
			if form, err := url.ParseQuery(string(b)); err == nil && form.Get("api") != "" {
				calls := []string{form.Get("api") + " " + form.Get("method")}
				var sub []struct{ API, Method string }
				if json.Unmarshal([]byte(form.Get("compound")), &sub) == nil {
					for _, c := range sub {
						calls = append(calls, c.API+" "+c.Method)
					}
				}
				rl.mu.Lock()
				rl.requests = append(rl.requests, calls)
				rl.mu.Unlock()
			}
		}
	}
	return rl.next.RoundTrip(r)
}

// since returns the requests after the first n.
func (rl *requestLog) since(n int) [][]string {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return slices.Clone(rl.requests[n:])
}

// The profile of user get is one request: the user, their shares,
// quotas, rules and limits in one compound request. Their groups' rows,
// to say where a right comes from, are a second (compound too).
func TestUserGetRequests(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t,
		dsmtest.WithGroup(dsmtest.Group{Name: "staff"}),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: alicePassword, Groups: []string{"staff"}}))
	rl := &requestLog{next: srv.HTTPClient().Transport}
	c, err := dsm.NewClient(srv.URL(), dsm.WithHTTPClient(&http.Client{Transport: rl}),
		dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, _, err := readUserProfile(ctx, c, "admin"); err != nil { // logs in and discovers
		t.Fatal(err)
	}
	n := len(rl.since(0))
	if _, _, err := readUserProfile(ctx, c, "alice"); err != nil {
		t.Fatal(err)
	}
	got := rl.since(n)
	want := [][]string{
		{"SYNO.Entry.Request request", "SYNO.Core.User get", "SYNO.Core.Share.Permission list_by_user", "SYNO.Core.Quota get", "SYNO.Core.AppPriv.Rule get", "SYNO.Core.BandwidthControl get"},
		{"SYNO.Entry.Request request", "SYNO.Core.Share.Permission list_by_group", "SYNO.Core.Share.Permission list_by_group"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests of user get (-want +got):\n%s", d)
	}
}
