package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"cotd/internal/text"
)

// explained carries a rewritten, user-facing message while keeping the
// original error reachable for errors.Is and errors.As.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// explain turns a TLS verification error from connecting to host into one
// user-facing line that names the host, the certificate's date(s) and what
// to do, instead of a raw x509 string. The result wraps err, so errors.As
// still finds the x509 error underneath. Errors that are not about
// certificates (a refused connection, a timeout) come back unchanged, and
// nil gives nil. Dates are shown in now's location. mail adds the advice
// about sending mail, which watched endpoints (a k3s API server) do not
// need.
func explain(host string, err error, now time.Time, mail bool) error {
	if err == nil {
		return nil
	}
	msg := message(host, err, now, mail)
	if msg == "" {
		return err
	}
	return &explained{msg: msg, err: err}
}

func message(host string, err error, now time.Time, mail bool) string {
	var invalid x509.CertificateInvalidError
	var hostErr x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var noRoots x509.SystemRootsError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &invalid):
		return invalidMessage(host, invalid, now, mail)
	case errors.As(err, &hostErr):
		return hostnameMessage(host, hostErr)
	case errors.As(err, &unknown):
		return unknownMessage(host, unknown)
	case errors.As(err, &noRoots):
		return fmt.Sprintf("this machine has no trusted root certificates to check the certificate of %s; install them with `apt install ca-certificates`, or pass your own CA with --smtp-ca-file", host)
	case errors.As(err, &verify):
		return fmt.Sprintf("the certificate of %s could not be verified (%v); fix the certificate the server sends", host, verify.Err)
	}
	return ""
}

func invalidMessage(host string, e x509.CertificateInvalidError, now time.Time, mail bool) string {
	c := e.Cert
	whose := "the certificate of " + host
	if c != nil && c.IsCA {
		// The leaf is fine but a CA certificate in its chain is not.
		whose = fmt.Sprintf("the CA certificate %q in the chain of %s", subjectName(c), host)
	}
	switch e.Reason {
	case x509.Expired:
		if c == nil {
			break
		}
		switch {
		case !now.Before(c.NotAfter):
			msg := fmt.Sprintf("%s expired on %s (%s); renew it on the server", whose, date(c.NotAfter, now), text.DaysAgo(now.Sub(c.NotAfter)))
			if mail {
				msg += ", cotd will not send to a server with an expired certificate"
			}
			return msg
		case now.Before(c.NotBefore):
			return fmt.Sprintf("%s is not valid until %s (%s); check the clock of this machine (timedatectl) and of the server", whose, date(c.NotBefore, now), ahead(c.NotBefore.Sub(now)))
		default:
			// Verified at another time than now (a clock that moved).
			return fmt.Sprintf("%s is valid only from %s to %s; check the clock of this machine (timedatectl)", whose, date(c.NotBefore, now), date(c.NotAfter, now))
		}
	case x509.IncompatibleUsage:
		return fmt.Sprintf("%s is not meant for a TLS server (its extended key usage does not allow it); install a server certificate", whose)
	case x509.NotAuthorizedToSign:
		return fmt.Sprintf("%s was signed by a certificate that is not a CA; fix the chain the server sends", whose)
	}
	reason := e.Error()
	return fmt.Sprintf("the certificate of %s is not valid (%s); fix the certificate on the server", host, strings.TrimPrefix(reason, "x509: "))
}

func hostnameMessage(host string, e x509.HostnameError) string {
	c := e.Certificate
	var names []string
	if c != nil {
		names = append(names, c.DNSNames...)
		for _, ip := range c.IPAddresses {
			names = append(names, ip.String())
		}
	}
	if len(names) == 0 {
		cn := ""
		if c != nil {
			cn = c.Subject.CommonName
		}
		return fmt.Sprintf("the certificate of %s names no host in its subject alternative names (only the common name %q, which TLS clients no longer accept); get a certificate with %s as a DNS name", host, cn, e.Host)
	}
	const show = 5
	list := strings.Join(names[:min(len(names), show)], ", ")
	if len(names) > show {
		list += fmt.Sprintf(" and %d more", len(names)-show)
	}
	return fmt.Sprintf("the certificate of %s is for %s, not for %s; connect using one of those names, or get a certificate that includes %s", host, list, e.Host, e.Host)
}

func unknownMessage(host string, e x509.UnknownAuthorityError) string {
	const hint = "; if it is your own CA, pass it with --smtp-ca-file"
	c := e.Cert
	if c == nil {
		return "the certificate of " + host + " is signed by an unknown authority" + hint
	}
	if bytes.Equal(c.RawIssuer, c.RawSubject) {
		return fmt.Sprintf("the certificate of %s (%s) is self-signed, so it is signed by an unknown authority%s", host, subjectName(c), hint)
	}
	return fmt.Sprintf("the certificate of %s is signed by an unknown authority (issuer %s)%s", host, c.Issuer, hint)
}

// DescribeInvalid words an invalid certificate met while sending mail, as
// the send error shows it (its certificate named by its subject, times in
// UTC to the second); the x509 wording lives here, with explain's, so mail
// keeps none of its own.
func DescribeInvalid(e x509.CertificateInvalidError, now time.Time) string {
	c := e.Cert
	if e.Reason == x509.Expired && c != nil {
		if now.Before(c.NotBefore) {
			return fmt.Sprintf("certificate %s is not valid until %s (this machine's clock says %s); check the clock, or the certificate's dates",
				certName(c), c.NotBefore.UTC().Format(time.DateTime+" MST"), now.UTC().Format(time.DateTime+" MST"))
		}
		return fmt.Sprintf("certificate %s expired on %s (%s ago); the server's certificate must be renewed",
			certName(c), c.NotAfter.UTC().Format(time.DateTime+" MST"), ago(now.Sub(c.NotAfter)))
	}
	return fmt.Sprintf("certificate %s is not acceptable: %v", certName(c), e)
}

// ago is a duration in the send error: whole days from two on.
func ago(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return d.Round(time.Minute).String()
}

// certName is a certificate's subject, quoted.
func certName(c *x509.Certificate) string {
	if c == nil {
		return "(none)"
	}
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("%q", c.Subject.CommonName)
	}
	return fmt.Sprintf("%q", c.Subject.String())
}
