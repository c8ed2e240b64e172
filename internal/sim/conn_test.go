package sim

import (
	"errors"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestConnLimits holds more idle connections than the cap and checks the
// server cuts them and still serves a legitimate request, never serving
// more connections at once than the cap. The deadlines only bound the
// test; nothing is timed.
func TestConnLimits(t *testing.T) {
	s := newServer(t, Config{})
	limits := ConnLimits{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: time.Second, MaxConns: 2}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limits.Listener(raw).(*limitedListener)
	hs := &http.Server{Handler: s}
	limits.Apply(hs, 0)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	const idle = 6
	var conns []net.Conn
	for range idle {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get("http://" + raw.Addr().String() + "/webapi/query.cgi?api=SYNO.API.Info&version=1&method=query")
	if err != nil {
		t.Fatalf("a legitimate request behind %d idle connections: %v", idle, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("idle connection %d was never cut", i)
		}
	}
	if p := ln.peak.Load(); p > int64(limits.MaxConns) {
		t.Errorf("%d connections served at once, want at most %d", p, limits.MaxConns)
	}
}
