package sim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain registers SYNO.Test.Sim, an API that exists only in tests, to
// exercise what no real method of this issue has: a mutating call, an
// admin-only call and a panicking handler.
func TestMain(m *testing.M) {
	checkDiffs = true
	if dir := os.Getenv(crashHelperEnv); dir != "" {
		os.Exit(crashHelper(dir))
	}
	apiTable["SYNO.Test.Sim"] = &apiDef{name: "SYNO.Test.Sim", path: "entry.cgi", minVersion: 1, maxVersion: 3, jsonFormat: true,
		methods: map[string]*methodDef{
			"write":  {session: true, mutates: true, handle: func(*Server, *request) (any, error) { return map[string]bool{"written": true}, nil }},
			"admin":  {session: true, admin: true, handle: func(*Server, *request) (any, error) { return nil, nil }},
			"panic":  {handle: func(*Server, *request) (any, error) { panic("boom") }},
			"v2only": {minVersion: 2, maxVersion: 2, handle: func(*Server, *request) (any, error) { return nil, nil }},
			"echo": {handle: func(_ *Server, q *request) (any, error) {
				return echoData{Name: q.str("name"), Params: q.params}, nil
			}},
		}}
	os.Exit(m.Run())
}

// echoData is the answer of SYNO.Test.Sim echo: the request's parameters
// after merging and decryption, and parameter name as request.str reads it.
type echoData struct {
	Name   string     `json:"name"`
	Params url.Values `json:"params"`
}

// envelopeVectors is testdata/encryption-envelope.json.
type envelopeVectors struct {
	GetinfoData struct {
		CipherKey   string `json:"cipherkey"`
		CipherToken string `json:"ciphertoken"`
		PublicKey   string `json:"public_key"`
		ServerTime  int64  `json:"server_time"`
	} `json:"getinfo_data"`
	PrivateKeyPEM string `json:"private_key_pem"`
	Cases         []struct {
		Params    map[string]string `json:"params"`
		Plaintext string            `json:"plaintext"`
		Field     string            `json:"field"`
		Value     string            `json:"value"`
	} `json:"cases"`
}

var loadVectors = sync.OnceValues(func() (*envelopeVectors, error) {
	b, err := os.ReadFile("testdata/encryption-envelope.json")
	if err != nil {
		return nil, err
	}
	var v envelopeVectors
	return &v, json.Unmarshal(b, &v)
})

// testKey is the 4096-bit key of the vectors, shared by every test so no
// test pays for key generation.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	v, err := loadVectors()
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode([]byte(v.PrivateKeyPEM))
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	return k.(*rsa.PrivateKey), nil
})

func vectors(t testing.TB) *envelopeVectors {
	t.Helper()
	v, err := loadVectors()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const (
	adminPW = "Adm1n-pw"
	// otpSecret is the RFC 6238 SHA1 test seed "12345678901234567890".
	otpSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
)

// newServer returns a simulator with the shared key, admin password
// adminPW and cfg's other settings.
func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.RSAKey = k
	if cfg.AdminPassword == "" {
		cfg.AdminPassword = adminPW
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// answer is a decoded DSM envelope plus the HTTP response.
type answer struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code   int             `json:"code"`
		Errors json.RawMessage `json:"errors"`
	} `json:"error"`
	resp *http.Response
	raw  string
}

// code is 0 on success, else the error code.
func (a answer) code() int {
	if a.Success {
		return 0
	}
	if a.Error == nil {
		return -1
	}
	return a.Error.Code
}

func (a answer) data(t testing.TB, out any) {
	t.Helper()
	if err := json.Unmarshal(a.Data, out); err != nil {
		t.Fatalf("decode data %s: %v", a.Data, err)
	}
}

// lanAddr is the client address of a call that names none: a client on
// the NAS's LAN, with full access without the secure sign-in (httptest's
// own default, 192.0.2.1, is a remote client).
const lanAddr = "192.168.1.20:1234"

// call is one HTTP request to the handler.
type call struct {
	verb   string // default POST
	path   string // default /webapi/entry.cgi
	query  url.Values
	form   url.Values
	header http.Header
	addr   string // RemoteAddr, default lanAddr
	cookie *http.Cookie
}

func (s *Server) do(t testing.TB, c call) answer {
	t.Helper()
	if c.verb == "" {
		c.verb = http.MethodPost
	}
	if c.path == "" {
		c.path = "/webapi/entry.cgi"
	}
	target := c.path
	if len(c.query) > 0 {
		target += "?" + c.query.Encode()
	}
	var body *strings.Reader
	if c.form != nil {
		body = strings.NewReader(c.form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(c.verb, target, body)
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	req.RemoteAddr = lanAddr
	if c.addr != "" {
		req.RemoteAddr = c.addr
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	return serveRequest(t, s, req)
}

func serveRequest(t testing.TB, s *Server, req *http.Request) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	resp := rec.Result()
	a := answer{resp: resp, raw: rec.Body.String()}
	if resp.StatusCode != http.StatusOK {
		return a
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer is not JSON: %q", rec.Body.String())
	}
	return a
}

// form builds url.Values from name, value pairs.
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// login logs account in with enable_syno_token=yes and returns the session.
func (s *Server) mustLogin(t testing.TB, account, passwd string, extra ...string) loginData {
	t.Helper()
	f := form(append([]string{"api", "SYNO.API.Auth", "version", "7", "method", "login",
		"account", account, "passwd", passwd, "session", "webui", "format", "sid", "enable_syno_token", "yes"}, extra...)...)
	a := s.do(t, call{form: f})
	if !a.Success {
		t.Fatalf("login %s: %s", account, a.raw)
	}
	var d loginData
	a.data(t, &d)
	return d
}

// --- the test-only envelope encrypter, written from the envelope DSM's
// web UI and N4S4/synology-api (synology_api/auth.py) build, and sharing
// no code with encryption.go: a 501-character passphrase encrypted with
// RSA PKCS#1 v1.5 to the server key; the form-encoded plaintext plus
// "&<ciphertoken>=<server time>" in OpenSSL's Salted__ AES-256-CBC
// (EVP_BytesToKey, MD5, one round); sent as the cipherkey parameter
// {"rsa": base64, "aes": base64}.

const passphraseAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ~!@#$%^&*()_+-/"

// seal encrypts fields (plus the ciphertoken) for a server whose getinfo
// answered modulusHex and serverTime, as the reference client does.
func seal(t testing.TB, modulusHex string, serverTime int64, fields url.Values) string {
	t.Helper()
	plain := fields.Encode()
	if plain != "" {
		plain += "&"
	}
	plain += "__cIpHeRtOkEn=" + strconv.FormatInt(serverTime, 10)
	return sealPlain(t, modulusHex, plain)
}

// sealPlain encrypts a plaintext as the envelope above.
func sealPlain(t testing.TB, modulusHex, plain string) string {
	t.Helper()
	n, ok := new(big.Int).SetString(modulusHex, 16)
	if !ok {
		t.Fatalf("public_key %q is not hex", modulusHex)
	}
	pub := &rsa.PublicKey{N: n, E: 65537}
	pass := make([]byte, 501)
	for i := range pass {
		r, _ := rand.Int(rand.Reader, big.NewInt(int64(len(passphraseAlphabet))))
		pass[i] = passphraseAlphabet[r.Int64()]
	}

	//lint:ignore SA1019 the DSM envelope is PKCS#1 v1.5 by definition.
	rsaCT, err := rsa.EncryptPKCS1v15(rand.Reader, pub, pass)
	if err != nil {
		t.Fatal(err)
	}
	salt := make([]byte, 8)
	rand.Read(salt)
	var d, kiv []byte
	for len(kiv) < 48 {
		d1 := md5.Sum(append(append(append([]byte{}, d...), pass...), salt...))
		d = d1[:]
		kiv = append(kiv, d...)
	}
	block, err := aes.NewCipher(kiv[:32])
	if err != nil {
		t.Fatal(err)
	}
	padN := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append([]byte(plain), bytes.Repeat([]byte{byte(padN)}, padN)...)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, kiv[32:48]).CryptBlocks(ct, padded)
	blob := append(append([]byte("Salted__"), salt...), ct...)
	b, _ := json.Marshal(map[string]string{"rsa": base64.StdEncoding.EncodeToString(rsaCT), "aes": base64.StdEncoding.EncodeToString(blob)})
	// The reference client writes Python's json.dumps spacing.
	return strings.Replace(strings.Replace(string(b), `","`, `", "`, 1), `":"`, `": "`, 2)
}

// getinfo calls SYNO.API.Encryption getinfo and returns its data.
func (s *Server) mustGetinfo(t testing.TB) encryptionInfo {
	t.Helper()
	a := s.do(t, call{verb: http.MethodGet, path: "/webapi/encryption.cgi",
		query: form("api", "SYNO.API.Encryption", "method", "getinfo", "version", "1", "format", "module")})
	if !a.Success {
		t.Fatalf("getinfo: %s", a.raw)
	}
	var info encryptionInfo
	a.data(t, &info)
	return info
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"empty user name", Config{RSAKey: k, Users: []User{{Password: "x"}}}},
		{"duplicate of admin", Config{RSAKey: k, Users: []User{{Name: "ADMIN"}}}},
		{"duplicate user", Config{RSAKey: k, Users: []User{{Name: "bob"}, {Name: "Bob"}}}},
		{"bad TOTP secret", Config{RSAKey: k, Users: []User{{Name: "bob", OTPSecret: "not base32!"}}}},
		{"small RSA key", Config{RSAKey: small}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tt.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	k, _ := testKey()
	s, err := New(Config{RSAKey: k})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.AdminPassword()) < 12 {
		t.Errorf("AdminPassword() = %q, want a random password", s.AdminPassword())
	}
	if s.idle != DefaultSessionIdleTimeout || s.byAddr.attempts != 5 || s.byAddr.within != 10*time.Minute || s.byAddr.blockFor != 30*time.Minute || s.maxBody != 1<<20 {
		t.Errorf("defaults: idle %v block %d/%v/%v body %d", s.idle, s.byAddr.attempts, s.byAddr.within, s.byAddr.blockFor, s.maxBody)
	}
	if s.byAccount.attempts != 10 || s.byAccount.within != 10*time.Minute || s.byAccount.blockFor != 30*time.Minute {
		t.Errorf("account lock defaults %d/%v/%v", s.byAccount.attempts, s.byAccount.within, s.byAccount.blockFor)
	}
	s.mustLogin(t, "admin", s.AdminPassword())
}

// TestWithoutAPIsKnownNames: Config.WithoutAPIs names APIs the simulator
// serves; a typo is an error, not a simulator that silently serves all.
func TestWithoutAPIsKnownNames(t *testing.T) {
	t.Parallel()
	k, _ := testKey()
	if _, err := New(Config{RSAKey: k, WithoutAPIs: []string{"SYNO.Core.Nosuch"}}); err == nil || !strings.Contains(err.Error(), `no API "SYNO.Core.Nosuch"`) {
		t.Errorf("New with an unknown API left out: %v, want an error naming it", err)
	}
	if _, err := New(Config{RSAKey: k, WithoutAPIs: []string{"SYNO.Core.BandwidthControl"}}); err != nil {
		t.Errorf("New without SYNO.Core.BandwidthControl: %v", err)
	}
}
