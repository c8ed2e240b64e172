package sim

import (
	"fmt"
	"sort"
	"time"
	"unicode/utf8"
)

// The simulator's bounds on what a client may make it keep. DSM's own
// limits are used where published (store.go: account names of 64
// characters, as Synology's DSM 7 specification gives them); the others are not published, and the values
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
	// maxShares is how many shared folders the simulator keeps. DSM's
	// limit depends on the model (256 on many); a choice.
	maxShares = 256
	// maxShareRows bounds the permission rows of one shared folder: one
	// per user and per group at most.
	maxShareRows = maxUsers + 2 + maxGroups
	// maxCompoundCalls bounds the calls of one SYNO.Entry.Request. DSM's
	// limit is unknown; a choice, the client's MaxBatchCalls.
	maxCompoundCalls = 32
	// maxQuotaBytes bounds a quota: 1 PiB. A choice (DSM publishes no
	// limit); package dsm's MaxQuota is the same.
	maxQuotaBytes = 1 << 50
	// maxRuleAddresses bounds the addresses of one application rule. A
	// choice; package dsm's MaxAppRuleAddresses is the same.
	maxRuleAddresses = 64
	// maxSpeedKBps bounds a speed limit, in KB/s. A choice; package
	// dsm's MaxSpeedLimit is the same.
	maxSpeedKBps = 1_000_000
	// maxRowsPerCall bounds the rows of one call that changes profiles
	// (quota rows, application rules, speed limit rows). A choice: DSM's
	// dialog sends at most a row per volume, shared folder, application
	// or protocol.
	maxRowsPerCall = 64
	// maxImportFileBytes bounds the user list of SYNO.Core.User
	// parse_user_list, maxImportRows its rows and those of import, and
	// maxImportTasks the imports kept (userimport.go). Choices: DSM
	// publishes none; package dsm's MaxImportFileSize and MaxImportRows
	// are the same.
	maxImportFileBytes = 1 << 20
	maxImportRows      = 2000
	maxImportTasks     = 16
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

// What a state file may hold, checked when it is loaded (checkState): a
// file edited by hand or damaged must not make a login hash for minutes
// under the state's lock, nor fill memory.
const (
	// maxPBKDF2Iterations bounds a stored hash's iter: 100 times the cost
	// the simulator writes (pbkdf2Iterations). A choice.
	maxPBKDF2Iterations = 100 * pbkdf2Iterations
	maxSaltLen          = 64 // bytes; the simulator writes 16
	hashLen             = 32 // bytes of a PBKDF2-SHA256 hash
	maxOTPKeyLen        = 64 // bytes; a TOTP seed is 10 to 20
)

// checkState holds a loaded state to the bounds above and to DSM's limits
// (counts of users and groups, name lengths), naming the field that is
// out of them.
func checkState(st *store) error {
	if len(st.users) > maxUsers+2 { // admin and guest besides
		return fmt.Errorf("%d users, want at most %d", len(st.users), maxUsers)
	}
	if len(st.groups) > maxGroups {
		return fmt.Errorf("%d groups, want at most %d", len(st.groups), maxGroups)
	}
	if err := checkShares(st); err != nil {
		return err
	}
	if len(st.tasks) > 2*keptTasks {
		return fmt.Errorf("%d join tasks, want at most %d", len(st.tasks), 2*keptTasks)
	}
	if st.security != nil {
		if err := st.security.checkBounds(); err != nil {
			return fmt.Errorf("security: %w", err)
		}
	}
	for _, u := range st.users {
		if tooLong(u.name, maxUserNameLen) {
			return fmt.Errorf("user %.64q...: name longer than %d characters", u.name, maxUserNameLen)
		}
		if err := u.checkBounds(); err != nil {
			return fmt.Errorf("user %q: %w", u.name, err)
		}
	}
	for _, g := range st.groups {
		if tooLong(g.name, maxGroupNameLen) || tooLong(g.description, maxDescriptionLen) {
			return fmt.Errorf("group %.64q: name or description too long (at most %d and %d characters)", g.name, maxGroupNameLen, maxDescriptionLen)
		}
	}
	return nil
}

func (u *user) checkBounds() error {
	switch {
	case tooLong(u.description, maxDescriptionLen):
		return fmt.Errorf("description longer than %d characters", maxDescriptionLen)
	case tooLong(u.email, maxEmailLen):
		return fmt.Errorf("email longer than %d characters", maxEmailLen)
	case len(u.history) > keptHistory:
		return fmt.Errorf("history has %d hashes, want at most %d", len(u.history), keptHistory)
	case len(u.otpKey) > maxOTPKeyLen:
		return fmt.Errorf("otp_key has %d bytes, want at most %d", len(u.otpKey), maxOTPKeyLen)
	case len(u.devices) > maxDevicesPerUser:
		return fmt.Errorf("devices has %d entries, want at most %d", len(u.devices), maxDevicesPerUser)
	}
	for key, name := range u.devices {
		if len(key) != 2*hashLen || tooLong(name, maxDeviceNameLen) {
			return fmt.Errorf("devices: an entry with a key of %d characters (want %d) or a name longer than %d", len(key), 2*hashLen, maxDeviceNameLen)
		}
	}
	if err := u.password.checkBounds(); err != nil {
		return fmt.Errorf("password: %w", err)
	}
	for i, h := range u.history {
		if err := h.checkBounds(); err != nil {
			return fmt.Errorf("history[%d]: %w", i, err)
		}
	}
	return nil
}

func (h passwordHash) checkBounds() error {
	switch {
	case h.Iter < 1 || h.Iter > maxPBKDF2Iterations:
		return fmt.Errorf("iter %d, want 1 to %d", h.Iter, maxPBKDF2Iterations)
	case len(h.Salt) > maxSaltLen:
		return fmt.Errorf("salt has %d bytes, want at most %d", len(h.Salt), maxSaltLen)
	case len(h.Hash) != hashLen:
		return fmt.Errorf("hash has %d bytes, want %d", len(h.Hash), hashLen)
	}
	return nil
}
