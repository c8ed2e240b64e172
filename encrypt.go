package dsm

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"strconv"
	"strings"
)

// encryptionInfo is the answer of SYNO.API.Encryption getinfo.
type encryptionInfo struct {
	CipherKey   string `json:"cipherkey"`
	CipherToken string `json:"ciphertoken"`
	PublicKey   string `json:"public_key"`
	ServerTime  int64  `json:"server_time"`
}

// passphraseAlphabet is the alphabet of the envelope's passphrase, as
// DSM's own web UI and the reference client (N4S4/synology-api,
// synology_api/auth.py) draw it.
const passphraseAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ~!@#$%^&*()_+-/"

const passphraseLen = 501

// pair is one form field, kept in order.
type pair struct{ key, value string }

// addSecrets puts the secret parameters into form: in clear over https, in
// the SYNO.API.Encryption envelope over plain http.
func (c *Client) addSecrets(ctx context.Context, form url.Values, secret Params, jsonFormat bool, s *session) error {
	pairs := make([]pair, 0, len(secret))
	for _, k := range sortedKeys(secret) {
		s, err := encodeValue(secret[k], jsonFormat)
		if err != nil {
			return fmt.Errorf("parameter %s: %w", k, err)
		}
		pairs = append(pairs, pair{k, s})
	}
	if c.base.Scheme == "https" {
		for _, p := range pairs {
			form.Set(p.key, p.value)
		}
		return nil
	}
	var info encryptionInfo
	if err := c.exchange(ctx, encryptionInfoRequest(&info), s); err != nil {
		return fmt.Errorf("fetching the encryption key: %w", err)
	}
	key, err := info.publicKey()
	if err != nil {
		return err
	}
	env, err := sealEnvelope(rand.Reader, key, info.CipherToken, info.ServerTime, pairs)
	if err != nil {
		return err
	}
	form.Set(info.CipherKey, env)
	return nil
}

// publicKey checks the getinfo answer and returns the RSA key (exponent
// 65537, as on every DSM).
func (info encryptionInfo) publicKey() (*rsa.PublicKey, error) {
	if info.CipherKey == "" || info.CipherToken == "" {
		return nil, errors.New("the server's encryption info lacks cipherkey or ciphertoken")
	}
	b, err := hex.DecodeString(info.PublicKey)
	if err != nil || len(b) == 0 {
		return nil, errors.New("the server's encryption key is not a hex RSA modulus")
	}
	n := new(big.Int).SetBytes(b)
	if n.BitLen() < 4096 {
		// PKCS#1 v1.5 needs 11 bytes of padding: a 501-byte passphrase
		// fits only in a 4096-bit modulus.
		return nil, fmt.Errorf("the server's encryption key has %d bits; the envelope needs 4096", n.BitLen())
	}
	return &rsa.PublicKey{N: n, E: 65537}, nil
}

// encodePairs form-encodes pairs in order, as Python's urlencode does.
func encodePairs(pairs []pair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.value))
	}
	return b.String()
}

// sealEnvelope makes the value of the cipherkey parameter, as DSM's web
// UI and the reference client build it: the form-encoded pairs plus the
// cipher token (the server_time of SYNO.API.Encryption getinfo),
// AES-encrypted with a random passphrase that is itself RSA-encrypted
// (PKCS#1 v1.5) with the server's key. testdata/encryption-envelope.json
// holds vectors.
func sealEnvelope(random io.Reader, key *rsa.PublicKey, cipherToken string, serverTime int64, pairs []pair) (string, error) {
	pass, err := randomPassphrase(random)
	if err != nil {
		return "", err
	}
	plain := encodePairs(append(pairs[:len(pairs):len(pairs)], pair{cipherToken, strconv.FormatInt(serverTime, 10)}))
	//lint:ignore SA1019 DSM's envelope is defined with PKCS#1 v1.5; the server decides, not us.
	rsaCT, err := rsa.EncryptPKCS1v15(random, key, pass)
	if err != nil {
		return "", fmt.Errorf("encrypting the envelope key: %w", err)
	}
	aesCT, err := opensslEncrypt(random, pass, []byte(plain))
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(struct {
		RSA string `json:"rsa"`
		AES string `json:"aes"`
	}{base64.StdEncoding.EncodeToString(rsaCT), base64.StdEncoding.EncodeToString(aesCT)})
	return string(out), err
}

func randomPassphrase(random io.Reader) ([]byte, error) {
	buf := make([]byte, passphraseLen)
	if _, err := io.ReadFull(random, buf); err != nil {
		return nil, fmt.Errorf("making the envelope key: %w", err)
	}
	// 77 symbols: taking each byte modulo 77 is slightly biased; reject
	// bytes above the largest multiple instead.
	const limit = 256 - 256%len(passphraseAlphabet)
	out := make([]byte, 0, passphraseLen)
	for len(out) < passphraseLen {
		for _, b := range buf {
			if int(b) < limit && len(out) < passphraseLen {
				out = append(out, passphraseAlphabet[int(b)%len(passphraseAlphabet)])
			}
		}
		if _, err := io.ReadFull(random, buf); err != nil {
			return nil, fmt.Errorf("making the envelope key: %w", err)
		}
	}
	return out, nil
}

// opensslEncrypt makes an OpenSSL "Salted__" blob: AES-256-CBC with PKCS#7
// padding, key and IV from EVP_BytesToKey with MD5 and one round.
func opensslEncrypt(random io.Reader, pass, plain []byte) ([]byte, error) {
	salt := make([]byte, 8)
	if _, err := io.ReadFull(random, salt); err != nil {
		return nil, fmt.Errorf("making the envelope salt: %w", err)
	}
	key, iv := evpBytesToKey(pass, salt)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	data := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	out := make([]byte, 0, 16+len(data))
	out = append(out, "Salted__"...)
	out = append(out, salt...)
	return append(out, data...), nil
}

// evpBytesToKey derives a 32-byte key and a 16-byte IV as OpenSSL's
// EVP_BytesToKey does with MD5 and one iteration.
func evpBytesToKey(pass, salt []byte) (key, iv []byte) {
	var out, prev []byte
	for len(out) < 48 {
		h := md5.New()
		h.Write(prev)
		h.Write(pass)
		h.Write(salt)
		prev = h.Sum(nil)
		out = append(out, prev...)
	}
	return out[:32], out[32:48]
}
