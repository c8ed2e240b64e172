package sim

import "time"

// limiter blocks a key (a client address, an account name) for a while
// once enough failed logins for it fall within a window: DSM's auto-block
// (407) and account protection (411).
type limiter struct {
	attempts int // < 0: off
	within   time.Duration
	blockFor time.Duration
	records  map[string]*failureRecord
}

// failureRecord counts the recent failures of one key.
type failureRecord struct {
	failures     []time.Time
	blockedUntil time.Time
}

func newLimiter(attempts int, within, blockFor time.Duration) *limiter {
	return &limiter{attempts: attempts, within: within, blockFor: blockFor, records: map[string]*failureRecord{}}
}

// blocked reports whether key is blocked at now.
func (l *limiter) blocked(key string, now time.Time) bool {
	rec := l.records[key]
	return rec != nil && now.Before(rec.blockedUntil)
}

// failed counts a failure of key at now, and blocks key once attempts
// failures fall within the window.
func (l *limiter) failed(key string, now time.Time) {
	if l.attempts < 0 {
		return
	}
	rec := l.records[key]
	if rec == nil {
		rec = &failureRecord{}
		l.records[key] = rec
	}
	kept := rec.failures[:0]
	for _, t := range rec.failures {
		if now.Sub(t) < l.within {
			kept = append(kept, t)
		}
	}
	rec.failures = append(kept, now)
	if len(rec.failures) >= l.attempts {
		rec.blockedUntil = now.Add(l.blockFor)
		rec.failures = nil
	}
}

// succeeded forgets the failures of key.
func (l *limiter) succeeded(key string) { delete(l.records, key) }
