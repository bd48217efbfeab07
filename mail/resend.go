package mail

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/atomicfile"
)

// Raw is a message exactly as it went out, with its envelope: what a
// message in doubt is sent again as, byte for byte, so its Message-ID and
// everything else match the copy the server probably holds.
type Raw struct {
	From, To string // the envelope: MAIL FROM and RCPT TO
	Data     []byte
}

// RawOf renders m as it goes out (composing the same Msg twice gives the
// same bytes: its boundaries and Date are fixed).
func RawOf(m *gomail.Msg) (Raw, error) {
	from, err := m.GetSender(false)
	if err != nil {
		return Raw{}, err
	}
	rcpts, err := m.GetRecipients()
	if err != nil || len(rcpts) != 1 {
		return Raw{}, fmt.Errorf("a message in doubt has %d recipients, want 1 (%v)", len(rcpts), err)
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return Raw{}, err
	}
	return Raw{From: from, To: rcpts[0], Data: b.Bytes()}, nil
}

// stepError is an error of a transaction cotd drives itself (Resend), so
// Classify learns its step as it does from go-mail's SendError.
type stepError struct {
	step Step
	err  error
}

func (e *stepError) Error() string { return fmt.Sprintf("%s: %v", e.step, e.err) }
func (e *stepError) Unwrap() error { return e.err }

// Resend sends r once more over a fresh session, exactly as it was. The
// result is in doubt again when the answer to its final dot does not come.
func (s *SMTP) Resend(ctx context.Context, r Raw) Result {
	if s.outOfTime() || ctx.Err() != nil {
		return Result{Err: fmt.Errorf("smtp %s: sending again to %s not attempted: no time left in this run", s.addr(), r.To), Class: Temporary}
	}
	sess, client, err := s.dial(ctx)
	if err != nil {
		return Result{Err: err, Class: SessionWide}
	}
	defer sess.close()
	defer func() { _ = client.Quit() }()
	fail := func(step Step, err error) Result {
		e := &stepError{step, err}
		res := Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: sending again to %s failed: %v", s.addr(), r.To, e), e), Class: ClassOf(e)}
		if step == StepDot && replyCode(err) == 0 && sess.st.awaitingDot() {
			res.InDoubt = true
		}
		_, res.Chain, _ = s.Cert()
		return res
	}
	sess.st.begin()
	if err := client.Mail(r.From); err != nil {
		return fail(StepMail, err)
	}
	if err := client.Rcpt(r.To); err != nil {
		return fail(StepRcpt, err)
	}
	w, err := client.Data()
	if err != nil {
		return fail(StepData, err)
	}
	if _, err := w.Write(r.Data); err != nil {
		return fail(StepDot, err)
	}
	if err := w.Close(); err != nil {
		return fail(StepDot, err)
	}
	res := Result{Delivered: true}
	_, res.Chain, _ = s.Cert()
	return res
}

// Resend writes r into the outbox once more, under its own name beside
// the first copy (the outbox never leaves a message in doubt; this is for
// completeness of the Sender).
func (o Outbox) Resend(ctx context.Context, r Raw) Result {
	if err := ctx.Err(); err != nil {
		return Result{Err: fmt.Errorf("outbox %s: not written: %w", o.Dir, context.Cause(ctx))}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return Result{Err: fmt.Errorf("create outbox %s: %w", o.Dir, hintSpace(err))}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	path := filepath.Join(o.Dir, now().Format(time.DateOnly)+"-"+sanitiseAddress(r.To)+"-again.eml")
	if err := atomicfile.Write(path, r.Data, atomicfile.Options{Pattern: ".tmp-*.eml", CreateTemp: o.createTemp}); err != nil {
		return Result{Err: fmt.Errorf("write %s: %w", path, hintSpace(err))}
	}
	return Result{Delivered: true}
}
