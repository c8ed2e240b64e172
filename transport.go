package dsm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// Timeouts bound the stages of one HTTP exchange with the NAS. They apply
// to the transport the client makes itself; a client given its own
// *http.Client (WithHTTPClient) keeps that client's settings.
type Timeouts struct {
	// Connect bounds the TCP connection to the NAS.
	Connect time.Duration
	// TLSHandshake bounds the TLS handshake of an https connection.
	TLSHandshake time.Duration
	// ResponseHeader bounds the wait for the answer once the request is
	// written: the time DSM takes to do the work.
	ResponseHeader time.Duration
	// IdleConn is how long an unused connection is kept for the next call.
	IdleConn time.Duration
}

// DefaultTimeouts are the transport's timeouts unless WithTimeouts sets
// others. They are a choice: a NAS on the LAN connects in milliseconds and
// one over the internet in well under a second, so ten seconds means it
// is not there; DSM answers user calls in under a second, a list of tens
// of thousands of users in a few, so thirty seconds without an answer
// means it hangs. Idle connections close before DSM's web server drops
// them.
var DefaultTimeouts = Timeouts{Connect: 10 * time.Second, TLSHandshake: 10 * time.Second, ResponseHeader: 30 * time.Second, IdleConn: 60 * time.Second}

// DefaultCallTimeout bounds a call as a whole (its login, retries and
// answer) unless WithTimeout sets another bound. It leaves room for the
// retry policy's 20 seconds and a slow answer.
const DefaultCallTimeout = 2 * time.Minute

// WithTimeouts replaces DefaultTimeouts. Every field must be positive.
func WithTimeouts(t Timeouts) Option {
	return func(c *clientConfig) error {
		if t.Connect <= 0 || t.TLSHandshake <= 0 || t.ResponseHeader <= 0 || t.IdleConn <= 0 {
			return fmt.Errorf("WithTimeouts: every timeout must be positive, got %+v; start from DefaultTimeouts", t)
		}
		c.timeouts = &t
		return nil
	}
}

// TimeoutError reports a call that ran out of time: which call, which
// NAS, and which bound ran out. It matches context.DeadlineExceeded with
// errors.Is.
type TimeoutError struct {
	// API and Method name the call.
	API, Method string
	// Host is the NAS's host and port.
	Host string
	// Bound says which limit ran out, such as "the call timeout of 2m0s
	// (WithTimeout)" or "the connect timeout of 10s".
	Bound string
	// Err is the underlying error.
	Err error
}

// Error says what ran out, where.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("dsm: %s %s: no answer from %s within %s", e.API, e.Method, e.Host, e.Bound)
}

// Unwrap returns the underlying error.
func (e *TimeoutError) Unwrap() error { return e.Err }

// Is makes a *TimeoutError match context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }

// errCallTimeout is the cause of a call's context ending at the client's
// own bound (WithTimeout), as opposed to the caller's deadline.
var errCallTimeout = errors.New("dsm: call timeout")

// bound applies the client's call timeout to ctx.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, c.timeout, errCallTimeout)
}

// timedOut turns err into a *TimeoutError when the call ran out of the
// client's own time bound; a caller's deadline or cancellation stays
// ctx.Err().
func (c *Client) timedOut(ctx context.Context, r *request, err error) error {
	if err == nil || ctx.Err() == nil || !errors.Is(context.Cause(ctx), errCallTimeout) {
		return err
	}
	return &TimeoutError{API: r.api, Method: r.method, Host: c.base.Host,
		Bound: fmt.Sprintf("the call timeout of %s (WithTimeout)", c.timeout), Err: context.DeadlineExceeded}
}

// The stages of an HTTP exchange, as httptrace reports them.
const (
	phaseConnecting int32 = iota
	phaseHandshake
	phaseConnected
	phaseSent
	phaseAnswering
)

// phase follows one exchange through its stages.
type phase struct{ v atomic.Int32 }

func (p *phase) set(v int32) { p.v.Store(v) }

// sent reports whether the whole request was written: only then may the
// NAS have acted on it.
func (p *phase) sent() bool { return p.v.Load() >= phaseSent }

func (p *phase) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		TLSHandshakeStart: func() { p.set(phaseHandshake) },
		GotConn:           func(httptrace.GotConnInfo) { p.set(phaseConnected) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				p.set(phaseSent)
			}
		},
		GotFirstResponseByte: func() { p.set(phaseAnswering) },
	}
}

// transportError names the call in a failure of the transport, and says
// which bound ran out when it is a timeout.
func (c *Client) transportError(r *request, p *phase, err error) error {
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return fmt.Errorf("dsm: %s %s: %w", r.api, r.method, err)
	}
	tm := c.timeouts
	var bound string
	switch p.v.Load() {
	case phaseConnecting:
		bound = fmt.Sprintf("the connect timeout of %s", tm.Connect)
	case phaseHandshake:
		bound = fmt.Sprintf("the TLS handshake timeout of %s", tm.TLSHandshake)
	case phaseConnected, phaseSent:
		bound = fmt.Sprintf("the response header timeout of %s", tm.ResponseHeader)
	default:
		bound = "the transport's read timeout"
	}
	return &TimeoutError{API: r.api, Method: r.method, Host: c.base.Host, Bound: bound, Err: err}
}

// buildHTTPClient returns the client's HTTP client: hc, or a new one with
// the timeouts tm, with the certificate check the options ask for. owns
// says whether the client made the transport (and may close its idle
// connections).
func buildHTTPClient(hc *http.Client, insecure bool, pin string, tm Timeouts) (out *http.Client, owns bool, err error) {
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 16
		t.DialContext = (&net.Dialer{Timeout: tm.Connect, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = tm.TLSHandshake
		t.ResponseHeaderTimeout = tm.ResponseHeader
		t.IdleConnTimeout = tm.IdleConn
		hc, owns = &http.Client{Transport: t}, true
	}
	switch {
	case pin != "":
		out, err = transportWithTLS(hc, "WithCertificateFingerprint", func(cfg *tls.Config) *tls.Config { return pinnedTLS(cfg, pin) })
		return out, true, err
	case insecure:
		out, err = transportWithTLS(hc, "WithInsecureSkipVerify", func(cfg *tls.Config) *tls.Config {
			if cfg == nil {
				cfg = &tls.Config{}
			} else {
				cfg = cfg.Clone()
			}
			cfg.InsecureSkipVerify = true
			return cfg
		})
		return out, true, err
	}
	return hc, owns, nil
}

// Close releases the idle connections of the transport the client made
// (a client given WithHTTPClient leaves that client's connections alone,
// unless a certificate option made a copy of its transport). It does not
// log out: call Auth.Logout first to end the session. The client must
// not be used after Close.
func (c *Client) Close() error {
	if c.ownsHC {
		c.hc.CloseIdleConnections()
	}
	return nil
}
