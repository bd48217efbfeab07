package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// explained carries a rewritten, user-facing message while keeping the
// original error reachable for errors.Is and errors.As.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// explain turns a TLS verification error from connecting to host into an
// error that reads as Describe's line and wraps err, so errors.Is and
// errors.As still find the x509 error underneath. Errors that are not
// about certificates (a refused connection, a timeout) come back
// unchanged, and nil gives nil.
func explain(host string, err error, now time.Time, mail bool) error {
	if err == nil {
		return nil
	}
	msg := Describe(host, err, now, mail)
	if msg == "" {
		return err
	}
	return &explained{msg: msg, err: err}
}

// Describe words a TLS verification error from connecting to host as one
// user-facing line that names the host, the certificate's date(s) and what
// to do, instead of a raw x509 string: cotd's one wording of x509 errors,
// for the SMTP server (mail set: with the advice about sending mail and
// its flags) and for watched endpoints (a k3s API server). Dates are shown
// in now's location. It returns "" for an error that is not about
// certificates.
func Describe(host string, err error, now time.Time, mail bool) string {
	var invalid x509.CertificateInvalidError
	var hostErr x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var noRoots x509.SystemRootsError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &invalid):
		return invalidMessage(host, invalid, now, mail)
	case errors.As(err, &hostErr):
		return hostnameMessage(host, hostErr, mail)
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
			msg := expired(whose, c.NotAfter, now) + " on the server"
			if mail {
				msg += ", cotd will not send to a server with an expired certificate"
			}
			return msg
		case now.Before(c.NotBefore):
			return notYetValid(whose, c.NotBefore, now)
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

func hostnameMessage(host string, e x509.HostnameError, mail bool) string {
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
	fix := "connect using one of those names"
	if mail {
		fix = "set --smtp-host to one of those names"
	}
	return fmt.Sprintf("the certificate of %s is for %s, not for %s; %s, or get a certificate that includes %s", host, list, e.Host, fix, e.Host)
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
