package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"

	gomail "github.com/wneessen/go-mail"

	"cotd/certs"
)

// userError is an error whose text is written for the owner, while the
// causes stay reachable with errors.Is and errors.As.
type userError struct {
	msg    string
	causes []error
}

func (e *userError) Error() string   { return e.msg }
func (e *userError) Unwrap() []error { return e.causes }

// oneLine joins the lines of a multi-line server reply, so an error is
// one line in the journal.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// newUserError builds the message and scrubs the password from it, in
// case a server or library ever echoes it.
func (sess *session) newUserError(msg string, causes ...error) error {
	msg = sess.s.cfg.scrub(oneLine.Replace(msg))
	var cs []error
	for _, c := range causes {
		if c != nil {
			// The server's reply travels on as a cause (for its code);
			// a server that echoes the AUTH argument put the password in
			// it, encoded.
			cs = append(cs, sess.s.cfg.scrubCause(c))
		}
	}
	return &userError{msg: msg, causes: cs}
}

// describe turns an error from connecting, TLS or login into one that
// says what happened and what to do.
func (sess *session) describe(ctx context.Context, err error) error {
	s := sess.s
	addr := s.addr()
	ioe := sess.ioErr()
	if ioe != nil && errors.Is(err, ioe) {
		ioe = nil // already in the chain
	}
	mk := func(format string, args ...any) error {
		return sess.newUserError(fmt.Sprintf(format, args...), err, ioe)
	}
	both := errors.Join(err, ioe)

	// The certificate's troubles are worded by certs, as for a watched
	// endpoint, with the advice about sending mail; dates in UTC, as they
	// always were here (mail does not know the owner's time zone).
	certMsg := certs.Describe(s.cfg.Host, both, s.cfg.Now().UTC(), true)
	var (
		dnsErr      *net.DNSError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		textErr     *textproto.Error
		loginFailed = sess.auth != nil && sess.auth.started
	)
	switch {
	case ctx.Err() != nil:
		return mk("smtp %s: stopped: %v", addr, context.Cause(ctx))
	case errors.Is(both, errNotLoopback):
		return mk("smtp %s: %v; use --smtp-tls=starttls or tls for other hosts", addr, err)
	case errors.As(both, &dnsErr):
		return mk("smtp host %s cannot be resolved (%v); check --smtp-host and this machine's DNS", s.cfg.Host, dnsErr)
	case errors.Is(both, syscall.ECONNREFUSED):
		return mk("smtp %s: connection refused; is the server running and the port right (--smtp-port)?", addr)
	case errors.Is(both, syscall.EHOSTUNREACH), errors.Is(both, syscall.ENETUNREACH):
		return mk("smtp %s: host unreachable; check --smtp-host and this machine's network", addr)
	case certMsg != "":
		causes := []error{err, ioe}
		if errors.As(both, &invalidErr) {
			// crypto/x509 returns the value type; also offer a pointer
			// so errors.As finds it with either target.
			causes = append(causes, &invalidErr)
		}
		return sess.newUserError("smtp "+addr+": "+certMsg, causes...)
	case sess.st.inStartTLS():
		// The server took STARTTLS (or did not answer it) and no TLS
		// session followed: name that step, not the EHLO after it.
		var what string
		switch {
		case errors.As(both, &textErr):
			what = fmt.Sprintf("refused STARTTLS: %d %s", textErr.Code, textErr.Msg)
		case errors.As(both, &recordErr):
			what = "answered STARTTLS but then did not speak TLS (" + recordErr.Error() + ")"
		case isTimeout(both):
			what = "got no answer during STARTTLS within " + sess.st.describe()
		case errors.Is(both, io.EOF), errors.Is(both, syscall.ECONNRESET), errors.Is(both, io.ErrUnexpectedEOF):
			what = "closed the connection during STARTTLS"
		default:
			what = fmt.Sprintf("failed STARTTLS: %v", err)
		}
		return mk("smtp %s %s; check that port %d speaks STARTTLS (usually 587; port 465 speaks TLS from the start: use --smtp-tls=tls there)", addr, what, s.cfg.Port)
	case errors.As(both, &recordErr) && s.cfg.TLS == TLSImplicit:
		return mk("smtp %s does not speak TLS from the start; for port 587 use --smtp-tls=starttls", addr)
	case isTimeout(both):
		hint := ""
		if s.cfg.TLS == TLSStartTLS && s.cfg.Port == 465 {
			hint = "; port 465 usually needs --smtp-tls=tls"
		}
		return mk("smtp %s timed out after %s; is the server overloaded or the port wrong?%s", addr, sess.st.describe(), hint)
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return mk("smtp %s does not offer STARTTLS; cotd never sends a password unencrypted (use --smtp-tls=tls for port 465)", addr)
	case errors.Is(both, errAuthUnencrypted):
		return mk("smtp %s: %v; use --smtp-tls=starttls or tls", addr, errAuthUnencrypted)
	case errors.Is(both, errAuthNoMechanism):
		if len(sess.auth.offered) == 0 {
			return mk("smtp %s does not offer a login (AUTH); remove --smtp-user if the server needs none, or check the port", addr)
		}
		return mk("smtp %s offers no login cotd supports (it offers %s; cotd speaks PLAIN and LOGIN)", addr, strings.Join(sess.auth.offered, " "))
	case loginFailed && errors.As(both, &textErr):
		what := "check the user and the password file"
		if textErr.Code >= 400 && textErr.Code < 500 {
			what = "the server says to try again later"
		}
		msg := fmt.Sprintf("smtp login as %s at %s failed: %d %s; %s", s.cfg.User, s.cfg.Host, textErr.Code, textErr.Msg, what)
		if textErr.Code >= 500 {
			return sess.newUserError(msg, err, ioe, ErrLoginRefused)
		}
		return sess.newUserError(msg, err, ioe)
	case loginFailed:
		return mk("smtp login as %s at %s failed: %v", s.cfg.User, s.cfg.Host, err)
	case errors.As(both, &textErr):
		return mk("smtp %s refused the session: %d %s", addr, textErr.Code, textErr.Msg)
	case errors.Is(both, io.EOF), errors.Is(both, syscall.ECONNRESET):
		return mk("smtp %s closed the connection while cotd waited for the %s; is the port right (--smtp-port) and the server healthy?", addr, sess.st.current())
	}
	return mk("smtp %s: %v", addr, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// describeSend explains why one message was not delivered.
func (sess *session) describeSend(ctx context.Context, m *gomail.Msg, err error) error {
	addr := sess.s.addr()
	to := strings.Join(m.GetToString(), ", ")
	ioe := sess.ioErr()
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return sess.describe(ctx, err)
	}
	code := se.ErrorCode()
	switch {
	case ctx.Err() != nil:
		return sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s stopped: %v", addr, to, context.Cause(ctx)), err, ioe)
	case code == 0 && ioe != nil && isTimeout(ioe):
		return sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s timed out after %s", addr, to, sess.st.describe()), err, ioe)
	case code == 0 && sess.st.awaitingDot():
		// In doubt: the server has read the whole message.
		why := "the connection was lost"
		if ioe != nil && isTimeout(ioe) {
			why = "no answer came within " + sess.st.describe()
		} else if ioe != nil {
			why = fmt.Sprintf("the connection was lost (%v)", ioe)
		}
		return sess.newUserError(fmt.Sprintf("smtp %s: connection lost after the whole message to %s went out: %s; the server may have it, so it is sent once more, unchanged, and then counted as delivered", addr, to, why), err, ioe)
	case code == 0 && ioe != nil && isTimeout(ioe):
		return sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s timed out after %s", addr, to, sess.st.describe()), err, ioe)
	case code == 0 && ioe != nil:
		return sess.newUserError(fmt.Sprintf("smtp %s: connection lost during delivery to %s: %v", addr, to, ioe), err, ioe)
	}
	// The words follow Classify, the one table of what an answer means.
	hint := ""
	switch step := stepOf(err); Classify(step, code, enhancedCode(err)) {
	case Temporary:
		hint = "; temporary, it will be retried"
		if code >= 500 {
			hint = "; temporary (RFC 5321 §4.5.3.1.10 reads 552 as 452, RFC 3463 X.2.2 is a full mailbox), it will be retried"
		}
	case SessionWide:
		switch {
		case code == 530:
			hint = "; the server wants a login first: set --smtp-user and --smtp-password-file"
		case code >= 500 && stepOf(err) == StepMail:
			hint = "; permanent, check --from"
		default:
			hint = "; the server ended the session, the next message gets a new one; this one will be retried"
		}
	case PermanentRecipient:
		hint = "; permanent, check the address (tried again tomorrow)"
	case PermanentMessage:
		switch step {
		case StepMail:
			hint = "; permanent, check --from (tried again tomorrow)"
		case StepDot:
			// Refused after the content was read: a size limit or a
			// filter, not the address.
			hint = "; permanent, the server refused the message itself (tried again tomorrow, not every run)"
		default:
			hint = "; permanent, check the address (tried again tomorrow)"
		}
	}
	return sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s failed: %v%s", addr, to, se, hint), err, ioe)
}

// ErrTooLarge means a message is larger than the server accepts: its EHLO
// SIZE is smaller (cotd then does not send it at all), or it answered 552
// or an enhanced x.3.4 code.
var ErrTooLarge = errors.New("message too large for the server")

// sizeError is a message cotd did not send because the server's SIZE is
// smaller.
type sizeError struct{ size, limit int64 }

func (e *sizeError) Error() string {
	return fmt.Sprintf("the message is %d bytes and the server accepts at most %d (EHLO SIZE)", e.size, e.limit)
}
func (e *sizeError) Unwrap() error { return ErrTooLarge }

// TooLarge reports whether err says the message was too large for the
// server, with the server's advertised limit when it gave one (else 0).
func TooLarge(err error) (limit int64, ok bool) {
	if err == nil {
		return 0, false
	}
	var se *sizeError
	if errors.As(err, &se) {
		return se.limit, true
	}
	if errors.Is(err, ErrTooLarge) {
		return 0, true
	}
	var ge *gomail.SendError
	if errors.As(err, &ge) {
		if strings.HasSuffix(ge.EnhancedStatusCode(), ".3.4") {
			return 0, true
		}
		if ge.ErrorCode() == 552 && (ge.Reason == gomail.ErrSMTPDataClose || ge.Reason == gomail.ErrSMTPMailFrom) {
			return 0, true
		}
	}
	var te *textproto.Error
	if errors.As(err, &te) && (strings.Contains(te.Msg, "5.3.4") || strings.Contains(te.Msg, "4.3.4")) {
		return 0, true
	}
	return 0, false
}

// TimedOut reports whether err is a step that ran out of time.
func TimedOut(err error) bool { return err != nil && isTimeout(err) }
