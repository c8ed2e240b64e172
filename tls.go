package dsm

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// ParseFingerprint reads a SHA-256 certificate fingerprint written as 64
// hex digits, with or without colons, in either case.
func ParseFingerprint(s string) ([]byte, error) {
	clean := strings.ToLower(strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s)))
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("%q is not a SHA-256 fingerprint: want 64 hex digits (colons allowed)", s)
	}
	return b, nil
}

// Fingerprint returns the SHA-256 fingerprint of a certificate as 64
// lower-case hex digits.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// FormatFingerprint writes a fingerprint as upper-case hex pairs joined by
// colons, as browsers show it.
func FormatFingerprint(fp string) string {
	b, err := ParseFingerprint(fp)
	if err != nil {
		return fp
	}
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

// CertificateError reports a server certificate that does not have the
// fingerprint the client was told to trust.
type CertificateError struct {
	// Want is the trusted fingerprint, Got the server's (64 hex digits).
	Want, Got string
	// Cert is the certificate the server presented.
	Cert *x509.Certificate
}

// Error says what failed and why.
func (e *CertificateError) Error() string {
	return fmt.Sprintf("dsm: the server's certificate has SHA-256 fingerprint %s, not the trusted %s", FormatFingerprint(e.Got), FormatFingerprint(e.Want))
}

// WithCertificateFingerprint trusts exactly the certificate whose SHA-256
// fingerprint is fp (64 hex digits; colons and case ignored), whatever its
// issuer, names and dates: the way to talk to a NAS with a self-signed
// certificate without turning verification off. Any other certificate
// fails with a *CertificateError showing the fingerprint it got.
func WithCertificateFingerprint(fp string) Option {
	return func(c *clientConfig) error {
		b, err := ParseFingerprint(fp)
		if err != nil {
			return fmt.Errorf("WithCertificateFingerprint: %w", err)
		}
		c.pin = hex.EncodeToString(b)
		return nil
	}
}

// pinnedTLS returns a TLS configuration that accepts only the certificate
// with fingerprint pin. Chain and name checks are replaced by the pin, so
// InsecureSkipVerify is set and VerifyConnection does the whole check.
func pinnedTLS(base *tls.Config, pin string) *tls.Config {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("dsm: the server presented no certificate")
		}
		leaf := cs.PeerCertificates[0]
		if got := Fingerprint(leaf); got != pin {
			return &CertificateError{Want: pin, Got: got, Cert: leaf}
		}
		return nil
	}
	return cfg
}

// FetchCertificate connects to the https address of a NAS and returns the
// certificate it presents, without trusting it, and whether the system's
// roots trust it for that host. It is for showing a certificate to a
// person before they decide to trust it.
func FetchCertificate(ctx context.Context, baseURL string) (cert *x509.Certificate, trusted bool, err error) {
	u, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, false, err
	}
	if u.Scheme != "https" {
		return nil, false, fmt.Errorf("dsm: %s is not an https address", u)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "443")
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()}}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, false, fmt.Errorf("dsm: connecting to %s: %w", host, err)
	}
	defer conn.Close()
	cs := conn.(*tls.Conn).ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return nil, false, fmt.Errorf("dsm: %s presented no certificate", host)
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{DNSName: u.Hostname(), Intermediates: inter})
	return leaf, verr == nil, nil
}

// transportWithTLS returns a copy of hc whose transport uses the TLS
// configuration mod makes from the current one.
func transportWithTLS(hc *http.Client, opt string, mod func(*tls.Config) *tls.Config) (*http.Client, error) {
	var t *http.Transport
	switch rt := hc.Transport.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		t = rt.Clone()
	default:
		return nil, fmt.Errorf("dsm: %s needs an *http.Transport, the HTTP client has a %T; configure TLS on that transport instead", opt, rt)
	}
	t.TLSClientConfig = mod(t.TLSClientConfig)
	cp := *hc
	cp.Transport = t
	return &cp, nil
}
