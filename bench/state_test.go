package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// stateSizes are the NAS sizes the durable-change benchmarks run at: a
// small office, a large one, and DSM 7's maximum of 16,000 users.
var stateSizes = []int{100, 1000, 16000}

// stateSetup starts a simulator that keeps its state in a fresh data
// directory, holding n users in all (admin and guest included), and
// returns a client signed in as admin.
func stateSetup(b *testing.B, n int) *dsm.Client {
	b.Helper()
	opts := []dsmtest.Option{dsmtest.WithDataDir(b.TempDir())}
	for i := range n - 2 {
		opts = append(opts, dsmtest.WithUser(dsmtest.User{Name: fmt.Sprintf("user%05d", i), Password: "User-pw-1"}))
	}
	srv := dsmtest.Start(b, opts...)
	c, err := dsm.NewClient(srv.URL(), dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}),
		dsm.WithSecureSignIn(dsm.SecureSignInOff))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Users.Get(context.Background(), "user00000"); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkStateChange measures one durable change (a user's
// description, answered only once it is on disk) at each NAS size, one
// writer at a time.
func BenchmarkStateChange(b *testing.B) {
	for _, n := range stateSizes {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			c := stateSetup(b, n)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				d := fmt.Sprintf("change %d", i)
				if _, err := c.Users.Update(ctx, "user00000", dsm.UserUpdateRequest{Description: &d}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStateChangeParallel measures durable changes a second from 16
// concurrent writers, each changing its own user, at each NAS size.
func BenchmarkStateChangeParallel(b *testing.B) {
	for _, n := range stateSizes {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			c := stateSetup(b, n)
			ctx := context.Background()
			var next atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				name := fmt.Sprintf("user%05d", next.Add(1)%int64(n-2))
				for i := 0; pb.Next(); i++ {
					d := fmt.Sprintf("change %d", i)
					if _, err := c.Users.Update(ctx, name, dsm.UserUpdateRequest{Description: &d}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "changes/s")
		})
	}
}
