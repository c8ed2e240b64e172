package sim

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDecryptEnvelopeVectors opens the reference envelopes with the
// vectors' key: each must give exactly its plaintext's fields.
func TestDecryptEnvelopeVectors(t *testing.T) {
	t.Parallel()
	v := vectors(t)
	key, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(key.N.Bytes()); got != v.GetinfoData.PublicKey {
		t.Fatalf("vector key modulus differs from getinfo_data.public_key")
	}
	for i, c := range v.Cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			got, err := decryptEnvelope(key, c.Value)
			if err != nil {
				t.Fatalf("decryptEnvelope: %v", err)
			}
			want, err := url.ParseQuery(c.Plaintext)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fields (-plaintext +decrypted):\n%s", diff)
			}
			params := url.Values{}
			for k, val := range c.Params {
				params.Set(k, val)
			}
			params.Set(v.GetinfoData.CipherToken, strconv.FormatInt(v.GetinfoData.ServerTime, 10))
			if diff := cmp.Diff(params, got); diff != "" {
				t.Errorf("fields (-params +decrypted):\n%s", diff)
			}
		})
	}
}

// TestVectorEnvelopeInRequest sends the reference login envelope in a
// real call: its fields reach the handler and replace clear ones of the
// same name, and neither the envelope nor the ciphertoken is left.
func TestVectorEnvelopeInRequest(t *testing.T) {
	t.Parallel()
	v := vectors(t)
	s := newServer(t, Config{})
	s.mu.Lock()
	s.tokens[v.GetinfoData.ServerTime] = s.clock.Now()
	s.mu.Unlock()
	c := v.Cases[1]
	a := s.do(t, call{query: form("api", "SYNO.Test.Sim"), form: form("method", "echo", "version", "1", "passwd", "clear", c.Field, c.Value)})
	if !a.Success {
		t.Fatalf("echo with envelope: %s", a.raw)
	}
	var got echoData
	a.data(t, &got)
	want := form("api", "SYNO.Test.Sim", "method", "echo", "version", "1")
	for k, val := range c.Params {
		want.Set(k, val)
	}
	if diff := cmp.Diff(want, got.Params); diff != "" {
		t.Errorf("merged params (-want +got):\n%s", diff)
	}
}

// TestEnvelopeRejected covers what must not open: garbage, a wrong key,
// a token never issued or issued too long ago.
func TestEnvelopeRejected(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	info := s.mustGetinfo(t)
	good := func(token int64) string {
		return seal(t, info.PublicKey, token, form("name", "x"))
	}
	tests := []struct {
		name    string
		value   string
		advance time.Duration
		want    int
	}{
		{"issued token", good(info.ServerTime), 0, 0},
		{"not JSON", "{", 0, 120},
		{"empty", "", 0, 120},
		{"bad base64", `{"rsa":"!!","aes":"!!"}`, 0, 120},
		{"rsa of garbage", `{"rsa":"AAAA","aes":"U2FsdGVkX1/by6zDYsKur3evg1962Hn2B17Eic03IrQ="}`, 0, 120},
		{"token never issued", good(info.ServerTime - 1000), 0, 120},
		{"token not a number", sealPlain(t, info.PublicKey, "name=x&__cIpHeRtOkEn=abc"), 0, 120},
		{"no token", sealPlain(t, info.PublicKey, "name=x"), 0, 120},
		{"other key", seal(t, "c"+info.PublicKey[1:], info.ServerTime, form("name", "x")), 0, 120},
		{"token expired", good(info.ServerTime), CipherTokenTTL + time.Minute, 120},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s
			if tt.advance != 0 {
				s = newServer(t, Config{})
				inf := s.mustGetinfo(t)
				tt.value = seal(t, inf.PublicKey, inf.ServerTime, form("name", "x"))
				s.Advance(tt.advance)
			}
			// One address per case: envelopes that do not open count
			// towards auto-block.
			a := s.do(t, call{form: form("api", "SYNO.Test.Sim", "method", "echo", "version", "1", "__cIpHeRtExT", tt.value),
				addr: fmt.Sprintf("192.168.1.%d:1234", 100+i)})
			if a.code() != tt.want {
				t.Errorf("code = %d, want %d (%s)", a.code(), tt.want, a.raw)
			}
		})
	}
}

func TestOpenSSLDecryptMalformed(t *testing.T) {
	t.Parallel()
	salted := []byte("Salted__12345678")
	tests := map[string][]byte{
		"empty":        nil,
		"no magic":     append([]byte("Salty___12345678"), make([]byte, 16)...),
		"no blocks":    salted,
		"partial":      append(salted, make([]byte, 17)...),
		"zero padding": append(salted, make([]byte, 32)...), // decrypts to noise: padding check must catch it
	}
	for name, blob := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := openSSLDecrypt([]byte("pass"), blob); err == nil {
				t.Error("openSSLDecrypt accepted a malformed blob")
			}
		})
	}
}

func TestEncryptionGetinfo(t *testing.T) {
	t.Parallel()
	start := time.Unix(1764325000, 0)
	s := newServer(t, Config{Start: start})
	for _, path := range []string{"/webapi/encryption.cgi", "/webapi/entry.cgi", "/webapi/entry.cgi/SYNO.API.Encryption"} {
		a := s.do(t, call{verb: http.MethodGet, path: path, query: form("api", "SYNO.API.Encryption", "method", "getinfo", "version", "1", "format", "module")})
		if !a.Success {
			t.Fatalf("%s: %s", path, a.raw)
		}
		var got encryptionInfo
		a.data(t, &got)
		if got.PublicKey != vectors(t).GetinfoData.PublicKey || got.CipherKey != "__cIpHeRtExT" || got.CipherToken != "__cIpHeRtOkEn" {
			t.Errorf("%s: getinfo = %+v", path, got)
		}
		if d := got.ServerTime - start.Unix(); d < 0 || d > 5 {
			t.Errorf("%s: server_time = %d, want the sim clock (%d)", path, got.ServerTime, start.Unix())
		}
	}
}

// FuzzOpenEnvelope feeds arbitrary envelope values: never a panic.
func FuzzOpenEnvelope(f *testing.F) {
	for _, c := range vectors(f).Cases {
		f.Add(c.Value)
	}
	f.Add(`{"rsa":"","aes":"U2FsdGVkX18="}`)
	key, err := testKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string) {
		openEnvelope(key, url.Values{cipherKey: {value}})
	})
}

// TestCipherTokenReusedWithinTTL: one getinfo answer's token carries any
// number of envelopes until CipherTokenTTL has passed, then none, and the
// tokens past it are forgotten at the next getinfo.
func TestCipherTokenReusedWithinTTL(t *testing.T) {
	s := newServer(t, Config{})
	login := func(sealed string) answer {
		return s.do(t, call{path: "/webapi/auth.cgi", form: form("api", "SYNO.API.Auth", "version", "7", "method", "login",
			"session", "webui", "format", "sid", cipherKey, sealed)})
	}
	creds := form("account", "admin", "passwd", adminPW)
	info := s.mustGetinfo(t)
	for i := range 3 {
		if a := login(seal(t, info.PublicKey, info.ServerTime, creds)); !a.Success {
			t.Fatalf("envelope %d with one token: %s", i+1, a.raw)
		}
	}
	s.clock.Advance(CipherTokenTTL + time.Second)
	if a := login(seal(t, info.PublicKey, info.ServerTime, creds)); a.code() != codeInvalidParameter {
		t.Errorf("token past its validity: code %d, want %d", a.code(), codeInvalidParameter)
	}
	s.mustGetinfo(t)
	s.mu.Lock()
	n := len(s.tokens)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("%d tokens kept after a getinfo past the validity of the others, want 1", n)
	}
}

// TestEnvelopeFloodIsBlocked sends envelopes that do not open from one
// address: each counts as a failed login, so once auto-block stops the
// address its envelopes are no longer decrypted, and the decryptions ran
// with the state's lock free.
func TestEnvelopeFloodIsBlocked(t *testing.T) {
	s := newServer(t, Config{})
	decrypted, free := 0, 0
	s.unlockedHook = func() {
		decrypted++
		if s.mu.TryLock() {
			free++
			s.mu.Unlock()
		}
	}
	garbage := `{"rsa":"` + base64.StdEncoding.EncodeToString(make([]byte, 512)) + `","aes":"U2FsdGVkX1/by6zDYsKur3evg1962Hn2B17Eic03IrQ="}`
	const flooder = "203.0.113.7:4000"
	for i := range 2 * DefaultAutoBlockAttempts {
		a := s.do(t, call{path: "/webapi/auth.cgi", form: form("api", "SYNO.API.Auth", "version", "7", "method", "login", cipherKey, garbage), addr: flooder})
		want := codeInvalidParameter
		if i >= DefaultAutoBlockAttempts {
			want = codeAddressBlocked
		}
		if a.code() != want {
			t.Fatalf("envelope %d: code %d, want %d", i+1, a.code(), want)
		}
	}
	if decrypted != DefaultAutoBlockAttempts || free != decrypted {
		t.Errorf("%d envelopes decrypted (%d with the lock free), want %d, all with it free", decrypted, free, DefaultAutoBlockAttempts)
	}
	if a := s.do(t, loginCall("admin", adminPW)); !a.Success {
		t.Errorf("another address is not blocked: %s", a.raw)
	}
}
