package sim

import (
	"sync"
	"testing"
	"time"
)

// TestLatency checks that Config.Latency delays each answer and that the
// delay is not served under the state's lock: calls overlap.
func TestLatency(t *testing.T) {
	t.Parallel()
	const latency = 80 * time.Millisecond
	for _, tc := range []struct {
		name    string
		latency time.Duration
		calls   int
		min     time.Duration
		max     time.Duration
	}{
		{"none", 0, 1, 0, latency / 2},
		{"one call", latency, 1, latency, 10 * latency},
		// Eight calls side by side take about one latency, not eight.
		{"overlapping calls", latency, 8, latency, 4 * latency},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{Latency: tc.latency})
			start := time.Now()
			var wg sync.WaitGroup
			for range tc.calls {
				wg.Go(func() {
					a := s.do(t, call{form: form("api", "SYNO.API.Info", "version", "1", "method", "query", "query", "all")})
					if a.code() != 0 {
						t.Errorf("SYNO.API.Info query: code %d", a.code())
					}
				})
			}
			wg.Wait()
			if d := time.Since(start); d < tc.min || d > tc.max {
				t.Errorf("%d calls took %v, want %v to %v", tc.calls, d, tc.min, tc.max)
			}
		})
	}
}
