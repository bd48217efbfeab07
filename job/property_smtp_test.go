package job

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cotd/internal/smtppeer"
	cmail "cotd/mail"
)

// noResend gives a fake sender the Resend of mail.Sender: the fakes never
// leave a message in doubt, so a call is a test failure in the result.
type noResend struct{}

func (noResend) Resend(context.Context, cmail.Raw) cmail.Result {
	return cmail.Result{Err: errors.New("fake sender: Resend not expected")}
}

// smtpJob is a job over n photos mailing to through the real SMTP client
// to the Faulty peer p (in the clear: it is loopback).
func smtpJob(t *testing.T, n int, to string, p *smtppeer.Faulty) (*Job, *clock) {
	t.Helper()
	j, c := newTestJob(t, n, to, nil)
	j.Sender = cmail.NewSMTP(cmail.SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: cmail.TLSNone, Timeout: 2 * time.Second})
	return j, c
}

// heldBy counts the messages the server holds per recipient.
func heldBy(held []smtppeer.Held) map[string][]smtppeer.Held {
	out := map[string][]smtppeer.Held{}
	for _, h := range held {
		out[h.Rcpt] = append(out[h.Rcpt], h)
	}
	return out
}

// Issue 25 §1 and §2, the named example: a's server drops the connection
// after a's final dot. b and c still get their morning in the same run (a
// fresh session); a is in doubt, not failed; the next run sends a's
// message once more, byte for byte with the same Message-ID, and never
// again; the next day's digest does not fold a's day in.
func TestDropAfterDotInDoubtResentOnce(t *testing.T) {
	drop := true
	p := smtppeer.NewFaulty(t, smtppeer.Options{Plan: func(h smtppeer.Hit) smtppeer.Kind {
		if drop && h.Step == smtppeer.AtDot && h.Rcpt == "a@example.test" {
			return smtppeer.Drop
		}
		return smtppeer.Pass
	}})
	j, c := smtpJob(t, 3, "a@example.test, b@example.test, c@example.test", p)
	sum, err := j.Run(context.Background())
	if err != nil || sum.Sent != 2 || len(sum.InDoubt) != 1 || len(sum.Failures) != 0 {
		t.Fatalf("first run: %v, sent %d, in doubt %+v, failures %+v; want b and c sent, a in doubt, no failure", err, sum.Sent, sum.InDoubt, sum.Failures)
	}
	conns, held, _ := p.Take()
	if conns != 2 || len(held) != 3 {
		t.Errorf("first run: %d connections, server holds %d messages; want 2 (a fresh one after a's) and 3", conns, len(held))
	}
	first := heldBy(held)["a@example.test"]

	drop = false
	c.t = at(2, 8).Add(15 * time.Minute)
	sum, err = j.Run(context.Background())
	if err != nil || len(sum.Resent) != 1 || sum.Sent != 0 {
		t.Fatalf("second run: %v, resent %v, sent %d; want a's message sent again, nothing else", err, sum.Resent, sum.Sent)
	}
	_, held, _ = p.Take()
	again := heldBy(held)["a@example.test"]
	if len(held) != 1 || len(again) != 1 || len(first) != 1 || again[0].Data != first[0].Data || again[0].MessageID() != first[0].MessageID() {
		t.Fatalf("second run: server got %d messages; want a's once more, byte for byte (same Message-ID %q)", len(held), first[0].MessageID())
	}

	c.t = at(2, 9)
	if sum, err = j.Run(context.Background()); err != nil || len(sum.Resent)+sum.Sent != 0 {
		t.Fatalf("third run: %v, resent %v, sent %d; want nothing (a's copy now counts as delivered)", err, sum.Resent, sum.Sent)
	}
	c.t = at(3, 8)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, held, _ = p.Take()
	for _, h := range heldBy(held)["a@example.test"] {
		if strings.Count(h.Data, "Content-Id: <cat-") != 1 {
			t.Errorf("next day: a's message carries %d cats, want only the new day's (the day in doubt is never folded into a digest)", strings.Count(h.Data, "Content-Id: <cat-"))
		}
	}
	if len(held) != 3 {
		t.Errorf("next day: server got %d messages, want 3", len(held))
	}
}

// Issue 25 §3: a 554 content refusal after the dot is permanent for the
// message: not uploaded again at every run (96 a day on the timer), but
// tried again tomorrow.
func TestContentRefusalNotReuploadedEveryRun(t *testing.T) {
	var dots int
	p := smtppeer.NewFaulty(t, smtppeer.Options{Plan: func(h smtppeer.Hit) smtppeer.Kind {
		if h.Step == smtppeer.AtDot && h.Rcpt == "a@example.test" {
			dots++
			return smtppeer.Perm // 554 5.7.1 message refused as spam
		}
		return smtppeer.Pass
	}})
	j, c := smtpJob(t, 3, "a@example.test, b@example.test", p)
	if _, err := j.Run(context.Background()); !errors.Is(err, ErrUndelivered) {
		t.Fatalf("first run: %v, want a undelivered", err)
	}
	for m := 15; m <= 60; m += 15 {
		c.t = at(2, 8).Add(time.Duration(m) * time.Minute)
		if _, err := j.Run(context.Background()); !errors.Is(err, ErrUndelivered) {
			t.Fatalf("run at +%d min: %v, want a still reported undelivered", m, err)
		}
	}
	if dots != 1 {
		t.Errorf("the refused message was uploaded %d times in an hour, want once", dots)
	}
	c.t = at(3, 8)
	j.Run(context.Background())
	if dots != 2 {
		t.Errorf("the next day: uploaded %d times in all, want 2 (tried again tomorrow)", dots)
	}
}

// Issue 25 §3: 552 5.2.2 (mailbox full) after the dot is temporary (RFC
// 5321 §4.5.3.1.10, RFC 3463): the day is retried, not given up as too
// large after one try.
func TestMailboxFullRetried(t *testing.T) {
	p := smtppeer.NewFaulty(t, smtppeer.Options{})
	sp := smtppeer.Scripted(t, smtppeer.Script{Step: smtppeer.AtDot, Victim: 0, Reply: "552 5.2.2 Mailbox full"})
	j, c := newTestJob(t, 3, "a@example.test", nil)
	j.Sender = cmail.NewSMTP(cmail.SMTPConfig{Host: "127.0.0.1", Port: sp.Port, TLS: cmail.TLSNone, Timeout: 2 * time.Second})
	sum, err := j.Run(context.Background())
	if !errors.Is(err, ErrUndelivered) || len(sum.Dropped) != 0 || len(sum.Failures) != 1 || !sum.Failures[0].Temporary {
		t.Fatalf("552 5.2.2: %v, dropped %+v, failures %+v; want a temporary failure, nothing given up", err, sum.Dropped, sum.Failures)
	}
	c.t = at(2, 9)
	j.Sender = cmail.NewSMTP(cmail.SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: cmail.TLSNone, Timeout: 2 * time.Second})
	if sum, err := j.Run(context.Background()); err != nil || sum.Sent != 1 {
		t.Fatalf("the mailbox has room again: %v, sent %d; want the day delivered", err, sum.Sent)
	}
}

// Issue 25 §3: a wrong password (535) is not tried at every run: the runs
// wait 30 minutes, then doubling (no 96 logins a day, no lockout), and a
// changed password is tried at once.
func TestWrongPasswordBacksOff(t *testing.T) {
	lf := &loginFails{}
	j, c := newTestJob(t, 1, "a@example.test", lf)
	j.Login = "login-1"
	start := at(2, 8)
	for m := 0; m < 24*60; m += 15 {
		c.t = start.Add(time.Duration(m) * time.Minute)
		sum, err := j.Run(context.Background())
		if !errors.Is(err, ErrUndelivered) || sum.ConnErr == nil || !cmail.LoginRefused(sum.ConnErr) {
			t.Fatalf("+%d min: %v (ConnErr %v), want the refused login reported", m, err, sum.ConnErr)
		}
	}
	// 0, 30 min, +1 h, +2 h, +4 h, +8 h, +8 h: 7 logins in 24 h instead of 96.
	if lf.tries > 8 {
		t.Errorf("%d logins in 24 hours of 15-minute runs, want at most 8", lf.tries)
	}
	tries := lf.tries
	j.Login = "login-2" // the owner fixed the password file
	c.t = c.t.Add(15 * time.Minute)
	j.Run(context.Background())
	if lf.tries != tries+1 {
		t.Errorf("after the password changed: %d logins, want %d (tried at once)", lf.tries, tries+1)
	}
}
