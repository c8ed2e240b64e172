package dsm

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// totpStep is the length of a TOTP window (RFC 6238 default, and DSM's).
const totpStep = 30 * time.Second

// TOTPKey computes the 6-digit codes of an authenticator app (RFC 6238:
// HMAC-SHA1, 30-second windows) from the base32 seed shown when 2-step
// verification was set up. It is a secret: it prints as [redacted].
type TOTPKey struct {
	key []byte
}

// TOTP reads a base32 TOTP seed (spaces, dashes, padding and case
// ignored), for Credentials.TOTP.
func TOTP(secret string) (*TOTPKey, error) {
	s := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "", "\n", "", "\r", "").Replace(secret))
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, errors.New("dsm: the TOTP seed is empty")
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || len(key) < 10 {
		// The message must not quote the seed.
		return nil, errors.New("dsm: the TOTP seed is not base32 text of at least 16 characters (A-Z, 2-7)")
	}
	return &TOTPKey{key: key}, nil
}

// Code returns the code of the window that holds t.
func (k *TOTPKey) Code(t time.Time) string {
	return k.codeAt(t.Unix() / int64(totpStep/time.Second))
}

func (k *TOTPKey) codeAt(step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, k.key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// nextWindow returns the start of the window after the one holding t.
func nextWindow(t time.Time) time.Time {
	step := t.Unix() / int64(totpStep/time.Second)
	return time.Unix((step+1)*int64(totpStep/time.Second), 0)
}

// String hides the seed.
func (k *TOTPKey) String() string { return "dsm.TOTPKey([redacted])" }

// GoString hides the seed from %#v.
func (k *TOTPKey) GoString() string { return k.String() }
