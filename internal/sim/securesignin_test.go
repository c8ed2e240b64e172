package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/flynn/noise"
	"github.com/google/go-cmp/cmp"
)

// signinVector is testdata/secure-signin.json: a whole handshake with
// fixed keys, made from the Noise specification and checked against
// github.com/flynn/noise.
type signinVector struct {
	ResponderStaticPrivateHex    string `json:"responder_static_private_hex"`
	ResponderStaticPublicHex     string `json:"responder_static_public_hex"`
	SSIDCookie                   string `json:"ssid_cookie"`
	ResponderEphemeralPrivateHex string `json:"responder_ephemeral_private_hex"`
	InitiatorStaticPrivateHex    string `json:"initiator_static_private_hex"`
	InitiatorEphemeralPrivateHex string `json:"initiator_ephemeral_private_hex"`
	Payload                      string `json:"payload"`
	Message1Hex                  string `json:"message1_hex"`
	IKMessageLoginParam          string `json:"ik_message_login_param"`
	Message2Hex                  string `json:"message2_hex"`
	IKMessageLoginAnswer         string `json:"ik_message_login_answer"`
	HandshakeHashHex             string `json:"handshake_hash_hex"`
	XSynoHash                    []struct {
		Nonce     uint64 `json:"nonce"`
		TagHex    string `json:"tag_hex"`
		XSynoHash string `json:"x_syno_hash"`
	} `json:"x_syno_hash"`
}

var loadSigninVector = sync.OnceValues(func() (*signinVector, error) {
	b, err := os.ReadFile("testdata/secure-signin.json")
	if err != nil {
		return nil, err
	}
	var v signinVector
	return &v, json.Unmarshal(b, &v)
})

func signinVectorFor(t testing.TB) *signinVector {
	t.Helper()
	v, err := loadSigninVector()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// remoteAddr is a client on the internet (TEST-NET-3): outside the
// default local networks.
const remoteAddr = "203.0.113.7:40000"

// initiator is the client's side of the secure sign-in, written for these
// tests on flynn/noise from the handshake securesignin.go describes (its
// sources: N4S4/synology-api synology_api/auth.py): it shares nothing with
// securesignin.go but the library.
type initiator struct {
	hs     *noise.HandshakeState
	send   noise.Cipher // initiator -> responder
	hash   []byte       // handshake hash
	prefix string
}

// newInitiator starts a handshake to the NAS whose _SSID cookie is ssid.
// A nil static key is a fresh one; a nil ephemeral is random.
func newInitiator(t testing.TB, ssid string, static, ephemeral []byte) *initiator {
	t.Helper()
	rs, err := base64.RawURLEncoding.DecodeString(ssid)
	if err != nil {
		t.Fatalf("_SSID %q: %v", ssid, err)
	}
	suite := noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2b)
	var kp noise.DHKey
	if static != nil {
		kp, err = suite.GenerateKeypair(bytes.NewReader(static))
	} else {
		kp, err = suite.GenerateKeypair(nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg := noise.Config{CipherSuite: suite, Pattern: noise.HandshakeIK, Initiator: true, StaticKeypair: kp, PeerStatic: rs}
	if ephemeral != nil {
		cfg.Random = bytes.NewReader(ephemeral)
	}
	hs, err := noise.NewHandshakeState(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &initiator{hs: hs}
}

// message1 writes message 1 with payload and returns it as ik_message.
func (in *initiator) message1(t testing.TB, payload string) string {
	t.Helper()
	msg, _, _, err := in.hs.WriteMessage(nil, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(msg)
}

// finish reads message 2 (the login answer's ik_message).
func (in *initiator) finish(t testing.TB, ikAnswer string) {
	t.Helper()
	msg, err := base64.RawURLEncoding.DecodeString(ikAnswer)
	if err != nil {
		t.Fatalf("ik_message %q: %v", ikAnswer, err)
	}
	payload, cs1, _, err := in.hs.ReadMessage(nil, msg)
	if err != nil || cs1 == nil {
		t.Fatalf("message 2: %v (complete: %v)", err, cs1 != nil)
	}
	if len(payload) != 0 {
		t.Errorf("message 2 payload %q, want empty", payload)
	}
	in.send = cs1.Cipher()
	in.hash = in.hs.ChannelBinding()
	in.prefix = base64.RawURLEncoding.EncodeToString(in.hash)[:8]
}

// header is X-SYNO-HASH for nonce n.
func (in *initiator) header(n uint64) string {
	tag := in.send.Encrypt(nil, n, nil, nil)
	return in.prefix + base64.RawURLEncoding.EncodeToString(tag) + "." + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(n, 10)))
}

// uiConfig calls SYNO.API.Auth.UIConfig get and returns the _SSID cookie.
func (s *Server) uiConfig(t testing.TB) string {
	t.Helper()
	a := s.do(t, call{path: "/webapi/entry.cgi/SYNO.API.Auth.UIConfig", form: form("api", "SYNO.API.Auth.UIConfig", "method", "get", "version", "1")})
	for _, c := range a.resp.Cookies() {
		if c.Name == "_SSID" {
			return c.Value
		}
	}
	t.Fatalf("UIConfig set no _SSID: %s", a.raw)
	return ""
}

// secureLogin logs admin in from addr with a fresh initiator and returns
// the session and the finished initiator.
func (s *Server) secureLogin(t testing.TB, addr string) (loginData, *initiator) {
	t.Helper()
	in := newInitiator(t, s.uiConfig(t), nil, nil)
	c := loginCall("admin", adminPW, "ik_message", in.message1(t, `{"time": 1764576000}`))
	c.addr = addr
	a := s.do(t, c)
	if !a.Success {
		t.Fatalf("login: %s", a.raw)
	}
	var d loginData
	a.data(t, &d)
	in.finish(t, d.IKMessage)
	return d, in
}

// signed is a call of session d from addr with X-SYNO-HASH values (none
// when hashes is empty).
func signed(d loginData, addr string, hashes []string, kv ...string) call {
	h := http.Header{"X-Syno-Token": {d.SynoToken}}
	if len(hashes) > 0 {
		h["X-Syno-Hash"] = hashes
	}
	return call{addr: addr, header: h, form: form(append(kv, "_sid", d.SID)...)}
}

var userList = []string{"api", "SYNO.Core.User", "version", "1", "method", "list"}

func userCreate(name string) []string {
	return []string{"api", "SYNO.Core.User", "version", "1", "method", "create", "name", name, "password", "Str0ng-pass!"}
}

// TestSecureSignInVector: with the vector's static and ephemeral keys the
// simulator publishes the vector's _SSID, reads its message 1, answers
// exactly its message 2 with its handshake hash, accepts its headers for
// n = 0..3 in order and refuses a replay of n = 1.
func TestSecureSignInVector(t *testing.T) {
	t.Parallel()
	v := signinVectorFor(t)
	s := newServer(t, Config{SecureSignInKey: unhex(t, v.ResponderStaticPrivateHex)})
	s.ikRandom = bytes.NewReader(unhex(t, v.ResponderEphemeralPrivateHex))

	if got := s.uiConfig(t); got != v.SSIDCookie {
		t.Fatalf("_SSID = %q, want %q", got, v.SSIDCookie)
	}
	if hex.EncodeToString(s.ik.Public) != v.ResponderStaticPublicHex {
		t.Errorf("static public key %x, want %s", s.ik.Public, v.ResponderStaticPublicHex)
	}
	if got := base64.RawURLEncoding.EncodeToString(unhex(t, v.Message1Hex)); got != v.IKMessageLoginParam {
		t.Fatalf("vector: message1_hex and ik_message_login_param differ")
	}

	// The handshake itself: the hash of the vector.
	hs, err := s.readIKMessage(v.IKMessageLoginParam)
	if err != nil {
		t.Fatalf("readIKMessage: %v", err)
	}
	s.ikRandom = bytes.NewReader(unhex(t, v.ResponderEphemeralPrivateHex))
	msg2, ssi, err := s.answerIK(hs)
	if err != nil {
		t.Fatal(err)
	}
	if msg2 != v.IKMessageLoginAnswer || hex.EncodeToString(hs.ChannelBinding()) != v.HandshakeHashHex {
		t.Errorf("message 2 %s hash %x, want %s and %s", msg2, hs.ChannelBinding(), v.IKMessageLoginAnswer, v.HandshakeHashHex)
	}
	if want := base64.RawURLEncoding.EncodeToString(unhex(t, v.HandshakeHashHex))[:8]; ssi.prefix != want {
		t.Errorf("prefix %q, want %q", ssi.prefix, want)
	}

	// The same through the handler: login, then the vector's headers.
	s.ikRandom = bytes.NewReader(unhex(t, v.ResponderEphemeralPrivateHex))
	c := loginCall("admin", adminPW, "ik_message", v.IKMessageLoginParam)
	c.addr = remoteAddr
	a := s.do(t, c)
	var d loginData
	a.data(t, &d)
	if d.IKMessage != v.IKMessageLoginAnswer {
		t.Fatalf("login ik_message %q, want %q (%s)", d.IKMessage, v.IKMessageLoginAnswer, a.raw)
	}
	if s.SecureLogins() != 1 {
		t.Errorf("SecureLogins() = %d, want 1", s.SecureLogins())
	}
	for _, h := range v.XSynoHash {
		tag, _ := hex.DecodeString(h.TagHex)
		if !strings.Contains(h.XSynoHash, base64.RawURLEncoding.EncodeToString(tag)) {
			t.Fatalf("vector: header %s does not hold tag %s", h.XSynoHash, h.TagHex)
		}
		if a := s.do(t, signed(d, remoteAddr, []string{h.XSynoHash}, userCreate(fmt.Sprintf("vec%d", h.Nonce))...)); !a.Success {
			t.Errorf("n = %d: %s", h.Nonce, a.raw)
		}
	}
	if a := s.do(t, signed(d, remoteAddr, []string{v.XSynoHash[1].XSynoHash}, userList...)); a.code() != DefaultHashErrorCode {
		t.Errorf("replay of n = 1: %s, want code %d", a.raw, DefaultHashErrorCode)
	}
}

// TestSecureSignInLogin: a whole login through the handler with a
// flynn/noise initiator, then signed calls, each with the X-SYNO-HASH of
// its nonce.
func TestSecureSignInLogin(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	d, in := s.secureLogin(t, remoteAddr)
	if d.IKMessage == "" || s.SecureLogins() != 1 {
		t.Fatalf("login answer %+v, SecureLogins %d", d, s.SecureLogins())
	}
	// A remote client with the handshake has full access.
	if a := s.do(t, signed(d, remoteAddr, []string{in.header(0)}, userCreate("carol")...)); !a.Success {
		t.Fatalf("create, n = 0: %s", a.raw)
	}

	good := in.header
	forged := func(n uint64) string {
		h := in.header(n)
		tag, err := base64.RawURLEncoding.DecodeString(h[8:30])
		if err != nil {
			t.Fatal(err)
		}
		tag[0] ^= 1
		return h[:8] + base64.RawURLEncoding.EncodeToString(tag) + h[30:]
	}
	wrongPrefix := func(n uint64) string {
		h := []byte(in.header(n))
		h[0] = map[bool]byte{true: 'B', false: 'A'}[h[0] == 'A']
		return string(h)
	}
	steps := []struct {
		name    string
		headers []string
		want    int
	}{
		{"next nonce", []string{good(1)}, 0},
		{"replay", []string{good(1)}, DefaultHashErrorCode},
		{"replay of the first", []string{good(0)}, DefaultHashErrorCode},
		{"forged tag", []string{forged(2)}, DefaultHashErrorCode},
		{"the nonce of a forged tag is still good", []string{good(2)}, 0},
		{"wrong prefix", []string{wrongPrefix(3)}, DefaultHashErrorCode},
		{"missing header", nil, DefaultHashErrorCode},
		{"two headers", []string{good(3), good(4)}, DefaultHashErrorCode},
		{"empty header", []string{""}, DefaultHashErrorCode},
		{"nonce with a leading zero", []string{good(3)[:31] + base64.RawURLEncoding.EncodeToString([]byte("03"))}, DefaultHashErrorCode},
		{"nonce with padding", []string{good(3)[:31] + base64.URLEncoding.EncodeToString([]byte("3"))}, DefaultHashErrorCode},
		{"skip ahead", []string{good(10)}, 0},
		{"out of order, in the window", []string{good(5)}, 0},
		{"out of order, replayed", []string{good(5)}, DefaultHashErrorCode},
		{"far ahead", []string{good(100)}, 0},
		{"just outside the window", []string{good(100 - hashWindow)}, DefaultHashErrorCode},
		{"at the window's edge", []string{good(100 - hashWindow + 1)}, 0},
		{"below the window", []string{good(7)}, DefaultHashErrorCode},
		{"reserved nonce 2^64-1", []string{good(math.MaxUint64)}, DefaultHashErrorCode},
		{"largest nonce", []string{good(math.MaxUint64 - 1)}, 0},
	}
	for _, st := range steps {
		a := s.do(t, signed(d, remoteAddr, st.headers, userList...))
		if a.code() != st.want {
			t.Errorf("%s: %s, want code %d", st.name, a.raw, st.want)
		}
	}
	// A header of another session's handshake is not good here, even with
	// a nonce this one has not used.
	d2, in2 := s.secureLogin(t, remoteAddr)
	d3, in3 := s.secureLogin(t, remoteAddr)
	if a := s.do(t, signed(d3, remoteAddr, []string{in2.header(0)}, userList...)); a.code() != DefaultHashErrorCode {
		t.Errorf("header of another session: %s", a.raw)
	}
	if a := s.do(t, signed(d3, remoteAddr, []string{in3.prefix + in2.header(0)[8:]}, userList...)); a.code() != DefaultHashErrorCode {
		t.Errorf("this session's prefix, another session's tag: %s", a.raw)
	}
	if a := s.do(t, signed(d2, remoteAddr, []string{in2.header(0)}, userList...)); !a.Success {
		t.Errorf("the other session's own call: %s", a.raw)
	}
}

// TestSecureSignInHashOptions: Config.HashErrorCode and
// Config.HashReplayAllowed switch the refusal's code and replay refusal.
func TestSecureSignInHashOptions(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{HashErrorCode: 105, HashReplayAllowed: true})
	d, in := s.secureLogin(t, remoteAddr)
	for i, want := range []int{0, 0, 0} { // n = 0 three times
		if a := s.do(t, signed(d, remoteAddr, []string{in.header(0)}, userList...)); a.code() != want {
			t.Errorf("call %d with n = 0: %s", i, a.raw)
		}
	}
	if a := s.do(t, signed(d, remoteAddr, nil, userList...)); a.code() != 105 {
		t.Errorf("unsigned call: %s, want 105", a.raw)
	}
}

// TestSecureSignInLoginAnswers: what login answers for each kind of
// ik_message, and that an unreadable one costs no login attempt.
func TestSecureSignInLoginAnswers(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{AutoBlockAttempts: 2, Users: []User{{Name: "otto", Password: "otto-pw", OTPSecret: otpSecret}}})
	ssid := s.uiConfig(t)
	otherKey, err := newStaticKey()
	if err != nil {
		t.Fatal(err)
	}
	otherSSID := base64.RawURLEncoding.EncodeToString(mustStaticKey(t, otherKey).Public)
	msg := func(ssid, payload string) string { return newInitiator(t, ssid, nil, nil).message1(t, payload) }
	good := msg(ssid, `{"time": 1764576000}`)

	tests := []struct {
		name, ik string
		want     int
	}{
		{"for another NAS's key", msg(otherSSID, `{"time": 1764576000}`), codeBadIKMessage},
		{"payload not JSON", msg(ssid, `time=1`), codeBadIKMessage},
		{"payload without time", msg(ssid, `{"when": 1}`), codeBadIKMessage},
		{"time not a number", msg(ssid, `{"time": "1764576000"}`), codeBadIKMessage},
		{"empty payload", msg(ssid, ``), codeBadIKMessage},
		{"padded base64url", good + "=", codeBadIKMessage},
		{"standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+", codeBadIKMessage},
		{"truncated", good[:len(good)-4], codeBadIKMessage},
		{"too long", strings.Repeat("A", maxIKMessageLen+4), codeBadIKMessage},
		{"float time, compact JSON", msg(ssid, `{"time":1764576000.5}`), 0},
	}
	for _, tt := range tests {
		a := s.do(t, loginCall("admin", adminPW, "ik_message", tt.ik))
		if a.code() != tt.want {
			t.Errorf("%s: %s, want code %d", tt.name, a.raw, tt.want)
		}
		if tt.want == 0 {
			var d loginData
			a.data(t, &d)
			if d.IKMessage == "" {
				t.Errorf("%s: no ik_message in %s", tt.name, a.raw)
			}
		}
	}
	// Nine refusals above, AutoBlockAttempts 2: none counted.
	before := s.SecureLogins()
	if a := s.do(t, loginCall("admin", adminPW)); !a.Success || !strings.Contains(a.raw, `"ik_message":""`) {
		t.Errorf("login without ik_message: %s, want success and \"ik_message\":\"\"", a.raw)
	}
	if s.SecureLogins() != before {
		t.Errorf("SecureLogins %d after a login without the handshake, want %d", s.SecureLogins(), before)
	}
	// A 2-step refusal drops the handshake: the answer has no ik_message,
	// and SecureLogins counts only completed logins.
	if a := s.do(t, loginCall("otto", "otto-pw", "ik_message", msg(ssid, `{"time": 1}`))); a.code() != 403 || strings.Contains(a.raw, "ik_message") {
		t.Errorf("2-step login: %s", a.raw)
	}
	if s.SecureLogins() != before {
		t.Errorf("SecureLogins %d after a refused login, want %d", s.SecureLogins(), before)
	}
}

func mustStaticKey(t testing.TB, priv []byte) noise.DHKey {
	t.Helper()
	k, err := staticKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestLimitedSession: a remote client's session without the handshake
// reads but cannot change users, groups or policies (105); a local
// client's, or a remote one's with the handshake, can.
func TestLimitedSession(t *testing.T) {
	t.Parallel()
	changes := []struct {
		name string
		kv   []string
	}{
		{"User create", userCreate("dave")},
		{"User set", []string{"api", "SYNO.Core.User", "version", "1", "method", "set", "name", "admin", "description", "x"}},
		{"User delete", []string{"api", "SYNO.Core.User", "version", "1", "method", "delete", "name", `["dave"]`}}, // created above
		{"User.Group join", []string{"api", "SYNO.Core.User.Group", "version", "1", "method", "join", "name", "admin", "join_group", `["http"]`}},
		{"Group create", []string{"api", "SYNO.Core.Group", "version", "1", "method", "create", "name", "crew"}},
		{"Group.Member change", []string{"api", "SYNO.Core.Group.Member", "version", "1", "method", "change", "group", "http", "add_member", `["admin"]`, "remove_member", `[]`}},
		{"PasswordPolicy set", []string{"api", "SYNO.Core.User.PasswordPolicy", "version", "1", "method", "set", "password_must_change", "false"}},
		{"PasswordExpiry set", []string{"api", "SYNO.Core.User.PasswordExpiry", "version", "1", "method", "set", "password_expire_enable", "false"}},
	}
	reads := [][]string{
		userList,
		{"api", "SYNO.Core.Group", "version", "1", "method", "list"},
		{"api", "SYNO.Core.User.PasswordPolicy", "version", "1", "method", "get"},
	}
	tests := []struct {
		name   string
		cfg    Config
		addr   string
		secure bool
		want   int // answer to each change
	}{
		{"remote, no handshake", Config{}, remoteAddr, false, codePermission},
		{"remote IPv6, no handshake", Config{}, "[2001:db8::7]:5000", false, codePermission},
		{"CGNAT, no handshake", Config{}, "100.64.1.2:5000", false, codePermission},
		{"remote, handshake", Config{}, remoteAddr, true, 0},
		{"LAN, no handshake", Config{}, "192.168.1.20:5000", false, 0},
		{"loopback, no handshake", Config{}, "127.0.0.1:5000", false, 0},
		{"IPv6 link-local with zone, no handshake", Config{}, "[fe80::1%eth0]:5000", false, 0},
		{"loopback, --local-net none", Config{LocalNets: []netip.Prefix{}}, "127.0.0.1:5000", false, codePermission},
		{"loopback, --local-net none, handshake", Config{LocalNets: []netip.Prefix{}}, "127.0.0.1:5000", true, 0},
		{"public address in LocalNets", Config{LocalNets: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}, remoteAddr, false, 0},
		{"LAN outside LocalNets", Config{LocalNets: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}, "192.168.1.20:5000", false, codePermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, tt.cfg)
			var d loginData
			var in *initiator
			if tt.secure {
				d, in = s.secureLogin(t, tt.addr)
			} else {
				c := loginCall("admin", adminPW)
				c.addr = tt.addr
				a := s.do(t, c)
				a.data(t, &d)
			}
			var n uint64
			sign := func() []string {
				if in == nil {
					return nil
				}
				n++
				return []string{in.header(n - 1)}
			}
			for _, kv := range reads {
				if a := s.do(t, signed(d, tt.addr, sign(), kv...)); !a.Success {
					t.Errorf("%s %s: %s", kv[1], kv[5], a.raw)
				}
			}
			for _, c := range changes {
				if a := s.do(t, signed(d, tt.addr, sign(), c.kv...)); a.code() != tt.want {
					t.Errorf("%s: %s, want code %d", c.name, a.raw, tt.want)
				}
			}
		})
	}
}

func TestParseLocalNets(t *testing.T) {
	t.Parallel()
	p := netip.MustParsePrefix
	tests := []struct {
		in   string
		want []netip.Prefix
		err  string // part of the error; "" for none
	}{
		{"none", []netip.Prefix{}, ""},
		{" NONE ", []netip.Prefix{}, ""},
		{"10.0.0.0/8", []netip.Prefix{p("10.0.0.0/8")}, ""},
		{"10.0.0.0/8, fd00::/8", []netip.Prefix{p("10.0.0.0/8"), p("fd00::/8")}, ""},
		{"10.1.2.3/8", []netip.Prefix{p("10.0.0.0/8")}, ""},
		{"192.0.2.5", []netip.Prefix{p("192.0.2.5/32")}, ""},
		{"2001:db8::5", []netip.Prefix{p("2001:db8::5/128")}, ""},
		{"::ffff:10.0.0.0/104", []netip.Prefix{p("10.0.0.0/8")}, ""},
		{"", nil, "an empty item"},
		{"10.0.0.0/8,", nil, "an empty item"},
		{"10.0.0/8", nil, `"10.0.0/8" is not a CIDR prefix`},
		{"10.0.0.0/33", nil, `"10.0.0.0/33" is not a CIDR prefix`},
		{"lan", nil, `"lan" is not a CIDR prefix`},
		{"fe80::1%eth0", nil, `is not a CIDR prefix`},
		{"none,10.0.0.0/8", nil, "none cannot be combined"},
		{"::ffff:0:0/80", nil, "IPv4-mapped"},
	}
	for _, tt := range tests {
		got, err := ParseLocalNets(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseLocalNets(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLocalNets(%q): %v", tt.in, err)
			continue
		}
		if got == nil || !cmp.Equal(got, tt.want, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })) {
			t.Errorf("ParseLocalNets(%q) = %#v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsLocal(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	tests := map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "::1": true, "10.255.0.1": true, "172.16.0.1": true, "172.31.255.255": true,
		"172.32.0.1": false, "192.168.200.1": true, "169.254.1.1": true, "fe80::1": true, "fe80::1%eth0": true,
		"::ffff:192.168.1.1": true, "fd12:3456::1": true, "100.64.0.1": false, "8.8.8.8": false, "2001:db8::1": false,
		"192.0.2.1": false, "": false, "pipe": false,
	}
	for host, want := range tests {
		if got := s.isLocal(host); got != want {
			t.Errorf("isLocal(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestSynoHashWindow drives the nonce window alone.
func TestSynoHashWindow(t *testing.T) {
	t.Parallel()
	ss := &secureSignIn{}
	steps := []struct {
		n    uint64
		want bool
	}{
		{3, true}, {3, false}, {0, true}, {1, true}, {0, false}, {2, true}, {4, true}, {4, false}, {70, true}, {70, false}, {6, false}, {7, true}, {7, false},
		{69, true}, {200, true}, {136, false}, {137, true}, {199, true}, {200, false}, {1000, true}, {999, true}, {937, true}, {936, false},
	}
	for i, st := range steps {
		ok := ss.fresh(st.n)
		if ok {
			ss.use(st.n)
		}
		if ok != st.want {
			t.Errorf("step %d: nonce %d fresh = %v, want %v", i, st.n, ok, st.want)
		}
	}
}

func TestParseSynoHash(t *testing.T) {
	t.Parallel()
	v := signinVectorFor(t)
	for _, h := range v.XSynoHash {
		prefix, tag, n, ok := parseSynoHash(h.XSynoHash)
		if !ok || prefix != "8chxm3UL" || hex.EncodeToString(tag) != h.TagHex || n != h.Nonce {
			t.Errorf("parseSynoHash(%q) = %q %x %d %v", h.XSynoHash, prefix, tag, n, ok)
		}
	}
	tag := base64.RawURLEncoding.EncodeToString(make([]byte, 16))
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	bad := []string{
		"", ".", "abcdefghAQI.MA", // the reference client's fixture has a 2-byte tag
		"abcdefg" + tag + "." + enc("0"),
		"abcdefgh" + tag + enc("0"),
		"abcdefgh" + tag + ".",
		"abcdefgh" + tag + "." + enc("-1"),
		"abcdefgh" + tag + "." + enc("+1"),
		"abcdefgh" + tag + "." + enc("1a"),
		"abcdefgh" + tag + "." + enc("18446744073709551616"),
		"abcdefgh" + tag + "." + enc("00"),
		"abcdefgh" + tag + "." + enc("0") + ".",
		"abcdefgh" + tag[:21] + "B." + enc("0"), // stray bits in the last character
	}
	for _, h := range bad {
		if _, _, _, ok := parseSynoHash(h); ok {
			t.Errorf("parseSynoHash(%q) accepted", h)
		}
	}
	if _, _, n, ok := parseSynoHash("abcdefgh" + tag + "." + enc("18446744073709551615")); !ok || n != math.MaxUint64 {
		t.Errorf("largest nonce: %d %v", n, ok)
	}
}

// FuzzParseSynoHash: whatever parseSynoHash accepts is in the one
// encoding the client must send, so writing it again gives the input.
func FuzzParseSynoHash(f *testing.F) {
	v := signinVectorFor(f)
	for _, h := range v.XSynoHash {
		f.Add(h.XSynoHash)
	}
	f.Add("abcdefghAQI.MA")
	f.Fuzz(func(t *testing.T, h string) {
		prefix, tag, n, ok := parseSynoHash(h)
		if !ok {
			return
		}
		again := prefix + base64.RawURLEncoding.EncodeToString(tag) + "." + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(n, 10)))
		if again != h {
			t.Errorf("parseSynoHash(%q) accepted a form that is written %q", h, again)
		}
	})
}

func TestSecureSignInKeyConfig(t *testing.T) {
	t.Parallel()
	k, _ := testKey()
	for _, key := range [][]byte{{}, make([]byte, 31), make([]byte, 33)} {
		_, err := New(Config{RSAKey: k, SecureSignInKey: key})
		if err == nil || !strings.Contains(err.Error(), "32-byte X25519 private key") {
			t.Errorf("key of %d bytes: %v", len(key), err)
		}
	}
	a, b := newServer(t, Config{}), newServer(t, Config{})
	if a.uiConfig(t) == b.uiConfig(t) {
		t.Error("two servers without a key share _SSID")
	}
}

// TestSecureSignInKeyPersists: with DataDir the static key is in the
// state file (0600), so _SSID survives a restart; a state file from
// before the key was kept loads and gets a key, kept from then on; a
// configured key replaces the stored one; a stored key of the wrong size
// is a damaged file.
func TestSecureSignInKeyPersists(t *testing.T) {
	t.Parallel()
	k, _ := testKey()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, StateFile)
	// One server at a time has the directory open: start and stored
	// close the one before.
	var running *Server
	stop := func() {
		if running != nil {
			running.Close()
			running = nil
		}
	}
	t.Cleanup(stop)
	start := func(cfg Config) *Server {
		t.Helper()
		stop()
		cfg.RSAKey, cfg.AdminPassword, cfg.DataDir = k, adminPW, dir
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		running = s
		return s
	}
	// A state file of an earlier version: the database is gone, the
	// file is migrated at the next start.
	legacy := filepath.Join(dir, LegacyStateFile)
	writeLegacy := func(b []byte) {
		t.Helper()
		stop()
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(legacy, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() map[string]json.RawMessage {
		t.Helper()
		stop()
		b, err := DumpState(dir)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	first := start(Config{}).uiConfig(t)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v, want mode 0600", fi, err)
	}
	if _, ok := stored()["secure_signin_key"]; !ok {
		t.Fatal("the state file holds no secure_signin_key")
	}
	s := start(Config{})
	if got := s.uiConfig(t); got != first {
		t.Errorf("_SSID after a restart %q, want %q", got, first)
	}
	// A handshake with the restarted server works with the _SSID from
	// before: the key is the same, not only its public half.
	s.secureLogin(t, remoteAddr)

	// A state file of an earlier version, without the key.
	m := stored()
	delete(m, "secure_signin_key")
	old, _ := json.Marshal(m)
	writeLegacy(old)
	start(Config{})
	if _, ok := stored()["secure_signin_key"]; !ok {
		t.Error("New did not write the new key to the state file")
	}
	fresh := start(Config{}).uiConfig(t)
	if fresh == first {
		t.Error("a state file without a key kept the old _SSID")
	}
	if got := start(Config{}).uiConfig(t); got != fresh {
		t.Errorf("_SSID after the next restart %q, want %q", got, fresh)
	}

	// A configured key replaces the stored one, and is kept.
	v := signinVectorFor(t)
	s = start(Config{SecureSignInKey: unhex(t, v.ResponderStaticPrivateHex)})
	if got := s.uiConfig(t); got != v.SSIDCookie {
		t.Errorf("_SSID with SecureSignInKey %q, want %q", got, v.SSIDCookie)
	}
	if got := string(stored()["secure_signin_key"]); got != `"`+base64.StdEncoding.EncodeToString(unhex(t, v.ResponderStaticPrivateHex))+`"` {
		t.Errorf("stored key %s after New with SecureSignInKey, want the configured one", got)
	}
	if got := start(Config{}).uiConfig(t); got != v.SSIDCookie {
		t.Errorf("_SSID after a restart without SecureSignInKey %q, want the configured %q", got, v.SSIDCookie)
	}

	// A stored key that is not 32 bytes.
	m = stored()
	m["secure_signin_key"] = json.RawMessage(`"AAAA"`)
	bad, _ := json.Marshal(m)
	writeLegacy(bad)
	if _, err := New(Config{RSAKey: k, DataDir: dir}); err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "secure_signin_key") {
		t.Errorf("New with a 3-byte stored key: %v", err)
	}
}
