package mail

import (
	"context"
	"errors"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Sender is how a message leaves: over SMTP, or into the outbox folder.
// SendEach reports each message's Result through done as soon as it is
// known, once per message, in order, on the calling goroutine. before,
// when not nil, is called just before message i is attempted (the caller
// writes it ahead, so a run killed before its answer is recorded knows it
// was on its way); an error from it means the message is not attempted.
// Resend sends a message in doubt once more, byte for byte (see Raw).
type Sender interface {
	SendEach(ctx context.Context, msgs []*gomail.Msg, before func(i int) error, done func(i int, r Result)) error
	Resend(ctx context.Context, r Raw) Result
}

// NewSender is the one place that chooses how mail leaves: through the
// SMTP server c, or, when c is nil, as .eml files in the outbox folder
// (now dates a message without a Date header; nil means time.Now).
func NewSender(c *SMTPConfig, outbox string, now func() time.Time) Sender {
	if c != nil {
		return NewSMTP(*c)
	}
	return Outbox{Dir: outbox, Now: now}
}

// SendOne sends one message through s: nil once it is delivered, else why
// it was not.
func SendOne(ctx context.Context, s Sender, msg *gomail.Msg) error {
	res := Result{Err: errors.New("not sent: the sender reported no result")}
	if err := s.SendEach(ctx, []*gomail.Msg{msg}, nil, func(_ int, r Result) { res = r }); err != nil {
		return err
	}
	if !res.Delivered {
		return res.Err
	}
	return nil
}
