package cli

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
)

// tlsFront serves a handler over https on 127.0.0.1 with a self-signed
// certificate made as dsmctl sim --tls makes it, which the test can
// replace: the same URL with another certificate, as after a NAS's
// certificate changed, or a man in the middle.
type tlsFront struct {
	url  string
	cert atomic.Pointer[tls.Certificate]
	srv  *http.Server
}

// newTLSFront starts serving h. Call close when done.
func newTLSFront(h http.Handler) (*tlsFront, error) {
	f := &tlsFront{}
	if err := f.rotate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.url = "https://" + ln.Addr().String()
	f.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshakes that refuse the certificate
	}
	tlsLn := tls.NewListener(ln, &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return f.cert.Load(), nil },
	})
	go func() {
		if err := f.srv.Serve(tlsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("tls front: %v", err)
		}
	}()
	return f, nil
}

// startTLSFront is newTLSFront for a test: stopped when it ends.
func startTLSFront(t testing.TB, h http.Handler) *tlsFront {
	t.Helper()
	f, err := newTLSFront(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	return f
}

// rotate replaces the certificate with a new one.
func (f *tlsFront) rotate() error {
	cert, err := selfSignedCertificate("127.0.0.1:0", time.Now())
	if err != nil {
		return err
	}
	f.cert.Store(&cert)
	return nil
}

// fingerprint is the SHA-256 fingerprint of the current certificate.
func (f *tlsFront) fingerprint() string { return dsm.Fingerprint(f.cert.Load().Leaf) }

// certPEM is the current certificate in PEM (for SSL_CERT_FILE: a
// system that trusts it).
func (f *tlsFront) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.cert.Load().Leaf.Raw})
}

func (f *tlsFront) close() { f.srv.Close() }
