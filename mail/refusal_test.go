package mail

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"cotd/internal/smtppeer"
)

// Mailpit's chaos can only refuse at MAIL, RCPT and AUTH, so the refusals
// at the greeting and at DATA come from smtppeer.Scripted: a loopback SMTP
// server that speaks just enough of the protocol and answers one chosen
// step of one chosen message with a chosen reply.

// oneReadableLine fails when an error's text is empty or holds a line
// break or another control character: it goes into one journal line.
func oneReadableLine(t *testing.T, what string, err error) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Errorf("%s: empty error text", what)
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Errorf("%s: error text has control character %q at %d, want one line: %q", what, msg[i], i, msg)
	}
}

func TestRefusals(t *testing.T) {
	tos := []string{"ann@example.test", "bob@example.test", "cee@example.test"}
	const victim = 1 // bob's message is the one refused

	cases := []struct {
		name   string
		script smtppeer.Script
		code   int // the reply code the error must carry; 0: no reply at all
		// want is the error text for the refused message(s), besides the
		// address and the code.
		want []string
		// wholeSession: the refusal is for the session, all three fail
		// with the same error and SendEach returns it.
		wholeSession bool
		// lost: after the refusal the connection is gone; the messages
		// after the victim go over a second, fresh connection.
		lost bool
		// inDoubt: the final dot went out and no answer came
		inDoubt bool
	}{
		{name: "421 at greeting", script: smtppeer.Script{Greeting: "421 4.3.2 refusal.test Service not available, closing channel"},
			code: 421, wholeSession: true, want: []string{"refused the session", "Service not available"}},
		{name: "554 at greeting", script: smtppeer.Script{Greeting: "554 5.7.1 refusal.test no SMTP service here"},
			code: 554, wholeSession: true, want: []string{"refused the session", "no SMTP service here"}},
		{name: "554 multi-line at greeting", script: smtppeer.Script{Greeting: "554-5.7.1 refusal.test does not talk to you\n554 5.7.1 see https://refusal.test/why"},
			code: 554, wholeSession: true, want: []string{"does not talk to you", "see https://refusal.test/why"}},
		{name: "451 at MAIL FROM", script: smtppeer.Script{Step: smtppeer.AtMail, Reply: "451 4.3.0 local problem, try later"},
			code: 451, want: []string{"bob@example.test", "local problem", "temporary"}},
		{name: "550 at MAIL FROM", script: smtppeer.Script{Step: smtppeer.AtMail, Reply: "550 5.7.1 sender rejected"},
			code: 550, want: []string{"bob@example.test", "sender rejected", "check --from"}},
		{name: "421 at MAIL FROM then hang up", script: smtppeer.Script{Step: smtppeer.AtMail, Reply: "421 4.3.2 shutting down", CloseAfter: true},
			code: 421, lost: true, want: []string{"bob@example.test", "shutting down"}},
		{name: "452 at DATA command", script: smtppeer.Script{Step: smtppeer.AtData, Reply: "452 4.3.1 insufficient system storage"},
			code: 452, want: []string{"bob@example.test", "insufficient system storage", "temporary"}},
		{name: "554 at DATA command", script: smtppeer.Script{Step: smtppeer.AtData, Reply: "554 5.5.1 no valid recipients"},
			code: 554, want: []string{"bob@example.test", "no valid recipients", "permanent, check the address"}},
		{name: "451 after the final dot", script: smtppeer.Script{Step: smtppeer.AtDot, Reply: "451 4.7.1 greylisted, try again later"},
			code: 451, want: []string{"bob@example.test", "greylisted", "temporary"}},
		{name: "552 after the final dot", script: smtppeer.Script{Step: smtppeer.AtDot, Reply: "552 5.3.4 message too big"},
			code: 552, want: []string{"bob@example.test", "message too big", "permanent, the server refused the message itself"}},
		{name: "550 multi-line after the final dot", script: smtppeer.Script{Step: smtppeer.AtDot, Reply: "550-5.7.1 this message looks like spam\n550 5.7.1 see https://refusal.test/spam"},
			code: 550, want: []string{"bob@example.test", "looks like spam", "see https://refusal.test/spam", "refused the message itself"}},
		{name: "connection dropped after the final dot", script: smtppeer.Script{Step: smtppeer.AtDot, Drop: true},
			code: 0, lost: true, inDoubt: true, want: []string{"bob@example.test", "connection lost", "may have it"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.script.Victim = victim
			p := smtppeer.Scripted(t, tc.script)
			addr := "127.0.0.1:" + strconv.Itoa(p.Port)
			s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Timeout: 5 * time.Second})
			// The deadline bounds the whole batch; a hang fails with "stopped".
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			results := make([]Result, len(tos))
			var order []int
			err := s.SendEach(ctx, testMsgs(t, tos...), nil, func(i int, r Result) {
				order = append(order, i)
				results[i] = r
			})
			if ctx.Err() != nil {
				t.Fatalf("SendEach did not finish before its deadline: %v", err)
			}
			if len(order) != len(tos) {
				t.Fatalf("done called for %v, want once for each of %d messages", order, len(tos))
			}
			conns, accepted, problems := p.Results()
			for _, pr := range problems {
				t.Errorf("server saw a protocol error: %s", pr)
			}
			// A session the victim's failure left broken is not the next
			// recipient's problem: they get a fresh one (issue 25 §1).
			if want := map[bool]int{false: 1, true: 2}[tc.lost]; conns != want {
				t.Errorf("connections: got %d, want %d", conns, want)
			}

			// Delivered exactly for what the server accepted with 250
			// after the dot.
			for i, to := range tos {
				took := false
				for _, a := range accepted {
					took = took || strings.Contains(a, "<"+to+">")
				}
				if results[i].Delivered != took {
					t.Errorf("%s: Delivered=%v, but the server accepted it: %v (accepted %q)", to, results[i].Delivered, took, accepted)
				}
				if results[i].Delivered && results[i].Err != nil {
					t.Errorf("%s: delivered with an error: %v", to, results[i].Err)
				}
			}

			checkRefused := func(i int, r Result) {
				t.Helper()
				if r.Delivered || r.Err == nil {
					t.Fatalf("%s: %+v, want refused with an error", tos[i], r)
				}
				t.Logf("%s: %v", tos[i], r.Err)
				oneReadableLine(t, tos[i], r.Err)
				want := append([]string{addr}, tc.want...)
				if tc.code != 0 {
					want = append(want, strconv.Itoa(tc.code))
				}
				for _, w := range want {
					if !strings.Contains(r.Err.Error(), w) {
						t.Errorf("%s: error %q does not contain %q", tos[i], r.Err, w)
					}
				}
				if r.InDoubt != tc.inDoubt {
					t.Errorf("%s: InDoubt=%v, want %v", tos[i], r.InDoubt, tc.inDoubt)
				}
				if got := replyCode(r.Err); got != tc.code {
					t.Errorf("%s: reply code in the error chain %d, want %d", tos[i], got, tc.code)
				}
				if temp := tc.code >= 400 && tc.code < 500; r.Temporary() != temp {
					t.Errorf("%s: Temporary=%v, want %v for code %d", tos[i], r.Temporary(), temp, tc.code)
				}
				if perm := tc.code >= 500 && tc.code < 600; IsPermanent(r.Err) != perm {
					t.Errorf("%s: IsPermanent=%v, want %v for code %d", tos[i], IsPermanent(r.Err), perm, tc.code)
				}
			}

			switch {
			case tc.wholeSession:
				if err == nil {
					t.Fatal("SendEach returned nil after the server refused the session")
				}
				for i, r := range results {
					if r.Err != err {
						t.Errorf("%s: error %v, want the session error %v", tos[i], r.Err, err)
					}
					checkRefused(i, r)
				}
				if len(accepted) != 0 {
					t.Errorf("server accepted %q after refusing the session", accepted)
				}
			default:
				if err != nil {
					t.Errorf("SendEach: %v, want nil (the session itself worked)", err)
				}
				if !results[0].Delivered {
					t.Errorf("%s: %+v, want delivered (before the refusal)", tos[0], results[0])
				}
				checkRefused(victim, results[victim])
				for i := victim + 1; i < len(tos); i++ {
					r := results[i]
					switch {
					case !r.Delivered || r.Err != nil:
						t.Errorf("%s: %+v, want delivered (only %s was refused)", tos[i], r, tos[victim])
					}
				}
			}
		})
	}
}

// TestRefusalPeerAcceptsAll proves the scripted peer is a working SMTP
// server, so the refusals above come from the script and not from a
// peer the client cannot talk to.
func TestRefusalPeerAcceptsAll(t *testing.T) {
	p := smtppeer.Scripted(t, smtppeer.Script{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	results, err := collect(NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSNone, Timeout: 5 * time.Second}),
		ctx, testMsgs(t, "ann@example.test", "bob@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if !r.Delivered || r.Err != nil {
			t.Errorf("result %d: %+v, want delivered", i, r)
		}
	}
	if _, accepted, problems := p.Results(); len(accepted) != 2 || len(problems) != 0 {
		t.Errorf("peer accepted %q with problems %q, want 2 messages and no problems", accepted, problems)
	}
}
