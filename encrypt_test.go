package dsm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// envelopeVectors is testdata/encryption-envelope.json.
type envelopeVectors struct {
	GetinfoData   encryptionInfo `json:"getinfo_data"`
	PrivateKeyPEM string         `json:"private_key_pem"`
	Cases         []struct {
		Params    map[string]string `json:"params"`
		Plaintext string            `json:"plaintext"`
		Field     string            `json:"field"`
		Value     string            `json:"value"`
	} `json:"cases"`
}

func loadVectors(t *testing.T) (envelopeVectors, *rsa.PrivateKey) {
	t.Helper()
	b, err := os.ReadFile("testdata/encryption-envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	var v envelopeVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(v.PrivateKeyPEM))
	if blk == nil {
		t.Fatal("no PEM block in the vectors")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return v, k.(*rsa.PrivateKey)
}

// referenceOpen follows the reference algorithm's steps backwards, written
// independently of encrypt.go: RSA PKCS#1 v1.5 for the passphrase, then
// OpenSSL's Salted__ format with EVP_BytesToKey(MD5, 1 round) and
// AES-256-CBC.
func referenceOpen(key *rsa.PrivateKey, value string) (pass []byte, plain string, err error) {
	var env struct{ RSA, AES string }
	if err := json.Unmarshal([]byte(value), &env); err != nil {
		return nil, "", err
	}
	rsaCT, err := base64.StdEncoding.DecodeString(env.RSA)
	if err != nil {
		return nil, "", err
	}
	//lint:ignore SA1019 the reference algorithm is PKCS#1 v1.5.
	pass, err = rsa.DecryptPKCS1v15(nil, key, rsaCT)
	if err != nil {
		return nil, "", err
	}
	blob, err := base64.StdEncoding.DecodeString(env.AES)
	if err != nil {
		return nil, "", err
	}
	if len(blob) < 32 || string(blob[:8]) != "Salted__" || (len(blob)-16)%16 != 0 {
		return nil, "", errors.New("not a Salted__ blob")
	}
	salt := blob[8:16]
	d1 := md5.Sum(append(append([]byte{}, pass...), salt...))
	d2 := md5.Sum(append(append(d1[:], pass...), salt...))
	d3 := md5.Sum(append(append(d2[:], pass...), salt...))
	k := append(d1[:], d2[:]...)
	iv := d3[:]
	blk, err := aes.NewCipher(k)
	if err != nil {
		return nil, "", err
	}
	data := bytes.Clone(blob[16:])
	cipher.NewCBCDecrypter(blk, iv).CryptBlocks(data, data)
	n := int(data[len(data)-1])
	if n < 1 || n > 16 || !bytes.Equal(data[len(data)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, "", errors.New("bad padding")
	}
	return pass, string(data[:len(data)-n]), nil
}

func TestEnvelopeVectorsDecrypt(t *testing.T) {
	v, key := loadVectors(t)
	if len(v.Cases) == 0 {
		t.Fatal("no cases in the vectors")
	}
	for i, c := range v.Cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if c.Field != v.GetinfoData.CipherKey {
				t.Errorf("field %q, want the cipherkey %q", c.Field, v.GetinfoData.CipherKey)
			}
			_, plain, err := referenceOpen(key, c.Value)
			if err != nil {
				t.Fatal(err)
			}
			if plain != c.Plaintext {
				t.Errorf("plaintext\n got %q\nwant %q", plain, c.Plaintext)
			}
			form, err := url.ParseQuery(plain)
			if err != nil {
				t.Fatal(err)
			}
			want := url.Values{v.GetinfoData.CipherToken: {strconv.FormatInt(v.GetinfoData.ServerTime, 10)}}
			for k, val := range c.Params {
				want.Set(k, val)
			}
			if d := cmp.Diff(want, form); d != "" {
				t.Errorf("form (-want +got):\n%s", d)
			}
		})
	}
}

// TestEnvelopePlaintextMatchesReference checks that the client encodes the
// parameters exactly as the reference client (N4S4/synology-api) did for the vectors.
func TestEnvelopePlaintextMatchesReference(t *testing.T) {
	v, _ := loadVectors(t)
	for i, c := range v.Cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			// The plaintext's order is the reference client's; rebuild
			// the pairs in that order from the plaintext's keys.
			var pairs []pair
			for _, kv := range strings.Split(c.Plaintext, "&") {
				k, _, _ := strings.Cut(kv, "=")
				if k == v.GetinfoData.CipherToken {
					continue
				}
				pairs = append(pairs, pair{k, c.Params[k]})
			}
			got := encodePairs(append(pairs, pair{v.GetinfoData.CipherToken, strconv.FormatInt(v.GetinfoData.ServerTime, 10)}))
			if got != c.Plaintext {
				t.Errorf("got  %q\nwant %q", got, c.Plaintext)
			}
		})
	}
}

func TestSealEnvelopeOpensWithReferenceSteps(t *testing.T) {
	v, key := loadVectors(t)
	pub, err := v.GetinfoData.publicKey()
	if err != nil {
		t.Fatal(err)
	}
	if pub.N.Cmp(key.N) != 0 {
		t.Fatal("getinfo public_key does not match the private key")
	}
	pairs := []pair{{"account", "admin"}, {"passwd", "p@ss wörd&=+"}, {"otp_code", ""}}
	val, err := sealEnvelope(rand.Reader, pub, v.GetinfoData.CipherToken, v.GetinfoData.ServerTime, pairs)
	if err != nil {
		t.Fatal(err)
	}
	pass, plain, err := referenceOpen(key, val)
	if err != nil {
		t.Fatal(err)
	}
	want := "account=admin&passwd=p%40ss+w%C3%B6rd%26%3D%2B&otp_code=&__cIpHeRtOkEn=1764325000"
	if plain != want {
		t.Errorf("plaintext\n got %q\nwant %q", plain, want)
	}
	if len(pass) != passphraseLen {
		t.Errorf("passphrase has %d characters, want %d", len(pass), passphraseLen)
	}
	for _, b := range pass {
		if !strings.ContainsRune(passphraseAlphabet, rune(b)) {
			t.Fatalf("passphrase character %q is outside the alphabet", b)
		}
	}
	// Two envelopes of the same pairs differ: fresh passphrase and salt.
	val2, err := sealEnvelope(rand.Reader, pub, v.GetinfoData.CipherToken, v.GetinfoData.ServerTime, pairs)
	if err != nil {
		t.Fatal(err)
	}
	if val == val2 {
		t.Error("two envelopes are identical: passphrase or salt is not random")
	}
}

func TestEncryptionInfoPublicKeyRejects(t *testing.T) {
	small := new(big.Int).Lsh(big.NewInt(1), 2047)
	tests := []struct {
		name string
		info encryptionInfo
		want string
	}{
		{"no cipherkey", encryptionInfo{CipherToken: "t", PublicKey: "ab"}, "lacks cipherkey"},
		{"not hex", encryptionInfo{CipherKey: "k", CipherToken: "t", PublicKey: "xyz"}, "not a hex"},
		{"too small", encryptionInfo{CipherKey: "k", CipherToken: "t", PublicKey: hex.EncodeToString(small.Bytes())}, "2048 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.info.publicKey()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestEVPBytesToKeyKnownAnswer(t *testing.T) {
	// From: openssl enc -aes-256-cbc -md md5 -P -pass pass:password -S 0001020304050607
	key, iv := evpBytesToKey([]byte("password"), []byte{0, 1, 2, 3, 4, 5, 6, 7})
	if got, want := fmt.Sprintf("%X", key), "B03096345E805D3AA4392D2E72791DFB13E12D3F61094A3FC347ACE86B99ADA6"; got != want {
		t.Errorf("key %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%X", iv), "ACDE38B46073EEF81840283E44A4B22A"; got != want {
		t.Errorf("iv %s, want %s", got, want)
	}
}
