package sim

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

// totpStep is the length of one TOTP time step (RFC 6238 default).
const totpStep = 30

// decodeTOTPSecret decodes a base32 TOTP seed as authenticator apps show
// it: case-insensitive, spaces allowed, padding optional.
func decodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, errors.New("empty TOTP secret")
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("TOTP secret is not base32: %w", err)
	}
	return key, nil
}

// totpCode computes the 6-digit RFC 6238 code (HMAC-SHA1) for a time step.
func totpCode(key []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

// totpStepAt is the TOTP time step that contains t.
func totpStepAt(t time.Time) int64 {
	return t.Unix() / totpStep
}

// TOTP returns the 6-digit 2-step code for the base32 secret at time t
// (RFC 6238: HMAC-SHA1, 30-second steps), as an authenticator app would
// show it.
func TOTP(secret string, t time.Time) (string, error) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return "", err
	}
	return totpCode(key, totpStepAt(t)), nil
}
