package dsm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

func TestCertificateFingerprint(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithTLS())
	fp := dsm.Fingerprint(srv.Certificate())
	if len(fp) != 64 {
		t.Fatalf("fingerprint %q is not 64 hex digits", fp)
	}
	cred := dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}

	for _, form := range []string{fp, strings.ToUpper(fp), dsm.FormatFingerprint(fp)} {
		c, err := dsm.NewClient(srv.URL(), dsm.WithCertificateFingerprint(form))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Auth.Login(t.Context(), cred); err != nil {
			t.Errorf("pinned %s: %v", form, err)
		}
	}

	other := strings.Repeat("ab", 32)
	c, err := dsm.NewClient(srv.URL(), dsm.WithCertificateFingerprint(other))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Auth.Login(t.Context(), cred)
	var ce *dsm.CertificateError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a *CertificateError", err)
	}
	if ce.Got != fp || !strings.Contains(err.Error(), dsm.FormatFingerprint(fp)) {
		t.Errorf("error %q does not show the fingerprint it got (%s)", err, fp)
	}
}

func TestCertificateFingerprintOptionErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "abc", strings.Repeat("zz", 32), strings.Repeat("ab", 31)} {
		if _, err := dsm.NewClient("nas", dsm.WithCertificateFingerprint(bad)); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
			t.Errorf("fingerprint %q: error %v", bad, err)
		}
	}
	fp := strings.Repeat("ab", 32)
	if _, err := dsm.NewClient("nas", dsm.WithCertificateFingerprint(fp), dsm.WithInsecureSkipVerify()); err == nil {
		t.Error("pin and insecure together were accepted")
	}
}

func TestFetchCertificate(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithTLS())
	cert, trusted, err := dsm.FetchCertificate(t.Context(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if trusted {
		t.Error("a self-signed test certificate is trusted by the system roots")
	}
	if dsm.Fingerprint(cert) != dsm.Fingerprint(srv.Certificate()) {
		t.Error("fetched another certificate")
	}
	if _, _, err := dsm.FetchCertificate(t.Context(), "http://127.0.0.1:1"); err == nil {
		t.Error("FetchCertificate over http did not fail")
	}
}
