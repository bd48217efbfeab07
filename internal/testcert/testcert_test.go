package testcert

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A server certificate issued by the CA verifies for its names and
// addresses, and the written files load as a key pair.
func TestIssue(t *testing.T) {
	now := time.Now()
	ca := NewCA(t, "test CA", now.Add(-time.Hour), now.Add(time.Hour))
	c := ca.Issue(t, Server{CN: "mail.example.test", Hosts: []string{"mail.example.test", "127.0.0.1"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	for _, name := range []string{"mail.example.test", "127.0.0.1"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	dir := t.TempDir()
	WriteCerts(t, filepath.Join(dir, "c.pem"), c.Leaf)
	WriteKey(t, filepath.Join(dir, "k.pem"), c)
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")); err != nil {
		t.Error(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "k.pem")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	self := (*CA)(nil).Issue(t, Server{CN: "self", Hosts: []string{"self.test"}, NotBefore: now, NotAfter: now.Add(time.Hour)})
	if self.Leaf.Issuer.CommonName != "self" {
		t.Errorf("self-signed issuer = %q", self.Leaf.Issuer.CommonName)
	}
}
