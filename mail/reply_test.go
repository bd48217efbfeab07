package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/mailpit"
	"cotd/internal/smtppeer"
)

// The one table from an SMTP answer to what it means (issue 25 §3), with
// the RFCs' own examples.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		step     Step
		code     int
		enhanced string
		want     Class
	}{
		{StepDot, 552, "5.2.2", Temporary},           // RFC 3463 5.2.2 mailbox full
		{StepDot, 552, "", Temporary},                // RFC 5321 §4.5.3.1.10: treat as 452
		{StepDot, 552, "5.3.4", PermanentMessage},    // message too big
		{StepRcpt, 552, "5.2.2", Temporary},          // mailbox full at RCPT
		{StepRcpt, 552, "", Temporary},               // too many recipients, as 452
		{StepDot, 554, "5.7.1", PermanentMessage},    // content refused
		{StepDot, 550, "5.7.1", PermanentMessage},    // spam
		{StepRcpt, 550, "5.1.1", PermanentRecipient}, // no such user
		{StepRcpt, 553, "5.1.3", PermanentRecipient},
		{StepRcpt, 450, "4.2.1", Temporary},
		{StepRcpt, 421, "4.3.2", SessionWide},
		{StepMail, 421, "", SessionWide},
		{StepMail, 530, "5.7.0", SessionWide}, // authentication required
		{StepMail, 553, "5.7.1", SessionWide}, // the sender refused: fix --from, hold nobody back
		{StepMail, 552, "5.3.4", PermanentMessage},
		{StepData, 554, "5.5.1", PermanentMessage},
		{StepData, 451, "4.3.0", Temporary},
		{StepDot, 451, "4.7.1", Temporary}, // greylisting
		{StepSession, 535, "5.7.8", SessionWide},
		{StepSession, 454, "4.7.0", SessionWide},
		{StepSession, 554, "5.7.1", SessionWide},
		{StepDot, 0, "", Temporary}, // no answer: in doubt, see Result.InDoubt
	} {
		if got := Classify(tc.step, tc.code, tc.enhanced); got != tc.want {
			t.Errorf("Classify(%s, %d, %q) = %s, want %s", tc.step, tc.code, tc.enhanced, got, tc.want)
		}
	}
}

// A full mailbox after the dot (552 5.2.2) is temporary: the day is
// tried again, not given up as too large after one try (issue 25 §3).
func TestMailboxFullAfterDotIsTemporary(t *testing.T) {
	p := smtppeer.Scripted(t, smtppeer.Script{Step: smtppeer.AtDot, Victim: 0, Reply: "552 5.2.2 Mailbox full"})
	s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Timeout: 5 * time.Second})
	results, err := collect(s, context.Background(), testMsgs(t, "ann@example.test", "bob@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	ann := results[0]
	if ann.Delivered || ann.Class != Temporary || RecipientRefused(ann.Err) || !strings.Contains(ann.Err.Error(), "temporary") {
		t.Errorf("552 5.2.2 after the dot: %+v (%v), want a temporary failure", ann, ann.Err)
	}
	if _, tooLarge := TooLarge(ann.Err); tooLarge && ClassOf(ann.Err) == PermanentMessage {
		t.Errorf("552 5.2.2 read as a message too large for good: %v", ann.Err)
	}
	if !results[1].Delivered {
		t.Errorf("bob after ann's full mailbox: %+v, want delivered on the same session", results[1])
	}
}

// Addresses the server cannot take as written (issue 25 §3, issue 24): an
// internationalised domain goes out in its IDNA form; a domain that is no
// DNS name is refused when parsed; a non-ASCII local part to a server
// without SMTPUTF8 is refused with the reason, and the next message still
// goes on the same session.
func TestAddressesAsTheServerTakesThem(t *testing.T) {
	for _, bad := range []string{"a@-bad-.test", "a@bad-.test", "a@-bad.test", "a@" + strings.Repeat("x", 64) + ".test"} {
		if _, err := ParseAddress(bad); err == nil || !strings.Contains(err.Error(), "domain") {
			t.Errorf("ParseAddress(%q) = %v, want a refusal naming the domain", bad, err)
		}
	}
	for _, good := range []string{"a@example.test", "a@xn--mller-kva.test", "a@müller.test", "a@[192.0.2.1]", "a@a-b.test"} {
		if _, err := ParseAddress(good); err != nil {
			t.Errorf("ParseAddress(%q): %v", good, err)
		}
	}

	var rcpts []string
	p := smtppeer.Scripted(t, smtppeer.Script{OnDot: func(_ int, r []string) { rcpts = append(rcpts, r...) }})
	s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Timeout: 5 * time.Second})
	m := singleMessage(t)
	m.To = "Anna <anna@müller.test>"
	anna, err := Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	results, err := collect(s, context.Background(), append([]*gomail.Msg{anna}, testMsgs(t, "ünal@example.test", "bob@example.test")...))
	if err != nil {
		t.Fatal(err)
	}
	if !results[0].Delivered || len(rcpts) == 0 || rcpts[0] != "<anna@xn--mller-kva.test>" {
		t.Errorf("anna@müller.test: %+v, RCPT TO %q; want delivered to the IDNA form", results[0], rcpts)
	}
	u := results[1]
	if u.Delivered || u.Class != PermanentRecipient || !strings.Contains(fmtErr(u.Err), "SMTPUTF8") {
		t.Errorf("ünal@example.test to a server without SMTPUTF8: %+v, want refused for this recipient naming SMTPUTF8", u)
	}
	if !results[2].Delivered {
		t.Errorf("bob after ünal: %+v, want delivered", results[2])
	}
	if conns, _, _ := p.Results(); conns != 1 {
		t.Errorf("connections %d, want 1 (a refusal cotd makes itself leaves the session as it was)", conns)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// The table against a real server (Mailpit, STARTTLS and AUTH required):
// a recipient it refuses (--smtp-allowed-recipients: 550 at RCPT) is
// permanent for that recipient only, the others go on the same session;
// a 451 its chaos answers at RCPT is temporary; a login it refuses (chaos
// at AUTH: 535) is session-wide and a refused login for the back-off.
func TestClassesAgainstMailpit(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true, AllowedRecipients: `^(bob|cee)@`, Chaos: true})
	results, err := collect(NewSMTP(configFor(srv, TLSStartTLS)), context.Background(), testMsgs(t, "ann@example.test", "bob@example.test", "cee@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	if r := results[0]; r.Delivered || r.Class != PermanentRecipient || !RecipientRefused(r.Err) {
		t.Errorf("ann, refused by Mailpit: %+v, want permanent for this recipient", r)
	}
	if !results[1].Delivered || !results[2].Delivered {
		t.Errorf("bob, cee: %+v %+v, want delivered after ann's refusal", results[1], results[2])
	}

	srv.SetChaos(t, `{"Recipient":{"ErrorCode":451,"Probability":100}}`)
	results, err = collect(NewSMTP(configFor(srv, TLSStartTLS)), context.Background(), testMsgs(t, "bob@example.test"))
	if err != nil || results[0].Delivered || results[0].Class != Temporary {
		t.Errorf("451 from Mailpit's chaos at RCPT: %v, %+v; want temporary", err, results[0])
	}

	srv.SetChaos(t, `{"Authentication":{"ErrorCode":535,"Probability":100}}`)
	results, err = collect(NewSMTP(configFor(srv, TLSStartTLS)), context.Background(), testMsgs(t, "bob@example.test"))
	if err == nil || !LoginRefused(err) || results[0].Class != SessionWide {
		t.Errorf("535 from Mailpit at AUTH: %v, %+v; want a refused login, session-wide", err, results[0])
	}
}
