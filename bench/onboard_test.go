package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
	"github.com/google/go-cmp/cmp"
)

// What one onboarding sets for each user: onboardShares rights, one
// quota and onboardApps rules, eight changes in all. The values depend
// on the user's number, so that a change applied to the wrong user, or
// not at all, shows in the read-back.
var (
	onboardShares = []string{"projects", "finance", "hr", "archive", "media"}
	onboardApps   = []string{"SYNO.FTP", "SYNO.SFTP"}
)

// onboardVolume keeps its quotas per volume in the simulator (ext4), so
// that a user has one quota there.
const onboardVolume = "/volume2"

// onboardWorkers is how many users are onboarded at a time, on each side.
const onboardWorkers = 8

// onboardSample is how many users of each side are read back.
const onboardSample = 50

// onboardRights are the rights onboarding gives, in turn.
var onboardRights = []dsm.Right{dsm.RightReadWrite, dsm.RightReadOnly, dsm.RightDeny}

// onboarding is what user i is given.
type onboarding struct {
	Rights []dsm.RightChange
	Quota  dsm.Quota
	Rules  []dsm.AppRule
}

func onboardingOf(i int) onboarding {
	var o onboarding
	for k, sh := range onboardShares {
		o.Rights = append(o.Rights, dsm.RightChange{Share: sh, Right: onboardRights[(i+k)%len(onboardRights)]})
	}
	o.Quota = dsm.Quota{Volume: onboardVolume, Limit: dsm.Bytes(1+i%50) * dsm.GiB}
	o.Rules = []dsm.AppRule{
		{App: onboardApps[0], Allow: []string{fmt.Sprintf("10.%d.%d.0/24", i/256%256, i%256)}},
		{App: onboardApps[1], Deny: []string{dsm.AllAddresses}},
	}
	return o
}

// onboardOneCallEach makes the eight changes of user name one call at a
// time, through the library's services: eight requests.
func onboardOneCallEach(ctx context.Context, c *dsm.Client, name string, o onboarding) error {
	p := dsm.UserPrincipal(name)
	for _, ch := range o.Rights {
		if err := c.Permissions.SetFor(ctx, p, []dsm.RightChange{ch}); err != nil {
			return err
		}
	}
	if err := c.Quotas.Set(ctx, p, o.Quota); err != nil {
		return err
	}
	for _, r := range o.Rules {
		if err := c.Apps.SetRules(ctx, p, r); err != nil {
			return err
		}
	}
	return nil
}

// onboardBatched makes the same changes in one compound request with
// Users.SetProfile, as dsmctl apply does and as DSM's own user dialog
// applies its tabs together: the five rights in one
// SYNO.Core.Share.Permission set_by_user_group, the quota, the two rules
// in one SYNO.Core.AppPriv.Rule set, in one SYNO.Entry.Request.
func onboardBatched(ctx context.Context, c *dsm.Client, name string, o onboarding) error {
	return c.Users.SetProfile(ctx, dsm.UserPrincipal(name), dsm.ProfileChange{
		Rights: o.Rights, Quotas: []dsm.Quota{o.Quota}, Apps: o.Rules})
}

// onboardSide is one way of onboarding users: its name, the prefix of
// its users and how it applies one.
type onboardSide struct {
	name, prefix string
	apply        func(ctx context.Context, c *dsm.Client, name string, o onboarding) error
}

var onboardSides = []onboardSide{
	{"batched", "batch", onboardBatched},
	{"one-call-each", "single", onboardOneCallEach},
}

// onboardUser is the name of user i of a side.
func onboardUser(prefix string, i int) string { return fmt.Sprintf("%s%05d", prefix, i) }

// onboardNAS is one simulator answering each request after latency, with
// the shares of onboardShares (no rights on them) and n users for each
// side, none of them with a right, quota or rule yet.
func onboardNAS(tb testing.TB, n int, latency time.Duration) *dsmtest.Server {
	tb.Helper()
	var shares []dsmtest.Share
	for _, sh := range onboardShares {
		shares = append(shares, dsmtest.Share{Name: sh, Volume: "/volume1"})
	}
	opts := []dsmtest.Option{dsmtest.WithLatency(latency), dsmtest.WithAutoBlock(0, 0, 0), dsmtest.WithShares(shares...)}
	for _, side := range onboardSides {
		for i := range n {
			opts = append(opts, dsmtest.WithUser(dsmtest.User{Name: onboardUser(side.prefix, i), Password: "Seeded-pw-1"}))
		}
	}
	srv, err := dsmtest.NewServer(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Close)
	return srv
}

// onboardResult is what one side took.
type onboardResult struct {
	requests, compound int
	elapsed            time.Duration
}

// runOnboard onboards n users of side on srv, onboardWorkers at a time,
// with a client of its own that is logged in before the clock starts,
// and counts the requests it sends.
func runOnboard(tb testing.TB, srv *dsmtest.Server, side onboardSide, n int) onboardResult {
	tb.Helper()
	cnt := newCounter()
	cnt.next.(*http.Transport).MaxIdleConnsPerHost = onboardWorkers
	c, err := dsm.NewClient(srv.URL(), dsm.WithHTTPClient(&http.Client{Transport: cnt}),
		dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Auth.Whoami(ctx); err != nil {
		tb.Fatal(err)
	}
	cnt.take()
	cnt.mu.Lock()
	clear(cnt.byAPI)
	cnt.mu.Unlock()
	next := make(chan int)
	errs := make([]error, onboardWorkers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range onboardWorkers {
		wg.Go(func() {
			for i := range next {
				if errs[w] != nil {
					continue
				}
				name := onboardUser(side.prefix, i)
				if err := side.apply(ctx, c, name, onboardingOf(i)); err != nil {
					errs[w] = fmt.Errorf("%s: %w", name, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("%s: %v", side.name, err)
	}
	cnt.mu.Lock()
	compound := cnt.byAPI["SYNO.Entry.Request"]
	cnt.mu.Unlock()
	return onboardResult{requests: cnt.take(), compound: compound, elapsed: elapsed}
}

// onboardState is what the NAS holds of one user's onboarding, read
// through the library's reads.
type onboardState struct {
	Rights map[string]dsm.Right
	Quotas []dsm.Quota
	Rules  []dsm.AppRule
}

func readOnboarding(ctx context.Context, c *dsm.Client, name string) (onboardState, error) {
	p := dsm.UserPrincipal(name)
	st := onboardState{Rights: map[string]dsm.Right{}}
	perms, err := c.Permissions.ListUser(ctx, name)
	if err != nil {
		return st, err
	}
	for _, pm := range perms {
		if pm.Right != dsm.RightNone {
			st.Rights[pm.Share] = pm.Right
		}
	}
	if st.Quotas, err = c.Quotas.Get(ctx, p); err != nil {
		return st, err
	}
	st.Quotas = slices.DeleteFunc(st.Quotas, func(q dsm.Quota) bool { return q.Limit == 0 })
	if st.Rules, err = c.Apps.Rules(ctx, p); err != nil {
		return st, err
	}
	slices.SortFunc(st.Rules, func(a, b dsm.AppRule) int {
		if a.App < b.App {
			return -1
		}
		if a.App > b.App {
			return 1
		}
		return 0
	})
	return st, nil
}

// wantOnboarding is the state onboardingOf(i) leaves.
func wantOnboarding(i int) onboardState {
	o := onboardingOf(i)
	st := onboardState{Rights: map[string]dsm.Right{}, Quotas: []dsm.Quota{o.Quota}}
	for _, ch := range o.Rights {
		st.Rights[ch.Share] = ch.Right
	}
	for _, r := range o.Rules {
		r.Allow, r.Deny = nonNil(r.Allow), nonNil(r.Deny)
		st.Rules = append(st.Rules, r)
	}
	return st
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// onboardSampled are the users read back: all of them up to
// onboardSample, else onboardSample spread evenly from the first to the
// last.
func onboardSampled(n int) []int {
	if n <= onboardSample {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, onboardSample)
	for k := range out {
		out[k] = k * (n - 1) / (onboardSample - 1)
	}
	return out
}

// checkOnboarded reads back the sampled users of every side, and fails
// unless each holds exactly what onboardingOf gave it, the same on both
// sides.
func checkOnboarded(tb testing.TB, srv *dsmtest.Server, n int) {
	tb.Helper()
	c := srv.Client()
	defer c.Close()
	ctx := context.Background()
	type job struct {
		side onboardSide
		i    int
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var problems []string
	var wg sync.WaitGroup
	for range onboardWorkers {
		wg.Go(func() {
			for j := range jobs {
				name := onboardUser(j.side.prefix, j.i)
				got, err := readOnboarding(ctx, c, name)
				var problem string
				switch {
				case err != nil:
					problem = fmt.Sprintf("%s: read back: %v", name, err)
				default:
					if d := cmp.Diff(wantOnboarding(j.i), got); d != "" {
						problem = fmt.Sprintf("%s (%s): state (-want +got):\n%s", name, j.side.name, d)
					}
				}
				if problem != "" {
					mu.Lock()
					problems = append(problems, problem)
					mu.Unlock()
				}
			}
		})
	}
	for _, i := range onboardSampled(n) {
		for _, side := range onboardSides {
			jobs <- job{side, i}
		}
	}
	close(jobs)
	wg.Wait()
	if len(problems) > 0 {
		slices.Sort(problems)
		tb.Fatalf("%d of the users read back are not as onboarded; first: %s", len(problems), problems[0])
	}
}

// TestOnboardSides onboards a few users on both sides against a
// simulator without latency: each side leaves the state it should, with
// one compound request per user on one side and eight plain requests per
// user on the other. It keeps BenchmarkOnboard honest at a cost plain
// go test can bear.
func TestOnboardSides(t *testing.T) {
	const n = 12
	srv := onboardNAS(t, n, 0)
	want := map[string]onboardResult{"batched": {requests: n, compound: n}, "one-call-each": {requests: 8 * n}}
	for _, side := range onboardSides {
		res := runOnboard(t, srv, side, n)
		res.elapsed = 0
		if res != want[side.name] {
			t.Errorf("%s: %d requests, %d of them compound; want %d and %d", side.name, res.requests, res.compound, want[side.name].requests, want[side.name].compound)
		}
	}
	checkOnboarded(t, srv, n)
}

// BenchmarkOnboard onboards $BENCH_USERS (default 1,000) users, each
// given five share rights, a quota and two application rules, against
// one simulator answering each request after $BENCH_LATENCY_MS (default
// 50) ms, onboardWorkers users at a time: once with the eight changes of
// a user in one compound request (Users.SetProfile), once with one
// request per change, each
// side on users of its own. It reports the requests and the time of
// each, and their ratios, after reading back a sample of users of both
// sides. Run it once: -benchtime 1x.
func BenchmarkOnboard(b *testing.B) {
	n := envInt("BENCH_USERS", 1000)
	latency := time.Duration(envInt("BENCH_LATENCY_MS", 50)) * time.Millisecond
	for b.Loop() {
		srv := onboardNAS(b, n, latency)
		res := map[string]onboardResult{}
		for _, side := range onboardSides {
			res[side.name] = runOnboard(b, srv, side, n)
		}
		checkOnboarded(b, srv, n)
		bt, one := res["batched"], res["one-call-each"]
		if bt.requests != n || bt.compound != n || one.requests != 8*n || one.compound != 0 {
			b.Fatalf("requests: batched %d (%d compound), one call each %d (%d compound); want %d, %d, %d, 0",
				bt.requests, bt.compound, one.requests, one.compound, n, n, 8*n)
		}
		for name, r := range res {
			b.ReportMetric(float64(r.requests), "req-"+name)
			b.ReportMetric(r.elapsed.Seconds(), "s-"+name)
		}
		b.ReportMetric(float64(one.requests)/float64(bt.requests), "req-ratio")
		b.ReportMetric(one.elapsed.Seconds()/bt.elapsed.Seconds(), "time-ratio")
		b.ReportMetric(onboardWorkers, "workers")
	}
}
