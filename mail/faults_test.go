package mail

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"cotd/internal/smtppeer"
	"cotd/internal/testcert"
)

// faultyServer is a Faulty peer with STARTTLS (a certificate for
// 127.0.0.1 from a test CA) and one login, and the config that reaches it.
func faultyServer(t *testing.T, plan func(smtppeer.Hit) smtppeer.Kind) (*smtppeer.Faulty, SMTPConfig) {
	t.Helper()
	now := time.Now()
	ca := testcert.NewCA(t, "Faulty CA", now.Add(-time.Hour), now.Add(24*time.Hour))
	cert := ca.Issue(t, testcert.Server{Hosts: []string{"127.0.0.1"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)})
	p := smtppeer.NewFaulty(t, smtppeer.Options{Plan: plan, TLS: &tls.Config{Certificates: []tls.Certificate{cert}},
		User: "cotd", Password: "s3cret-pass"})
	// Loopback answers in microseconds; 500 ms keeps a stall short without
	// flaking on a busy machine.
	return p, SMTPConfig{Host: "127.0.0.1", Port: p.Port, TLS: TLSStartTLS, RootCAs: ca.Pool, User: "cotd", Password: "s3cret-pass",
		Timeout: 500 * time.Millisecond}
}

// Every step of a session × every way of failing it, through the real
// client against a scripted peer (issue 25 §1-3, issue 24): a failure in
// b's transaction is b's alone (a before it and c after it are delivered,
// c on a fresh session when b's left the session unusable); b is in doubt
// exactly when its final dot went out and no answer came; a failure
// before any transaction (greeting, EHLO, STARTTLS, AUTH) fails the whole
// batch with one error that names the step; nothing at QUIT changes any
// result.
func TestEveryStepEveryFailure(t *testing.T) {
	tos := []string{"ann@example.test", "bob@example.test", "cee@example.test"}
	session := map[smtppeer.Step]bool{smtppeer.AtGreeting: true, smtppeer.AtEHLO: true, smtppeer.AtStartTLS: true, smtppeer.AtAuth: true}
	for _, step := range smtppeer.AllSteps {
		for _, kind := range smtppeer.AllKinds {
			t.Run(string(step)+"/"+kind.String(), func(t *testing.T) {
				t.Parallel()
				p, cfg := faultyServer(t, func(h smtppeer.Hit) smtppeer.Kind {
					switch {
					case h.Step != step:
						return smtppeer.Pass
					case session[step] && h.Conn == 0, step == smtppeer.AtQuit,
						!session[step] && h.Rcpt == "bob@example.test":
						return kind
					case step == smtppeer.AtMail && h.Msg == 1: // MAIL comes before bob's RCPT
						return kind
					}
					return smtppeer.Pass
				})
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				results, err := collect(NewSMTP(cfg), ctx, testMsgs(t, tos...))
				conns, held, _ := p.Take()
				got := map[string]int{}
				for _, h := range held {
					got[h.Rcpt]++
				}
				if session[step] {
					if err == nil {
						t.Fatalf("the session failed at %s (%s), SendEach returned nil; results %+v", step, kind, results)
					}
					t.Logf("%v", err)
					oneReadableLine(t, "session error", err)
					if step == smtppeer.AtStartTLS && !strings.Contains(err.Error(), "STARTTLS") {
						t.Errorf("error %q does not name STARTTLS", err)
					}
					for i, r := range results {
						if r.Delivered || r.InDoubt || r.Err != err || r.Class != SessionWide {
							t.Errorf("%s: %+v, want the session error, session-wide", tos[i], r)
						}
					}
					if len(held) != 0 {
						t.Errorf("server holds %+v after refusing the session", held)
					}
					return
				}
				if err != nil {
					t.Fatalf("SendEach: %v, want nil (the session itself worked)", err)
				}
				for _, i := range []int{0, 2} {
					if !results[i].Delivered || got[tos[i]] != 1 {
						t.Errorf("%s: %+v, held %d times; want delivered once (only bob's transaction failed)", tos[i], results[i], got[tos[i]])
					}
				}
				b := results[1]
				if step == smtppeer.AtQuit {
					if !b.Delivered {
						t.Errorf("bob: %+v, want delivered (QUIT comes after every answer)", b)
					}
					return
				}
				if b.Delivered || b.Err == nil {
					t.Fatalf("bob: %+v, want not delivered", b)
				}
				t.Logf("bob: %v (%s)", b.Err, b.Class)
				oneReadableLine(t, "bob", b.Err)
				// In doubt whenever the dot went out unanswered: always when the
				// server kept it; after a cut in the content only if the client
				// had written the whole (small) message before it noticed.
				inDoubt := step == smtppeer.AtDot && (kind == smtppeer.Drop || kind == smtppeer.Stall || kind == smtppeer.Garbage)
				if inDoubt && !b.InDoubt || b.InDoubt && step != smtppeer.AtDot && step != smtppeer.AtBlock {
					t.Errorf("bob: InDoubt=%v at %s/%s", b.InDoubt, step, kind)
				}
				if want := map[bool]int{true: 1}[inDoubt]; got[tos[1]] != want {
					t.Errorf("server holds bob's message %d times, want %d", got[tos[1]], want)
				}
				wantClass := Temporary
				switch {
				case step == smtppeer.AtBlock:
				case kind == smtppeer.Close421:
					wantClass = SessionWide
				case kind == smtppeer.Perm && step == smtppeer.AtRcpt:
					wantClass = PermanentRecipient
				case kind == smtppeer.Perm && step == smtppeer.AtMail:
					wantClass = SessionWide // the sender refused
				case kind == smtppeer.Perm && step != smtppeer.AtBlock:
					wantClass = PermanentMessage
				}
				if b.Class != wantClass {
					t.Errorf("bob: class %s, want %s", b.Class, wantClass)
				}
				// A session left in an unknown state is not reused.
				fresh := kind != smtppeer.Temp && kind != smtppeer.Perm || step == smtppeer.AtBlock
				if want := map[bool]int{false: 1, true: 2}[fresh]; conns != want {
					t.Errorf("connections: %d, want %d", conns, want)
				}
			})
		}
	}
}
