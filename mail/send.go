package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SendEach delivers msgs one message after the other, reporting each
// result through done as soon as it is known (before the next message goes
// out), so the caller can record a delivery at once and a crash mid-batch
// costs at most one duplicate.
//
// A failure belongs to its own message: whatever happened during one
// recipient's MAIL, RCPT or DATA (a refusal, a dropped or reset
// connection, a 421, a reply that is not SMTP, a stall), the next message
// goes over a session that usable says is healthy, a fresh one when it is
// not, within the run's budget. Only when a fresh session cannot be opened
// are the rest not attempted, each with that reason.
//
// The error is non-nil only when nothing could be attempted (config,
// connect, TLS, login on the first session); then every result carries it.
// done is called exactly once per message, in order, on the calling
// goroutine.
func (s *SMTP) SendEach(ctx context.Context, msgs []*gomail.Msg, before func(i int) error, report func(i int, r Result)) error {
	if len(msgs) == 0 {
		return nil
	}
	done := func(i int, r Result) {
		_, r.Chain, _ = s.Cert()
		report(i, r)
	}
	sess, client, err := s.dial(ctx)
	if err != nil {
		for i := range msgs {
			done(i, Result{Err: err, Class: SessionWide})
		}
		return err
	}
	defer func() {
		if sess != nil {
			// QUIT errors do not change any result: every message already
			// has its answer.
			_ = client.Quit()
			sess.close()
		}
	}()

	var lost error // a fresh session could not be opened: the rest wait for the next run
	for i, m := range msgs {
		switch {
		case m == nil:
			done(i, Result{Err: errors.New("no message")})
			continue
		case ctx.Err() != nil:
			done(i, Result{Err: fmt.Errorf("smtp %s: delivery to %s not attempted: %w",
				s.addr(), to(m), context.Cause(ctx)), Class: Temporary})
			continue
		case s.outOfTime():
			done(i, Result{Err: s.notAttempted(m, fmt.Sprintf("the run's time for sending (%s) ran out", s.cfg.Budget)), Class: Temporary})
			continue
		case lost != nil:
			done(i, Result{Err: s.notAttempted(m, "the connection was lost and could not be opened again: "+lost.Error(), lost), Class: Temporary})
			continue
		}
		if sess == nil {
			// The last message left the session unusable: this one gets a
			// fresh one.
			sess, client, err = s.dial(ctx)
			if err != nil {
				sess, lost = nil, err
				done(i, Result{Err: s.notAttempted(m, "the connection was lost and could not be opened again: "+err.Error(), err), Class: Temporary})
				continue
			}
		}
		if before != nil {
			if err := before(i); err != nil {
				done(i, Result{Err: s.notAttempted(m, "it could not be written ahead: "+err.Error(), err), Class: Temporary})
				continue
			}
		}
		r, retry := sess.sendOne(ctx, client, m)
		if retry && !s.outOfTime() && ctx.Err() == nil {
			// The session died while idle (its NOOP failed) before anything
			// of this message went out: a fresh session, same message.
			sess.close()
			if sess, client, err = s.dial(ctx); err != nil {
				sess, lost = nil, err
				done(i, Result{Err: s.notAttempted(m, "the connection was lost and could not be opened again: "+err.Error(), err), Class: Temporary})
				continue
			}
			r, _ = sess.sendOne(ctx, client, m)
		}
		done(i, r)
		if !sess.usable(r.Err) {
			sess.close()
			sess = nil
		}
	}
	return nil
}

// sendOne delivers m over the session. retry is true when m was not
// attempted because the session turned out dead before it started.
func (sess *session) sendOne(ctx context.Context, client *smtp.Client, m *gomail.Msg) (r Result, retry bool) {
	s := sess.s
	if ok, param := client.Extension("SIZE"); ok {
		if limit, err := strconv.ParseInt(strings.TrimSpace(param), 10, 64); err == nil && limit > 0 {
			if size := Size(m); size > limit {
				// Sending it would only waste the uplink's time and end in
				// 552; the caller sends smaller pieces.
				e := &sizeError{size, limit}
				return Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: %v", s.addr(), to(m), e), e),
					Class: PermanentMessage}, false
			}
		}
	}
	if err := envelopeFits(client, m); err != nil {
		return Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: %v", s.addr(), to(m), err), err),
			Class: PermanentRecipient}, false
	}
	sess.st.begin()
	sendErr := sess.gm.SendWithSMTPClient(client, m)
	if m.IsDelivered() {
		// An error after the server accepted the message (at RSET) does not
		// undo the delivery; usable decides whether the session survived.
		sess.after = sendErr
		return Result{Delivered: true}, false
	}
	if sendErr == nil {
		sendErr = m.SendError()
	}
	if sendErr == nil {
		sendErr = errors.New("not delivered, no reason given")
	}
	var se *gomail.SendError
	if errors.As(sendErr, &se) && se.Reason == gomail.ErrConnCheck {
		return Result{Err: sess.describeSend(ctx, m, sendErr), Class: Temporary}, true
	}
	err := sess.describeSend(ctx, m, sendErr)
	r = Result{Err: err, Class: ClassOf(sendErr)}
	if sess.st.awaitingDot() && replyCode(sendErr) == 0 {
		// The whole message and its final dot went out and no answer came:
		// the server probably has it (RFC 1047).
		r.InDoubt = true
	}
	if refusedAtData(sendErr) {
		// go-mail resets after a refused MAIL or RCPT but not after a
		// refused DATA, which leaves the transaction open: Postfix would
		// answer the next MAIL with "503 nested MAIL command".
		sess.after = client.Reset()
	}
	return r, false
}

// usable is the one rule for "may the next message use this session":
// only when the last failure, if any, was an SMTP answer to MAIL, RCPT or
// DATA (other than 421) that left the session in a known state, or a
// problem of the message itself caught before anything went out. No
// answer, an answer that is not SMTP, a timeout, a 421, a message in
// doubt, a failed RSET or a stop all mean a fresh session for the next.
func (sess *session) usable(err error) bool {
	switch {
	case sess.after != nil, sess.ioErr() != nil, sess.ctx.Err() != nil:
		return false
	case err == nil:
		return true
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		// Caught by cotd before sending (SIZE, SMTPUTF8): the session is
		// untouched.
		var size *sizeError
		return errors.As(err, &size) || errors.Is(err, ErrAddressNotASCII)
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		return true // a problem of this message only; nothing went out
	case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		// A failed RSET after it shows at the next message's NOOP, which
		// SendEach answers with a fresh session.
		code := replyCode(err)
		return code != 0 && code != 421
	}
	return false
}

// notAttempted is the error of a message this run does not try.
func (s *SMTP) notAttempted(m *gomail.Msg, why string, causes ...error) error {
	return (&session{s: s}).newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: %s", s.addr(), to(m), why), causes...)
}

func to(m *gomail.Msg) string { return strings.Join(m.GetToString(), ", ") }

// refusedAtData reports whether the server refused the DATA command
// itself (before any content was sent).
func refusedAtData(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.Reason == gomail.ErrSMTPData
}

// Size is the number of bytes msg takes on the wire (before dot-stuffing).
func Size(msg *gomail.Msg) int64 {
	n, err := msg.WriteTo(io.Discard)
	if err != nil {
		return -1
	}
	return n
}
