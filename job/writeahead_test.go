package job

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"

	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// cutOffSender plays one server across runs: on the first run it takes
// the first message and is then killed (a panic) before the answer is
// recorded; on later runs it answers resends with resend and new messages
// with fresh. It keeps what went out.
type cutOffSender struct {
	kill   bool
	resend cmail.Result
	fresh  func(days int) cmail.Result
	sent   []string // "new <Message-ID> N days" or "again <Message-ID>"
}

func (s *cutOffSender) SendEach(_ context.Context, msgs []*gomail.Msg, before func(int) error, done func(int, cmail.Result)) error {
	for i, m := range msgs {
		if err := before(i); err != nil {
			done(i, cmail.Result{Err: err})
			continue
		}
		days := strings.Count(mustWrite(m), "Content-Type: image/jpeg")
		if s.kill {
			s.kill = false
			s.sent = append(s.sent, fmt.Sprintf("new %s %d days", m.GetMessageID(), days))
			panic(errKilled) // the server has it; the run never hears back
		}
		r := s.fresh(days)
		if r.Delivered {
			s.sent = append(s.sent, fmt.Sprintf("new %s %d days", m.GetMessageID(), days))
		}
		done(i, r)
	}
	return nil
}

var messageID = regexp.MustCompile(`(?mi)^Message-ID: *(<[^>]+>)`)

func (s *cutOffSender) Resend(_ context.Context, r cmail.Raw) cmail.Result {
	if s.resend.Delivered {
		s.sent = append(s.sent, "again "+string(messageID.FindSubmatch(r.Data)[1]))
	}
	return s.resend
}

// A message cut off before its answer was recorded is sent again as it
// was on the next run, and what the server answers then decides: taken
// (or no answer again) settles it; refused for good gives its days up for
// that recipient, saying it may or may not have arrived (neither twice
// nor lost unseen); a temporary refusal, or no attempt at all, keeps it
// for the run after.
func TestCutOffMessageNextRun(t *testing.T) {
	notAttempted := cmail.Result{Err: errors.New("smtp 127.0.0.1:25: delivery not attempted: dial tcp: connection refused")}
	delivered := cmail.Result{Delivered: true}
	for _, tc := range []struct {
		name    string
		resend  cmail.Result
		fresh   cmail.Result
		sent    []string // on the second run; A is the cut-off message
		doubt   int      // messages still in doubt after the second run
		failure string   // the days of a@'s failure, if any
		gaveUp  string   // the days given up for a@, if any
	}{
		{"taken", delivered, delivered, []string{"again A", "new B 1 days"}, 0, "", ""},
		{"no answer again", cmail.Result{InDoubt: true, Err: errors.New("EOF after the final dot")}, delivered,
			[]string{"new B 1 days"}, 0, "", ""},
		{"refused", cmail.Result{Err: smtpErr(550, "5.1.1 no such user")}, cmail.Result{Err: smtpErr(550, "5.1.1 no such user")},
			nil, 0, "2026-03-03", "2026-03-02"},
		{"refused, the new day taken", cmail.Result{Err: smtpErr(554, "5.7.1 refused as spam")}, delivered,
			[]string{"new B 1 days"}, 0, "", "2026-03-02"},
		{"a temporary refusal keeps it", cmail.Result{Err: smtpErr(451, "4.3.0 try later")}, delivered,
			[]string{"new B 1 days"}, 1, "", ""},
		{"not attempted", notAttempted, delivered, []string{"new B 1 days"}, 1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &cutOffSender{kill: true, resend: tc.resend, fresh: func(int) cmail.Result { return tc.fresh }}
			j, c := newTestJob(t, 4, "a@example.test", s)
			func() {
				defer func() {
					if r := recover(); r != errKilled {
						t.Fatalf("first run: want the kill, got %v", r)
					}
				}()
				j.Run(context.Background())
			}()
			c.t = at(3, 8)
			sum, err := j.Run(context.Background())
			if err != nil && tc.failure == "" {
				t.Fatalf("second run: %v", err)
			}
			// Message-IDs by order of appearance: A is the cut-off one.
			names := map[string]string{}
			var got []string
			for i, l := range s.sent {
				f := strings.Fields(l)
				if _, ok := names[f[1]]; !ok {
					names[f[1]] = string(rune('A' + len(names)))
				}
				f[1] = names[f[1]]
				if i > 0 {
					got = append(got, strings.Join(f, " "))
				}
			}
			if !slices.Equal(got, tc.sent) {
				t.Errorf("second run sent %q, want %q", got, tc.sent)
			}
			var doubt, sending int
			j.Store.View(func(tx *store.Tx) error {
				tx.EachInDoubt(func(store.InDoubt) error { doubt++; return nil })
				tx.EachSending(func(store.InDoubt) error { sending++; return nil })
				return nil
			})
			if doubt != tc.doubt || sending != 0 {
				t.Errorf("after the second run: %d in doubt (want %d), %d write-ahead records (want 0)", doubt, tc.doubt, sending)
			}
			var failed string
			for _, f := range sum.Failures {
				failed = schedule.List(f.Days)
			}
			if failed != tc.failure {
				t.Errorf("failure days %q, want %q", failed, tc.failure)
			}
			var gave []schedule.Day
			for _, u := range sum.Dropped {
				if !strings.Contains(u.Reason, "may or may not have arrived") {
					t.Errorf("given up for %q, want the reason to say it may have arrived", u.Reason)
				}
				gave = append(gave, u.Day)
			}
			if schedule.List(gave) != tc.gaveUp {
				t.Errorf("gave up %q, want %q", schedule.List(gave), tc.gaveUp)
			}
		})
	}
}
