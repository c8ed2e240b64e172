package sim

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ConnLimits bound the connections of the HTTP server that serves the
// simulator, so that slow or idle clients cannot hold it: dsmctl sim and
// dsmtest both use DefaultConnLimits. The values are choices (a NAS's
// web server has its own, unpublished).
type ConnLimits struct {
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are
	// those of http.Server: to read a request's header, to read a whole
	// request, to write an answer (Config.Latency counts in it), and to
	// keep an idle keep-alive connection.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// MaxConns is how many connections are served at once; more wait to
	// be accepted until one closes.
	MaxConns int
}

// DefaultConnLimits are the limits of dsmctl sim and dsmtest.
var DefaultConnLimits = ConnLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      2 * time.Minute,
	IdleTimeout:       2 * time.Minute,
	MaxConns:          256,
}

// Server returns an http.Server of h with l's timeouts (see Apply); serve
// it on l.Listener(ln) for the cap on connections too.
func (l ConnLimits) Server(h http.Handler, latency time.Duration) *http.Server {
	hs := &http.Server{Handler: h}
	l.Apply(hs, latency)
	return hs
}

// Apply sets hs's timeouts to l's, adding latency (Config.Latency) to the
// write timeout so that a delayed answer still gets out.
func (l ConnLimits) Apply(hs *http.Server, latency time.Duration) {
	hs.ReadHeaderTimeout = l.ReadHeaderTimeout
	hs.ReadTimeout = l.ReadTimeout
	hs.WriteTimeout = l.WriteTimeout + max(latency, 0)
	hs.IdleTimeout = l.IdleTimeout
}

// Listener wraps ln so that at most l.MaxConns of its connections are
// open at once (MaxConns <= 0: no limit).
func (l ConnLimits) Listener(ln net.Listener) net.Listener {
	if l.MaxConns <= 0 {
		return ln
	}
	return &limitedListener{Listener: ln, slots: make(chan struct{}, l.MaxConns)}
}

// limitedListener takes a slot before it accepts a connection and gives
// it back when the connection closes.
type limitedListener struct {
	net.Listener
	slots chan struct{}
	// open and peak count the open connections (peak: tests).
	open, peak atomic.Int64
}

func (l *limitedListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	n := l.open.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	return &limitedConn{Conn: c, release: func() { l.open.Add(-1); <-l.slots }}, nil
}

// limitedConn gives its slot back once, on the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
