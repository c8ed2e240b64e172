package dsmtest

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"net"
	"time"

	"github.com/dsmkit/dsm/internal/sim"
)

// selfSignedCert makes a certificate for 127.0.0.1, ::1 and localhost,
// valid for a day either side of now, like the self-signed certificate
// of a fresh NAS.
func selfSignedCert() (tls.Certificate, error) {
	now := time.Now()
	return sim.SelfSignedCertificate(pkix.Name{CommonName: "synology", Organization: []string{"dsmtest"}},
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, []string{"localhost"}, now.Add(-24*time.Hour), now.Add(24*time.Hour))
}
