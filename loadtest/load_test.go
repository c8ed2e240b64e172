package loadtest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

var (
	loadSteps    = flag.Int("load.steps", 40, "how many steps each client of TestLoad takes")
	loadDuration = flag.Duration("load.duration", 0, "run TestLoad's clients for this long instead of -load.steps (a measurement)")
	loadClients  = flag.Int("load.clients", 16, "how many concurrent clients TestLoad runs")
)

const (
	password = "L0ad-Test-Passw0rd!"
	// keepUsers bounds the users each client keeps, so that the state,
	// and with it the heap, stops growing after warm-up.
	keepUsers = 8
	group     = "loadgroup"
	// loadSeed chooses the steps of the workers of TestLoad and
	// BenchmarkMixed.
	loadSeed = 1
)

// op is one kind of call in the mix, with its weight.
type op struct {
	name   string
	weight int
}

var mix = []op{
	{"list", 25}, {"get", 25}, {"create", 15}, {"update", 15}, {"delete", 10}, {"members", 10},
}

// worker is one client with the users it owns: no two workers touch the
// same user, so every call must succeed.
type worker struct {
	id    int
	c     *dsm.Client
	rng   *rand.Rand
	next  int
	users []string // owned, oldest first
	lat   map[string][]time.Duration
}

// newWorker returns worker id of client c; seed and id choose its steps.
func newWorker(id int, seed uint64, c *dsm.Client) *worker {
	return &worker{id: id, c: c, rng: rand.New(rand.NewPCG(seed, uint64(id))), lat: map[string][]time.Duration{}}
}

func (w *worker) pick() string {
	n := w.rng.IntN(100)
	for _, o := range mix {
		if n < o.weight {
			return o.name
		}
		n -= o.weight
	}
	return mix[0].name
}

// step makes one call of the mix and records its latency.
func (w *worker) step(ctx context.Context) (string, error) {
	name := w.pick()
	if (name == "create" && len(w.users) >= keepUsers) || (name == "delete" && len(w.users) <= 1) {
		name = "update"
	}
	if name != "list" && name != "create" && len(w.users) == 0 {
		name = "create"
	}
	start := time.Now()
	err := w.do(ctx, name)
	w.lat[name] = append(w.lat[name], time.Since(start))
	return name, err
}

func (w *worker) do(ctx context.Context, name string) error {
	switch name {
	case "list":
		_, _, err := w.c.Users.List(ctx, dsm.ListOptions{Limit: 50, Fields: []string{dsm.FieldEmail}})
		return err
	case "get":
		u := w.users[w.rng.IntN(len(w.users))]
		got, err := w.c.Users.Get(ctx, u)
		if err == nil && got.Name != u {
			err = fmt.Errorf("get %s answered %s", u, got.Name)
		}
		return err
	case "create":
		u := fmt.Sprintf("w%d-u%d", w.id, w.next)
		w.next++
		if _, err := w.c.Users.Create(ctx, dsm.UserCreateRequest{Name: u, Password: password, Email: u + "@example.com"}); err != nil {
			return err
		}
		w.users = append(w.users, u)
		return nil
	case "update":
		u := w.users[w.rng.IntN(len(w.users))]
		_, err := w.c.Users.Update(ctx, u, dsm.UserUpdateRequest{Description: dsm.Ptr(fmt.Sprintf("step %d", w.rng.IntN(1000)))})
		return err
	case "delete":
		u := w.users[0]
		if err := w.c.Users.Delete(ctx, u); err != nil {
			return err
		}
		w.users = w.users[1:]
		return nil
	case "members":
		u := w.users[w.rng.IntN(len(w.users))]
		if err := w.c.Groups.AddMembers(ctx, group, u); err != nil {
			return err
		}
		return w.c.Groups.RemoveMembers(ctx, group, u)
	}
	return fmt.Errorf("unknown op %s", name)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func startServer(t testing.TB) *dsmtest.Server {
	return dsmtest.Start(t,
		dsmtest.WithAutoBlock(0, 0, 0),
		dsmtest.WithGroup(dsmtest.Group{Name: group}),
	)
}

// TestLoad runs *loadClients clients against one simulator on loopback,
// each for *loadSteps steps (or, with -load.duration, for that long: a
// measurement, not a check): mixed reads and writes, none may fail, the
// heap after the run stays near the heap after warm-up (the first
// quarter of the steps, which every client finishes before the heap is
// read), and the final state holds exactly the users the clients kept.
// Nothing here depends on how fast the machine is: a stuck simulator is
// caught by the test's deadline.
func TestLoad(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	clients := *loadClients

	workers := make([]*worker, clients)
	for i := range workers {
		workers[i] = newWorker(i, loadSeed, srv.Client())
	}
	var (
		calls  atomic.Int64
		failed atomic.Int64
		mu     sync.Mutex
		errs   []error
	)
	// run has each worker take n steps (n < 0: until stop is closed).
	run := func(n int, stop <-chan struct{}) {
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() {
				for i := 0; n < 0 || i < n; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name, err := w.step(ctx)
					calls.Add(1)
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
	}
	start := time.Now()
	var baseMem uint64
	if d := *loadDuration; d > 0 {
		stop := make(chan struct{})
		warmed := make(chan struct{})
		go func() {
			time.Sleep(d / 4)
			baseMem = heapAlloc()
			close(warmed)
			time.Sleep(d - d/4)
			close(stop)
		}()
		run(-1, stop)
		<-warmed
	} else {
		warmup := *loadSteps / 4
		run(warmup, nil)
		baseMem = heapAlloc()
		run(*loadSteps-warmup, nil)
	}
	elapsed := time.Since(start)
	endMem := heapAlloc()

	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d calls failed; first ones: %v", n, calls.Load(), errs)
	}
	var all []time.Duration
	byOp := map[string][]time.Duration{}
	for _, w := range workers {
		for name, l := range w.lat {
			byOp[name] = append(byOp[name], l...)
			all = append(all, l...)
		}
	}
	slices.Sort(all)
	t.Logf("%d clients, %v: %d calls, %.0f calls/s, p50 %v, p99 %v, max %v",
		clients, elapsed.Round(time.Millisecond), len(all), float64(len(all))/elapsed.Seconds(),
		percentile(all, 0.50), percentile(all, 0.99), all[len(all)-1])
	for _, o := range mix {
		l := byOp[o.name]
		slices.Sort(l)
		t.Logf("  %-8s %6d calls, p50 %v, p99 %v", o.name, len(l), percentile(l, 0.50), percentile(l, 0.99))
	}
	t.Logf("heap after warm-up %.1f MiB, at the end %.1f MiB", float64(baseMem)/(1<<20), float64(endMem)/(1<<20))
	// Stable: the state is bounded (keepUsers per client), so the heap
	// may move with garbage and buffers, not grow with the calls.
	if endMem > baseMem+baseMem/2+4<<20 {
		t.Errorf("heap grew from %d to %d bytes between warm-up and the end", baseMem, endMem)
	}

	// The state holds exactly the users the clients kept.
	users, _, err := srv.Client().Users.List(ctx, dsm.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, u := range users {
		got[u.Name] = true
	}
	want := 2 // admin, guest
	for _, w := range workers {
		want += len(w.users)
		for _, u := range w.users {
			if !got[u] {
				t.Errorf("user %s was created and not deleted, but is missing", u)
			}
		}
	}
	if len(users) != want {
		t.Errorf("%d users at the end, want %d", len(users), want)
	}
}

// BenchmarkMixed runs the mix of TestLoad with b.N calls spread over
// GOMAXPROCS*4 clients and reports p50 and p99 latency.
func BenchmarkMixed(b *testing.B) {
	srv := startServer(b)
	ctx := b.Context()
	var id atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := newWorker(int(id.Add(1)), loadSeed, srv.Client())
		for pb.Next() {
			if name, err := w.step(ctx); err != nil {
				b.Errorf("%s: %v", name, err)
				return
			}
		}
		mu.Lock()
		for _, l := range w.lat {
			all = append(all, l...)
		}
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(all)
	b.ReportMetric(float64(percentile(all, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(all, 0.99).Microseconds()), "p99-µs")
}
