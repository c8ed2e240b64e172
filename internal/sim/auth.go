package sim

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/flynn/noise"
)

// Login error codes of SYNO.API.Auth, as Synology's DSM Login Web API
// Guide lists them (N4S4/synology-api synology_api/error_codes.py), with
// 411 from mib1185/py-synologydsm-api src/synology_dsm/const.py
// (ERROR_AUTH).
const (
	codeWrongCredentials = 400
	codeAccountDisabled  = 401
	codeOTPRequired      = 403
	codeOTPRejected      = 404
	codeOTPEnforced      = 406
	codeAddressBlocked   = 407
	codeExpiredNoChange  = 408 // password expired and the user cannot change it
	codePasswordExpired  = 409
	codeAccountLocked    = 411
)

// loginData is the data of a successful login. IKMessage is message 2 of
// the secure sign-in when the client sent message 1, and "" when it sent
// none, as real DSM answered such clients (home-assistant/core
// #64867). A client that sent one never gets "": the reference client's
// Noise library crashes on it; a message 1 that cannot be read refuses the
// login instead (codeBadIKMessage).
type loginData struct {
	SID          string `json:"sid"`
	SynoToken    string `json:"synotoken"`
	DeviceID     string `json:"device_id"`
	Account      string `json:"account"`
	IsPortalPort bool   `json:"is_portal_port"`
	IKMessage    string `json:"ik_message"`
}

// loginDataV6 is the data of a version 6 login: the device token is
// "did", and there is no account (Synology support's example quoted in
// ProtoThis/python-synology #11: did, is_portal_port, sid;
// mib1185/py-synologydsm-api tests/api_data/dsm_6/const_6_api_auth.py
// adds synotoken).
type loginDataV6 struct {
	DID          string `json:"did"`
	IsPortalPort bool   `json:"is_portal_port"`
	SID          string `json:"sid"`
	SynoToken    string `json:"synotoken"`
}

// otpTypes is the "errors" member of a 403 answer: the 2-step methods a
// real DSM 7 offers.
type otpTypes struct {
	Token string         `json:"token"`
	Types []otpTypeEntry `json:"types"`
}

type otpTypeEntry struct {
	Type string `json:"type"`
}

// authTypeGet answers SYNO.API.Auth.Type get (account), which needs no
// session: the ways the account signs in, as a bare list of {type}.
// Public clients send it before login with the account name and read
// that list (TypeScript and Dart DSM clients; N4S4/synology-api
// core_security_auth.py auth_type_get); values seen in them are passwd,
// otp, authenticator and fido. The simulator has password sign-in only:
// it answers passwd, then otp for an account with 2-step verification set
// up (as one client's test answer shows). An unknown or missing account
// gets passwd alone, so the answer does not tell which accounts exist;
// that, and the order, are guesses.
func (s *Server) authTypeGet(q *request) (any, error) {
	types := []otpTypeEntry{{Type: "passwd"}}
	if u := s.st.userByName(q.str("account")); u != nil && u.otpKey != nil {
		types = append(types, otpTypeEntry{Type: "otp"})
	}
	return types, nil
}

// login answers SYNO.API.Auth login. Checks, in order: auto-block (407),
// the secure sign-in's message 1 when ik_message is sent (codeBadIKMessage),
// account protection (411), account and password (400), disabled account
// (401), 2-step verification enforced but not set up (406), trusted device
// or 2-step code (403, 404). Client parameters DSM ignores here (client,
// logintype, rememberme) are accepted and ignored. The session of a
// client outside Config.LocalNets that did not complete the handshake is
// limited (N4S4/synology-api issue #239).
func (s *Server) login(q *request) (any, error) {
	if s.addrBlocked(q.addr, q.now) {
		return nil, fail(codeAddressBlocked)
	}
	if !q.has("account") {
		return nil, fail(codeMissingParameters)
	}
	if tooLong(q.str("session"), maxSessionNameLen) || tooLong(q.str("device_name"), maxDeviceNameLen) {
		return nil, fail(codeInvalidParameter) // bounds.go: a choice, DSM's limits are unknown
	}
	var hs *noise.HandshakeState
	if m := q.str("ik_message"); m != "" { // an empty one is no message: as if none was sent
		var err error
		if hs, err = s.readIKMessage(m); err != nil {
			return nil, fail(codeBadIKMessage)
		}
	}
	account := fold(q.str("account"))
	if s.byAccount.blocked(account, q.now) {
		return nil, fail(codeAccountLocked)
	}
	u := s.st.userByName(q.str("account"))
	if u == nil {
		s.loginFailed(q.addr, account, "", q.now)
		return nil, fail(codeWrongCredentials)
	}
	u, ok, changed := s.passwordMatches(u, q.str("passwd"))
	if changed {
		// The account or its password changed while the hash was
		// computed: this login checked a password that is no longer
		// the account's. Not counted as a failure.
		return nil, fail(codeWrongCredentials)
	}
	if !ok {
		s.loginFailed(q.addr, account, u.name, q.now)
		return nil, fail(codeWrongCredentials)
	}
	if u.disabled(q.now) {
		return nil, fail(codeAccountDisabled)
	}
	if e := s.st.expiry; e.Enable && !u.passwordNeverExpire && day(q.now)-u.passwordLastChange >= e.MaxAge {
		if u.cannotChangePassword || !e.AllowResetAfterExpired {
			return nil, fail(codeExpiredNoChange)
		}
		return nil, fail(codePasswordExpired)
	}
	deviceID := q.str("device_id")
	if u.otpKey == nil {
		if s.mustHaveOTP(u) {
			return nil, fail(codeOTPEnforced)
		}
		deviceID = ""
	} else if _, trusted := u.devices[deviceKey(deviceID)]; !trusted || deviceID == "" {
		deviceID = ""
		code := q.str("otp_code")
		if code == "" {
			// Every published 403 lists these three types, in this order
			// (home-assistant/core #54238 on DSM 7.0), and
			// none shows what the account had set up: whether DSM narrows
			// the list to the account's methods is unknown, so the
			// simulator answers what was seen, whatever the account has.
			return nil, &apiError{code: codeOTPRequired, details: otpTypes{
				Token: randomToken(16),
				Types: []otpTypeEntry{{"authenticator"}, {"fido"}, {"otp"}},
			}}
		}
		if !acceptOTP(u, code, q.now) {
			s.loginFailed(q.addr, account, u.name, q.now)
			return nil, fail(codeOTPRejected)
		}
		s.dirty = true
	}
	// A success does not forget earlier failures: DSM's auto-block
	// counts failed attempts within its window (limits.go).

	if q.yes("enable_device_token") {
		deviceID = randomToken(32)
		makeRoomForDevice(u)
		u.devices[deviceKey(deviceID)] = q.str("device_name")
		s.dirty = true
	}
	sess := &session{sid: randomToken(32), uid: u.uid, name: q.str("session"), lastUsed: q.now, authVersion: q.version}
	ikAnswer := ""
	if hs != nil {
		var err error
		if ikAnswer, sess.ssi, err = s.answerIK(hs); err != nil {
			return nil, fail(codeUnknown)
		}
	}
	sess.limited = sess.ssi == nil && !s.isLocal(q.addr)
	if q.yes("enable_syno_token") {
		sess.synoToken = randomToken(16)
	}
	s.makeRoomForSession(u.uid)
	s.sessions[sess.sid] = sess
	s.logins.Add(1)
	if sess.ssi != nil {
		s.secureLogins.Add(1)
	}
	if q.str("format") != "sid" {
		http.SetCookie(q.w, &http.Cookie{Name: "id", Value: sess.sid, Path: "/", HttpOnly: true})
	}
	if q.version <= 6 {
		return loginDataV6{DID: deviceID, SID: sess.sid, SynoToken: sess.synoToken}, nil
	}
	return loginData{SID: sess.sid, SynoToken: sess.synoToken, DeviceID: deviceID, Account: u.name, IKMessage: ikAnswer}, nil
}

// passwordMatches checks pw against u's password with s.mu released, so
// that a slow hash (PBKDF2) never holds the state's lock, then takes the
// lock again and returns u as the state now has it. changed reports that
// the account is gone or its password is another since: then u is nil.
// Call with s.mu held; it is held again on return, even on a panic.
func (s *Server) passwordMatches(u *user, pw string) (now *user, ok, changed bool) {
	uid, h := u.uid, u.password
	s.mu.Unlock()
	func() {
		defer s.mu.Lock()
		if s.unlockedHook != nil {
			s.unlockedHook()
		}
		ok = h.matches(pw)
	}()
	now = s.st.userByUID(uid)
	if now == nil || !bytes.Equal(now.password.Hash, h.Hash) || !bytes.Equal(now.password.Salt, h.Salt) {
		return nil, false, true
	}
	return now, ok, false
}

// deviceKey is how a trusted-device token is kept: its SHA-256, so the
// state file holds no usable token.
func deviceKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// acceptOTP checks a 2-step code against the steps around now (one step
// of clock skew each way) and refuses any step at or before the last one
// accepted for u, so a code cannot be used twice.
func acceptOTP(u *user, code string, now time.Time) bool {
	if len(code) != 6 {
		return false
	}
	cur := totpStepAt(now)
	for step := cur + 1; step >= cur-1; step-- {
		if subtle.ConstantTimeCompare([]byte(totpCode(u.otpKey, step)), []byte(code)) == 1 {
			if step <= u.lastOTPStep {
				return false
			}
			u.lastOTPStep = step
			return true // the caller marks the state dirty
		}
	}
	return false
}

// loginFailed counts a failed login from addr for account; name is the
// account's name as the lock list shows it ("" for no such account).
// Call with s.mu held.
func (s *Server) loginFailed(addr, account, name string, now time.Time) {
	s.addrFailed(addr, now)
	s.byAccount.failed(account, name, addr, now)
}

// logout answers SYNO.API.Auth logout: it ends the session named by _sid
// (or cookie id) and answers success even without one.
func (s *Server) logout(q *request) (any, error) {
	delete(s.sessions, sidOf(q))
	return nil, nil
}
