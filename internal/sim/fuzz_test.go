package sim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzParams reads one fuzzed value with every parameter reader the
// handlers use, in both request formats: never a panic, and what a
// reader accepts is what it promises.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"", "alice", `"alice"`, `["a","b"]`, `[]`, `["a",1]`, `{"a":1}`, `[`, "a, b,,c", `"a,b"`,
		"true", "false", `"true"`, "True", "yes", "1", "-1", "0", " 7 ", "99999999999999999999", "-2",
		"2026/3/1", "2026/03/01", "2026-03-01", "1969/12/31", "10000/1/1", "2026/2/29", "2028/2/29", "normal", "never", "now",
		"a@b", "a@b@c", "@b", "a@", "x\x00y", "\xff", `"\u0000"`, `"\ud800"`, "-name", "name ", " name"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, v string, jsonFormat bool) {
		params := url.Values{"v": {v}, "offset": {v}, "limit": {v}}
		q := &request{params: params, api: &apiDef{jsonFormat: jsonFormat}}
		s := q.str("v")
		if !jsonFormat && s != v {
			t.Fatalf("str(%q) = %q outside the JSON format", v, s)
		}
		q.yes("v")
		q.list("v")
		for _, required := range []bool{true, false} {
			names, err := q.names("v", required, codeInvalidParameter)
			if err == nil && required && len(names) == 0 {
				t.Fatalf("names(%q, required) = empty list, no error", v)
			}
			if err == nil && names == nil {
				t.Fatalf("names(%q) = nil, no error", v)
			}
		}
		if b, err := q.boolean("v", false, codeInvalidParameter); err == nil && (s == "true") != b {
			t.Fatalf("boolean(%q) = %v, but the value reads %q", v, b, s)
		} else if err == nil && s != "true" && s != "false" {
			t.Fatalf("boolean(%q) accepted %q", v, s)
		}
		q.integer("v", 0, codeInvalidParameter)
		if offset, limit, err := q.page(); err == nil {
			if offset < 0 || limit < -1 {
				t.Fatalf("page(%q) = %d, %d", v, offset, limit)
			}
			pageOf(make([]int, 10), offset, limit)
		}
		if e, ok := normalizeExpired(s); ok {
			if again, ok := normalizeExpired(e); !ok || again != e {
				t.Fatalf("normalizeExpired(%q) = %q, which reads back as %q, %v", s, e, again, ok)
			}
			if e != "normal" && e != "now" {
				if d, ok := parseExpiryDate(e); !ok || d.Year() < 1970 {
					t.Fatalf("expired %q accepted, but is no date", e)
				}
			}
		}
		validName(s, maxUserNameLen, "")
		validDescription(s)
		validEmail(s)
	})
}

// opensslEncrypt is `openssl enc -aes-256-cbc -md md5` with the given
// salt, written here apart from encryption.go.
func opensslEncrypt(pass, salt, plain []byte) []byte {
	var d, kiv []byte
	for len(kiv) < 48 {
		sum := md5.Sum(slices.Concat(d, pass, salt))
		d = sum[:]
		kiv = append(kiv, d...)
	}
	block, _ := aes.NewCipher(kiv[:32])
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(slices.Clone(plain), bytes.Repeat([]byte{byte(n)}, n)...)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, kiv[32:48]).CryptBlocks(ct, padded)
	return slices.Concat([]byte("Salted__"), salt, ct)
}

// FuzzOpenSSLDecrypt: what the envelope's AES half encrypts decrypts back,
// and any blob (a damaged one, a wrong passphrase) fails without a panic.
// FuzzOpenEnvelope cannot reach this code: it stops at the RSA half.
func FuzzOpenSSLDecrypt(f *testing.F) {
	f.Add([]byte("passphrase"), []byte("account=admin&passwd=x&__cIpHeRtOkEn=1"), []byte("saltsalt"), []byte(nil))
	f.Add([]byte(""), []byte(""), []byte("12345678"), []byte("Salted__12345678"))
	f.Add([]byte("p"), []byte("0123456789abcdef"), []byte("\x00\x00\x00\x00\x00\x00\x00\x00"), []byte("Salted__\x00\x00\x00\x00\x00\x00\x00\x00\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10\x10"))
	f.Fuzz(func(t *testing.T, pass, plain, salt, blob []byte) {
		openSSLDecrypt(pass, blob)
		if len(salt) != 8 {
			return
		}
		got, err := openSSLDecrypt(pass, opensslEncrypt(pass, salt, plain))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("decrypt(encrypt(%q)) = %q, %v", plain, got, err)
		}
	})
}

// FuzzDecodeState: a damaged state file is refused, never loaded half or
// with a panic; one that loads writes back to a file that loads the same.
func FuzzDecodeState(f *testing.F) {
	s := newServer(f, Config{
		Groups: []Group{{Name: "staff", Members: []string{"admin"}}},
		Users:  []User{{Name: "alice", Password: strongPW, OTPSecret: otpSecret, Groups: []string{"staff"}, Expired: "2030/1/2"}},
	})
	seed, err := encodeState(s.st)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"next_uid":5,"users":[{"name":"a","uid":7}]}`))
	f.Add(bytes.Replace(seed, []byte(`"members": [`), []byte(`"members": [4242, `), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		for _, g := range st.groups {
			for uid := range g.members {
				if st.userByUID(uid) == nil {
					t.Fatalf("group %s has member uid %d, which is no user", g.name, uid)
				}
			}
		}
		out, err := encodeState(st)
		if err != nil {
			t.Fatalf("a loaded state does not encode: %v", err)
		}
		st2, err := decodeState(out)
		if err != nil {
			t.Fatalf("a state written from a loaded one does not load: %v\n%s", err, out)
		}
		if out2, _ := encodeState(st2); !bytes.Equal(out, out2) {
			t.Fatalf("the state changes from one load to the next:\n%s\n%s", out, out2)
		}
	})
}

// FuzzControl posts any body to the control endpoint: it answers 200 (the
// faults were added) or 400 with a reason, and only valid faults are kept.
func FuzzControl(f *testing.F) {
	for _, s := range []string{`{"spec":"*:*:reset:p=0.05"}`, `[{"spec":"SYNO.Core.User:create:code=117:times=2"},{"api":"*","kind":"latency","delay":"1ms"}]`,
		`{"kind":"code","code":117,"p":0.5,"times":3}`, `{"kind":"latency","delay":"-1s"}`, `{"kind":"expire","method":"login"}`, `[]`, `[{}]`, `{"spec":""}`, `null`, `{"p":1e999}`} {
		f.Add(s)
	}
	s := newServer(f, Config{})
	f.Fuzz(func(t *testing.T, body string) {
		defer s.ClearFaults()
		req := httptest.NewRequest(http.MethodPost, "/_sim/faults", strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:1"
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		var answer struct {
			Faults []json.RawMessage `json:"faults"`
			Error  string            `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("answer is not JSON: %q", rec.Body.String())
		}
		switch rec.Code {
		case http.StatusOK:
			if len(answer.Faults) == 0 {
				t.Fatalf("200 with no fault: %s", rec.Body.String())
			}
		case http.StatusBadRequest:
			if answer.Error == "" || len(s.Faults()) != 0 {
				t.Fatalf("400 without a reason, or with faults kept: %s", rec.Body.String())
			}
		default:
			t.Fatalf("HTTP %d: %s", rec.Code, rec.Body.String())
		}
		for _, st := range s.Faults() {
			if err := st.Validate(); err != nil {
				t.Fatalf("an invalid fault was kept: %v", err)
			}
			if again, err := ParseFault(st.String()); err != nil || again.String() != st.String() || !again.matches(orStar(st.API), orStar(st.Method)) {
				t.Fatalf("fault %+v prints as %q, which reads back as %+v, %v", st.Fault, st.String(), again, err)
			}
		}
	})
}
