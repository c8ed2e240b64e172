package dsm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Credentials are what a login presents.
type Credentials struct {
	// Account is the DSM user name.
	Account string
	// Password is the account's password.
	Password string
	// OTPCode is a 2-step verification code for this login. It is used
	// once: a renewal of the session relies on DeviceID instead.
	OTPCode string
	// DeviceName, when set, asks DSM to trust this device: the answer
	// carries a device token (Session.DeviceID) that later logins present
	// instead of a code.
	DeviceName string
	// DeviceID is a device token from an earlier login; with it, an
	// account with 2-step verification logs in without a code.
	DeviceID string
	// TOTP, when set, computes the 2-step code at each login that needs
	// one, renewals included. When DSM rejects the code because it was
	// already used in its 30-second window (by another login with the same
	// seed), the login waits for the next window and tries once more.
	TOTP *TOTPKey
	// TOTPWait, when set with TOTP, is called before such a wait with its
	// length (up to 30 s), so that a program can tell its user why
	// nothing happens meanwhile.
	TOTPWait func(wait time.Duration)
}

func (c Credentials) validate() error {
	if c.Account == "" {
		return errors.New("the account name is empty")
	}
	if strings.IndexFunc(c.Account, unicode.IsControl) >= 0 {
		return errors.New("the account name contains control characters")
	}
	if c.Password == "" {
		return errors.New("the password is empty")
	}
	if err := ValidateOTPCode(c.OTPCode); err != nil {
		return err
	}
	if c.OTPCode != "" && c.TOTP != nil {
		return errors.New("give a 2-step code or a TOTP seed, not both")
	}
	if strings.IndexFunc(c.DeviceName, unicode.IsControl) >= 0 {
		return errors.New("the device name contains control characters")
	}
	return nil
}

// Session is a logged-in DSM session. It can be saved and given back to
// WithSession to resume without the password. It is a secret.
type Session struct {
	// Account is the user the session belongs to.
	Account string `json:"account"`
	// SID is the session id (_sid).
	SID string `json:"sid"`
	// SynoToken is the CSRF token sent as X-SYNO-TOKEN.
	SynoToken string `json:"synotoken"`
	// DeviceID is the device token DSM issued at login, if one was asked
	// for: save it and present it as Credentials.DeviceID.
	DeviceID string `json:"device_id,omitempty"`
	// SecureSignIn tells whether the login did DSM 7's secure sign-in
	// (WithSecureSignIn): the session's requests are then signed, and
	// DSM gives it full rights from any address. Without it, DSM gives a
	// session from an address it counts as remote limited rights.
	SecureSignIn bool `json:"secure_sign_in,omitempty"`
	// Signing is the state that signs the session's requests, set when
	// SecureSignIn is. Auth.Session returns it with the nonce of the next
	// request; a program that resumes the session in another process
	// must save the Session again after its last call, or that process
	// would repeat nonces DSM has seen.
	Signing SigningState `json:"signing,omitzero"`
}

// String hides the secrets, so a Session printed by mistake leaks nothing.
func (s Session) String() string {
	if !s.SecureSignIn {
		return fmt.Sprintf("dsm.Session{Account: %q, SID: [redacted], SynoToken: [redacted]}", s.Account)
	}
	return fmt.Sprintf("dsm.Session{Account: %q, SID: [redacted], SynoToken: [redacted], SecureSignIn: true, Signing: %s}", s.Account, s.Signing)
}

// GoString hides the secrets from %#v as well.
func (s Session) GoString() string { return s.String() }

// AuthService logs in and out (SYNO.API.Auth).
type AuthService struct {
	c *Client
}

// loginData is the answer of SYNO.API.Auth login.
type loginData struct {
	SID       string `json:"sid"`
	SynoToken string `json:"synotoken"`
	DeviceID  string `json:"device_id"`
	DID       string `json:"did"` // DSM 6 name of device_id
	Account   string `json:"account"`
	// IKMessage is message 2 of the secure sign-in, kept raw so that an
	// answer with an odd one still logs in.
	IKMessage json.RawMessage `json:"ik_message"`
}

// Login logs in to DSM and keeps the session for later calls. The client
// also keeps the credentials to log in again when the session expires;
// a one-time code is not reused, so accounts with 2-step verification
// should ask for a device token (DeviceName).
//
// Over plain http the credentials travel inside the SYNO.API.Encryption
// envelope; over https in the request body. Where the NAS offers it, the
// login does DSM 7's secure sign-in (see WithSecureSignIn).
//
// DSM: SYNO.API.Auth.UIConfig get (the NAS's key for the secure sign-in),
// SYNO.API.Auth login (version 7, or 6 on DSM 6).
func (a *AuthService) Login(ctx context.Context, cred Credentials) (Session, error) {
	if err := cred.validate(); err != nil {
		return Session{}, argError("login", err)
	}
	var sess Session
	r := &request{api: "SYNO.API.Auth", method: "login", auth: authNone, login: &cred, out: &sess}
	if err := a.c.do(ctx, r); err != nil {
		return Session{}, err
	}
	return sess, nil
}

// Logout ends the session on the server and forgets it, and forgets the
// credentials too: later calls fail with ErrNotLoggedIn until the next
// Login. Logging out without a session does nothing.
//
// DSM: SYNO.API.Auth logout.
func (a *AuthService) Logout(ctx context.Context) error {
	s := a.c.auth.forget()
	if s == nil {
		return nil
	}
	err := a.c.do(ctx, logoutRequest(s))
	if errors.Is(err, ErrSessionExpired) {
		return nil // already gone
	}
	return err
}

// logoutRequest ends the session s, and only s.
func logoutRequest(s *session) *request {
	r := newRead("SYNO.API.Auth", "logout", Params{"session": "webui"}, nil)
	r.auth, r.sess = authGiven, s
	return r
}

// Session returns the current session, and false when there is none. For
// a session opened with secure sign-in, Signing.NextNonce is the nonce of
// the next request: save the Session after the last call to resume it
// elsewhere.
func (a *AuthService) Session() (Session, bool) {
	s := a.c.auth.current()
	if s == nil {
		return Session{}, false
	}
	return s.snapshot(), true
}

// session is one logged-in session as the client holds it. It is never
// replaced in part: a login or a renewal replaces it whole, so state
// that belongs to one session lives here.
type session struct {
	// Session is the session as the login made it; its
	// Signing.NextNonce is the first nonce, and snapshot the current one.
	Session
	// signer signs the session's requests; nil when the session was
	// opened without secure sign-in.
	signer *signer
	// unsigned says why the session has no signer, for the message of a
	// refused change.
	unsigned string
}

// snapshot returns the Session with the nonce the next request takes.
func (s *session) snapshot() Session {
	out := s.Session
	if s.signer != nil {
		out.Signing = s.signer.state()
	}
	return out
}

// newSession holds sess; a signing state it carries (checked by
// WithSession or made by the handshake) makes it signed.
func newSession(sess Session, unsigned string) *session {
	s := &session{Session: sess, unsigned: unsigned}
	if sess.SecureSignIn {
		sg, err := newSigner(sess.Signing)
		if err == nil {
			s.signer = sg
		} else {
			s.Session.SecureSignIn, s.Session.Signing = false, SigningState{}
			s.unsigned = "its signing state is unusable"
		}
	}
	return s
}

// sessionKeeper owns the client's session and credentials: it logs in,
// renews an expired session once for all the calls that saw it expire,
// and forgets both at logout. Its requests take the client's one path
// (Client.exchange).
type sessionKeeper struct {
	c *Client

	// loginMu serialises logins, so that concurrent calls share one.
	loginMu sync.Mutex

	mu   sync.RWMutex
	cur  *session
	cred *Credentials
}

func newSessionKeeper(c *Client, cred *Credentials, resumed *Session) *sessionKeeper {
	k := &sessionKeeper{c: c, cred: cred}
	if resumed != nil {
		k.cur = newSession(*resumed, "the session was resumed with WithSession from a login without it")
	}
	return k
}

// current returns the session, or nil.
func (k *sessionKeeper) current() *session {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.cur
}

// canLogIn reports whether the keeper has credentials to log in with.
func (k *sessionKeeper) canLogIn() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.cred != nil
}

// ensure returns the current session, logging in first when there is
// none and the keeper has credentials.
func (k *sessionKeeper) ensure(ctx context.Context) (*session, error) {
	if s := k.current(); s != nil {
		return s, nil
	}
	return k.renew(ctx, nil)
}

// renew logs in again unless another goroutine already replaced stale
// (nil: there was no session); all callers that saw the same expired
// session share one login.
func (k *sessionKeeper) renew(ctx context.Context, stale *session) (*session, error) {
	k.loginMu.Lock()
	defer k.loginMu.Unlock()
	k.mu.RLock()
	cur, cred := k.cur, k.cred
	k.mu.RUnlock()
	if cur != nil && cur != stale {
		return cur, nil
	}
	if cred == nil {
		return nil, ErrNotLoggedIn
	}
	return k.loginLocked(ctx, *cred)
}

// forget drops the session and the credentials and returns the session
// that was current, or nil.
func (k *sessionKeeper) forget() *session {
	k.loginMu.Lock()
	defer k.loginMu.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.cur
	k.cur, k.cred = nil, nil
	return s
}

// login logs in with cred and keeps the session and the credentials.
func (k *sessionKeeper) login(ctx context.Context, cred Credentials) (*session, error) {
	k.loginMu.Lock()
	defer k.loginMu.Unlock()
	return k.loginLocked(ctx, cred)
}

// loginLocked does the work of login; the caller holds loginMu. With a
// TOTP seed it computes the code itself: not at all when a device token
// may spare it, and once more in the next window when DSM rejects a code
// already used in the current one.
func (k *sessionKeeper) loginLocked(ctx context.Context, cred Credentials) (*session, error) {
	c := k.c
	code := cred.OTPCode
	if cred.TOTP != nil && cred.DeviceID == "" {
		code = cred.TOTP.Code(c.now())
	}
	s, err := k.attempt(ctx, cred, code)
	if cred.TOTP == nil {
		return s, err
	}
	if code == "" && errors.Is(err, ErrOTPRequired) {
		// The device token was not enough.
		code = cred.TOTP.Code(c.now())
		s, err = k.attempt(ctx, cred, code)
	}
	if code != "" && errors.Is(err, ErrOTPRejected) {
		next := nextWindow(c.now())
		c.log.DebugContext(ctx, "dsm 2-step code rejected; waiting for the next window", "wait", next.Sub(c.now()).Round(time.Millisecond))
		if cred.TOTPWait != nil {
			cred.TOTPWait(next.Sub(c.now()))
		}
		if werr := c.sleepUntil(ctx, next); werr != nil {
			return nil, werr
		}
		code = cred.TOTP.Code(c.now())
		s, err = k.attempt(ctx, cred, code)
	}
	return s, err
}

// attempt is one login: the start of the secure sign-in when the mode
// allows it, one SYNO.API.Auth login request (two when DSM refused the
// one that carried the handshake and the mode allows going without it),
// and the end of the handshake. On success the new session replaces the
// old one whole, and the credentials are kept without the one-time code.
func (k *sessionKeeper) attempt(ctx context.Context, cred Credentials, code string) (*session, error) {
	c := k.c
	mode := c.secureSignIn
	var in *initiator
	var why error // why the session will have no secure sign-in
	if mode == SecureSignInOff {
		why = &SecureSignInError{Reason: "WithSecureSignIn(SecureSignInOff)"}
	} else {
		var unavailable *SecureSignInError
		in, why = c.beginSecureSignIn(ctx)
		switch {
		case why == nil:
		case !errors.As(why, &unavailable):
			return nil, unsent(why)
		case mode == SecureSignInRequired:
			return nil, unsent(why)
		default:
			c.log.DebugContext(ctx, "dsm secure sign-in unavailable; logging in without it", "reason", unavailable.detail())
		}
	}
	var d loginData
	ik := ""
	if in != nil {
		ik = in.message
	}
	err := c.exchange(ctx, loginRequest(cred, code, ik, &d), nil)
	if err != nil && in != nil && handshakeRefused(err) {
		refused := &SecureSignInError{Reason: "DSM refused the login that carried the handshake", Err: err}
		if mode == SecureSignInRequired {
			return nil, refused
		}
		why = refused
		c.log.DebugContext(ctx, "dsm secure sign-in refused; logging in without it", "reason", refused.detail())
		in, d = nil, loginData{}
		err = c.exchange(ctx, loginRequest(cred, code, "", &d), nil)
	}
	if err != nil {
		return nil, err
	}
	if d.SID == "" {
		return nil, &MalformedError{API: "SYNO.API.Auth", Method: "login", Reason: "no sid in the login answer"}
	}
	sess := Session{Account: cred.Account, SID: d.SID, SynoToken: d.SynoToken, DeviceID: d.DeviceID}
	if sess.DeviceID == "" {
		sess.DeviceID = d.DID
	}
	if d.Account != "" {
		sess.Account = d.Account
	}
	kept := cred
	kept.OTPCode = ""
	if sess.DeviceID != "" {
		kept.DeviceID = sess.DeviceID
	} else {
		sess.DeviceID = cred.DeviceID
	}
	if in != nil {
		st, ferr := in.finish(d.IKMessage)
		switch {
		case ferr == nil:
			sess.SecureSignIn, sess.Signing = true, st
			c.log.DebugContext(ctx, "dsm secure sign-in done")
		case mode == SecureSignInRequired:
			// DSM opened a session without the handshake: end it rather
			// than leave it behind.
			gone := newSession(sess, "")
			if lerr := c.exchange(ctx, logoutRequest(gone), gone); lerr != nil {
				c.log.DebugContext(ctx, "dsm logout of the session without secure sign-in failed", "error", lerr.Error())
			}
			return nil, ferr
		default:
			why = ferr
			c.log.DebugContext(ctx, "dsm secure sign-in not completed; the session is unsigned", "reason", ferr.Error())
		}
	}
	unsigned := ""
	var unavailable *SecureSignInError
	if errors.As(why, &unavailable) && !sess.SecureSignIn {
		unsigned = unavailable.detail()
	}
	s := newSession(sess, unsigned)
	k.mu.Lock()
	k.cur, k.cred = s, &kept
	k.mu.Unlock()
	return s, nil
}

// loginRequest is the SYNO.API.Auth login request of cred with the 2-step
// code code (may be empty) and message 1 of the secure sign-in ik (may be
// empty); its secrets travel in the envelope over http. ik is no secret:
// it travels in the clear part, as the reference client (N4S4/synology-api) sends it.
func loginRequest(cred Credentials, code, ik string, out *loginData) *request {
	params := Params{
		"session":           "webui",
		"format":            "sid",
		"enable_syno_token": "yes",
	}
	if ik != "" {
		params["ik_message"] = ik
	}
	secret := Params{
		"account": cred.Account,
		"passwd":  cred.Password,
	}
	if code != "" {
		secret["otp_code"] = code
	}
	if cred.DeviceID != "" {
		secret["device_id"] = cred.DeviceID
	}
	if cred.DeviceName != "" {
		params["enable_device_token"] = "yes"
		params["device_name"] = cred.DeviceName
	}
	r := newRead("SYNO.API.Auth", "login", params, out).withSecret(secret)
	r.auth = authNone
	return r
}

// Me describes the logged-in user.
type Me struct {
	// Account is the user name.
	Account string
	// Fullname is the user's description in DSM.
	Fullname string
	// Email is the user's email address.
	Email string
	// OTPEnabled tells whether the user has 2-step verification.
	OTPEnabled bool
}

// Whoami returns the user the session belongs to.
//
// DSM: SYNO.Core.NormalUser get.
func (a *AuthService) Whoami(ctx context.Context) (Me, error) {
	var d struct {
		Username  string   `json:"username"`
		Fullname  string   `json:"fullname"`
		Email     string   `json:"email"`
		OTPEnable flexBool `json:"OTP_enable"`
	}
	if err := a.c.do(ctx, newRead("SYNO.Core.NormalUser", "get", nil, &d)); err != nil {
		return Me{}, err
	}
	return Me{Account: d.Username, Fullname: d.Fullname, Email: d.Email, OTPEnabled: bool(d.OTPEnable)}, nil
}

// ConfirmToken is the proof that the logged-in user just typed their
// password again, which some root-level APIs ask for in the
// X-SYNO-CONFIRM-PW-TOKEN header. It is a secret.
type ConfirmToken struct {
	Token string
	// Expires is when the token stops working: DSM keeps it about 300
	// seconds; this is the local clock at the call plus 300 s.
	Expires time.Time
}

// String hides the token.
func (t ConfirmToken) String() string {
	return fmt.Sprintf("dsm.ConfirmToken{Token: [redacted], Expires: %s}", t.Expires.Format(time.RFC3339))
}

// ConfirmTokenLifetime is how long DSM keeps a ConfirmToken.
const ConfirmTokenLifetime = 300 * time.Second

// ConfirmPassword checks the logged-in user's password again and returns
// a short-lived confirmation token. The password travels encrypted over
// plain http.
//
// DSM: SYNO.Core.User.PasswordConfirm auth (version 2).
func (a *AuthService) ConfirmPassword(ctx context.Context, password string) (ConfirmToken, error) {
	if password == "" {
		return ConfirmToken{}, argErrorf("confirm password", "the password is empty")
	}
	if err := ValidatePassword(password); err != nil {
		return ConfirmToken{}, argError("confirm password", err)
	}
	var d struct {
		Token string `json:"SynoConfirmPWToken"`
	}
	start := a.c.now()
	err := a.c.do(ctx, newRead("SYNO.Core.User.PasswordConfirm", "auth", nil, &d).withSecret(Params{"password": password}))
	if err != nil {
		return ConfirmToken{}, err
	}
	if d.Token == "" {
		return ConfirmToken{}, &MalformedError{API: "SYNO.Core.User.PasswordConfirm", Method: "auth", Reason: "no SynoConfirmPWToken in the answer"}
	}
	return ConfirmToken{Token: d.Token, Expires: start.Add(ConfirmTokenLifetime)}, nil
}
