package certs

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"cotd/internal/smtppeer"
	"cotd/internal/testcert"
)

// now is the fixed moment every test in this package is set at.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	ca   *testcert.CA
}

// newCA makes a CA valid from a year before now until notAfter.
func newCA(t *testing.T, name string, notAfter time.Time) *testCA {
	t.Helper()
	ca := testcert.NewCA(t, name, now.AddDate(-1, 0, 0), notAfter)
	return &testCA{cert: ca.Cert, key: ca.Key, pool: ca.Pool, ca: ca}
}

// leafOpts describes a server certificate.
type leafOpts struct {
	cn        string
	dns       []string
	ips       []net.IP
	notBefore time.Time
	notAfter  time.Time
}

// leaf makes a server certificate signed by ca, or self-signed when ca is nil.
func leaf(t *testing.T, ca *testCA, o leafOpts) tls.Certificate {
	t.Helper()
	if o.notBefore.IsZero() {
		o.notBefore = now.AddDate(0, -2, 0)
	}
	hosts := append([]string(nil), o.dns...)
	for _, ip := range o.ips {
		hosts = append(hosts, ip.String())
	}
	var issuer *testcert.CA
	if ca != nil {
		issuer = ca.ca
	}
	return issuer.Issue(t, testcert.Server{CN: o.cn, Hosts: hosts, NotBefore: o.notBefore, NotAfter: o.notAfter})
}

func writePEM(t *testing.T, path string, certs ...*x509.Certificate) {
	t.Helper()
	testcert.WriteCerts(t, path, certs...)
}

// serveTLS runs a TLS listener on loopback presenting cert and returns its
// address. Each connection is handshaken and closed.
func serveTLS(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	return smtppeer.Serve(t, func(c net.Conn) {
		defer c.Close()
		_ = tls.Server(c, cfg).Handshake()
	}).String()
}

// silentListener accepts connections and never answers: the server that
// hangs. It returns the address.
func silentListener(t *testing.T) string {
	addr, _ := smtppeer.Silent(t)
	return addr
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string { return smtppeer.Closed(t) }

// verifyErr returns the error x509 gives for c at now against roots, as a
// TLS client would for host.
func verifyErr(t *testing.T, c *x509.Certificate, host string, roots *x509.CertPool) error {
	t.Helper()
	_, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, CurrentTime: now})
	if err == nil {
		t.Fatal("test certificate unexpectedly verifies")
	}
	return err
}

func mustAs[T any](t *testing.T, err error) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Errorf("errors.As(%T) is false for %v", target, err)
	}
}

func tempFile(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(t.TempDir(), name)
}
