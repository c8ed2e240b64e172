package dsm

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flynn/noise"
	"github.com/google/go-cmp/cmp"
)

// signinVector is testdata/secure-signin.json: a whole secure sign-in
// handshake with fixed keys (both messages, the handshake hash, and
// X-SYNO-HASH for nonces 0 to 3), made from the Noise specification and
// checked against github.com/flynn/noise.
type signinVector struct {
	ResponderStaticPrivateHex    string `json:"responder_static_private_hex"`
	ResponderStaticPublicHex     string `json:"responder_static_public_hex"`
	SSIDCookie                   string `json:"ssid_cookie"`
	ResponderEphemeralPrivateHex string `json:"responder_ephemeral_private_hex"`
	InitiatorStaticPrivateHex    string `json:"initiator_static_private_hex"`
	InitiatorStaticPublicHex     string `json:"initiator_static_public_hex"`
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

func loadSigninVector(t testing.TB) signinVector {
	t.Helper()
	b, err := os.ReadFile("testdata/secure-signin.json")
	if err != nil {
		t.Fatal(err)
	}
	var v signinVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorTime is the time in the vector's payload.
func vectorTime(t *testing.T, v signinVector) time.Time {
	t.Helper()
	var p struct {
		Time int64 `json:"time"`
	}
	if err := json.Unmarshal([]byte(v.Payload), &p); err != nil {
		t.Fatal(err)
	}
	return time.Unix(p.Time, 0)
}

// TestSecureSignInVector reproduces the vector byte for byte: message 1
// from the fixed keys and time, the handshake hash after message 2, and
// the headers of nonces 0 to 3.
func TestSecureSignInVector(t *testing.T) {
	v := loadSigninVector(t)
	serverKey, err := base64.RawURLEncoding.DecodeString(v.SSIDCookie)
	if err != nil || hex.EncodeToString(serverKey) != v.ResponderStaticPublicHex {
		t.Fatalf("the vector's cookie %q is not its responder key (%v)", v.SSIDCookie, err)
	}
	random := bytes.NewReader(append(unhex(t, v.InitiatorStaticPrivateHex), unhex(t, v.InitiatorEphemeralPrivateHex)...))
	in, err := newInitiator(random, serverKey, vectorTime(t, v))
	if err != nil {
		t.Fatal(err)
	}
	if in.message != v.IKMessageLoginParam {
		t.Errorf("ik_message\n got %s\nwant %s", in.message, v.IKMessageLoginParam)
	}
	if m, _ := base64.RawURLEncoding.DecodeString(in.message); hex.EncodeToString(m) != v.Message1Hex {
		t.Errorf("message 1\n got %x\nwant %s", m, v.Message1Hex)
	}
	if random.Len() != 0 {
		t.Errorf("%d key bytes left unread: the keys are not the static then the ephemeral one", random.Len())
	}
	st, err := in.finish(json.RawMessage(strconv.Quote(v.IKMessageLoginAnswer)))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(in.hs.ChannelBinding()); got != v.HandshakeHashHex {
		t.Errorf("handshake hash\n got %s\nwant %s", got, v.HandshakeHashHex)
	}
	if st.NextNonce != 0 {
		t.Errorf("first nonce %d, want 0", st.NextNonce)
	}
	sg, err := newSigner(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range v.XSynoHash {
		if tag := sg.cipher.Encrypt(nil, want.Nonce, nil, nil); hex.EncodeToString(tag) != want.TagHex {
			t.Errorf("nonce %d: tag %x, want %s", want.Nonce, tag, want.TagHex)
		}
		got, err := sg.sign()
		if err != nil {
			t.Fatal(err)
		}
		if got != want.XSynoHash {
			t.Errorf("nonce %d: X-SYNO-HASH %s, want %s", want.Nonce, got, want.XSynoHash)
		}
	}
}

// TestSynoHashReferenceFixture holds the formatting to N4S4/synology-api's
// unit test (tests/test_auth.py): a hash whose base64url starts
// "abcdefgh", the tag 01 02, nonce 0.
func TestSynoHashReferenceFixture(t *testing.T) {
	if got := formatSynoHash("abcdefghijk"[:hashPrefixLen], []byte{1, 2}, 0); got != "abcdefghAQI.MA" {
		t.Errorf("got %q, want abcdefghAQI.MA", got)
	}
	if got := formatSynoHash("abcdefgh", []byte{1, 2}, 12); got != "abcdefghAQI.MTI" {
		t.Errorf("nonce 12: got %q, want abcdefghAQI.MTI", got)
	}
}

// TestNoiseResponderVector checks the test's responder against the
// vector, so that the end-to-end tests below stand on a NAS side that is
// right on its own.
func TestNoiseResponderVector(t *testing.T) {
	v := loadSigninVector(t)
	static, err := noise.DH25519.GenerateKeypair(bytes.NewReader(unhex(t, v.ResponderStaticPrivateHex)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := respond(static, bytes.NewReader(unhex(t, v.ResponderEphemeralPrivateHex)), unhex(t, v.Message1Hex))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(res.msg2) != v.Message2Hex {
		t.Errorf("message 2\n got %x\nwant %s", res.msg2, v.Message2Hex)
	}
	if string(res.payload) != v.Payload || hex.EncodeToString(res.initiator) != v.InitiatorStaticPublicHex {
		t.Errorf("payload %q, initiator key %x", res.payload, res.initiator)
	}
	for _, h := range v.XSynoHash {
		n, err := verifySynoHash(h.XSynoHash, res.prefix, res.recv)
		if err != nil || n != h.Nonce {
			t.Errorf("%s: nonce %d, %v; want %d", h.XSynoHash, n, err, h.Nonce)
		}
	}
	h0, h1 := v.XSynoHash[0].XSynoHash, v.XSynoHash[1].XSynoHash
	if _, err := verifySynoHash(h1[:strings.IndexByte(h1, '.')]+h0[strings.IndexByte(h0, '.'):], res.prefix, res.recv); err == nil {
		t.Error("the verifier accepts a tag under another nonce")
	}
}

// responded is the NAS's side of one handshake.
type responded struct {
	msg2, payload, initiator []byte
	prefix                   string       // first 8 characters of base64url(h)
	recv                     noise.Cipher // the initiator's sending key
}

// respond is the NAS's half of the handshake, for the tests: read
// message 1 with the static key, answer message 2 with an empty payload.
func respond(static noise.DHKey, random io.Reader, msg1 []byte) (responded, error) {
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2b),
		Random:        random,
		Pattern:       noise.HandshakeIK,
		StaticKeypair: static,
	})
	if err != nil {
		return responded{}, err
	}
	payload, _, _, err := hs.ReadMessage(nil, msg1)
	if err != nil {
		return responded{}, err
	}
	msg2, fromInitiator, _, err := hs.WriteMessage(nil, nil)
	if err != nil {
		return responded{}, err
	}
	return responded{
		msg2: msg2, payload: payload, initiator: hs.PeerStatic(),
		prefix: base64.RawURLEncoding.EncodeToString(hs.ChannelBinding())[:8],
		recv:   fromInitiator.Cipher(),
	}, nil
}

// verifySynoHash checks an X-SYNO-HASH as a NAS would, written apart from
// the client's formatting: prefix, 22 characters of tag, ".", the nonce's
// digits in base64url. It returns the nonce.
func verifySynoHash(h, prefix string, recv noise.Cipher) (uint64, error) {
	head, digits, ok := strings.Cut(h, ".")
	if !ok || len(head) != 8+22 {
		return 0, fmt.Errorf("header %q is not prefix+tag.nonce", h)
	}
	if head[:8] != prefix {
		return 0, fmt.Errorf("header %q: prefix is not the handshake's %q", h, prefix)
	}
	tag, err := base64.RawURLEncoding.DecodeString(head[8:])
	if err != nil {
		return 0, fmt.Errorf("header %q: tag: %v", h, err)
	}
	d, err := base64.RawURLEncoding.DecodeString(digits)
	if err != nil {
		return 0, fmt.Errorf("header %q: nonce: %v", h, err)
	}
	n, err := strconv.ParseUint(string(d), 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != string(d) {
		return 0, fmt.Errorf("header %q: nonce %q is not decimal digits", h, d)
	}
	if _, err := recv.Decrypt(nil, n, nil, tag); err != nil {
		return 0, fmt.Errorf("header %q: the tag does not verify at nonce %d", h, n)
	}
	return n, nil
}

// nasQuirks make a noiseNAS misbehave the ways a real path can.
type nasQuirks struct {
	noCookie         bool   // UIConfig sets no _SSID
	cookie           string // _SSID value instead of the key
	uiConfigStatus   int    // HTTP status of UIConfig instead of 200
	uiConfigCode     int    // DSM error of UIConfig, no cookie
	uiConfigFailures int    // answer this many UIConfig with HTTP 502 first
	// ik is what the login answer's ik_message is: "" message 2,
	// "absent", "empty", "garbage", "not base64", "number".
	ik string
	// refuseIK is the code answered to a login that carries ik_message.
	refuseIK int
	deny     int // code of SYNO.Core.User create and Group.Member add
}

// noiseNAS is a fake DSM 7 that does the NAS's side of the secure
// sign-in with flynn/noise, and checks X-SYNO-HASH afterwards with its
// own verifier.
type noiseNAS struct {
	*fakeDSM
	static noise.DHKey

	mu       sync.Mutex
	q        nasQuirks
	rng      io.Reader // the NAS's ephemeral keys, seeded
	sessions map[string]responded
	valid    map[string]bool
	logins   int
	results  []responded // of every handshake, in order
}

func newNoiseNAS(t *testing.T, q nasQuirks) *noiseNAS { return startNoiseNAS(t, q, true) }

func startNoiseNAS(t *testing.T, q nasQuirks, tls bool) *noiseNAS {
	t.Helper()
	v := loadSigninVector(t)
	static, err := noise.DH25519.GenerateKeypair(bytes.NewReader(unhex(t, v.ResponderStaticPrivateHex)))
	if err != nil {
		t.Fatal(err)
	}
	n := &noiseNAS{static: static, q: q, rng: rand.NewChaCha8([32]byte{1}), sessions: map[string]responded{}, valid: map[string]bool{}}
	n.fakeDSM = startFakeDSM(t, n.answer, tls)
	n.info[uiConfigAPI] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}
	n.info["SYNO.Core.Group.Member"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}
	n.info["SYNO.Core.User.PasswordConfirm"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 2, RequestFormat: "JSON"}
	n.info["SYNO.Core.Package"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}
	return n
}

// signinClock is the client's clock in these tests: the vector's time.
var signinClock = time.Unix(1764576000, 0)

// client returns a client of the NAS with a seeded key source and a fixed
// clock.
func (n *noiseNAS) client(t *testing.T, seed byte, opts ...Option) *Client {
	t.Helper()
	c := n.fakeDSM.client(t, opts...)
	c.random = rand.NewChaCha8([32]byte{seed})
	c.now = func() time.Time { return signinClock }
	return c
}

func (n *noiseNAS) answer(r *http.Request, form url.Values) any {
	n.mu.Lock()
	defer n.mu.Unlock()
	sid := form.Get("_sid")
	switch form.Get("api") + " " + form.Get("method") {
	case "SYNO.API.Auth.UIConfig get":
		if n.q.uiConfigFailures > 0 {
			n.q.uiConfigFailures--
			return http.StatusBadGateway
		}
		if n.q.uiConfigStatus != 0 {
			return n.q.uiConfigStatus
		}
		if n.q.uiConfigCode != 0 {
			return fail(n.q.uiConfigCode)
		}
		cookie := base64.RawURLEncoding.EncodeToString(n.static.Public)
		if n.q.cookie != "" {
			cookie = n.q.cookie
		}
		noCookie := n.q.noCookie
		return func(w http.ResponseWriter) {
			if !noCookie {
				w.Header().Add("Set-Cookie", "_SSID="+cookie+"; Path=/")
			}
			w.Write([]byte(`{"success":true,"data":[]}`))
		}
	case "SYNO.API.Auth login":
		return n.login(form)
	case "SYNO.API.Auth logout":
		delete(n.valid, sid)
		return ok(nil)
	case "SYNO.API.Encryption getinfo":
		v, _ := loadVectors(n.t)
		return ok(map[string]any{"cipherkey": "__cIpHeRtExT", "ciphertoken": "__cIpHeRtOkEn", "public_key": v.GetinfoData.PublicKey, "server_time": 1764576000})
	}
	if !n.valid[sid] {
		return fail(119)
	}
	switch form.Get("api") + " " + form.Get("method") {
	case "SYNO.Core.User list", "SYNO.Core.Package list":
		return ok(map[string]any{"users": []any{}, "total": 0})
	case "SYNO.Core.User get":
		return fail(105)
	case "SYNO.Core.User create", "SYNO.Core.Group.Member add":
		if n.q.deny != 0 {
			return fail(n.q.deny)
		}
		return ok(map[string]any{"name": "new", "uid": 1030})
	case "SYNO.Core.Group.Member list":
		return ok(map[string]any{"users": []any{map[string]any{"name": "alice"}}, "total": 1})
	case "SYNO.Core.User.PasswordConfirm auth":
		return ok(map[string]any{"SynoConfirmPWToken": "confirm"})
	}
	return fail(103)
}

func (n *noiseNAS) login(form url.Values) any {
	ik := form.Get("ik_message")
	if ik != "" && n.q.refuseIK != 0 {
		return fail(n.q.refuseIK)
	}
	n.logins++
	sid := fmt.Sprintf("sid%d", n.logins)
	data := map[string]any{"sid": sid, "synotoken": "tok" + sid, "device_id": "", "account": "admin"}
	n.valid[sid] = true
	if ik == "" {
		return ok(data)
	}
	msg1, err := base64.RawURLEncoding.DecodeString(ik)
	if err != nil {
		n.t.Errorf("ik_message %q is not base64url without padding: %v", ik, err)
		return fail(120)
	}
	res, err := respond(n.static, n.rng, msg1)
	if err != nil {
		n.t.Errorf("message 1 does not decrypt: %v", err)
		return fail(120)
	}
	n.results = append(n.results, res)
	switch n.q.ik {
	case "":
		data["ik_message"] = base64.RawURLEncoding.EncodeToString(res.msg2)
		n.sessions[sid] = res
	case "empty":
		data["ik_message"] = ""
	case "garbage":
		data["ik_message"] = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 48))
	case "not base64":
		data["ik_message"] = "%%%"
	case "number":
		data["ik_message"] = 42
	}
	return ok(data)
}

// expire ends every session, as DSM does after an idle hour.
func (n *noiseNAS) expire() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.valid)
}

// signedCall is one request of a signed session as the NAS saw it.
type signedCall struct {
	Call  string
	Nonce uint64
}

// signed returns the requests of session sid in the order they came, with
// the nonce of each one's X-SYNO-HASH; a request without a good header
// fails the test.
func (n *noiseNAS) signed(t *testing.T, sid string) []signedCall {
	t.Helper()
	n.mu.Lock()
	res, ok := n.sessions[sid]
	n.mu.Unlock()
	if !ok {
		t.Fatalf("%s is not a signed session", sid)
	}
	n.fakeDSM.mu.Lock()
	defer n.fakeDSM.mu.Unlock()
	var out []signedCall
	for _, r := range n.requests {
		if r.form.Get("_sid") != sid {
			continue
		}
		call := r.form.Get("api") + " " + r.form.Get("method")
		nonce, err := verifySynoHash(r.header.Get("X-SYNO-HASH"), res.prefix, res.recv)
		if err != nil {
			t.Errorf("%s: %v", call, err)
		}
		out = append(out, signedCall{call, nonce})
	}
	return out
}

// stray returns the calls that carry X-SYNO-HASH outside a signed
// session.
func (n *noiseNAS) stray() []string {
	n.mu.Lock()
	signed := map[string]bool{}
	for sid := range n.sessions {
		signed[sid] = true
	}
	n.mu.Unlock()
	n.fakeDSM.mu.Lock()
	defer n.fakeDSM.mu.Unlock()
	var out []string
	for _, r := range n.requests {
		if r.header.Get("X-SYNO-HASH") != "" && !signed[r.form.Get("_sid")] {
			out = append(out, r.form.Get("api")+" "+r.form.Get("method"))
		}
	}
	return out
}

// count returns how many requests for api and method the NAS got.
func (n *noiseNAS) count(api, method string) int { return len(n.forms(api, method)) }

var admin = Credentials{Account: "admin", Password: "pw"}

func TestSecureSignInEndToEnd(t *testing.T) {
	n := newNoiseNAS(t, nasQuirks{})
	c := n.client(t, 1)
	ctx := t.Context()
	if apis, err := c.APIs(ctx); err != nil || apis[uiConfigAPI].MaxVersion != 1 {
		t.Fatalf("discovery %v, %v: want SYNO.API.Auth.UIConfig among the known APIs", apis, err)
	}
	sess, err := c.Auth.Login(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.SecureSignIn || sess.Signing.NextNonce != 0 || sess.Signing.Key == "" || len(sess.Signing.HashPrefix) != 8 {
		t.Fatalf("session %#v: want SecureSignIn with a signing state at nonce 0", sess)
	}
	if sess.Signing.HashPrefix != n.sessions["sid1"].prefix {
		t.Errorf("the session's hash prefix is not the handshake's")
	}
	if got := n.infoHits.Load(); got != 1 {
		t.Errorf("%d discoveries, want 1 that asks for SYNO.API.Auth.UIConfig too", got)
	}
	for range 2 {
		if err := c.Call(ctx, "SYNO.Core.User", "list", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// An API outside the known set is discovered with the session.
	if err := c.Call(ctx, "SYNO.Core.Package", "list", nil, nil); err != nil {
		t.Fatal(err)
	}
	if now, _ := c.Auth.Session(); now.Signing.NextNonce != 4 {
		t.Errorf("Auth.Session's next nonce %d, want 4", now.Signing.NextNonce)
	}
	if err := c.Auth.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	want := []signedCall{
		{"SYNO.Core.User list", 0}, {"SYNO.Core.User list", 1},
		{"SYNO.API.Info query", 2}, {"SYNO.Core.Package list", 3},
		{"SYNO.API.Auth logout", 4},
	}
	if d := cmp.Diff(want, n.signed(t, "sid1")); d != "" {
		t.Errorf("signed requests (-want +got):\n%s", d)
	}
	if s := n.stray(); len(s) != 0 {
		t.Errorf("X-SYNO-HASH outside the session: %v", s)
	}
	ui := n.last(uiConfigAPI)
	if ui.path != "/webapi/entry.cgi/SYNO.API.Auth.UIConfig" || ui.form.Get("version") != "1" || ui.form.Get("method") != "get" || ui.form.Has("_sid") {
		t.Errorf("UIConfig request %s %v", ui.path, ui.form)
	}
	login := n.forms("SYNO.API.Auth", "login")
	if len(login) != 1 || login[0].Get("ik_message") == "" || login[0].Get("version") != "7" {
		t.Fatalf("login requests %v: want one of version 7 with ik_message", login)
	}
	if got := string(n.results[0].payload); got != `{"time": 1764576000}` {
		t.Errorf("message 1 payload %q, want the client's clock as {\"time\": 1764576000}", got)
	}
}

// TestSecureSignInSignsEnvelopeKey: over plain http, the getinfo of a
// call's envelope carries the call's session and is signed too; the
// login's own getinfo carries none. The login's key is kept for
// envelopeKeyReuse: past it, the call fetches its own.
func TestSecureSignInSignsEnvelopeKey(t *testing.T) {
	n := startNoiseNAS(t, nasQuirks{}, false)
	c := n.client(t, 2)
	if _, err := c.Auth.Login(t.Context(), admin); err != nil {
		t.Fatal(err)
	}
	if login := n.forms("SYNO.API.Auth", "login"); len(login) != 1 || login[0].Get("ik_message") == "" || login[0].Has("passwd") {
		t.Fatalf("login over http %v: want ik_message in clear and the password in the envelope", login)
	}
	c.now = func() time.Time { return signinClock.Add(envelopeKeyReuse) }
	if _, err := c.Auth.ConfirmPassword(t.Context(), "pw"); err != nil {
		t.Fatal(err)
	}
	want := []signedCall{{"SYNO.API.Encryption getinfo", 0}, {"SYNO.Core.User.PasswordConfirm auth", 1}}
	if d := cmp.Diff(want, n.signed(t, "sid1")); d != "" {
		t.Errorf("signed requests (-want +got):\n%s", d)
	}
	if s := n.stray(); len(s) != 0 {
		t.Errorf("X-SYNO-HASH outside the session: %v", s)
	}
}

// TestSecureSignInConcurrentNonces: calls from many goroutines take
// distinct, consecutive nonces.
func TestSecureSignInConcurrentNonces(t *testing.T) {
	n := newNoiseNAS(t, nasQuirks{})
	c := n.client(t, 3)
	if _, err := c.Auth.Login(t.Context(), admin); err != nil {
		t.Fatal(err)
	}
	const calls = 64
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var got []uint64
	for _, s := range n.signed(t, "sid1") {
		got = append(got, s.Nonce)
	}
	slices.Sort(got)
	want := make([]uint64, calls)
	for i := range want {
		want[i] = uint64(i)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("nonces (-want +got):\n%s", d)
	}
	if s, _ := c.Auth.Session(); s.Signing.NextNonce != calls {
		t.Errorf("next nonce %d, want %d", s.Signing.NextNonce, calls)
	}
}

// TestSecureSignInRenewal: a renewal is a new login with a new handshake:
// a new initiator key, a new hash prefix, and nonces from 0 again.
func TestSecureSignInRenewal(t *testing.T) {
	n := newNoiseNAS(t, nasQuirks{})
	c := n.client(t, 4, WithCredentials(admin))
	ctx := t.Context()
	for range 2 {
		if err := c.Call(ctx, "SYNO.Core.User", "list", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	first, _ := c.Auth.Session()
	n.expire()
	for range 2 {
		if err := c.Call(ctx, "SYNO.Core.User", "list", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	second, _ := c.Auth.Session()
	if second.SID != "sid2" || !second.SecureSignIn {
		t.Fatalf("after renewal: %+v", second)
	}
	if first.Signing.HashPrefix == second.Signing.HashPrefix || first.Signing.Key == second.Signing.Key {
		t.Error("the renewed session kept the old handshake")
	}
	if bytes.Equal(n.results[0].initiator, n.results[1].initiator) {
		t.Error("the renewal reused the initiator's static key")
	}
	want1 := []signedCall{{"SYNO.Core.User list", 0}, {"SYNO.Core.User list", 1}, {"SYNO.Core.User list", 2}} // the third was refused: expired
	if d := cmp.Diff(want1, n.signed(t, "sid1")); d != "" {
		t.Errorf("first session (-want +got):\n%s", d)
	}
	want2 := []signedCall{{"SYNO.Core.User list", 0}, {"SYNO.Core.User list", 1}}
	if d := cmp.Diff(want2, n.signed(t, "sid2")); d != "" {
		t.Errorf("renewed session (-want +got):\n%s", d)
	}
}

// TestSecureSignInResume: a saved signed session goes on signing in
// another client from the nonce where the first one stopped.
func TestSecureSignInResume(t *testing.T) {
	n := newNoiseNAS(t, nasQuirks{})
	c1 := n.client(t, 5)
	if _, err := c1.Auth.Login(t.Context(), admin); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := c1.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	saved, _ := c1.Auth.Session()
	b, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	var back Session
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	c2 := n.client(t, 6, WithSession(back))
	if err := c2.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
		t.Fatal(err)
	}
	// The new client's discovery carries the session: it takes nonce 3.
	want := []signedCall{{"SYNO.Core.User list", 0}, {"SYNO.Core.User list", 1}, {"SYNO.Core.User list", 2}, {"SYNO.API.Info query", 3}, {"SYNO.Core.User list", 4}}
	if d := cmp.Diff(want, n.signed(t, "sid1")); d != "" {
		t.Errorf("signed requests (-want +got):\n%s", d)
	}
	for _, text := range []string{fmt.Sprint(saved), fmt.Sprintf("%+v", saved), fmt.Sprintf("%#v", saved), saved.Signing.String(), fmt.Sprintf("%#v", saved.Signing)} {
		if strings.Contains(text, saved.Signing.Key) || strings.Contains(text, saved.Signing.HashPrefix) || strings.Contains(text, saved.SID) {
			t.Errorf("printed session shows a secret: %s", text)
		}
	}
	if !strings.Contains(string(b), `"secure_sign_in":true`) || !strings.Contains(string(b), `"next_nonce":3`) {
		t.Errorf("saved session %s lacks the signing state", b)
	}
	// An unsigned session saves as before.
	plain, _ := json.Marshal(Session{Account: "a", SID: "s", SynoToken: "t"})
	if string(plain) != `{"account":"a","sid":"s","synotoken":"t"}` {
		t.Errorf("unsigned session saves as %s", plain)
	}
}

func TestSecureSignInOptions(t *testing.T) {
	good := Session{SID: "s", SecureSignIn: true, Signing: SigningState{HashPrefix: "abcdefgh", Key: base64.RawURLEncoding.EncodeToString(make([]byte, 32))}}
	badKey := good
	badKey.Signing.Key = "AAAA"
	badPrefix := good
	badPrefix.Signing.HashPrefix = "abc"
	spent := good
	spent.Signing.NextNonce = noise.MaxNonce + 1
	stray := good
	stray.SecureSignIn = false
	tests := []struct {
		name string
		opts []Option
		want string // "" accepted
	}{
		{"good signed session", []Option{WithSession(good)}, ""},
		{"unknown mode", []Option{WithSecureSignIn(SecureSignInMode(7))}, "unknown mode 7"},
		{"key not 32 bytes", []Option{WithSession(badKey)}, "its key is not base64url of 32 bytes"},
		{"short prefix", []Option{WithSession(badPrefix)}, "hash prefix"},
		{"nonces spent", []Option{WithSession(spent)}, "spent"},
		{"signing without flag", []Option{WithSession(stray)}, "SecureSignIn is false"},
		{"required with unsigned session", []Option{WithSecureSignIn(SecureSignInRequired), WithSession(Session{SID: "s"})}, "opened without secure sign-in"},
		{"required with signed session", []Option{WithSecureSignIn(SecureSignInRequired), WithSession(good)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient("nas", tt.opts...)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), good.Signing.Key):
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
	if SecureSignInRequired.String() != "SecureSignInRequired" || SecureSignInMode(9).String() != "SecureSignInMode(9)" {
		t.Error("SecureSignInMode.String")
	}
}

// TestSecureSignInFallbacks: every way the handshake can fail, with Auto
// (log in without it, say so at debug level) and Required (refuse, say
// why, leave no session behind).
func TestSecureSignInFallbacks(t *testing.T) {
	tests := []struct {
		name    string
		q       nasQuirks
		offered bool // the NAS lists UIConfig
		opened  bool // DSM opened a session before the handshake failed
		reason  string
	}{
		{"not offered", nasQuirks{}, false, false, "does not offer SYNO.API.Auth.UIConfig"},
		{"no cookie", nasQuirks{noCookie: true}, true, false, "set no _SSID cookie"},
		{"cookie not base64", nasQuirks{cookie: "not*base64"}, true, false, "not base64url of a 32-byte key"},
		{"cookie too short", nasQuirks{cookie: "AAAA"}, true, false, "not base64url of a 32-byte key"},
		{"low-order key", nasQuirks{cookie: base64.RawURLEncoding.EncodeToString(make([]byte, 32))}, true, false, "not a usable X25519 key"},
		{"UIConfig HTTP 404", nasQuirks{uiConfigStatus: 404}, true, false, "answered HTTP 404"},
		{"UIConfig refused", nasQuirks{uiConfigCode: 103}, true, false, "failed and set no _SSID cookie"},
		{"answer without ik_message", nasQuirks{ik: "absent"}, true, true, "has no ik_message"},
		{"empty ik_message", nasQuirks{ik: "empty"}, true, true, "ik_message is empty"},
		{"garbage ik_message", nasQuirks{ik: "garbage"}, true, true, "does not complete the handshake"},
		{"ik_message not base64", nasQuirks{ik: "not base64"}, true, true, "is not base64url"},
		{"ik_message not a string", nasQuirks{ik: "number"}, true, true, "is not a string"},
		{"login with ik_message refused", nasQuirks{refuseIK: 120}, true, false, "refused the login that carried the handshake"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/auto", func(t *testing.T) {
			n := newNoiseNAS(t, tt.q)
			if !tt.offered {
				delete(n.info, uiConfigAPI)
			}
			var log bytes.Buffer
			c := n.client(t, 7, WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			sess, err := c.Auth.Login(t.Context(), admin)
			if err != nil {
				t.Fatalf("Auto refused to log in without the handshake: %v", err)
			}
			if sess.SecureSignIn || sess.Signing != (SigningState{}) {
				t.Errorf("session %#v claims secure sign-in", sess)
			}
			if err := c.Call(t.Context(), "SYNO.Core.User", "list", nil, nil); err != nil {
				t.Fatal(err)
			}
			if s := n.stray(); len(s) != 0 {
				t.Errorf("unsigned session sent X-SYNO-HASH: %v", s)
			}
			if !strings.Contains(log.String(), "secure sign-in") || !strings.Contains(log.String(), tt.reason) {
				t.Errorf("debug log does not say why (%q):\n%s", tt.reason, log.String())
			}
			if got := n.count(uiConfigAPI, "get"); got != map[bool]int{true: 1, false: 0}[tt.offered] {
				t.Errorf("%d UIConfig requests", got)
			}
			logins := n.forms("SYNO.API.Auth", "login")
			if tt.q.refuseIK != 0 {
				if len(logins) != 2 || logins[1].Has("ik_message") {
					t.Errorf("refused handshake login: %d logins, want a second without ik_message", len(logins))
				}
			} else if len(logins) != 1 {
				t.Errorf("%d logins, want 1", len(logins))
			}
		})
		t.Run(tt.name+"/required", func(t *testing.T) {
			n := newNoiseNAS(t, tt.q)
			if !tt.offered {
				delete(n.info, uiConfigAPI)
			}
			c := n.client(t, 8, WithSecureSignIn(SecureSignInRequired))
			_, err := c.Auth.Login(t.Context(), admin)
			var se *SecureSignInError
			if !errors.Is(err, ErrSecureSignInUnavailable) || !errors.As(err, &se) {
				t.Fatalf("error %v, want a *SecureSignInError", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if _, ok := c.Auth.Session(); ok {
				t.Error("Required kept a session without the handshake")
			}
			if got := n.count("SYNO.API.Auth", "login"); got > 1 {
				t.Errorf("%d logins: Required must not retry or resend", got)
			}
			logouts := n.forms("SYNO.API.Auth", "logout")
			if tt.opened && (len(logouts) != 1 || logouts[0].Get("_sid") != "sid1") {
				t.Errorf("the session DSM opened without the handshake was not logged out: %v", logouts)
			}
			if !tt.opened && len(logouts) != 0 {
				t.Errorf("logout without a session: %v", logouts)
			}
			if tt.q.refuseIK != 0 {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != tt.q.refuseIK {
					t.Errorf("error %v does not carry DSM's code %d", err, tt.q.refuseIK)
				}
			}
		})
	}
}

// TestSecureSignInOff: no UIConfig, no ik_message.
func TestSecureSignInOff(t *testing.T) {
	n := newNoiseNAS(t, nasQuirks{})
	c := n.client(t, 9, WithSecureSignIn(SecureSignInOff))
	sess, err := c.Auth.Login(t.Context(), admin)
	if err != nil {
		t.Fatal(err)
	}
	if sess.SecureSignIn || n.count(uiConfigAPI, "get") != 0 || n.last("SYNO.API.Auth").form.Has("ik_message") {
		t.Errorf("SecureSignInOff did the handshake: %#v", sess)
	}
}

// TestSecureSignInPassingFailure: an HTTP 5xx of UIConfig is a failure of
// the login attempt, retried under the policy, not a reason to fall back.
func TestSecureSignInPassingFailure(t *testing.T) {
	n := newNoiseNAS(t, nasQuirks{uiConfigFailures: 1})
	c := n.client(t, 10)
	sess, err := c.Auth.Login(t.Context(), admin)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.SecureSignIn || n.count(uiConfigAPI, "get") != 2 {
		t.Errorf("after one 502: SecureSignIn %v with %d UIConfig requests, want true after 2", sess.SecureSignIn, n.count(uiConfigAPI, "get"))
	}
}

// TestLimitedSession: a 105 to a change in a session without the
// handshake says what it probably is; a read's 105, or a signed
// session's, stays a plain permission denial.
func TestLimitedSession(t *testing.T) {
	unsigned := func(t *testing.T) *Client {
		n := newNoiseNAS(t, nasQuirks{deny: 105})
		delete(n.info, uiConfigAPI)
		c := n.client(t, 11)
		if _, err := c.Auth.Login(t.Context(), admin); err != nil {
			t.Fatal(err)
		}
		return c
	}
	changes := map[string]func(c *Client) error{
		"Call create": func(c *Client) error {
			return c.Call(t.Context(), "SYNO.Core.User", "create", Params{"name": "new"}, nil)
		},
		"Users.Create (checked change)": func(c *Client) error {
			_, err := c.Users.Create(t.Context(), UserCreateRequest{Name: "new", Password: "Secret-pw-1"})
			return err
		},
		"Groups.AddMembers (safe change)": func(c *Client) error { return c.Groups.AddMembers(t.Context(), "staff", "alice") },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			err := change(unsigned(t))
			var le *LimitedSessionError
			var ae *APIError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimitedSession) || !errors.Is(err, ErrPermissionDenied) || !errors.As(err, &ae) || ae.Code != 105 {
				t.Fatalf("error %v: want a *LimitedSessionError matching ErrLimitedSession and ErrPermissionDenied", err)
			}
			for _, want := range []string{"code 105", "without DSM 7's secure sign-in", "does not offer SYNO.API.Auth.UIConfig", "remote", "LAN", "WithSecureSignIn(dsm.SecureSignInRequired)"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message lacks %q:\n%v", want, err)
				}
			}
		})
	}
	t.Run("read", func(t *testing.T) {
		err := unsigned(t).Call(t.Context(), "SYNO.Core.User", "get", nil, nil)
		if !errors.Is(err, ErrPermissionDenied) || errors.Is(err, ErrLimitedSession) {
			t.Errorf("a read's 105: %v, want a plain ErrPermissionDenied", err)
		}
	})
	t.Run("signed session", func(t *testing.T) {
		n := newNoiseNAS(t, nasQuirks{deny: 105})
		c := n.client(t, 12)
		if _, err := c.Auth.Login(t.Context(), admin); err != nil {
			t.Fatal(err)
		}
		err := c.Call(t.Context(), "SYNO.Core.User", "create", Params{"name": "new"}, nil)
		if !errors.Is(err, ErrPermissionDenied) || errors.Is(err, ErrLimitedSession) || strings.Contains(err.Error(), "secure sign-in") {
			t.Errorf("a signed session's 105: %v, want a plain ErrPermissionDenied", err)
		}
	})
	t.Run("resumed unsigned session", func(t *testing.T) {
		n := newNoiseNAS(t, nasQuirks{deny: 105})
		n.valid["old"] = true
		c := n.client(t, 13, WithSession(Session{SID: "old", SynoToken: "t"}))
		err := c.Call(t.Context(), "SYNO.Core.User", "create", Params{"name": "new"}, nil)
		if !errors.Is(err, ErrLimitedSession) || !strings.Contains(err.Error(), "resumed") {
			t.Errorf("error %v, want ErrLimitedSession naming the resumed session", err)
		}
	})
}

// FuzzSecureSignInAnswer: whatever the login answer's ik_message holds,
// finishing the handshake gives a signing state or a *SecureSignInError,
// never a panic; only the vector's message 2 completes it.
func FuzzSecureSignInAnswer(f *testing.F) {
	v := loadSigninVector(f)
	f.Add(strconv.Quote(v.IKMessageLoginAnswer))
	f.Add(`""`)
	f.Add(`null`)
	f.Add(`42`)
	f.Add(`"` + strings.Repeat("A", 64) + `"`)
	f.Add(`"%%%"`)
	f.Fuzz(func(t *testing.T, raw string) {
		key, _ := base64.RawURLEncoding.DecodeString(v.SSIDCookie)
		random := bytes.NewReader(append(unhex(t, v.InitiatorStaticPrivateHex), unhex(t, v.InitiatorEphemeralPrivateHex)...))
		in, err := newInitiator(random, key, vectorTime(t, v))
		if err != nil {
			t.Fatal(err)
		}
		st, err := in.finish(json.RawMessage(raw))
		var se *SecureSignInError
		switch {
		case err == nil && st.HashPrefix != base64.RawURLEncoding.EncodeToString(unhex(t, v.HandshakeHashHex))[:8]:
			t.Errorf("%q completed another handshake", raw)
		case err != nil && !errors.As(err, &se):
			t.Errorf("%q: error %v is not a *SecureSignInError", raw, err)
		}
	})
}
