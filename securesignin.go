package dsm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flynn/noise"
)

// DSM 7's secure sign-in, as DSM's own web UI does it: the login carries message 1 of a
// Noise_IK_25519_ChaChaPoly_BLAKE2b handshake with the NAS's static key,
// the answer carries message 2, and from then on every request of the
// session is signed with an X-SYNO-HASH header. The facts come from
// N4S4/synology-api synology_api/auth.py (get_ik_message,
// _finish_noise_handshake, _get_request_hash) and its issues #239, #359
// and #448; the vector testdata/secure-signin.json pins the bytes.

// SecureSignInMode says whether logins use DSM 7's secure sign-in.
type SecureSignInMode int

const (
	// SecureSignInAuto does the handshake when the NAS offers it and
	// logs in without it otherwise (DSM 6, a proxy that drops the NAS's
	// cookie, a login answer without the handshake's second message).
	// The fallback is traced at debug level; Session.SecureSignIn tells
	// which way the login went. It is the default.
	SecureSignInAuto SecureSignInMode = iota
	// SecureSignInRequired refuses to log in without the handshake: the
	// login fails with a *SecureSignInError that says why (it matches
	// ErrSecureSignInUnavailable), and a session DSM opened without the
	// handshake is logged out again.
	SecureSignInRequired
	// SecureSignInOff never tries the handshake.
	SecureSignInOff
)

// String returns the mode's name, as its constant is spelt.
func (m SecureSignInMode) String() string {
	switch m {
	case SecureSignInAuto:
		return "SecureSignInAuto"
	case SecureSignInRequired:
		return "SecureSignInRequired"
	case SecureSignInOff:
		return "SecureSignInOff"
	}
	return "SecureSignInMode(" + strconv.Itoa(int(m)) + ")"
}

// WithSecureSignIn says whether logins use DSM 7's secure sign-in; the
// default is SecureSignInAuto. From an address DSM counts as remote, a
// session opened without it can read but not change anything (changes
// fail with a *LimitedSessionError).
func WithSecureSignIn(m SecureSignInMode) Option {
	return func(c *clientConfig) error {
		if m < SecureSignInAuto || m > SecureSignInOff {
			return fmt.Errorf("WithSecureSignIn: unknown mode %d; use SecureSignInAuto, SecureSignInRequired or SecureSignInOff", int(m))
		}
		c.secureSignIn = m
		return nil
	}
}

// SigningState is what signs the requests of a session opened with
// secure sign-in: the handshake's hash prefix, the key of the client's
// sending cipher, and the nonce of the next request. It is a secret and
// part of a saved Session, so that another process that resumes the
// session keeps signing where this one stopped.
type SigningState struct {
	// HashPrefix is the first 8 characters of the base64url handshake
	// hash, the start of every X-SYNO-HASH.
	HashPrefix string `json:"hash_prefix"`
	// Key is the client's sending key (base64url, no padding, 32 bytes).
	Key string `json:"key"`
	// NextNonce is the nonce of the next signed request. A nonce must
	// never be used twice: DSM refuses a replayed header.
	NextNonce uint64 `json:"next_nonce"`
}

// String hides the key, so a SigningState printed by mistake leaks
// nothing.
func (s SigningState) String() string {
	return fmt.Sprintf("dsm.SigningState{HashPrefix: [redacted], Key: [redacted], NextNonce: %d}", s.NextNonce)
}

// GoString hides the key from %#v as well.
func (s SigningState) GoString() string { return s.String() }

// hashPrefixLen is how much of the handshake hash heads every header.
const hashPrefixLen = 8

// check validates s and returns its key. The reasons name no secret.
func (s SigningState) check() ([32]byte, error) {
	var k [32]byte
	if len(s.HashPrefix) != hashPrefixLen || strings.Trim(s.HashPrefix, base64URLAlphabet) != "" {
		return k, fmt.Errorf("its hash prefix is not %d base64url characters", hashPrefixLen)
	}
	b, err := decodeBase64URL(s.Key)
	if err != nil || len(b) != len(k) {
		return k, errors.New("its key is not base64url of 32 bytes")
	}
	if s.NextNonce > noise.MaxNonce {
		return k, errors.New("its nonces are spent")
	}
	copy(k[:], b)
	return k, nil
}

// signer signs the requests of one session. It is safe for concurrent
// use: each request takes the next nonce atomically.
type signer struct {
	prefix string
	key    string // as in SigningState, for snapshots
	cipher noise.Cipher
	next   atomic.Uint64
}

// newSigner returns the signer of st.
func newSigner(st SigningState) (*signer, error) {
	k, err := st.check()
	if err != nil {
		return nil, err
	}
	s := &signer{prefix: st.HashPrefix, key: st.Key, cipher: noise.CipherChaChaPoly.Cipher(k)}
	s.next.Store(st.NextNonce)
	return s, nil
}

// state returns the signing state, with the nonce the next request takes.
func (s *signer) state() SigningState {
	return SigningState{HashPrefix: s.prefix, Key: s.key, NextNonce: s.next.Load()}
}

// errNoncesSpent reports a session that signed 2^64-1 requests.
var errNoncesSpent = errors.New("the session's signing nonces are spent; log in again")

// sign takes the next nonce and returns the X-SYNO-HASH of a request:
// the tag of an empty plaintext with empty associated data under the
// sending cipher at that nonce.
func (s *signer) sign() (string, error) {
	n := s.next.Add(1) - 1
	if n > noise.MaxNonce {
		return "", errNoncesSpent
	}
	return formatSynoHash(s.prefix, s.cipher.Encrypt(nil, n, nil, nil), n), nil
}

// formatSynoHash writes an X-SYNO-HASH: the hash prefix, base64url of
// the tag, ".", base64url of the nonce's decimal digits
// (N4S4/synology-api tests/test_auth.py expects "abcdefghAQI.MA" for the
// prefix "abcdefgh", the tag 01 02 and nonce 0).
func formatSynoHash(prefix string, tag []byte, n uint64) string {
	return prefix + base64.RawURLEncoding.EncodeToString(tag) + "." +
		base64.RawURLEncoding.EncodeToString(strconv.AppendUint(nil, n, 10))
}

// base64URLAlphabet is the alphabet of base64url.
const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// decodeBase64URL reads base64url as DSM writes it (no padding), and is
// liberal as the reference client is: padding and the standard
// alphabet's "+" and "/" are accepted too.
func decodeBase64URL(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

// noiseSuite is the handshake's cipher suite.
var noiseSuite = noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2b)

// initiator is the client's half of one login's handshake, between
// message 1 and message 2.
type initiator struct {
	hs *noise.HandshakeState
	// message is message 1 as the login parameter ik_message.
	message string
}

// newInitiator starts a handshake with the NAS's static key serverKey: a
// fresh static key and a fresh ephemeral key from random, and message 1
// with the payload {"time": <now in unix seconds>}, written with the
// space after the colon as the reference client writes it.
func newInitiator(random io.Reader, serverKey []byte, now time.Time) (*initiator, error) {
	static, err := noise.DH25519.GenerateKeypair(random)
	if err != nil {
		return nil, fmt.Errorf("making the sign-in key: %w", err)
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   noiseSuite,
		Random:        random,
		Pattern:       noise.HandshakeIK,
		Initiator:     true,
		StaticKeypair: static,
		PeerStatic:    serverKey,
	})
	if err != nil {
		return nil, &SecureSignInError{Reason: "the NAS's key from the _SSID cookie cannot start the handshake"}
	}
	msg, _, _, err := hs.WriteMessage(nil, fmt.Appendf(nil, `{"time": %d}`, now.Unix()))
	if err != nil {
		// An X25519 key of low order gives an all-zero shared secret.
		return nil, &SecureSignInError{Reason: "the NAS's key from the _SSID cookie is not a usable X25519 key"}
	}
	return &initiator{hs: hs, message: base64.RawURLEncoding.EncodeToString(msg)}, nil
}

// finish reads message 2, the login answer's ik_message, and returns the
// session's signing state. A missing, empty or undecryptable message is a
// *SecureSignInError.
func (in *initiator) finish(answer json.RawMessage) (SigningState, error) {
	if len(answer) == 0 || string(answer) == "null" {
		return SigningState{}, &SecureSignInError{Reason: "the NAS did not complete the handshake: its login answer has no ik_message"}
	}
	var text string
	if json.Unmarshal(answer, &text) != nil {
		return SigningState{}, &SecureSignInError{Reason: "the login answer's ik_message is not a string"}
	}
	if text == "" {
		return SigningState{}, &SecureSignInError{Reason: "the NAS did not complete the handshake: its login answer's ik_message is empty"}
	}
	msg, err := decodeBase64URL(text)
	if err != nil {
		return SigningState{}, &SecureSignInError{Reason: "the login answer's ik_message is not base64url"}
	}
	// The payload of message 2 is empty on DSM; one that is not is
	// ignored.
	_, send, _, err := in.hs.ReadMessage(nil, msg)
	if err != nil || send == nil {
		return SigningState{}, &SecureSignInError{Reason: "the login answer's ik_message does not complete the handshake"}
	}
	k := send.UnsafeKey()
	return SigningState{
		HashPrefix: base64.RawURLEncoding.EncodeToString(in.hs.ChannelBinding())[:hashPrefixLen],
		Key:        base64.RawURLEncoding.EncodeToString(k[:]),
	}, nil
}

// uiConfigAPI serves the NAS's static key as the cookie ssidCookie.
const (
	uiConfigAPI = "SYNO.API.Auth.UIConfig"
	ssidCookie  = "_SSID"
)

// uiConfigRequest is SYNO.API.Auth.UIConfig get, sent to
// entry.cgi/SYNO.API.Auth.UIConfig as the reference client sends it; the
// answer's cookies go to cookies.
func uiConfigRequest(cookies *[]*http.Cookie) *request {
	r := newRead(uiConfigAPI, "get", nil, nil)
	r.auth, r.version, r.pathSuffix, r.cookies = authNone, 1, true, cookies
	return r
}

// beginSecureSignIn starts the handshake of one login: it asks
// SYNO.API.Auth.UIConfig for the NAS's static key and writes message 1.
// When the NAS does not offer the handshake the error is a
// *SecureSignInError; any other error (the context, no answer at all, an
// HTTP 5xx) is a failure of the login attempt, as it would be of the
// login itself: a NAS that failed to answer once is not a NAS without
// secure sign-in, and falling back then would open a limited session
// for the session's whole life. That split is a choice.
func (c *Client) beginSecureSignIn(ctx context.Context) (*initiator, error) {
	var cookies []*http.Cookie
	err := c.exchange(ctx, uiConfigRequest(&cookies), nil)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	var ve *VersionError
	if errors.As(err, &ve) {
		return nil, &SecureSignInError{Reason: "the NAS does not offer SYNO.API.Auth.UIConfig: DSM 6, or a DSM 7 without it"}
	}
	var se *StatusError
	var ae *APIError
	var me *MalformedError
	switch {
	case errors.As(err, &se):
		if se.StatusCode >= 500 {
			return nil, err
		}
		return nil, &SecureSignInError{Reason: "SYNO.API.Auth.UIConfig get answered HTTP " + strconv.Itoa(se.StatusCode), Err: err}
	case err != nil && !errors.As(err, &ae) && !errors.As(err, &me):
		return nil, err // no answer
	}
	// The cookie is what counts: the reference client reads it from any
	// HTTP 200 answer and ignores the body (a list of UI plug-ins).
	var value string
	found := false
	for _, ck := range cookies {
		if ck.Name == ssidCookie {
			value, found = ck.Value, true
		}
	}
	if !found {
		if err != nil {
			return nil, &SecureSignInError{Reason: "SYNO.API.Auth.UIConfig get failed and set no _SSID cookie", Err: err}
		}
		return nil, &SecureSignInError{Reason: "SYNO.API.Auth.UIConfig set no _SSID cookie; a proxy in front of the NAS may drop it"}
	}
	key, derr := decodeBase64URL(value)
	if derr != nil || len(key) != 32 {
		return nil, &SecureSignInError{Reason: "the _SSID cookie is not base64url of a 32-byte key"}
	}
	return newInitiator(c.random, key, c.now())
}

// handshakeRefused reports whether DSM's refusal of a login that carried
// ik_message may be a refusal of the handshake, so that the login is
// worth sending once more without it: an unknown error, a malformed
// request or parameter, or a code outside the tables. DSM's code for a
// handshake it rejects is not public, so this is a choice; codes about
// the account (400-411) are never resent, as a second failed login counts
// towards DSM's auto-block.
func handshakeRefused(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case 100, 101, 114, 120:
		return true
	}
	return CodeMessage(ae.API, ae.Code) == "unknown error code"
}
