package sim

import (
	"crypto/sha256"
	"slices"
	"strings"
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
	off      bool // counts nothing and blocks nothing (the setting's enable is false)
	attempts int
	within   time.Duration
	blockFor time.Duration // how long a block lasts; foreverBlock: until lifted
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
	blockedAt    time.Time
	// label is what the block and lock lists show for the key (an
	// address, an account's name); "" for a key no list shows (a login
	// to an account that does not exist). lastAddr is the address of the
	// last failure.
	label, lastAddr string
}

// foreverBlock is the length of a block that lasts until it is lifted
// (DSM's expire_day 0).
const foreverBlock = 100 * 365 * 24 * time.Hour

// newLimiter returns a limiter; attempts < 0 makes it off (then it counts
// with the defaults once turned on).
func newLimiter(attempts, defAttempts int, within, blockFor time.Duration) *limiter {
	l := &limiter{attempts: attempts, within: within, blockFor: blockFor, records: map[[sha256.Size]byte]*failureRecord{}}
	if attempts < 0 {
		l.off, l.attempts = true, defAttempts
	}
	return l
}

// blocked reports whether key is blocked at now. An off limiter blocks
// nothing, but keeps its records.
func (l *limiter) blocked(key string, now time.Time) bool {
	rec := l.records[sha256.Sum256([]byte(key))]
	return !l.off && rec != nil && now.Before(rec.blockedUntil)
}

// blockedEntry is one key blocked at the time blockedList was asked.
type blockedEntry struct {
	label, lastAddr string
	since, until    time.Time
}

// blockedList returns the labelled keys blocked at now, sorted by label;
// none while the limiter is off (its blocks do not apply).
func (l *limiter) blockedList(now time.Time) []blockedEntry {
	if l.off {
		return nil
	}
	var out []blockedEntry
	for _, rec := range l.records {
		if rec.label != "" && now.Before(rec.blockedUntil) {
			out = append(out, blockedEntry{label: rec.label, lastAddr: rec.lastAddr, since: rec.blockedAt, until: rec.blockedUntil})
		}
	}
	slices.SortFunc(out, func(a, b blockedEntry) int { return strings.Compare(a.label, b.label) })
	return out
}

// forget drops the record of key: its block ends and its failures are
// forgotten (DSM's unblock and pardon).
func (l *limiter) forget(key string) {
	delete(l.records, sha256.Sum256([]byte(key)))
}

// failed counts a failure of key at now, and blocks key once attempts
// failures fall within the window. label and addr are kept for the lists.
func (l *limiter) failed(key, label, addr string, now time.Time) {
	if l.off {
		return
	}
	l.prune(now)
	k := sha256.Sum256([]byte(key))
	rec := l.records[k]
	if rec == nil {
		rec = &failureRecord{}
		l.records[k] = rec
	}
	rec.label, rec.lastAddr = label, addr
	rec.failures = append(rec.recent(now, l.within), now)
	if len(rec.failures) >= l.attempts {
		rec.blockedUntil = now.Add(l.blockFor)
		rec.blockedAt = now
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
