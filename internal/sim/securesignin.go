package sim

// DSM 7 secure sign-in, as DSM's own web UI does it and N4S4/synology-api
// does it since its PR #282 (synology_api/auth.py: get_ik_message,
// _finish_noise_handshake, _get_request_hash): the NAS is the responder of
// a Noise_IK_25519_ChaChaPoly_BLAKE2b handshake (empty prologue) whose
// first message comes as login parameter ik_message, with the JSON payload
// {"time": <unix seconds>}; the login answer carries message 2 as
// data.ik_message (base64url without padding, as message 1). After it,
// every request of the session carries X-SYNO-HASH, checked here: the
// first 8 characters of base64url(handshake hash), base64url of the
// 16-byte ChaChaPoly tag of an empty message under the client's sending
// key at nonce n, ".", and base64url of n's decimal digits (N4S4's
// tests/test_auth.py expects "abcdefghAQI.MA" for n = 0). What the
// handshake buys: from a public address, a session without it can read
// users but not change them (N4S4/synology-api issue #239, fixed by
// PR #282; issue #359 for shares on DSM 7.3.2). Where the client's side of
// these encodings lives in package dsm, this file is the simulator's own
// reading of the same sources: the two share only the Noise library.

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flynn/noise"
)

// DefaultHashErrorCode is the code a call of a handshake session gets when
// its X-SYNO-HASH is missing, malformed, forged or a replay. DSM 7.3.2
// answers a replayed header with the text "session hash invalid"
// (N4S4/synology-api issue #448) but its number is not public. 119
// (invalid session) is our choice: the text names the session, and a
// session error is what makes a client log in again, the only way to a
// fresh handshake and nonce count. Config.HashErrorCode changes it.
const DefaultHashErrorCode = codeInvalidSession

// codeBadIKMessage answers a login whose ik_message is not a Noise IK
// message 1 for this NAS's static key (or whose payload is not JSON with
// "time"). What DSM does then is unknown; refusing the login is our
// choice, over granting a session without the handshake and leaving
// ik_message out of the answer: a client whose handshake is broken fails
// loudly at login rather than later, and only from remote addresses. 120
// is DSM's "invalid parameter" (mib1185/py-synologydsm-api
// src/synology_dsm/const.py, ERROR_COMMON); the refusal is not counted as
// a failed login (no auto-block), since the password was not checked.
const codeBadIKMessage = codeInvalidParameter

// hashWindow is how far below the highest nonce seen a nonce not seen yet
// is still accepted. A client that signs when it builds a request sends
// nonces in order (N4S4/synology-api computes the header as it builds
// each request), but one that
// sends calls in parallel may have them arrive out of order. What DSM
// allows is unknown (it refuses a replay, issue #448); the window of 64,
// as in IPsec's and WireGuard's anti-replay, is our choice.
const hashWindow = 64

// maxIKMessageLen bounds the ik_message parameter (base64url characters):
// message 1 is 96 bytes plus the sealed payload, about 155 characters for
// {"time": N}.
const maxIKMessageLen = 1024

// noiseSuite is DSM's cipher suite: Noise_IK_25519_ChaChaPoly_BLAKE2b.
var noiseSuite = noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2b)

// b64 is the encoding of every Noise value on the wire (the _SSID cookie,
// ik_message, each part of X-SYNO-HASH): base64url without padding,
// decoded strictly (no padding, no stray bits), as the simulator is exact
// in what it takes.
var b64 = base64.RawURLEncoding.Strict()

// staticKey checks an X25519 private key and returns it with its public
// half.
func staticKey(priv []byte) (noise.DHKey, error) {
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		return noise.DHKey{}, fmt.Errorf("sim: secure sign-in key: want a 32-byte X25519 private key, got %d bytes", len(priv))
	}
	return noise.DHKey{Private: append([]byte(nil), priv...), Public: k.PublicKey().Bytes()}, nil
}

// newStaticKey makes a fresh X25519 private key.
func newStaticKey() ([]byte, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sim: generate X25519 key: %w", err)
	}
	return k.Bytes(), nil
}

// setupSecureSignIn picks the static key: cfgKey when given (it replaces a
// stored one), else the one in the state, else a new one, and keeps it in
// the state so that a restart with the same DataDir keeps _SSID, as a NAS
// does. It marks the state dirty when it changed the key.
func (s *Server) setupSecureSignIn(cfgKey []byte) error {
	priv := s.st.ikKey
	switch {
	case cfgKey != nil:
		priv = cfgKey
	case priv == nil:
		// A fresh state, or a state file from before the key was kept.
		k, err := newStaticKey()
		if err != nil {
			return err
		}
		priv = k
	}
	k, err := staticKey(priv)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(k.Private, s.st.ikKey) != 1 {
		s.st.ikKey = k.Private
		s.dirty = true
	}
	s.ik = k
	s.ssid = base64.RawURLEncoding.EncodeToString(k.Public)
	return nil
}

// readIKMessage reads message 1 (-> e, es, s, ss) of a login's ik_message
// and returns the handshake, ready for message 2. The payload must be a
// JSON object with a number "time" (N4S4/synology-api writes
// {"time": <unix seconds>}); whether it is near
// the NAS's clock is not checked (DSM's rule is unknown, and a simulator
// whose clock was set to another day must still accept real clients).
func (s *Server) readIKMessage(param string) (*noise.HandshakeState, error) {
	if len(param) > maxIKMessageLen {
		return nil, errors.New("ik_message too long")
	}
	msg, err := b64.DecodeString(param)
	if err != nil {
		return nil, err
	}
	rng := s.ikRandom
	if rng == nil {
		rng = rand.Reader
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   noiseSuite,
		Random:        rng,
		Pattern:       noise.HandshakeIK,
		Initiator:     false,
		StaticKeypair: s.ik,
	})
	if err != nil {
		return nil, err
	}
	payload, _, _, err := hs.ReadMessage(nil, msg)
	if err != nil {
		return nil, err
	}
	var p struct {
		Time *float64 `json:"time"`
	}
	if err := json.Unmarshal(payload, &p); err != nil || p.Time == nil {
		return nil, errors.New(`payload is not JSON with "time"`)
	}
	return hs, nil
}

// secureSignIn is what a session keeps of its handshake: the hash prefix
// and the initiator's sending key, to check X-SYNO-HASH, and the nonces
// already used.
type secureSignIn struct {
	prefix  string       // the first 8 characters of base64url(handshake hash)
	recv    noise.Cipher // the initiator -> responder CipherState's key
	used    bool         // a nonce has been accepted
	highest uint64       // the highest nonce accepted
	seen    uint64       // bit i: nonce highest-i was accepted
	replay  bool         // Config.HashReplayAllowed: nonces are not tracked
}

// answerIK writes message 2 (<- e, ee, se, empty payload) and returns it,
// base64url without padding, with the session's secure sign-in.
func (s *Server) answerIK(hs *noise.HandshakeState) (string, *secureSignIn, error) {
	msg, cs1, _, err := hs.WriteMessage(nil, nil)
	if err != nil {
		return "", nil, err
	}
	if cs1 == nil {
		return "", nil, errors.New("noise: the handshake did not complete")
	}
	return base64.RawURLEncoding.EncodeToString(msg), &secureSignIn{
		prefix: base64.RawURLEncoding.EncodeToString(hs.ChannelBinding())[:8],
		recv:   cs1.Cipher(),
		replay: s.hashReplay,
	}, nil
}

// parseSynoHash splits an X-SYNO-HASH value: 8 characters of hash prefix,
// 22 of base64url tag (16 bytes), ".", base64url of the decimal nonce
// (no sign, no leading zero).
func parseSynoHash(v string) (prefix string, tag []byte, n uint64, ok bool) {
	head, enc, found := strings.Cut(v, ".")
	if !found || len(head) != 8+22 || enc == "" {
		return "", nil, 0, false
	}
	// Decoded and written again must give the same text: Go's decoder
	// skips \r and \n, which the one form a client sends never holds.
	tag, err := b64.DecodeString(head[8:])
	if err != nil || len(tag) != 16 || b64.EncodeToString(tag) != head[8:] {
		return "", nil, 0, false
	}
	digits, err := b64.DecodeString(enc)
	if err != nil || len(digits) == 0 || len(digits) > 20 || (digits[0] == '0' && len(digits) > 1) || b64.EncodeToString(digits) != enc {
		return "", nil, 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", nil, 0, false
		}
	}
	n, err = strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return "", nil, 0, false
	}
	return head[:8], tag, n, true
}

// check verifies one request's X-SYNO-HASH values: exactly one header,
// the session's hash prefix, a tag of the empty plaintext under the
// initiator's key at its nonce, and a nonce not used before and not more
// than hashWindow-1 below the highest one used (unless replays are
// allowed). A good nonce is then used up.
func (ss *secureSignIn) check(values []string) bool {
	if len(values) != 1 {
		return false
	}
	prefix, tag, n, ok := parseSynoHash(values[0])
	if !ok || n == math.MaxUint64 { // 2^64-1 is reserved by the Noise specification (5.1)
		return false
	}
	if subtle.ConstantTimeCompare([]byte(prefix), []byte(ss.prefix)) != 1 {
		return false
	}
	if !ss.replay && !ss.fresh(n) {
		return false
	}
	if _, err := ss.recv.Decrypt(nil, n, nil, tag); err != nil {
		return false
	}
	if !ss.replay {
		ss.use(n)
	}
	return true
}

// fresh reports whether nonce n may be used: not used yet, and above
// highest-hashWindow.
func (ss *secureSignIn) fresh(n uint64) bool {
	if !ss.used || n > ss.highest {
		return true
	}
	d := ss.highest - n
	return d < hashWindow && ss.seen&(1<<d) == 0
}

// use records nonce n as used; call after fresh(n).
func (ss *secureSignIn) use(n uint64) {
	switch {
	case !ss.used:
		ss.used, ss.highest, ss.seen = true, n, 1
	case n > ss.highest:
		if d := n - ss.highest; d < hashWindow {
			ss.seen = ss.seen<<d | 1
		} else {
			ss.seen = 1
		}
		ss.highest = n
	default:
		ss.seen |= 1 << (ss.highest - n)
	}
}

// checkSynoHash refuses a call of a handshake session whose X-SYNO-HASH
// is not good (Config.HashErrorCode). A session without a handshake is
// not checked: LAN clients that send no header work (math65/dsmaccess on
// DSM 7.4 manages users without the handshake from the LAN). Only
// methods that need a session come here: SYNO.API.Info, Encryption
// getinfo and logout are answered without looking at the header (the
// reference client sends its logout without _sid or header; whether DSM
// checks the others is unknown), so a nonce spent on them leaves a gap,
// which later nonces pass. Call with s.mu held.
func (s *Server) checkSynoHash(q *request, sess *session) error {
	if sess.ssi == nil {
		return nil
	}
	if !sess.ssi.check(q.r.Header.Values("X-SYNO-HASH")) {
		return fail(s.hashCode)
	}
	return nil
}

// DefaultLocalNets returns the client networks a simulator counts as
// local when Config.LocalNets is nil: loopback, RFC 1918, link-local and
// IPv6 unique local addresses. Loopback, RFC 1918 and link-local are
// where DSM grants full access without the handshake (math65/dsmaccess
// on the LAN with DSM 7.4, an Ansible role at localhost on DSM 7.3). For CGNAT
// (100.64.0.0/10) and IPv6 ULA (fc00::/7) nothing is known: ULA is in,
// as the IPv6 counterpart of RFC 1918 (RFC 4193) that a home network
// hands out; CGNAT is out, as addresses of a carrier's network, not the
// owner's (RFC 6598). Both are our choices.
func DefaultLocalNets() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("169.254.0.0/16"),
		netip.MustParsePrefix("fe80::/10"),
		netip.MustParsePrefix("fc00::/7"),
	}
}

// ParseLocalNets reads a comma-separated list of CIDR prefixes (or single
// addresses) for Config.LocalNets, or "none": no client is local, as for
// a NAS reached over the internet. The result of "none" is an empty,
// non-nil slice.
func ParseLocalNets(s string) ([]netip.Prefix, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return []netip.Prefix{}, nil
	}
	nets := []netip.Prefix{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
			return nil, fmt.Errorf("local networks %q: an empty item; want CIDR prefixes separated by commas, e.g. 192.168.0.0/16,fd00::/8, or none", s)
		case strings.EqualFold(item, "none"):
			return nil, fmt.Errorf("local networks %q: none cannot be combined with networks", s)
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("local networks: %q is not a CIDR prefix; want e.g. 192.168.0.0/16 or fd00::/8, or none", item)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			if !p.IsValid() {
				return nil, fmt.Errorf("local networks: %q is an IPv4-mapped prefix shorter than ::ffff:0:0/96; write the IPv4 prefix", item)
			}
		}
		nets = append(nets, p.Masked())
	}
	return nets, nil
}

// isLocal reports whether a client address (clientAddr's host) lies in
// the local networks. An address that cannot be read (not IP, as over a
// pipe) is remote: full access goes only to an address placed in a local
// network.
func (s *Server) isLocal(host string) bool {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range s.localNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// SecureLogins returns how many logins have completed the secure sign-in
// handshake, so a test can tell that a client did it.
func (s *Server) SecureLogins() int { return int(s.secureLogins.Load()) }
