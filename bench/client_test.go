package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// bareGet is what a caller without the library would do for Users.Get:
// POST the same form and decode the JSON answer.
func bareGet(hc *http.Client, base string, sess dsm.Session) error {
	form := url.Values{
		"api": {"SYNO.Core.User"}, "version": {"1"}, "method": {"get"},
		"name": {`"alice"`}, "additional": {`["email"]`}, "_sid": {sess.SID},
	}
	req, err := http.NewRequest(http.MethodPost, base+"/webapi/entry.cgi", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-SYNO-TOKEN", sess.SynoToken)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || !env.Success {
		return fmt.Errorf("bare get: %s", body)
	}
	var d struct {
		Users []map[string]any `json:"users"`
	}
	return json.Unmarshal(env.Data, &d)
}

// overheadSetup starts a simulator with alice and returns a logged-in
// client, its session and a bare HTTP client.
func overheadSetup(b *testing.B) (*dsm.Client, dsm.Session, *http.Client, string) {
	b.Helper()
	srv := dsmtest.Start(b, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw-1", Email: "alice@example.com"}))
	// Without the secure sign-in: the bare POST it is compared with signs
	// nothing (BenchmarkSigning measures what signing costs).
	c, err := dsm.NewClient(srv.URL(), dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}),
		dsm.WithSecureSignIn(dsm.SecureSignInOff))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Users.Get(context.Background(), "alice", dsm.FieldEmail); err != nil {
		b.Fatal(err)
	}
	sess, _ := c.Auth.Session()
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	return c, sess, hc, srv.URL()
}

// BenchmarkClientOverhead measures Users.Get against a bare POST of the
// same form to the same simulator, each alone (for allocations).
func BenchmarkClientOverhead(b *testing.B) {
	c, sess, hc, base := overheadSetup(b)
	ctx := context.Background()
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Users.Get(ctx, "alice", dsm.FieldEmail); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := bareGet(hc, base, sess); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkClientOverheadRatio interleaves the two, call for call, so
// that the machine's noise falls on both alike, and reports the ratio of
// their total times (target: at most 1.25).
func BenchmarkClientOverheadRatio(b *testing.B) {
	c, sess, hc, base := overheadSetup(b)
	ctx := context.Background()
	var tClient, tBare time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.Users.Get(ctx, "alice", dsm.FieldEmail); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := bareGet(hc, base, sess); err != nil {
			b.Fatal(err)
		}
		tClient += t1.Sub(t0)
		tBare += time.Since(t1)
	}
	b.ReportMetric(float64(tClient)/float64(tBare), "ratio")
	b.ReportMetric(float64(tClient.Microseconds())/float64(b.N), "µs/client-call")
	b.ReportMetric(float64(tBare.Microseconds())/float64(b.N), "µs/bare-call")
}

// BenchmarkSimulatorThroughput measures simple calls (User get) answered
// per second by one simulator, from concurrent bare HTTP callers.
func BenchmarkSimulatorThroughput(b *testing.B) {
	_, sess, hc, base := overheadSetup(b)
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	start := time.Now()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := bareGet(hc, base, sess); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkLogin measures a whole login: over plain http (encryption
// key, RSA and AES envelope) and over https (TLS handshake included, a
// new connection each time), each with DSM 7's secure sign-in (the
// UIConfig request and the Noise IK handshake) and without it.
func BenchmarkLogin(b *testing.B) {
	for _, tlsOn := range []bool{false, true} {
		for _, secure := range []bool{false, true} {
			name := map[bool]string{false: "http-envelope", true: "https"}[tlsOn] + map[bool]string{false: "", true: "-secure-signin"}[secure]
			b.Run(name, func(b *testing.B) {
				var opts []dsmtest.Option
				if tlsOn {
					opts = append(opts, dsmtest.WithTLS())
				}
				srv := dsmtest.Start(b, append(opts, dsmtest.WithAutoBlock(-1, 0, 0))...)
				cred := dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}
				mode := dsm.SecureSignInOff
				if secure {
					mode = dsm.SecureSignInRequired
				}
				ctx := context.Background()
				for b.Loop() {
					copts := []dsm.Option{dsm.WithSecureSignIn(mode)}
					if tlsOn {
						hc := srv.HTTPClient()
						hc.Transport.(*http.Transport).DisableKeepAlives = true
						copts = append(copts, dsm.WithHTTPClient(hc))
					}
					c, err := dsm.NewClient(srv.URL(), copts...)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := c.Auth.Login(ctx, cred); err != nil {
						b.Fatal(err)
					}
					c.Close()
				}
			})
		}
	}
}

// BenchmarkSigning interleaves Users.Get in a session with the secure
// sign-in (each request signed with X-SYNO-HASH, and checked by the
// simulator) and in one without, call for call, and reports the ratio of
// their total times.
func BenchmarkSigning(b *testing.B) {
	srv := dsmtest.Start(b, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw-1", Email: "alice@example.com"}))
	cred := dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()})
	ctx := context.Background()
	clients := map[dsm.SecureSignInMode]*dsm.Client{}
	for _, m := range []dsm.SecureSignInMode{dsm.SecureSignInRequired, dsm.SecureSignInOff} {
		c, err := dsm.NewClient(srv.URL(), cred, dsm.WithSecureSignIn(m))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Users.Get(ctx, "alice", dsm.FieldEmail); err != nil {
			b.Fatal(err)
		}
		clients[m] = c
	}
	if s, _ := clients[dsm.SecureSignInRequired].Auth.Session(); !s.SecureSignIn {
		b.Fatal("the signed client has no secure sign-in")
	}
	var tSigned, tPlain time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := clients[dsm.SecureSignInRequired].Users.Get(ctx, "alice", dsm.FieldEmail); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := clients[dsm.SecureSignInOff].Users.Get(ctx, "alice", dsm.FieldEmail); err != nil {
			b.Fatal(err)
		}
		tSigned += t1.Sub(t0)
		tPlain += time.Since(t1)
	}
	b.ReportMetric(float64(tSigned)/float64(tPlain), "ratio")
	b.ReportMetric(float64(tSigned.Microseconds())/float64(b.N), "µs/signed-call")
	b.ReportMetric(float64(tPlain.Microseconds())/float64(b.N), "µs/plain-call")
}

var (
	bigOnce sync.Once
	bigSrv  *dsmtest.Server
	bigErr  error
)

// bigServer is a simulator with 100,000 users (beyond DSM's limit of
// 16,000 local users, which applies to creation, not to seeding), shared
// by the paging benchmarks.
func bigServer() (*dsmtest.Server, error) {
	bigOnce.Do(func() {
		opts := make([]dsmtest.Option, 0, 100_000)
		for i := range 100_000 - 2 {
			opts = append(opts, dsmtest.WithUser(dsmtest.User{Name: fmt.Sprintf("user%06d", i), Password: "Seeded-pw-1", Email: fmt.Sprintf("u%d@example.com", i)}))
		}
		bigSrv, bigErr = dsmtest.NewServer(opts...)
	})
	return bigSrv, bigErr
}

// BenchmarkListPaging lists a page of 100 users at offset 0 and at
// offset 90,000 of 100,000.
func BenchmarkListPaging(b *testing.B) {
	srv, err := bigServer()
	if err != nil {
		b.Fatal(err)
	}
	c := srv.Client()
	ctx := context.Background()
	for _, offset := range []int{0, 90_000} {
		b.Run(fmt.Sprintf("offset=%d", offset), func(b *testing.B) {
			for b.Loop() {
				users, total, err := c.Users.List(ctx, dsm.ListOptions{Offset: offset, Limit: 100, Fields: []string{dsm.FieldEmail}})
				if err != nil || len(users) != 100 || total != 100_000 {
					b.Fatalf("%d users of %d: %v", len(users), total, err)
				}
			}
		})
	}
}
