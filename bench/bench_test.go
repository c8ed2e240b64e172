// Package bench measures the users-as-code engine (package manifest)
// against the simulator: the speed-up of parallel apply over a NAS with
// network latency, and the memory a plan takes as the file grows; and
// onboarding users in one compound request each against one call per
// change (onboard_test.go). The benchmarks only run with -bench (a test
// of a few users keeps the onboarding one honest in plain go test);
// run.sh runs them and prints the figures.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dsmkit/dsm/dsmtest"
	"github.com/dsmkit/dsm/manifest"
)

// envInt reads a positive number from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// writeUsers writes a users file of n new users, each with a generated
// password, and returns its path.
func writeUsers(tb testing.TB, n int, groups bool) string {
	tb.Helper()
	var b strings.Builder
	if groups {
		b.WriteString("groups:\n  - name: pupils\n    description: All the pupils\n")
	}
	b.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: pupil%05d\n    description: Pupil number %d\n    email: pupil%05d@school.example\n", i, i, i)
		if groups {
			b.WriteString("    groups: [pupils]\n")
		}
		b.WriteString("    password: {generate: true}\n")
	}
	path := filepath.Join(tb.TempDir(), "users.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// applyOnce applies a file of n new users with the given parallelism to
// a fresh simulator whose every answer takes latency, and returns how
// long Apply took (the plan is not counted).
func applyOnce(b *testing.B, file string, latency time.Duration, parallel int) time.Duration {
	b.Helper()
	srv, err := dsmtest.NewServer(dsmtest.WithLatency(latency), dsmtest.WithAutoBlock(0, 0, 0))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	f, err := manifest.Load(file)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := f.Plan(ctx, c, manifest.PlanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	res, err := plan.Apply(ctx, c, manifest.ApplyOptions{Parallel: parallel, RecordPassword: func(string, string) error { return nil }})
	elapsed := time.Since(start)
	if err != nil || !res.OK() {
		b.Fatalf("apply: %v, %d failures, first: %+v", err, len(res.Failures), res.Failures[:min(1, len(res.Failures))])
	}
	return elapsed
}

// BenchmarkApplyParallel applies $BENCH_USERS (default 1,000) new users
// to a simulator with $BENCH_LATENCY_MS (default 50) ms per call, once
// with parallel 1 and once with parallel 8, side by side in one process,
// and reports both times and the speed-up. Run it once: -benchtime 1x.
func BenchmarkApplyParallel(b *testing.B) {
	n := envInt("BENCH_USERS", 1000)
	latency := time.Duration(envInt("BENCH_LATENCY_MS", 50)) * time.Millisecond
	file := writeUsers(b, n, false)
	for b.Loop() {
		one := applyOnce(b, file, latency, 1)
		eight := applyOnce(b, file, latency, 8)
		b.ReportMetric(one.Seconds(), "s-parallel-1")
		b.ReportMetric(eight.Seconds(), "s-parallel-8")
		b.ReportMetric(float64(n)/one.Seconds(), "users/s-parallel-1")
		b.ReportMetric(float64(n)/eight.Seconds(), "users/s-parallel-8")
		b.ReportMetric(one.Seconds()/eight.Seconds(), "speedup")
	}
}

// heapBytes is the memory held by live and not yet collected heap
// objects.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkPlanMemory loads and plans files of 1,000 and 10,000 new
// users (each in a group, with a generated password) against a
// simulator, and reports the peak heap (sampled every millisecond), the
// heap still held by the file and the plan, and the bytes allocated.
func BenchmarkPlanMemory(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			file := writeUsers(b, n, true)
			srv, err := dsmtest.NewServer()
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			c := srv.Client()
			ctx := context.Background()
			if _, err := c.Policy.ReservedNames(ctx); err != nil { // log in before measuring
				b.Fatal(err)
			}
			for b.Loop() {
				runtime.GC()
				base := heapBytes()
				var peak atomic.Uint64
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						if h := heapBytes(); h > peak.Load() {
							peak.Store(h)
						}
						select {
						case <-stop:
							return
						case <-t.C:
						}
					}
				}()
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				f, err := manifest.Load(file)
				if err != nil {
					b.Fatal(err)
				}
				plan, err := f.Plan(ctx, c, manifest.PlanOptions{})
				if err != nil {
					b.Fatal(err)
				}
				close(stop)
				<-done
				if h := heapBytes(); h > peak.Load() {
					peak.Store(h)
				}
				runtime.ReadMemStats(&ms1)
				runtime.GC()
				held := heapBytes() - base
				runtime.KeepAlive(f)
				runtime.KeepAlive(plan)
				b.ReportMetric(float64(peak.Load()-base)/(1<<20), "MiB-peak")
				b.ReportMetric(float64(held)/(1<<20), "MiB-held")
				b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/(1<<20), "MiB-allocated")
				b.ReportMetric(float64(held)/float64(n), "B-held/user")
			}
		})
	}
}
