package dsmtest_test

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/flynn/noise"

	"github.com/dsmkit/dsm/dsmtest"
)

// TestSecureSignIn: over the real listener, WithRemoteClients and
// WithLocalNets limit a loopback session without the handshake (105 on
// a change, reads work), the default does not, and a client that does
// the Noise IK handshake to the key of WithSecureSignInKey and signs its
// calls may change users.
func TestSecureSignIn(t *testing.T) {
	t.Parallel()
	create := func(name, sid string) []string {
		return []string{"api", "SYNO.Core.User", "version", "1", "method", "create", "name", name, "password", "Str0ng-pass!", "_sid", sid}
	}
	for _, tt := range []struct {
		name string
		opts []dsmtest.Option
		want int
	}{
		{"default: loopback is local", nil, 0},
		{"WithRemoteClients", []dsmtest.Option{dsmtest.WithRemoteClients()}, 105},
		{"WithLocalNets without loopback", []dsmtest.Option{dsmtest.WithLocalNets(netip.MustParsePrefix("203.0.113.0/24"))}, 105},
		{"WithLocalNets with loopback", []dsmtest.Option{dsmtest.WithRemoteClients(), dsmtest.WithLocalNets(netip.MustParsePrefix("127.0.0.0/8"))}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := dsmtest.Start(t, append(tt.opts, dsmtest.WithAdminPassword("Adm1n!"))...)
			hc := srv.HTTPClient()
			var d struct {
				SID string `json:"sid"`
			}
			a := post(t, hc, srv, login("admin", "Adm1n!")...)
			if err := json.Unmarshal(a.Data, &d); err != nil || d.SID == "" {
				t.Fatalf("login: %+v %v", a, err)
			}
			if a := post(t, hc, srv, "api", "SYNO.Core.User", "version", "1", "method", "list", "_sid", d.SID); !a.Success {
				t.Errorf("list: code %d", code(a))
			}
			if a := post(t, hc, srv, create("bob", d.SID)...); code(a) != tt.want {
				t.Errorf("create: code %d, want %d", code(a), tt.want)
			}
		})
	}

	t.Run("handshake", func(t *testing.T) {
		t.Parallel()
		priv := make([]byte, 32)
		for i := range priv {
			priv[i] = byte(i + 1)
		}
		k, err := ecdh.X25519().NewPrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		srv := dsmtest.Start(t, dsmtest.WithRemoteClients(), dsmtest.WithSecureSignInKey(priv), dsmtest.WithAdminPassword("Adm1n!"))
		hc := srv.HTTPClient()
		resp, err := hc.PostForm(srv.URL()+"/webapi/entry.cgi/SYNO.API.Auth.UIConfig", url.Values{"api": {"SYNO.API.Auth.UIConfig"}, "method": {"get"}, "version": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var ssid string
		for _, c := range resp.Cookies() {
			if c.Name == "_SSID" {
				ssid = c.Value
			}
		}
		if want := base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()); ssid != want {
			t.Fatalf("_SSID %q, want %q (the public half of WithSecureSignInKey)", ssid, want)
		}

		suite := noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2b)
		static, err := suite.GenerateKeypair(nil)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := noise.NewHandshakeState(noise.Config{CipherSuite: suite, Pattern: noise.HandshakeIK, Initiator: true,
			StaticKeypair: static, PeerStatic: k.PublicKey().Bytes()})
		if err != nil {
			t.Fatal(err)
		}
		msg1, _, _, err := hs.WriteMessage(nil, []byte(`{"time": 1764576000}`))
		if err != nil {
			t.Fatal(err)
		}
		a := post(t, hc, srv, login("admin", "Adm1n!", "ik_message", base64.RawURLEncoding.EncodeToString(msg1))...)
		var d struct {
			SID       string `json:"sid"`
			IKMessage string `json:"ik_message"`
		}
		if err := json.Unmarshal(a.Data, &d); err != nil || d.SID == "" {
			t.Fatalf("login: %+v %v", a, err)
		}
		msg2, err := base64.RawURLEncoding.DecodeString(d.IKMessage)
		if err != nil {
			t.Fatalf("ik_message %q: %v", d.IKMessage, err)
		}
		_, send, _, err := hs.ReadMessage(nil, msg2)
		if err != nil || send == nil {
			t.Fatalf("message 2: %v", err)
		}
		if srv.SecureLogins() != 1 {
			t.Errorf("SecureLogins() = %d, want 1", srv.SecureLogins())
		}
		prefix := base64.RawURLEncoding.EncodeToString(hs.ChannelBinding())[:8]
		for n, name := range []string{"bob", "carol"} {
			tag, err := send.Encrypt(nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			f := url.Values{}
			kv := create(name, d.SID)
			for i := 0; i+1 < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+"/webapi/entry.cgi", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-SYNO-HASH", prefix+base64.RawURLEncoding.EncodeToString(tag)+"."+base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))))
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var a dsmAnswer
			err = json.NewDecoder(resp.Body).Decode(&a)
			resp.Body.Close()
			if err != nil || !a.Success {
				t.Errorf("signed create %s (n = %d): code %d %v", name, n, code(a), err)
			}
		}
		// The same call unsigned: the session has a handshake, so it is refused.
		if a := post(t, hc, srv, create("dave", d.SID)...); code(a) != 119 {
			t.Errorf("unsigned create: code %d, want 119", code(a))
		}
	})
}

func TestSecureSignInKeySize(t *testing.T) {
	t.Parallel()
	if _, err := dsmtest.NewServer(dsmtest.WithSecureSignInKey(make([]byte, 31))); err == nil || !strings.Contains(err.Error(), "32-byte") {
		t.Errorf("NewServer with a 31-byte key: %v", err)
	}
}
