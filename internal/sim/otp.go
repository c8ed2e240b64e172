package sim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"net/url"
	"slices"
	"sort"
	"strings"

	"rsc.io/qr"
)

// 2-step verification: one's own set-up (SYNO.Core.OTP), the
// administration of others (SYNO.Core.OTP.Admin), the enforcement policy
// (SYNO.Core.OTP.EnforcePolicy) and one's trusted devices
// (SYNO.Core.TrustDevice).

// otpEnforceOptions are the values of otp_enforce_option: none,
// administrators ("admin") or every user ("user") (DSM 6.2.3
// admin_center.js; ychiu1211/dsmctl sets them on DSM 7.3). DSM 7 adds
// "custom" with a per-user list set by EnforcePolicy custom_set (a
// published synowebapi example); the simulator does not model it and
// answers 120 to it.
var otpEnforceOptions = []string{"none", "admin", "user"}

// otpHost is the host part of the account DSM's QR code names
// ("name@host"). DSM uses the NAS's name; "DiskStation", DSM's default
// name, is a choice.
const otpHost = "DiskStation"

// otpSeedBytes is the size of a new TOTP seed: 10 bytes, 16 base32
// characters, as the google-authenticator PAM module DSM builds on makes
// them (DSM keeps them under /usr/syno/etc/preference/NAME/google_authenticator,
// per Synology's dsdefault.h). A choice where DSM's size is unknown.
const otpSeedBytes = 10

// codeOTPSetupRejected answers a wrong code to SYNO.Core.OTP
// auth_tmp_code. DSM's code is unknown: 404, the code of a wrong 2-step
// code at login, is a choice.
const codeOTPSetupRejected = 404

// mustHaveOTP reports whether the enforcement policy or the account's own
// flag requires 2-step verification of u.
func (s *Server) mustHaveOTP(u *user) bool {
	switch s.st.security.OTPEnforce {
	case "user":
		return true
	case "admin":
		if s.st.isAdmin(u) {
			return true
		}
	}
	return u.otpEnforced
}

// otpGetQRCode answers SYNO.Core.OTP get_qrcode {account} (version 2, as
// ApaipaiLtd/dsm_helper lib/util/api.dart calls it on DSM 6 and 7): a new
// seed for the session's own account, kept pending until auth_tmp_code
// confirms it. The answer has appAccount, img (the QR code of the
// otpauth:// URI, a base64 PNG) and key (the base32 seed), the fields a
// TypeScript DSM client types for it (get_qrcode: {appAccount, img,
// key}). Another account than the session's is 105 (a choice: DSM's
// wizard sends the user's own name).
func (s *Server) otpGetQRCode(q *request) (any, error) {
	account := q.str("account")
	if account == "" {
		account = q.user.name
	}
	if fold(account) != fold(q.user.name) {
		return nil, fail(codePermission)
	}
	key := make([]byte, otpSeedBytes)
	rand.Read(key)
	q.user.pendingOTPKey = key
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	app := q.user.name + "@" + otpHost
	uri := "otpauth://totp/" + url.PathEscape(app) + "?secret=" + secret + "&issuer=" + url.QueryEscape(otpHost)
	img := ""
	if code, err := qr.Encode(uri, qr.M); err == nil {
		img = base64.StdEncoding.EncodeToString(code.PNG())
	}
	return map[string]any{"appAccount": app, "img": img, "key": secret}, nil
}

// otpAuthTmpCode answers SYNO.Core.OTP auth_tmp_code {code}
// (ApaipaiLtd/dsm_helper): the code of the pending seed turns 2-step
// verification on with it. Without a pending seed: 120; a wrong code:
// codeOTPSetupRejected (choices). The account's trusted devices are
// forgotten: they were trusted under another seed (a choice).
func (s *Server) otpAuthTmpCode(q *request) (any, error) {
	u := q.user
	if u.pendingOTPKey == nil {
		return nil, fail(codeInvalidParameter)
	}
	code := q.str("code")
	cur := totpStepAt(q.now)
	for step := cur + 1; step >= cur-1; step-- {
		if len(code) == 6 && subtle.ConstantTimeCompare([]byte(totpCode(u.pendingOTPKey, step)), []byte(code)) == 1 {
			u.otpKey, u.pendingOTPKey = u.pendingOTPKey, nil
			u.lastOTPStep = step
			clear(u.devices)
			s.dirty = true
			return nil, nil
		}
	}
	return nil, fail(codeOTPSetupRejected)
}

// otpGetOne answers SYNO.Core.OTP get_one: {otp_set}, whether the
// session's account has 2-step verification (the field a TypeScript DSM
// client types for get_one, version 2).
func (s *Server) otpGetOne(q *request) (any, error) {
	return map[string]any{"otp_set": q.user.otpKey != nil}, nil
}

// otpDisable answers SYNO.Core.OTP disable: the session's account turns
// 2-step verification off. No public client shows how DSM's personal
// settings turn it off: the method is a choice. An account the policy
// requires 2-step of is refused with 105 (a choice).
func (s *Server) otpDisable(q *request) (any, error) {
	if s.mustHaveOTP(q.user) {
		return nil, fail(codePermission)
	}
	q.user.otpKey, q.user.pendingOTPKey = nil, nil
	clear(q.user.devices)
	s.dirty = true
	return nil, nil
}

// otpAdminUser reads the name of an OTP.Admin call: missing is 114, no
// such user 3106.
func (s *Server) otpAdminUser(q *request) (*user, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	names, err := q.names("name", true, codeInvalidParameter)
	if err != nil || len(names) != 1 {
		return nil, fail(codeInvalidParameter)
	}
	u := s.st.userByName(names[0])
	if u == nil {
		return nil, fail(codeNoSuchUser)
	}
	return u, nil
}

// otpAdminGet answers SYNO.Core.OTP.Admin get {name}: users[0].enable_otp
// (DSM 6.2.3 admin_center.js loadDetail; ApaipaiLtd/dsm_helper sends the
// same call).
func (s *Server) otpAdminGet(q *request) (any, error) {
	u, err := s.otpAdminUser(q)
	if err != nil {
		return nil, err
	}
	return map[string]any{"users": []map[string]any{{"name": u.name, "enable_otp": u.otpKey != nil}}}, nil
}

// otpAdminReset answers SYNO.Core.OTP.Admin reset {name} (DSM 6.2.3
// admin_center.js, the "reset 2-step" button): the account's 2-step
// verification is turned off and its trusted devices forgotten (the
// latter a choice). The last accepted step is kept, so a code used
// before cannot serve again if the same seed comes back.
func (s *Server) otpAdminReset(q *request) (any, error) {
	u, err := s.otpAdminUser(q)
	if err != nil {
		return nil, err
	}
	u.otpKey, u.pendingOTPKey = nil, nil
	clear(u.devices)
	s.dirty = true
	return nil, nil
}

// enforcePolicyGet answers SYNO.Core.OTP.EnforcePolicy get:
// enable_otp_enforcement and otp_enforce_option (DSM 6.2.3
// admin_center.js; ychiu1211/dsmctl reads otp_enforce_option on DSM 7.3).
func (s *Server) enforcePolicyGet(q *request) (any, error) {
	opt := s.st.security.OTPEnforce
	return map[string]any{"enable_otp_enforcement": opt != "none", "otp_enforce_option": opt}, nil
}

// enforcePolicySet answers SYNO.Core.OTP.EnforcePolicy set
// {enable_otp_enforcement, otp_enforce_option}. enable false makes the
// option none, as DSM's UI forces it (DSM 6.2.3 admin_center.js); an
// option missing with enable true is 114; one the simulator does not know
// (custom included, see otpEnforceOptions) is 120. DSM's UI asks for the
// mail service first; the simulator does not.
func (s *Server) enforcePolicySet(q *request) (any, error) {
	enable, err := q.boolean("enable_otp_enforcement", true, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	opt := "none"
	if enable {
		if !q.has("otp_enforce_option") {
			return nil, fail(codeMissingParameters)
		}
		opt = q.str("otp_enforce_option")
		if !slices.Contains(otpEnforceOptions, opt) {
			return nil, fail(codeInvalidParameter)
		}
	}
	s.st.security.OTPEnforce = opt
	s.dirty = true
	return nil, nil
}

// deviceIDLen is how many hex digits of a trusted device's stored key make
// its id in SYNO.Core.TrustDevice: enough to tell an account's 64 devices
// apart, too few to be the key (a choice).
const deviceIDLen = 16

// trustedDevice is a row of SYNO.Core.TrustDevice get. DSM's table lists
// get, delete, delete_others and create (kwent/syno definitions/7.x); no
// public client shows the answer's fields: {id, name} is a choice.
type trustedDevice struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// trustDeviceGet answers SYNO.Core.TrustDevice get: the session's own
// trusted devices (those whose token skips the 2-step code), by id.
func (s *Server) trustDeviceGet(q *request) (any, error) {
	rows := []trustedDevice{}
	for k, name := range q.user.devices {
		rows = append(rows, trustedDevice{ID: k[:deviceIDLen], Name: name})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return map[string]any{"devices": rows, "total": len(rows)}, nil
}

// trustDeviceDelete answers SYNO.Core.TrustDevice delete {id} (one id or
// a list): the devices are no longer trusted; their next login needs a
// code. An id of no device is ignored (a choice).
func (s *Server) trustDeviceDelete(q *request) (any, error) {
	ids, err := q.names("id", true, codeMissingParameters)
	if err != nil {
		return nil, err
	}
	for k := range q.user.devices {
		if slices.ContainsFunc(ids, func(id string) bool { return len(id) == deviceIDLen && strings.HasPrefix(k, strings.ToLower(id)) }) {
			delete(q.user.devices, k)
		}
	}
	s.dirty = true
	return nil, nil
}

// PendingTOTPSecret returns the base32 seed SYNO.Core.OTP get_qrcode last
// made for the named account and that auth_tmp_code has not confirmed
// yet, or "". Tests use it as an authenticator app would.
func (s *Server) PendingTOTPSecret(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.users[fold(name)]
	if u == nil || u.pendingOTPKey == nil {
		return ""
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(u.pendingOTPKey)
}
