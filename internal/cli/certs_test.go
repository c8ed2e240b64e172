package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// savedFingerprint returns the fingerprint trusted for url in e's config
// directory, or "".
func savedFingerprint(t *testing.T, e *cliEnv, url string) string {
	t.Helper()
	fp, err := store{dir: e.configDir()}.fingerprint(url)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// TestLoginUntrustedCertificate: against a certificate the system does
// not trust (dsmtest.WithTLS), login shows it and, without a terminal or
// --fingerprint, sends nothing.
func TestLoginUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv := startSim(t, dsmtest.WithTLS())
	cert := srv.Certificate()
	fp := dsm.Fingerprint(cert)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())

	r := e.run(t, "login")
	r.wantCode(t, ExitFailure)
	for _, want := range []string{
		"The certificate of " + srv.URL() + " is not trusted by this system:",
		"subject:     " + cert.Subject.String(),
		"issuer:      " + cert.Issuer.String() + " (self-signed)",
		"not before:  " + cert.NotBefore.UTC().Format("2006-01-02 15:04:05 UTC"),
		"not after:   " + cert.NotAfter.UTC().Format("2006-01-02 15:04:05 UTC"),
		"SHA-256:     " + dsm.FormatFingerprint(fp),
		"dsmctl login --url " + srv.URL() + " --fingerprint " + fp,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := srv.Logins(); n != 0 {
		t.Errorf("%d logins reached the server: the password was sent to an untrusted server", n)
	}
	if _, err := os.Stat(filepath.Join(e.configDir(), certificatesFile)); !os.IsNotExist(err) {
		t.Errorf("a refused certificate was saved (stat: %v)", err)
	}

	// A one-shot command says how to trust it.
	r = e.run(t, "whoami")
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "is not trusted by this system: run \"dsmctl login --url "+srv.URL()+"\"") {
		t.Errorf("one-shot whoami against an untrusted certificate:\n%s", r.stderr)
	}
}

// TestLoginFingerprint: --fingerprint trusts the certificate with that
// fingerprint, whatever its spelling; it is saved with the login and every
// later command (saved session or one-shot) uses it; another fingerprint
// is refused, showing both.
func TestLoginFingerprint(t *testing.T) {
	t.Parallel()
	srv := startSim(t, dsmtest.WithTLS())
	fp := dsm.Fingerprint(srv.Certificate())
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())

	other := strings.Repeat("ab", 32)
	r := e.run(t, "login", "--fingerprint", other)
	r.wantCode(t, ExitFailure)
	for _, want := range []string{dsm.FormatFingerprint(fp), dsm.FormatFingerprint(other), "nothing was sent"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if srv.Logins() != 0 {
		t.Error("the password was sent to a server with another certificate")
	}

	// Colons and upper case are fine.
	r = e.mustRun(t, "login", "--fingerprint", dsm.FormatFingerprint(fp))
	if !strings.Contains(r.stdout, "trusted the certificate of "+srv.URL()) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if got := savedFingerprint(t, e, srv.URL()); got != fp {
		t.Errorf("saved fingerprint %q, want %q", got, fp)
	}
	if m := fileMode(t, filepath.Join(e.configDir(), certificatesFile)); m != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", certificatesFile, m)
	}

	// The saved session, then a one-shot command: no flag needed.
	e.with("DSM_PASSWORD", "").mustRun(t, "whoami")
	e.mustRun(t, "whoami")
	// A login again: no question, nothing new to say.
	r = e.mustRun(t, "login")
	if strings.Contains(r.stdout, "trusted the certificate") || r.stderr != "" {
		t.Errorf("a second login with the trusted certificate:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	e.with("DSM_PASSWORD", "").mustRun(t, "logout")
	if got := savedFingerprint(t, e, srv.URL()); got != fp {
		t.Errorf("logout forgot the trusted certificate (%q)", got)
	}
}

// TestLoginTrustQuestion: on a terminal, login asks whether to trust the
// certificate (default no), before it asks for the password.
func TestLoginTrustQuestion(t *testing.T) {
	t.Parallel()
	srv := startSim(t, dsmtest.WithTLS())
	fp := dsm.Fingerprint(srv.Certificate())
	question := "Trust this certificate for " + srv.URL() + "? [y/N] "
	for _, answer := range []string{"", "n", "no", "yes please"} {
		e := newEnv(t, srv, "DSM_USER", "admin")
		e.terminal = []string{answer, srv.AdminPassword()}
		r := e.run(t, "login")
		r.wantCode(t, ExitFailure)
		if diff := cmp.Diff([]string{question}, e.prompts); diff != "" {
			t.Errorf("answer %q: prompts (-want +got):\n%s", answer, diff)
		}
		if !strings.Contains(r.stderr, "SHA-256:     "+dsm.FormatFingerprint(fp)) {
			t.Errorf("answer %q: the fingerprint is not shown:\n%s", answer, r.stderr)
		}
		if savedFingerprint(t, e, srv.URL()) != "" {
			t.Errorf("answer %q: the certificate was saved", answer)
		}
		// Declined as a delete or an apply is: exit 1, "not confirmed".
		if !strings.Contains(r.stderr, "dsmctl: not confirmed: the certificate of "+srv.URL()+" is not trusted, nothing was sent") {
			t.Errorf("answer %q: stderr does not say it was not confirmed:\n%s", answer, r.stderr)
		}
	}
	if srv.Logins() != 0 {
		t.Error("a refused certificate still got the password")
	}

	e := newEnv(t, srv, "DSM_USER", "admin")
	e.terminal = []string{"y", srv.AdminPassword()}
	e.mustRun(t, "login")
	want := []string{question, "Password for admin on " + srv.URL() + ": "}
	if diff := cmp.Diff(want, e.prompts); diff != "" {
		t.Errorf("prompts (-want +got):\n%s", diff)
	}
	if got := savedFingerprint(t, e, srv.URL()); got != fp {
		t.Errorf("saved fingerprint %q, want %q", got, fp)
	}
	e.mustRun(t, "whoami")
}

// TestChangedCertificate: once a certificate is trusted, another one on
// the same URL is refused by every command, with a loud warning naming
// both fingerprints and how to accept the new one; login --fingerprint NEW
// accepts it.
func TestChangedCertificate(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	front := startTLSFront(t, srv.Handler())
	old := front.fingerprint()
	e := newEnv(t, nil, "DSM_URL", front.url, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login", "--fingerprint", old)
	saved := e.with("DSM_PASSWORD", "")
	saved.mustRun(t, "whoami")
	logins := srv.Logins()

	if err := front.rotate(); err != nil {
		t.Fatal(err)
	}
	current := front.fingerprint()
	wantWarning := func(t *testing.T, r result) {
		t.Helper()
		r.wantCode(t, ExitFailure)
		for _, want := range []string{
			"@    WARNING: THE NAS CERTIFICATE HAS CHANGED!            @",
			"IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
			"has SHA-256 fingerprint\n    " + dsm.FormatFingerprint(old),
			"presents one with SHA-256 fingerprint\n    " + dsm.FormatFingerprint(current),
			"dsmctl login --url " + front.url + " --fingerprint " + current,
			"dsmctl: the certificate of " + front.url + " is not the trusted one: refusing to connect",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	}
	t.Run("saved session", func(t *testing.T) { wantWarning(t, saved.run(t, "whoami")) })
	t.Run("one-shot", func(t *testing.T) { wantWarning(t, e.run(t, "user", "list")) })
	t.Run("login", func(t *testing.T) { wantWarning(t, e.run(t, "login")) })
	t.Run("login on a terminal", func(t *testing.T) {
		te := e.with("DSM_PASSWORD", "")
		te.terminal = []string{"y", srv.AdminPassword()}
		wantWarning(t, te.run(t, "login"))
		if len(te.prompts) != 0 {
			t.Errorf("login asked %q: a changed certificate is never a question", te.prompts)
		}
	})
	t.Run("login with the old fingerprint", func(t *testing.T) {
		r := e.run(t, "login", "--fingerprint", old)
		r.wantCode(t, ExitFailure)
		if !strings.Contains(r.stderr, "not the one given with --fingerprint") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("one-shot with the old fingerprint", func(t *testing.T) {
		r := e.run(t, "whoami", "--fingerprint", old)
		wantWarning(t, r)
		if !strings.Contains(r.stderr, "(with --fingerprint)") {
			t.Errorf("the warning does not say the fingerprint came from the flag:\n%s", r.stderr)
		}
	})
	if n := srv.Logins(); n != logins {
		t.Fatalf("%d logins reached the server behind the changed certificate", n-logins)
	}
	if got := savedFingerprint(t, e, front.url); got != old {
		t.Fatalf("the trusted fingerprint changed without a deliberate login: %q", got)
	}

	// Accepting the new certificate deliberately.
	r := e.mustRun(t, "login", "--fingerprint", current)
	if !strings.Contains(r.stderr, "changed since it was trusted (it was "+dsm.FormatFingerprint(old)+")") {
		t.Errorf("login --fingerprint NEW does not say what it replaces:\n%s", r.stderr)
	}
	if got := savedFingerprint(t, e, front.url); got != current {
		t.Errorf("saved fingerprint %q, want the new %q", got, current)
	}
	saved.mustRun(t, "whoami")
}

// TestInsecure: --insecure connects without checking the certificate and
// warns on every use; it saves nothing and excludes --fingerprint.
func TestInsecure(t *testing.T) {
	t.Parallel()
	srv := startSim(t, dsmtest.WithTLS())
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	const warning = "warning: --insecure: the certificate of "
	for _, args := range [][]string{{"whoami", "--insecure"}, {"user", "list", "--insecure"}, {"login", "--insecure"}} {
		r := e.mustRun(t, args...)
		if n := strings.Count(r.stderr, warning); n != 1 {
			t.Errorf("dsmctl %s: %d warnings, want 1:\n%s", strings.Join(args, " "), n, r.stderr)
		}
	}
	if savedFingerprint(t, e, srv.URL()) != "" {
		t.Error("login --insecure saved a fingerprint")
	}
	// The session of login --insecure needs --insecure again.
	saved := e.with("DSM_PASSWORD", "")
	saved.run(t, "whoami").wantCode(t, ExitFailure)
	r := saved.mustRun(t, "logout", "--insecure")
	if !strings.Contains(r.stderr, warning) {
		t.Errorf("logout --insecure does not warn:\n%s", r.stderr)
	}

	for _, args := range [][]string{
		{"login", "--insecure", "--fingerprint", dsm.Fingerprint(srv.Certificate())},
		{"whoami", "--fingerprint", "12:34"},
		{"login", "--fingerprint", "not hex at all"},
	} {
		e.run(t, args...).wantCode(t, ExitUsage)
	}
}

// TestFingerprintOverHTTP: --fingerprint with a plain http URL is a
// mistake; --insecure there says it has no effect.
func TestFingerprintOverHTTP(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	fp := strings.Repeat("0f", 32)
	for _, cmd := range []string{"login", "whoami"} {
		r := e.run(t, cmd, "--fingerprint", fp)
		r.wantCode(t, ExitUsage)
		if !strings.Contains(r.stderr, "is plain http, it has no certificate") {
			t.Errorf("%s: stderr:\n%s", cmd, r.stderr)
		}
	}
	r := e.mustRun(t, "whoami", "--insecure")
	if !strings.Contains(r.stderr, "is plain http, there is no certificate to check") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestRefuseWritableCertificatesFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	t.Parallel()
	srv := startSim(t, dsmtest.WithTLS())
	fp := dsm.Fingerprint(srv.Certificate())
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	e.mustRun(t, "login", "--fingerprint", fp)
	path := filepath.Join(e.configDir(), certificatesFile)
	if err := os.Chmod(path, 0o660); err != nil {
		t.Fatal(err)
	}
	r := e.run(t, "whoami")
	r.wantCode(t, ExitFailure)
	if !strings.Contains(r.stderr, "chmod 600 "+path) {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
