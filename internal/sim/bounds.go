package sim

import (
	"sort"
	"time"
	"unicode/utf8"
)

// The simulator's bounds on what a client may make it keep. DSM's own
// limits are used where published (store.go: account names of 64
// characters, PROTOCOL 6); the others are not published, and the values
// here are choices, large enough for every client seen (the reference
// client's session names and device names are a few dozen characters).
const (
	// maxSessionNameLen bounds login's session parameter (webui,
	// FileStation, dsmctl...). A choice: DSM's limit is unknown.
	maxSessionNameLen = 64
	// maxDeviceNameLen bounds login's device_name, kept with a trusted
	// device in the state file. A choice: DSM's limit is unknown.
	maxDeviceNameLen = 255
	// maxSessionsPerUser is how many sessions one account keeps open;
	// a login beyond it ends the account's least recently used session.
	// A choice: how many DSM keeps is unknown.
	maxSessionsPerUser = 256
	// maxSessions is how many sessions the simulator keeps in all; a
	// login beyond it ends the least recently used one. A choice.
	maxSessions = 8192
	// maxDevicesPerUser is how many trusted devices one account keeps; a
	// new one beyond it drops the one whose token hash sorts first (the
	// state file keeps no date to find the oldest by). A choice: DSM's
	// limit is unknown.
	maxDevicesPerUser = 64
	// sessionSweepEvery is how often (sim clock) expired sessions are
	// swept, besides when the session count has doubled since the last
	// sweep; a call with an expired session is refused whenever it comes.
	sessionSweepEvery = time.Minute
)

// tooLong reports whether v has more than n characters (or is not UTF-8
// and longer than n bytes).
func tooLong(v string, n int) bool {
	return len(v) > n && (!utf8.ValidString(v) || utf8.RuneCountInString(v) > n)
}

// sweepSessions drops the sessions idle for longer than the idle timeout,
// at most once per sessionSweepEvery unless the map has doubled since the
// last sweep. Call with s.mu held.
func (s *Server) sweepSessions(now time.Time) {
	if now.Sub(s.swept) < sessionSweepEvery && len(s.sessions) < 2*s.sweptSize+64 {
		return
	}
	for sid, sess := range s.sessions {
		if now.Sub(sess.lastUsed) > s.idle {
			delete(s.sessions, sid)
		}
	}
	s.swept, s.sweptSize = now, len(s.sessions)
}

// makeRoomForSession ends the least recently used session of uid when it
// has maxSessionsPerUser, and the least recently used of all when there
// are maxSessions. Call with s.mu held.
func (s *Server) makeRoomForSession(uid int) {
	var oldestOfUser, oldest *session
	n := 0
	for _, sess := range s.sessions {
		if oldest == nil || sess.lastUsed.Before(oldest.lastUsed) {
			oldest = sess
		}
		if sess.uid != uid {
			continue
		}
		n++
		if oldestOfUser == nil || sess.lastUsed.Before(oldestOfUser.lastUsed) {
			oldestOfUser = sess
		}
	}
	if n >= maxSessionsPerUser {
		delete(s.sessions, oldestOfUser.sid)
		return
	}
	if len(s.sessions) >= maxSessions {
		delete(s.sessions, oldest.sid)
	}
}

// makeRoomForDevice drops trusted devices of u until one more fits in
// maxDevicesPerUser, those whose key sorts first going first.
func makeRoomForDevice(u *user) {
	extra := len(u.devices) - maxDevicesPerUser + 1
	if extra <= 0 {
		return
	}
	keys := make([]string, 0, len(u.devices))
	for k := range u.devices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys[:extra] {
		delete(u.devices, k)
	}
}
