package mail

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/needs"
	"cotd/internal/smtppeer"
)

// Issue 11 item 2: with no Timeout set, each step waits what RFC 5321
// §4.5.3.2 asks (cotd gave a whole message 30 s), and the whole budget
// fits inside the service's TimeoutStartSec with room to spare.
func TestRFC5321StepTimeoutsAreTheDefault(t *testing.T) {
	s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: 25, TLS: TLSNone})
	want := StepTimeouts{Greeting: 5 * time.Minute, Mail: 5 * time.Minute, Rcpt: 5 * time.Minute,
		Data: 2 * time.Minute, Block: 3 * time.Minute, FinalDot: 10 * time.Minute}
	if s.cfg.Steps != want {
		t.Errorf("default steps %+v, want RFC 5321's %+v", s.cfg.Steps, want)
	}
	unit, err := os.ReadFile("../deploy/testdata/cotd.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TimeoutStartSec=(\d+)min$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("cotd.service has no TimeoutStartSec=Nmin")
	}
	n, _ := strconv.Atoi(string(m[1]))
	start := time.Duration(n) * time.Minute
	// The budget, then the full wait for a final dot's answer (never cut,
	// issue 25 §2), with room for NTP's wait before and the alert after.
	if worst := s.cfg.Budget + s.cfg.Steps.FinalDot; worst > start-5*time.Minute {
		t.Errorf("budget %s plus the final dot's %s does not fit inside TimeoutStartSec=%s with 5 minutes to spare", s.cfg.Budget, s.cfg.Steps.FinalDot, start)
	}
}

// short are step timeouts scaled down so the test runs in a second.
var short = StepTimeouts{Greeting: 300 * time.Millisecond, Mail: 300 * time.Millisecond, Rcpt: 300 * time.Millisecond,
	Data: 300 * time.Millisecond, Block: 300 * time.Millisecond, FinalDot: 3 * time.Second}

func sendAll(t *testing.T, cfg SMTPConfig, tos ...string) []Result {
	t.Helper()
	results, err := collect(NewSMTP(cfg), context.Background(), testMsgs(t, tos...))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return results
}

// A server whose reply to the final dot takes longer than any other step
// (a content filter) still gets its message recorded as delivered: the
// final dot has its own, longer wait.
func TestSlowFinalDotIsDelivered(t *testing.T) {
	p := smtppeer.Scripted(t, smtppeer.Script{SlowStep: smtppeer.AtDot, Slow: time.Second, Victim: 1})
	results := sendAll(t, SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Steps: short},
		"ann@example.test", "bob@example.test", "cee@example.test")
	for i, r := range results {
		if !r.Delivered {
			t.Errorf("message %d: %v, want delivered (the final dot may take %s)", i, r.Err, short.FinalDot)
		}
	}
	if _, accepted, _ := p.Results(); len(accepted) != 3 {
		t.Errorf("peer accepted %d, want 3", len(accepted))
	}
}

// After one message times out, the others are still tried, on a fresh
// connection: one slow step for bob must not cost cee her morning.
func TestTimeoutThenOthersOnFreshConnection(t *testing.T) {
	p := smtppeer.Scripted(t, smtppeer.Script{SlowStep: smtppeer.AtRcpt, Slow: time.Second, Victim: 1})
	results := sendAll(t, SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Steps: short},
		"ann@example.test", "bob@example.test", "cee@example.test")
	if !results[0].Delivered || !results[2].Delivered {
		t.Errorf("ann %v, cee %v: want both delivered", results[0].Err, results[2].Err)
	}
	if results[1].Delivered || !TimedOut(results[1].Err) || !strings.Contains(results[1].Err.Error(), "timed out after 300ms (reply to RCPT TO)") {
		t.Errorf("bob: %v, want a timeout at RCPT TO", results[1].Err)
	}
	if conns, _, _ := p.Results(); conns != 2 {
		t.Errorf("%d connections, want 2 (a fresh one after the timeout)", conns)
	}
}

// The budget bounds the whole batch even when every step is slow: the
// messages it leaves no time for are not attempted, and say why.
func TestBudgetBoundsTheBatch(t *testing.T) {
	p := smtppeer.Scripted(t, smtppeer.Script{SlowStep: smtppeer.AtMail, Slow: 2 * time.Second, SlowAll: true})
	start := time.Now()
	results := sendAll(t, SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Steps: short, Budget: 800 * time.Millisecond},
		"ann@example.test", "bob@example.test", "cee@example.test", "dee@example.test")
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("the batch took %s, want it bounded by the 800ms budget", took)
	}
	last := results[len(results)-1]
	if last.Delivered || !strings.Contains(last.Err.Error(), "ran out") {
		t.Errorf("last message: %v, want not attempted because the time ran out", last.Err)
	}
	for i, r := range results {
		if r.Delivered {
			t.Errorf("message %d delivered by a server that never answers MAIL in time", i)
		}
	}
}

// Issue 25 §2: the run's budget never cuts the wait for a final dot's
// answer (the server may be holding the message); it only keeps the next
// messages from starting.
func TestBudgetNeverCutsTheFinalDot(t *testing.T) {
	p := smtppeer.Scripted(t, smtppeer.Script{SlowStep: smtppeer.AtDot, Slow: 800 * time.Millisecond, Victim: 0})
	steps := StepTimeouts{Greeting: time.Second, Mail: time.Second, Rcpt: time.Second, Data: time.Second, Block: time.Second, FinalDot: 3 * time.Second}
	results := sendAll(t, SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Steps: steps, Budget: 300 * time.Millisecond},
		"ann@example.test", "bob@example.test")
	if !results[0].Delivered {
		t.Errorf("ann: %+v, want delivered: the answer came within the final dot's wait, after the budget", results[0])
	}
	if results[1].Delivered || !strings.Contains(results[1].Err.Error(), "ran out") {
		t.Errorf("bob: %+v, want not started: the budget was spent", results[1])
	}
}

// Issue 11 item 6: SIGTERM while the reply to the final dot is pending
// finishes that message (within StopGrace) instead of cutting the
// connection after the server has it; the messages after it are not
// started.
func TestStopWaitsForTheFinalDot(t *testing.T) {
	dots := make(chan int, 3)
	p := smtppeer.Scripted(t, smtppeer.Script{SlowStep: smtppeer.AtDot, Slow: 300 * time.Millisecond, Victim: 0,
		OnDot: func(n int, _ []string) { dots <- n }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-dots // ann's content is with the server: systemd stops cotd now
		cancel()
	}()
	results := make([]Result, 3)
	err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone}).
		SendEach(ctx, testMsgs(t, "ann@example.test", "bob@example.test", "cee@example.test"), nil, func(i int, r Result) { results[i] = r })
	if err != nil {
		t.Fatal(err)
	}
	if !results[0].Delivered {
		t.Errorf("ann: %v, want delivered: the server had the message when SIGTERM came", results[0].Err)
	}
	for i, r := range results[1:] {
		if r.Delivered || !strings.Contains(r.Err.Error(), "not attempted") {
			t.Errorf("message %d after the stop: %+v, want not attempted", i+1, r)
		}
	}
	if _, accepted, _ := p.Results(); len(accepted) != 1 {
		t.Errorf("peer accepted %d, want exactly the one in flight", len(accepted))
	}
}

// Issue 11 item 3: a message larger than the server's EHLO SIZE is not
// sent at all (it would end in 552 after minutes of upload) and says so,
// with the limit, through TooLarge; a 552 5.3.4 after the dot is TooLarge
// too. The smaller messages go out.
func TestSizeLimit(t *testing.T) {
	p := smtppeer.Scripted(t, smtppeer.Script{Size: 2000})
	big := testMsg(t, "bob@example.test", "Cat of the Day digest")
	big.SetBodyString(gomail.TypeTextPlain, strings.Repeat("meow meow\n", 400))
	msgs := []*gomail.Msg{testMsg(t, "ann@example.test", "Cat of the Day"), big}
	results, err := collect(NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Steps: short}), context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if !results[0].Delivered {
		t.Errorf("small message: %v", results[0].Err)
	}
	limit, ok := TooLarge(results[1].Err)
	if results[1].Delivered || !ok || limit != 2000 || !strings.Contains(results[1].Err.Error(), "at most 2000") {
		t.Errorf("big message: %v (limit %d, too large %v), want refused before sending, limit 2000", results[1].Err, limit, ok)
	}
	if _, accepted, _ := p.Results(); len(accepted) != 1 {
		t.Errorf("peer accepted %d, want 1 (the big one never sent)", len(accepted))
	}

	p2 := smtppeer.Scripted(t, smtppeer.Script{Step: smtppeer.AtDot, Victim: 0, Reply: "552 5.3.4 Error: message file too big"})
	results = sendAll(t, SMTPConfig{Host: "127.0.0.1", Port: p2.Port, TLS: TLSNone, Steps: short}, "ann@example.test")
	if _, ok := TooLarge(results[0].Err); !ok {
		t.Errorf("552 5.3.4 after the dot: TooLarge(%v) = false", results[0].Err)
	}
}

// Issue 11 item 5: a send-test message's Message-ID never equals a real
// delivery's, nor another test's.
func TestTestMessageIDIsNeverARealOne(t *testing.T) {
	day := Day{Date: testDay}
	real := Message{From: "cotd@example.test", To: "me@example.test", Days: []Day{day}}
	test1, test2 := real, real
	test1.Test, test2.Test = "2026-03-04T07:01:00Z", "2026-03-04T07:02:00Z"
	ids := map[string]string{"real": MessageID(real), "test1": MessageID(test1), "test2": MessageID(test2)}
	if ids["real"] == ids["test1"] || ids["test1"] == ids["test2"] {
		t.Errorf("Message-IDs %v, want all different", ids)
	}
	if !strings.HasPrefix(ids["test1"], "<cotd-test.") || strings.HasPrefix(ids["real"], "<cotd-test.") {
		t.Errorf("Message-IDs %v: a test's must start <cotd-test., a real one's never", ids)
	}
}

// Issue 11 item 10: a server that echoes the AUTH argument in its 535
// (base64 of "\0user\0password" for PLAIN, of the password for LOGIN)
// gets neither the password nor those encodings into any error text,
// not even the server reply kept as a cause.
func TestEchoedAuthIsScrubbed(t *testing.T) {
	const user, pass = "bob", "s3cret-pw!"
	secrets := []string{pass,
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass)),
		base64.StdEncoding.EncodeToString([]byte(pass)),
		base64.RawStdEncoding.EncodeToString([]byte(pass))}
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			p := smtppeer.Scripted(t, smtppeer.Script{Auth: mech})
			s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, User: user, Password: pass, Steps: short})
			results, err := collect(s, context.Background(), testMsgs(t, "ann@example.test"))
			if err == nil || !strings.Contains(err.Error(), "535") || !strings.Contains(err.Error(), "authentication failed for") {
				t.Fatalf("send: %v, want the 535", err)
			}
			texts := []string{err.Error(), results[0].Err.Error(), fmt.Sprintf("%+v", err)}
			var te *textproto.Error
			if errors.As(err, &te) {
				texts = append(texts, te.Msg, te.Error())
			} else {
				t.Error("the 535 is not reachable with errors.As")
			}
			for _, c := range unwrapAll(err) {
				texts = append(texts, c.Error())
			}
			for _, text := range texts {
				for _, sec := range secrets {
					if strings.Contains(text, sec) {
						t.Errorf("%q holds the secret %q", text, sec)
					}
				}
			}
			if !strings.Contains(err.Error(), "***") {
				t.Errorf("%q: want the echoed secret replaced by ***", err)
			}
		})
	}
}

// unwrapAll returns every error in err's tree.
func unwrapAll(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// Issue 11 item 14: --smtp-host ::1 (or [::1]) reaches the server; go-mail
// alone joined it into "::1:PORT", "too many colons in address".
func TestIPv6LiteralHost(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		// A machine (or container) without IPv6 cannot have this bug.
		needs.Absent(t, fmt.Sprintf("no IPv6 loopback (::1) on this machine: %v", err), "enable it: sysctl net.ipv6.conf.lo.disable_ipv6=0")
	}
	l.Close()
	p := smtppeer.ScriptedOn(t, "[::1]:0", smtppeer.Script{})
	for _, host := range []string{"::1", "[::1]"} {
		cfg := SMTPConfig{Host: host, Port: p.Port, TLS: TLSNone, Steps: short}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate(%s): %v", host, err)
		}
		results := sendAll(t, cfg, "ann@example.test")
		if !results[0].Delivered {
			t.Errorf("host %s: %v", host, results[0].Err)
		}
		if err := NewSMTP(cfg).Check(context.Background()); err != nil {
			t.Errorf("Check with host %s: %v", host, err)
		}
	}
}
