package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
	"github.com/dsmkit/dsm/manifest"
)

// counter is an http.RoundTripper that counts the requests a client
// sends, and those of one API.
type counter struct {
	next  http.RoundTripper
	n     atomic.Int64
	mu    sync.Mutex
	byAPI map[string]int
}

func newCounter() *counter {
	return &counter{next: http.DefaultTransport.(*http.Transport).Clone(), byAPI: map[string]int{}}
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(body)
			body.Close()
			if form, err := url.ParseQuery(string(b)); err == nil {
				c.mu.Lock()
				c.byAPI[form.Get("api")]++
				c.mu.Unlock()
			}
		}
	}
	return c.next.RoundTrip(r)
}

// take returns the requests counted since the last take.
func (c *counter) take() int { return int(c.n.Swap(0)) }

// fullNAS is a simulator with DSM's maximum of 16,000 local users
// (admin, guest and 15,998 more), each with an email address and in a
// group besides users, answering every call after latency.
func fullNAS(b *testing.B, latency time.Duration) *dsmtest.Server {
	b.Helper()
	opts := []dsmtest.Option{dsmtest.WithLatency(latency), dsmtest.WithAutoBlock(0, 0, 0),
		dsmtest.WithGroup(dsmtest.Group{Name: "staff", Description: "Everyone"})}
	srv, err := dsmtest.NewServer(append(opts, fullNASUsers()...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv
}

// fullNASUsers are the 15,998 users of fullNAS.
func fullNASUsers() []dsmtest.Option {
	opts := make([]dsmtest.Option, 0, 16_000-2)
	for i := range 16_000 - 2 {
		opts = append(opts, dsmtest.WithUser(dsmtest.User{Name: fmt.Sprintf("user%05d", i), Password: "Seeded-pw-1",
			Description: fmt.Sprintf("User number %d", i), Email: fmt.Sprintf("user%05d@school.example", i), Groups: []string{"staff"}}))
	}
	return opts
}

// roundTripLatencies are the latencies the round trips are measured at:
// a NAS on the same host, and one across the internet.
var roundTripLatencies = []time.Duration{0, 20 * time.Millisecond}

// BenchmarkRoundTrips measures, at each of roundTripLatencies, side by
// side in one process, over plain http (the encryption envelope
// included), the requests and the time of: a login; a login and a list
// (of 10 users); a login with a saved API table (WithAPIInfo); a list in
// a saved session with a saved table; a create after the login, and the
// next one; creating
// 1,000 users with manifest apply, 8 in parallel (on a simulator with
// the built-in users only); and reading all users with email and groups
// (Users.All) of a simulator of 16,000 users against one bare POST of
// the same list (medians of listRuns interleaved runs). Run it once:
// -benchtime 1x.
func BenchmarkRoundTrips(b *testing.B) {
	for _, latency := range roundTripLatencies {
		b.Run(fmt.Sprintf("latency=%dms", latency.Milliseconds()), func(b *testing.B) {
			full := fullNAS(b, latency)
			srv, err := dsmtest.NewServer(dsmtest.WithLatency(latency), dsmtest.WithAutoBlock(0, 0, 0))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(srv.Close)
			cred := dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}
			ctx := context.Background()
			for b.Loop() {
				measure := func(name string, c *counter, f func() error) time.Duration {
					c.take()
					start := time.Now()
					if err := f(); err != nil {
						b.Fatalf("%s: %v", name, err)
					}
					d := time.Since(start)
					b.ReportMetric(float64(c.take()), "req-"+name)
					b.ReportMetric(float64(d.Microseconds())/1000, "ms-"+name)
					return d
				}
				clientOf := func(srv *dsmtest.Server, c *counter, opts ...dsm.Option) *dsm.Client {
					cl, err := dsm.NewClient(srv.URL(), append(opts, dsm.WithHTTPClient(&http.Client{Transport: c}))...)
					if err != nil {
						b.Fatal(err)
					}
					return cl
				}
				client := func(c *counter, opts ...dsm.Option) *dsm.Client { return clientOf(srv, c, opts...) }

				cnt := newCounter()
				c := client(cnt)
				measure("login", cnt, func() error { _, err := c.Auth.Login(ctx, cred); return err })

				table, _ := c.APITable()
				c = client(cnt, dsm.WithAPIInfo(table))
				measure("login-saved-table", cnt, func() error { _, err := c.Auth.Login(ctx, cred); return err })
				sess, _ := c.Auth.Session()
				c = client(cnt, dsm.WithAPIInfo(table), dsm.WithSession(sess))
				measure("saved-session-list", cnt, func() error {
					_, _, err := c.Users.List(ctx, dsm.ListOptions{Limit: 10})
					return err
				})
				c.Close()

				c = client(cnt)
				measure("login+list", cnt, func() error {
					if _, err := c.Auth.Login(ctx, cred); err != nil {
						return err
					}
					_, _, err := c.Users.List(ctx, dsm.ListOptions{Limit: 10})
					return err
				})
				measure("create", cnt, func() error {
					_, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: fmt.Sprintf("new%d", latency.Milliseconds()), Password: "Zq8!mLw3#Vx-9"})
					return err
				})
				measure("next-create", cnt, func() error {
					_, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: fmt.Sprintf("next%d", latency.Milliseconds()), Password: "Zq8!mLw3#Vx-9"})
					return err
				})

				c.Close()
				// Without the secure sign-in: the bare POST it is compared
				// with signs nothing.
				c = clientOf(full, cnt, dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: full.AdminPassword()}),
					dsm.WithSecureSignIn(dsm.SecureSignInOff))
				if _, err := c.Auth.Whoami(ctx); err != nil { // logged in before measuring
					b.Fatal(err)
				}
				// The whole list and one bare request of it, interleaved
				// listRuns times, each figure the median: the machine is
				// shared, and one run is at the mercy of the others.
				fields := []string{dsm.FieldEmail, dsm.FieldGroups}
				sess, _ = c.Auth.Session()
				var size int
				var alls, ones []time.Duration
				for range listRuns {
					n := 0
					cnt.take()
					start := time.Now()
					for _, err := range c.Users.All(ctx, dsm.ListOptions{Fields: fields}) {
						if err != nil {
							b.Fatal(err)
						}
						n++
					}
					alls = append(alls, time.Since(start))
					if n != 16_000 {
						b.Fatalf("All read %d users, want 16,000", n)
					}
					b.ReportMetric(float64(cnt.take()), "req-all-users")
					start = time.Now()
					var err error
					if size, err = bareList(&http.Client{Transport: cnt}, full.URL(), sess); err != nil {
						b.Fatal(err)
					}
					ones = append(ones, time.Since(start))
					b.ReportMetric(float64(cnt.take()), "req-one-list-request")
				}
				all, one := median(alls), median(ones)
				b.ReportMetric(float64(all.Microseconds())/1000, "ms-all-users")
				b.ReportMetric(float64(one.Microseconds())/1000, "ms-one-list-request")
				b.ReportMetric(all.Seconds()/one.Seconds(), "all/one-request")
				b.ReportMetric(float64(size)/(1<<20), "MiB-list-answer")
				c.Close()

				file := writeUsers(b, 1000, false)
				f, err := manifest.Load(file)
				if err != nil {
					b.Fatal(err)
				}
				c = client(cnt, dsm.WithCredentials(cred))
				plan, err := f.Plan(ctx, c, manifest.PlanOptions{})
				if err != nil {
					b.Fatal(err)
				}
				measure("create-1000", cnt, func() error {
					res, err := plan.Apply(ctx, c, manifest.ApplyOptions{Parallel: 8, RecordPassword: func(string, string) error { return nil }})
					if err == nil && !res.OK() {
						err = fmt.Errorf("%d failures", len(res.Failures))
					}
					return err
				})
				c.Close()
			}
		})
	}
}

// listRuns is how often the whole list is read, beside a bare request.
const listRuns = 5

// median returns the middle of ds.
func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// bareList is one POST of SYNO.Core.User list for every user with email
// and groups, its answer read and decoded with encoding/json into plain
// records, as bareGet does for one user: what a caller without the
// library does to read the list in one request. It returns the size of
// the answer.
func bareList(hc *http.Client, base string, sess dsm.Session) (int, error) {
	form := url.Values{
		"api": {"SYNO.Core.User"}, "version": {"1"}, "method": {"list"}, "type": {`"local"`},
		"offset": {"0"}, "limit": {"-1"}, "additional": {`["email","groups"]`}, "_sid": {sess.SID},
	}
	req, err := http.NewRequest(http.MethodPost, base+"/webapi/entry.cgi", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-SYNO-TOKEN", sess.SynoToken)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var env struct {
		Success bool `json:"success"`
		Data    struct {
			Users []struct {
				Name   string `json:"name"`
				Email  string `json:"email"`
				Groups []any  `json:"groups"`
			} `json:"users"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || !env.Success || len(env.Data.Users) == 0 {
		return 0, fmt.Errorf("bare list: %v: %.200s", err, body)
	}
	return len(body), nil
}

// TestWriteFullNASState writes, when $BENCH_STATE_DIR is set, the state
// of a simulator of 16,000 users (as fullNAS seeds them) to that
// directory, with the admin password $BENCH_ADMIN_PASSWORD, for run.sh
// to serve with dsmctl sim --data and measure dsmctl in its own process.
func TestWriteFullNASState(t *testing.T) {
	dir := os.Getenv("BENCH_STATE_DIR")
	if dir == "" {
		t.Skip("not a check: bench/run.sh runs it with BENCH_STATE_DIR set to write the 16,000-user state it then serves with dsmctl sim --data")
	}
	opts := []dsmtest.Option{dsmtest.WithDataDir(dir), dsmtest.WithAdminPassword(os.Getenv("BENCH_ADMIN_PASSWORD")),
		dsmtest.WithGroup(dsmtest.Group{Name: "staff", Description: "Everyone"})}
	opts = append(opts, fullNASUsers()...)
	srv, err := dsmtest.NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}
