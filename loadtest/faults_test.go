package loadtest

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

var (
	faultsClients = flag.Int("faults.clients", 8, "how many concurrent clients TestLoadFaults runs")
	faultsSteps   = flag.Int("faults.steps", 400, "how many steps each client of TestLoadFaults makes")
	faultsSeed    = flag.Uint64("faults.seed", 1, "seed of TestLoadFaults' faults and of its clients' steps; 0: a random one, logged")
)

// loadFaults are the faults of TestLoadFaults, on every method of the
// user and membership APIs: DSM busy (nothing done), a connection reset
// before the work (nothing done) and after it (done, the answer lost).
var loadFaults = []string{
	"SYNO.Core.User:*:code=117:p=0.05",
	"SYNO.Core.User:*:reset:p=0.02",
	"SYNO.Core.User:*:reset-after:p=0.02",
	"SYNO.Core.Group.Member:*:code=117:p=0.05",
	"SYNO.Core.Group.Member:*:reset:p=0.02",
	"SYNO.Core.Group.Member:*:reset-after:p=0.02",
}

// faultRetryPolicy is DefaultRetryPolicy with millisecond backoffs, so that
// the test spends its time on calls, not waits, and more attempts. About
// 8.8% of the attempts on the faulted APIs fail (1 - 0.95*0.98*0.98); with
// the default 4 attempts a call fails for good with probability 0.088^4,
// about 6e-5: a run of this test makes about 5,000 such calls, so one run
// in four or five would fail (measured: 7 of 10 runs of 15,000 steps had
// 1 to 4 failed calls, each a fourth busy or reset answer in a row). With
// 8 attempts it is about 4e-9 per call.
var faultRetryPolicy = dsm.RetryPolicy{
	MaxAttempts:    8,
	MaxElapsed:     dsm.DefaultRetryPolicy.MaxElapsed,
	InitialBackoff: time.Millisecond,
	MaxBackoff:     16 * time.Millisecond,
}

// retryCounter is a slog.Handler that counts the client's retry records:
// "dsm retry" (another attempt) and the lines that tell a change was
// found applied after an ambiguous failure.
type retryCounter struct {
	retries, applied atomic.Int64
}

func (h *retryCounter) Enabled(context.Context, slog.Level) bool { return true }

func (h *retryCounter) Handle(_ context.Context, r slog.Record) error {
	switch {
	case r.Message == "dsm retry":
		h.retries.Add(1)
	case strings.HasPrefix(r.Message, "dsm retry: the change happened"):
		h.applied.Add(1)
	}
	return nil
}

func (h *retryCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *retryCounter) WithGroup(string) slog.Handler      { return h }

// startFaultyServer starts the simulator of TestLoad with loadFaults,
// their probabilities drawn from seed.
func startFaultyServer(t testing.TB, seed uint64) *dsmtest.Server {
	opts := []dsmtest.Option{dsmtest.WithAutoBlock(0, 0, 0), dsmtest.WithGroup(dsmtest.Group{Name: group}), dsmtest.WithFaultSeed(seed)}
	for _, spec := range loadFaults {
		f, err := dsmtest.ParseFault(spec)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		opts = append(opts, dsmtest.WithFault(f))
	}
	return dsmtest.Start(t, opts...)
}

// faultyClient returns an admin client of srv with policy p that counts
// its retries in rc.
func faultyClient(t testing.TB, seed uint64, srv *dsmtest.Server, p dsm.RetryPolicy, rc *retryCounter) *dsm.Client {
	c, err := dsm.NewClient(srv.URL(),
		dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}),
		dsm.WithRetry(p), dsm.WithLogger(slog.New(rc)))
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	return c
}

// TestLoadFaults is TestLoad through a flaky NAS: the simulator answers
// busy, and resets connections before and after doing the work, on the
// user and membership calls (loadFaults); the clients retry with
// faultRetryPolicy. Each of *faultsClients clients makes *faultsSteps
// steps: no call may fail, every fault fires and a lost answer is found
// applied, the final user list holds exactly the users the clients
// believe they kept (none twice, none missing, none extra) and the group
// is empty again. The throughput, p50/p99 and the retries seen go to the
// test log.
//
// *faultsSeed seeds the faults' probabilities and the steps of every
// client, and every failure names it. What it cannot fix is the order in
// which the clients' calls reach the simulator, which draws the faults of
// every call from one random sequence; goroutine scheduling and the
// client's retry backoffs (drawn at random by package dsm) decide it. A
// replay makes the same steps against the same sequence, but which call
// meets which fault may differ.
//
// The run is a number of steps, not a time: the checks that every fault
// fired and that a lost answer was found applied hold only for a run long
// enough, and a run cut by the clock is short where the machine is slow
// (measured under -race on two busy cores: a 2s run made 230 to 1,160
// steps, and 11 of 30 runs failed, most with no change found applied).
// 400 steps of 8 clients (4s; 4 to 20s under -race on two cores) found
// 9 to 24 changes applied in 40 runs, and the rarest fault fired 18 to 38
// times.
func TestLoadFaults(t *testing.T) {
	t.Parallel()
	seed, clients, steps := *faultsSeed, *faultsClients, *faultsSteps
	for seed == 0 {
		seed = rand.Uint64()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay: go test -run TestLoadFaults ./loadtest -args -faults.seed=%d -faults.clients=%d -faults.steps=%d", seed, clients, steps)
		}
	})
	srv := startFaultyServer(t, seed)
	ctx := t.Context()

	rc := &retryCounter{}
	workers := make([]*worker, clients)
	for i := range workers {
		workers[i] = newWorker(i, seed, faultyClient(t, seed, srv, faultRetryPolicy, rc))
	}
	var (
		failed atomic.Int64
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
	)
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() {
			for range steps {
				name, err := w.step(ctx)
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if len(errs) < 10 {
						errs = append(errs, fmt.Errorf("client %d %s: %w", w.id, name, err))
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []time.Duration
	byOp := map[string][]time.Duration{}
	for _, w := range workers {
		for name, l := range w.lat {
			byOp[name] = append(byOp[name], l...)
			all = append(all, l...)
		}
	}
	slices.Sort(all)
	if n := failed.Load(); n > 0 {
		t.Errorf("seed %d: %d of %d steps failed; first ones: %v", seed, n, len(all), errs)
	}
	if len(all) == 0 {
		t.Fatalf("seed %d: no steps (-faults.clients=%d, -faults.steps=%d)", seed, clients, steps)
	}
	t.Logf("seed %d, %d clients, %v: %d steps, %.0f steps/s, p50 %v, p99 %v, max %v",
		seed, clients, elapsed.Round(time.Millisecond), len(all), float64(len(all))/elapsed.Seconds(),
		percentile(all, 0.50), percentile(all, 0.99), all[len(all)-1])
	for _, o := range mix {
		l := byOp[o.name]
		slices.Sort(l)
		t.Logf("  %-8s %6d steps, p50 %v, p99 %v", o.name, len(l), percentile(l, 0.50), percentile(l, 0.99))
	}
	t.Logf("retries seen: %d; changes found applied after a lost answer: %d", rc.retries.Load(), rc.applied.Load())
	for _, st := range srv.Faults() {
		t.Logf("  fault %-45s fired %d times", st.Fault, st.Fired)
		if st.Fired == 0 {
			t.Errorf("seed %d: fault %s never fired: the run tests nothing about it", seed, st.Fault)
		}
	}
	if rc.retries.Load() == 0 || rc.applied.Load() == 0 {
		t.Errorf("seed %d: %d retries, %d changes found applied: the faults did not reach the clients", seed, rc.retries.Load(), rc.applied.Load())
	}

	// The oracle: the simulator's own list, read without faults.
	srv.ClearFaults()
	checkUsers(t, seed, srv, workers)
	members, err := srv.Client().Groups.Members(ctx, group)
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if len(members) != 0 {
		t.Errorf("seed %d: %s has %d members at the end, want none (every add was followed by a remove)", seed, group, len(members))
	}
}

// checkUsers checks that the simulator holds admin, guest and exactly the
// users the workers kept, each once; its failures name seed.
func checkUsers(t *testing.T, seed uint64, srv *dsmtest.Server, workers []*worker) {
	t.Helper()
	users, _, err := srv.Client().Users.List(t.Context(), dsm.ListOptions{})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	count := map[string]int{}
	for _, u := range users {
		count[u.Name]++
	}
	want := map[string]bool{"admin": true, "guest": true}
	for _, w := range workers {
		for _, u := range w.users {
			want[u] = true
		}
	}
	for name, n := range count {
		switch {
		case !want[name]:
			t.Errorf("seed %d: user %s is on the NAS, but no client kept it (a create repeated, or a delete lost)", seed, name)
		case n > 1:
			t.Errorf("seed %d: user %s is listed %d times", seed, name, n)
		}
	}
	for name := range want {
		if count[name] == 0 {
			t.Errorf("seed %d: user %s was kept by a client but is missing", seed, name)
		}
	}
}
