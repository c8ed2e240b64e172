package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dsmkit/dsm"
)

// connNote remembers, for the error report, which DSM the command talked
// to and where the fingerprint it trusted came from (pinFlag, ...).
type connNote struct {
	url     string
	pinFrom string
}

// trustCertificate decides, before any password is sent, how dsmctl login
// checks the certificate of url (https): it fetches the certificate and
// compares it with --fingerprint, then with the fingerprint trusted at an
// earlier login; a certificate the system trusts needs neither; any
// other is shown and, on a terminal, the user is asked. It sets o.pin and
// returns the fingerprint to save once the login succeeds (save) or
// whether to forget the saved one (forget).
func (o *connOptions) trustCertificate(ctx context.Context, url string, s *IOStreams) (save string, forget bool, err error) {
	saved, err := o.store().fingerprint(url)
	if err != nil {
		return "", false, err
	}
	cert, trusted, err := dsm.FetchCertificate(ctx, url)
	if err != nil {
		return "", false, fmt.Errorf("fetching the certificate of %s: %w", url, err)
	}
	got := dsm.Fingerprint(cert)
	o.pinSet = true
	switch {
	case o.Fingerprint != "":
		if got != o.Fingerprint {
			describeCertificate(s.ErrOut, cert, trusted)
			return "", false, fmt.Errorf("the certificate of %s has SHA-256 fingerprint\n    %s\nnot the one given with --fingerprint\n    %s\nrefusing to log in: nothing was sent",
				url, dsm.FormatFingerprint(got), dsm.FormatFingerprint(o.Fingerprint))
		}
		if saved != "" && saved != got {
			fmt.Fprintf(s.ErrOut, "the certificate of %s changed since it was trusted (it was %s); trusting the new one, as --fingerprint says\n",
				url, dsm.FormatFingerprint(saved))
		}
		o.pin = got
		return got, false, nil
	case saved == got:
		o.pin = got
		return "", false, nil
	case saved != "" && trusted:
		// The NAS has a certificate from an authority the system trusts
		// now (a new one installed in DSM): rely on that from now on.
		fmt.Fprintf(s.ErrOut, "the certificate of %s changed since it was trusted (it was %s); the new one is trusted by this system (issuer %s), "+
			"so the saved fingerprint is forgotten\n", url, dsm.FormatFingerprint(saved), cert.Issuer)
		o.pin = ""
		return "", true, nil
	case saved != "":
		warnChangedCertificate(s.ErrOut, url, saved, got, cert, pinSaved)
		return "", false, &certificateChangedError{url: url}
	case trusted:
		o.pin = ""
		return "", false, nil
	}

	fmt.Fprintf(s.ErrOut, "The certificate of %s is not trusted by this system:\n", url)
	describeCertificate(s.ErrOut, cert, trusted)
	if s.ReadLine == nil {
		return "", false, fmt.Errorf("the certificate of %s is not trusted by this system, and standard input is not a terminal to ask; "+
			"check its fingerprint (above) against the NAS's, then trust it with\n    dsmctl login --url %s --fingerprint %s", url, url, got)
	}
	fmt.Fprintln(s.ErrOut, "Check the fingerprint against the NAS's own certificate before you trust it: anyone on the network path can present a certificate.")
	yes, err := askYesNo(s, fmt.Sprintf("Trust this certificate for %s? [y/N] ", url))
	if err != nil {
		return "", false, fmt.Errorf("reading the answer: %w", err)
	}
	if !yes {
		return "", false, declined(fmt.Sprintf("the certificate of %s is not trusted, nothing was sent", url))
	}
	o.pin = got
	return got, false, nil
}

// certificateChangedError is a certificate other than the trusted one;
// the warning has been printed.
type certificateChangedError struct{ url string }

func (e *certificateChangedError) Error() string {
	return fmt.Sprintf("the certificate of %s is not the trusted one: refusing to connect (see the warning above)", e.url)
}

// describeCertificate writes what a person needs to decide whether to
// trust cert.
func describeCertificate(w io.Writer, cert *x509.Certificate, trusted bool) {
	issuer := cert.Issuer.String()
	if cert.Issuer.String() == cert.Subject.String() {
		issuer += " (self-signed)"
	}
	validity := ""
	switch now := time.Now(); {
	case now.After(cert.NotAfter):
		validity = " (EXPIRED)"
	case now.Before(cert.NotBefore):
		validity = " (NOT YET VALID)"
	}
	names := append([]string{}, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	fmt.Fprintf(w, "    subject:     %s\n", cert.Subject)
	fmt.Fprintf(w, "    issuer:      %s\n", issuer)
	fmt.Fprintf(w, "    not before:  %s\n", cert.NotBefore.UTC().Format(time.DateTime+" MST"))
	fmt.Fprintf(w, "    not after:   %s%s\n", cert.NotAfter.UTC().Format(time.DateTime+" MST"), validity)
	if len(names) > 0 {
		fmt.Fprintf(w, "    names:       %s\n", strings.Join(names, ", "))
	}
	fmt.Fprintf(w, "    SHA-256:     %s\n", dsm.FormatFingerprint(dsm.Fingerprint(cert)))
	if trusted {
		fmt.Fprintln(w, "    (trusted by this system)")
	}
}

// warnChangedCertificate writes the warning about a certificate that is
// not the trusted one, in the manner of SSH's changed host key.
func warnChangedCertificate(w io.Writer, url, want, got string, cert *x509.Certificate, from string) {
	trustedAt := "at an earlier login"
	if from == pinFlag {
		trustedAt = "with --fingerprint"
	}
	fmt.Fprint(w, `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: THE NAS CERTIFICATE HAS CHANGED!            @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that the certificate of the NAS was just replaced.
`)
	fmt.Fprintf(w, "The certificate trusted for %s (%s) has SHA-256 fingerprint\n    %s\n", url, trustedAt, dsm.FormatFingerprint(want))
	fmt.Fprintf(w, "but the server presents one with SHA-256 fingerprint\n    %s\n", dsm.FormatFingerprint(got))
	if cert != nil {
		describeCertificate(w, cert, false)
	}
	fmt.Fprintf(w, "dsmctl sent nothing to it. If you know why the certificate changed, check the new\n"+
		"fingerprint against the NAS and accept the new certificate deliberately with\n    dsmctl login --url %s --fingerprint %s\n", url, got)
}

// explainCertificateError turns a certificate failure of a command into
// something a person can act on: the changed-certificate warning for a
// certificate other than the trusted one, how to trust a certificate the
// system does not. Other errors pass unchanged.
func explainCertificateError(err error, s *IOStreams) error {
	url := s.conn.url
	if url == "" {
		url = "the NAS"
	}
	var ce *dsm.CertificateError
	if errors.As(err, &ce) {
		warnChangedCertificate(s.ErrOut, url, ce.Want, ce.Got, ce.Cert, s.conn.pinFrom)
		return &certificateChangedError{url: url}
	}
	var ve *tls.CertificateVerificationError
	var he x509.HostnameError
	var ue x509.UnknownAuthorityError
	if errors.As(err, &ve) || errors.As(err, &he) || errors.As(err, &ue) {
		return fmt.Errorf("%w\nthe certificate of %s is not trusted by this system: run \"dsmctl login --url %s\" to see it and decide whether to trust it, "+
			"or pass --fingerprint with its SHA-256 fingerprint (--insecure turns the check off: unsafe)", err, url, url)
	}
	return err
}

// askYesNo asks a yes/no question on the terminal; anything but y or yes
// is no.
func askYesNo(s *IOStreams, prompt string) (bool, error) {
	answer, err := s.ReadLine(prompt)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
