package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExplain(t *testing.T) {
	ca := newCA(t, "Home CA", now.AddDate(5, 0, 0))
	other := newCA(t, "Someone Else's CA", now.AddDate(5, 0, 0))
	host := "mail.example.test"
	mk := func(o leafOpts) *x509.Certificate {
		if o.dns == nil && o.ips == nil {
			o.dns = []string{host}
		}
		if o.cn == "" {
			o.cn = host
		}
		if o.notAfter.IsZero() {
			o.notAfter = now.AddDate(0, 3, 0)
		}
		return leaf(t, ca, o).Leaf
	}
	selfSigned := leaf(t, nil, leafOpts{cn: host, dns: []string{host}, notAfter: now.AddDate(1, 0, 0)}).Leaf
	expiredCA := newCA(t, "Old Intermediate", now.AddDate(0, 0, -3))
	chainLeaf := leaf(t, expiredCA, leafOpts{cn: host, dns: []string{host}, notBefore: now.AddDate(0, -1, 0), notAfter: now.AddDate(0, 1, 0)}).Leaf

	tests := []struct {
		name     string
		err      error
		contains []string
		absent   []string
		as       func(t *testing.T, err error)
	}{
		{
			name:     "expired",
			err:      verifyErr(t, mk(leafOpts{notAfter: now.AddDate(0, 0, -5)}), host, ca.pool),
			contains: []string{"the certificate of mail.example.test expired on 2026-11-20 (5 days ago)", "renew it on the server", "cotd will not send to a server with an expired certificate"},
			as:       mustAs[x509.CertificateInvalidError],
		},
		{
			name:     "not yet valid",
			err:      verifyErr(t, mk(leafOpts{notBefore: now.AddDate(0, 0, 3), notAfter: now.AddDate(0, 6, 0)}), host, ca.pool),
			contains: []string{"mail.example.test", "is not valid until 2026-11-28 (in 3 days)", "clock"},
			absent:   []string{"expired"},
			as:       mustAs[x509.CertificateInvalidError],
		},
		{
			name:     "wrong host",
			err:      verifyErr(t, mk(leafOpts{dns: []string{"smtp.other.test", "mx.other.test"}}), host, ca.pool),
			contains: []string{"the certificate of mail.example.test is for smtp.other.test, mx.other.test, not for mail.example.test", "get a certificate that includes mail.example.test"},
			as:       mustAs[x509.HostnameError],
		},
		{
			name:     "wrong host, ip",
			err:      verifyErr(t, mk(leafOpts{ips: []net.IP{net.ParseIP("192.0.2.7")}}), "192.0.2.8", ca.pool),
			contains: []string{"is for 192.0.2.7, not for 192.0.2.8"},
			as:       mustAs[x509.HostnameError],
		},
		{
			name:     "wrong host, many names",
			err:      verifyErr(t, mk(leafOpts{dns: []string{"a.test", "b.test", "c.test", "d.test", "e.test", "f.test", "g.test"}}), host, ca.pool),
			contains: []string{"a.test, b.test, c.test, d.test, e.test and 2 more, not for mail.example.test"},
			absent:   []string{"f.test"},
		},
		{
			name:     "unknown authority",
			err:      verifyErr(t, mk(leafOpts{}), host, other.pool),
			contains: []string{"the certificate of mail.example.test is signed by an unknown authority (issuer CN=Home CA)", "if it is your own CA, pass it with --smtp-ca-file"},
			as:       mustAs[x509.UnknownAuthorityError],
		},
		{
			name:     "self-signed",
			err:      verifyErr(t, selfSigned, host, ca.pool),
			contains: []string{"mail.example.test", "self-signed", "unknown authority", "--smtp-ca-file"},
			as:       mustAs[x509.UnknownAuthorityError],
		},
		{
			name: "expired intermediate",
			err: func() error {
				inter := x509.NewCertPool()
				inter.AddCert(expiredCA.cert)
				_, err := chainLeaf.Verify(x509.VerifyOptions{Roots: expiredCA.pool, Intermediates: inter, DNSName: host, CurrentTime: now})
				if err == nil {
					t.Fatal("chain with an expired CA verifies")
				}
				return err
			}(),
			contains: []string{`the CA certificate "CN=Old Intermediate" in the chain of mail.example.test expired on 2026-11-22 (3 days ago)`},
			as:       mustAs[x509.CertificateInvalidError],
		},
		{
			name:     "no system roots",
			err:      x509.SystemRootsError{},
			contains: []string{"mail.example.test", "apt install ca-certificates"},
		},
		{
			name:     "wrapped by the caller",
			err:      fmt.Errorf("dial smtp: %w", verifyErr(t, mk(leafOpts{notAfter: now.AddDate(0, 0, -5)}), host, ca.pool)),
			contains: []string{"expired on 2026-11-20"},
			as:       mustAs[x509.CertificateInvalidError],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explain(host, tt.err, now, true)
			msg := got.Error()
			for _, want := range tt.contains {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			for _, bad := range append(tt.absent, "x509:") {
				if strings.Contains(msg, bad) {
					t.Errorf("message %q contains %q", msg, bad)
				}
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("message %q is more than one line", msg)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("Explain's error does not wrap the original")
			}
			if tt.as != nil {
				tt.as(t, got)
			}
		})
	}
}

// TestExplainHandshake feeds Explain what a real TLS client returns (a
// *tls.CertificateVerificationError around the x509 error), as the SMTP
// code will.
func TestExplainHandshake(t *testing.T) {
	ca := newCA(t, "Home CA", now.AddDate(5, 0, 0))
	addr := serveTLS(t, leaf(t, ca, leafOpts{cn: "localhost", ips: []net.IP{net.IPv4(127, 0, 0, 1)}, notAfter: now.AddDate(0, 0, -5)}))
	_, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1", Time: func() time.Time { return now }})
	if err == nil {
		t.Fatal("handshake with an expired certificate succeeded")
	}
	got := explain("127.0.0.1", err, now, true)
	want := "the certificate of 127.0.0.1 expired on 2026-11-20 (5 days ago); renew it on the server, cotd will not send to a server with an expired certificate"
	if got.Error() != want {
		t.Errorf("Explain =\n %q\nwant\n %q", got, want)
	}
	mustAs[*tls.CertificateVerificationError](t, got)
	mustAs[x509.CertificateInvalidError](t, got)
}

func TestExplainPassesOtherErrors(t *testing.T) {
	if explain("h", nil, now, true) != nil {
		t.Error("explain(nil) is not nil")
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	if got := explain("h", refused, now, true); got != error(refused) {
		t.Errorf("Explain changed a non-certificate error: %v", got)
	}
}

// One wording of a certificate outside its dates: the expiry Classify
// judges (a file, the SMTP server's chain) and the verification error
// Describe explains (the server cotd sends to, a watched endpoint) say the
// same words; only the advice around them differs.
func TestOneWordingOfDates(t *testing.T) {
	ca := newCA(t, "Home CA", now.AddDate(5, 0, 0))
	host := "mail.example.test"
	tests := []struct {
		name      string
		notBefore time.Time
		notAfter  time.Time
		want      string
	}{
		{"expired", now.AddDate(0, -3, 0), now.AddDate(0, 0, -5), "expired on 2026-11-20 (5 days ago); renew it"},
		{"not yet valid", now.AddDate(0, 0, 3), now.AddDate(0, 6, 0), "is not valid until 2026-11-28 (in 3 days); check the clock of this machine (timedatectl) and of the server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := leaf(t, ca, leafOpts{cn: host, dns: []string{host}, notBefore: tt.notBefore, notAfter: tt.notAfter}).Leaf
			classified := Classify(Earliest("smtp "+host+":587", []*x509.Certificate{c}), now, 21).Message
			for _, mail := range []bool{true, false} {
				described := Describe(host, verifyErr(t, c, host, ca.pool), now, mail)
				if !strings.Contains(described, "the certificate of "+host+" "+tt.want) {
					t.Errorf("Describe(mail %v) = %q, want %q", mail, described, tt.want)
				}
			}
			if !strings.Contains(classified, "the certificate of smtp "+host+":587 (CN="+host+") "+tt.want) {
				t.Errorf("Classify = %q, want %q", classified, tt.want)
			}
		})
	}
}

// The advice around the words is the caller's: the SMTP server's errors
// name cotd's flags, a watched endpoint's do not.
func TestDescribeMailAdvice(t *testing.T) {
	ca := newCA(t, "Home CA", now.AddDate(5, 0, 0))
	c := leaf(t, ca, leafOpts{cn: "smtp.other.test", dns: []string{"smtp.other.test"}, notAfter: now.AddDate(0, 3, 0)}).Leaf
	err := verifyErr(t, c, "mail.example.test", ca.pool)
	for mail, want := range map[bool]string{
		true:  "the certificate of mail.example.test is for smtp.other.test, not for mail.example.test; set --smtp-host to one of those names, or get a certificate that includes mail.example.test",
		false: "the certificate of mail.example.test is for smtp.other.test, not for mail.example.test; connect using one of those names, or get a certificate that includes mail.example.test",
	} {
		if got := Describe("mail.example.test", err, now, mail); got != want {
			t.Errorf("Describe(mail %v) =\n %q\nwant\n %q", mail, got, want)
		}
	}
	if got := Describe("h", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, now, true); got != "" {
		t.Errorf("Describe worded a refused connection: %q", got)
	}
}
