package dsm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"time"
)

// RetryPolicy says how the client rides out a flaky NAS: transport
// failures, HTTP 5xx answers (a proxy or the web server failing) and DSM's
// busy codes (109, 110, 111, 117, 118) are tried again, after an
// exponential backoff with jitter, within a bounded number of attempts
// and time.
//
// Calls that change state are never repeated blindly. When DSM answered
// busy, nothing was done and the call is repeated. When the failure is
// ambiguous (the request was sent but no answer came back), a call that
// is safe to repeat (setting a policy, adding members) is repeated, and a
// call that is not (creating, deleting, renaming, changing a password)
// first checks whether the change happened: if it did, the call succeeds;
// if not, it is tried again; if the check cannot tell, the call fails with
// the original error and says so.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts, the first included; 1 turns
	// retries off.
	MaxAttempts int
	// MaxElapsed bounds the time spent from the first attempt to the start
	// of the last one.
	MaxElapsed time.Duration
	// InitialBackoff is the wait before the first retry; each next wait
	// doubles, up to MaxBackoff. Each wait is drawn at random between half
	// and all of its value.
	InitialBackoff, MaxBackoff time.Duration
}

// DefaultRetryPolicy is the policy of a client made without WithRetry.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, MaxElapsed: 20 * time.Second, InitialBackoff: 250 * time.Millisecond, MaxBackoff: 4 * time.Second}

// NoRetry makes every call a single attempt.
var NoRetry = RetryPolicy{MaxAttempts: 1}

// WithJitterSource draws the random part of the retry backoff from src
// instead of the runtime's random numbers, so that a test replays the
// same waits from the same seed. src need not be safe for concurrent use.
func WithJitterSource(src rand.Source) Option {
	return func(c *clientConfig) error {
		if src == nil {
			return errors.New("WithJitterSource: the source is nil; pass a source or leave the option out")
		}
		var mu sync.Mutex
		r := rand.New(src)
		c.jitter = func(n int64) int64 {
			mu.Lock()
			defer mu.Unlock()
			return r.Int64N(n)
		}
		return nil
	}
}

// WithRetry replaces DefaultRetryPolicy.
func WithRetry(p RetryPolicy) Option {
	return func(c *clientConfig) error {
		if p.MaxAttempts < 1 {
			return fmt.Errorf("WithRetry: MaxAttempts %d must be at least 1 (1 turns retries off)", p.MaxAttempts)
		}
		if p.MaxAttempts > 1 && (p.InitialBackoff <= 0 || p.MaxBackoff < p.InitialBackoff || p.MaxElapsed <= 0) {
			return errors.New("WithRetry: give InitialBackoff > 0, MaxBackoff >= InitialBackoff and MaxElapsed > 0")
		}
		c.retry = &p
		return nil
	}
}

// verdict is what to do after a failed attempt.
type verdict int

const (
	giveUp verdict = iota
	tryAgain
	alreadyDone // the change was found applied: the call succeeded
)

// failureKind sorts a failed attempt.
type failureKind int

const (
	notRetryable failureKind = iota
	refused                  // nothing was done: DSM said busy, or no connection was made
	ambiguous                // the request may have been applied
)

// unsentError marks a failure that happened before the request of the
// call was written (discovery, the envelope key, a login, the connection):
// the NAS cannot have acted on the call.
type unsentError struct{ err error }

func (e *unsentError) Error() string { return e.err.Error() }
func (e *unsentError) Unwrap() error { return e.err }

// unsent marks err as a failure before the call was sent; nil stays nil.
func unsent(err error) error {
	if err == nil {
		return nil
	}
	var ue *unsentError
	if errors.As(err, &ue) {
		return err
	}
	return &unsentError{err: err}
}

// refusedError marks a failure where DSM refused the call without doing
// it, for a reason another attempt may not meet (a session that expired
// again right after its renewal).
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// renewError reports a call refused because its session expired, after
// which logging in again failed.
type renewError struct{ expired, login error }

func (e *renewError) Error() string {
	return fmt.Sprintf("%v (renewing the session failed: %v)", e.expired, e.login)
}

// Unwrap makes both the expiry and the login's failure match.
func (e *renewError) Unwrap() []error { return []error{e.login, e.expired} }

// classify says whether err is worth another attempt, and whether the
// request may have been applied.
func classify(err error) failureKind {
	var ue *unsentError
	if errors.As(err, &ue) {
		// Nothing reached the NAS: what would be ambiguous is refused.
		if classify(ue.err) == notRetryable {
			return notRetryable
		}
		return refused
	}
	var fe *refusedError
	if errors.As(err, &fe) {
		return refused
	}
	var re *renewError
	if errors.As(err, &re) {
		return classify(re.login)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if errors.Is(ae, ErrBusy) {
			return refused
		}
		return notRetryable
	}
	var se *StatusError
	if errors.As(err, &se) {
		if se.StatusCode >= 500 {
			return ambiguous
		}
		return notRetryable
	}
	var me *MalformedError
	if errors.As(err, &me) {
		return ambiguous // DSM answered something: it may have done the work
	}
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return notRetryable // a misspelt host does not come back
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return refused // the request never left
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return refused
	}
	var ne net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.As(err, &ne) {
		return ambiguous
	}
	return notRetryable
}

// withRetry runs attempt until it succeeds, fails for good, or the policy
// is spent. r tells whether the call changes state and how to check it.
func (c *Client) withRetry(ctx context.Context, r *request, attempt func() error) error {
	p := &c.retry
	start := c.now()
	backoff := p.InitialBackoff
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || ctx.Err() != nil {
			return err
		}
		kind := classify(err)
		v := giveUp
		switch {
		case kind == refused:
			v = tryAgain
		case kind == ambiguous && !r.mutating:
			v = tryAgain
		case kind == ambiguous && r.verify != nil:
			applied, verr := r.verify(ctx)
			switch {
			case verr != nil:
				c.log.DebugContext(ctx, "dsm retry: cannot tell whether the change happened", "api", r.api, "method", r.method, "error", verr.Error())
				return fmt.Errorf("%w (the answer was lost, and whether the change happened is unknown: %v)", err, verr)
			case applied:
				c.log.DebugContext(ctx, "dsm retry: the change happened despite the failure", "api", r.api, "method", r.method, "attempt", n)
				return nil
			default:
				v = tryAgain
			}
		}
		if v == giveUp || n >= p.MaxAttempts {
			return err
		}
		wait := backoff/2 + time.Duration(c.jitter(int64(backoff/2)+1))
		if c.now().Add(wait).Sub(start) > p.MaxElapsed {
			return err
		}
		c.log.DebugContext(ctx, "dsm retry", "api", r.api, "method", r.method, "attempt", n+1, "wait", wait, "after", err.Error())
		if serr := c.sleepUntil(ctx, c.now().Add(wait)); serr != nil {
			return err
		}
		backoff = min(backoff*2, p.MaxBackoff)
	}
}
