package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// SendEach delivers msgs over one connection, one message after the
// other, reporting each result through done as soon as it is known
// (before the next message goes out), so the caller can record a delivery
// at once and a crash mid-batch costs at most one duplicate. A refused
// recipient fails only its own message. The error is non-nil only when
// nothing could be attempted (config, connect, TLS, login); then every
// result carries it.
// done is called exactly once per message, in order, on the calling
// goroutine.
func (s *SMTP) SendEach(ctx context.Context, msgs []*gomail.Msg, report func(i int, r Result)) error {
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
			done(i, Result{Err: err, Temporary: isTemporary(err)})
		}
		return err
	}
	defer sess.close()

	defer func() { sess.close() }() // sess changes on a reconnect

	var broken error // set once the connection is unusable
	redial := false  // the connection timed out: try the rest on a fresh one
	for i, m := range msgs {
		if broken != nil && redial && m != nil && ctx.Err() == nil && !sess.st.outOfTime() {
			// One slow message must not cost the others their morning.
			sess.close()
			ns, nc, err := s.dial(ctx)
			if err != nil {
				broken, redial = err, false
				done(i, Result{Err: err, Temporary: isTemporary(err)})
				continue
			}
			sess, client, broken, redial = ns, nc, nil, false
		}
		switch {
		case m == nil:
			done(i, Result{Err: errors.New("no message")})
			continue
		case sess.st.outOfTime():
			done(i, Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: the run's time for sending (%s) ran out",
				s.addr(), strings.Join(m.GetToString(), ", "), s.cfg.Budget))})
			continue
		case broken != nil:
			done(i, Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: the connection was lost",
				s.addr(), strings.Join(m.GetToString(), ", ")), broken)})
			continue
		case ctx.Err() != nil:
			done(i, Result{Err: fmt.Errorf("smtp %s: delivery to %s not attempted: %w",
				s.addr(), strings.Join(m.GetToString(), ", "), context.Cause(ctx))})
			continue
		}
		if ok, param := client.Extension("SIZE"); ok {
			if limit, err := strconv.ParseInt(strings.TrimSpace(param), 10, 64); err == nil && limit > 0 {
				if size := Size(m); size > limit {
					// Sending it would only waste the uplink's time and
					// end in 552; the caller sends smaller pieces.
					done(i, Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: %v",
						s.addr(), strings.Join(m.GetToString(), ", "), &sizeError{size, limit}), &sizeError{size, limit})})
					continue
				}
			}
		}
		sendErr := sess.gm.SendWithSMTPClient(client, m)
		if m.IsDelivered() {
			// An error after the server accepted DATA (at RSET) does not
			// undo the delivery; the next message will find out whether
			// the connection survived.
			done(i, Result{Delivered: true})
			continue
		}
		if sendErr == nil {
			sendErr = m.SendError()
		}
		if sendErr == nil {
			sendErr = errors.New("not delivered, no reason given")
		}
		err := sess.describeSend(ctx, m, sendErr)
		done(i, Result{Err: err, Temporary: isTemporary(err)})
		if connectionBroken(sendErr) {
			broken = err
			redial = isTimeout(err) && !sess.st.outOfTime()
		} else if refusedAtData(sendErr) {
			// go-mail resets after a refused MAIL or RCPT but not after a
			// refused DATA, which leaves the transaction open: Postfix
			// would answer the next MAIL with "503 nested MAIL command".
			// A failed RSET shows up at the next message's NOOP.
			_ = client.Reset()
		}
	}
	// QUIT errors do not change any result: every message already has its
	// answer.
	_ = client.Quit()
	return nil
}

// IsPermanent reports whether err carries a 5xx answer from the server,
// i.e. resending the same message will fail the same way.
func IsPermanent(err error) bool {
	code := replyCode(err)
	return code >= 500 && code < 600
}

// RecipientRefused reports whether the server refused the recipient's
// address for good (5xx at RCPT TO): worth trying again tomorrow, not every
// few minutes. A 5xx at MAIL FROM or after DATA is about the sender or the
// message, and tells nothing about the address.
func RecipientRefused(err error) bool {
	var se *gomail.SendError
	return IsPermanent(err) && errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo
}

// isTemporary reports whether the server answered 4xx.
func isTemporary(err error) bool {
	code := replyCode(err)
	return code >= 400 && code < 500
}

func replyCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// connectionBroken reports whether a per-message failure means the
// connection is gone (no SMTP reply at all), so later messages would only
// wait for timeouts.
func connectionBroken(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return true
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		return false // a problem of this message only
	}
	return se.ErrorCode() == 0
}

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
