package sim

import (
	"crypto/sha256"
	"time"
)

// limiter blocks a key (a client address, an account name) for a while
// once enough failed logins for it fall within a window: DSM's auto-block
// (407) and account protection (411).
//
// DSM's auto-block counts "failed login attempts within the specified
// number of minutes" (Synology's help, DSM 5.2
// AdminCenter/connection_security_autoblock.html: "An IP address shall be
// blocked when it exceeds the number of failed login attempts within the
// specified number of minutes"): a success in between does not forget the
// failures, so logging in to one's own account does not reset the count.
//
// Keys are kept as their SHA-256, so a record costs the same whatever the
// length of the name it counts, and records are dropped once their
// failures have left the window and their block has ended.
type limiter struct {
	attempts int // < 0: off
	within   time.Duration
	blockFor time.Duration
	records  map[[sha256.Size]byte]*failureRecord
	// pruned is when the records were last swept; swept again after a
	// window has passed or once the map has doubled since.
	pruned     time.Time
	prunedSize int
}

// failureRecord counts the recent failures of one key.
type failureRecord struct {
	failures     []time.Time // at most attempts of them
	blockedUntil time.Time
}

func newLimiter(attempts int, within, blockFor time.Duration) *limiter {
	return &limiter{attempts: attempts, within: within, blockFor: blockFor, records: map[[sha256.Size]byte]*failureRecord{}}
}

// blocked reports whether key is blocked at now.
func (l *limiter) blocked(key string, now time.Time) bool {
	rec := l.records[sha256.Sum256([]byte(key))]
	return rec != nil && now.Before(rec.blockedUntil)
}

// failed counts a failure of key at now, and blocks key once attempts
// failures fall within the window.
func (l *limiter) failed(key string, now time.Time) {
	if l.attempts < 0 {
		return
	}
	l.prune(now)
	k := sha256.Sum256([]byte(key))
	rec := l.records[k]
	if rec == nil {
		rec = &failureRecord{}
		l.records[k] = rec
	}
	rec.failures = append(rec.recent(now, l.within), now)
	if len(rec.failures) >= l.attempts {
		rec.blockedUntil = now.Add(l.blockFor)
		rec.failures = nil
	}
}

// recent returns the failures of rec still within the window at now,
// reusing its slice.
func (rec *failureRecord) recent(now time.Time, within time.Duration) []time.Time {
	kept := rec.failures[:0]
	for _, t := range rec.failures {
		if now.Sub(t) < within {
			kept = append(kept, t)
		}
	}
	return kept
}

// prune drops the records that no longer count: no failure left in the
// window and no block in force. It sweeps at most once per window unless
// the map has doubled since the last sweep, so its cost is amortised.
func (l *limiter) prune(now time.Time) {
	if now.Sub(l.pruned) < l.within && len(l.records) < 2*l.prunedSize+64 {
		return
	}
	for k, rec := range l.records {
		rec.failures = rec.recent(now, l.within)
		if len(rec.failures) == 0 && !now.Before(rec.blockedUntil) {
			delete(l.records, k)
		}
	}
	l.pruned, l.prunedSize = now, len(l.records)
}

// size returns how many keys have a record.
func (l *limiter) size() int { return len(l.records) }
