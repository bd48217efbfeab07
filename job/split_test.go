package job

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"

	cmail "cotd/mail"
)

// tooLargeSender refuses, as too large, every message carrying more than
// maxDays days' cats, the way a server with a small SIZE (or a 552 5.3.4
// after the dot) does; it remembers the subjects it delivered.
type tooLargeSender struct {
	noResend
	maxDays   int
	delivered []string
	refused   int
	onRefuse  func()
}

func (s *tooLargeSender) SendEach(_ context.Context, msgs []*gomail.Msg, before func(int) error, done func(int, cmail.Result)) error {
	for i, m := range msgs {
		if before != nil {
			if err := before(i); err != nil {
				done(i, cmail.Result{Err: err})
				continue
			}
		}
		subj := strings.Join(m.GetGenHeader(gomail.HeaderSubject), "")
		cats := strings.Count(mustWrite(m), "Content-Id: <cat")
		if cats == 0 {
			cats = strings.Count(mustWrite(m), "image/jpeg")
		}
		if cats > s.maxDays {
			s.refused++
			if s.onRefuse != nil {
				s.onRefuse()
			}
			done(i, cmail.Result{Err: fmt.Errorf("smtp: delivery failed: 552 5.3.4 message file too big: %w", cmail.ErrTooLarge)})
			continue
		}
		s.delivered = append(s.delivered, subj)
		done(i, cmail.Result{Delivered: true})
	}
	return nil
}

func mustWrite(m *gomail.Msg) string {
	var b strings.Builder
	m.WriteTo(&b)
	return b.String()
}

// Issue 11 item 3: after downtime, a digest the server refuses as too
// large does not hold today's cat hostage: today's goes at once on its
// own, the backlog follows in smaller pieces, in the same run; nothing
// is given up and the next run has nothing left to do.
func TestDigestTooLargeSendsTodayAlone(t *testing.T) {
	s := &tooLargeSender{maxDays: 1}
	j, c := newTestJob(t, 6, "a@example.test", s)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.delivered = nil
	c.t = at(5, 8) // three days later: days 3, 4 and 5 are due
	sum, err := j.Run(context.Background())
	if err != nil {
		t.Fatalf("run after downtime: %v (failures %+v)", err, sum.Failures)
	}
	if s.refused != 1 {
		t.Errorf("refused %d messages, want only the one digest", s.refused)
	}
	if len(s.delivered) != 3 || !strings.Contains(s.delivered[0], "5") {
		t.Errorf("delivered %q, want today's (March 5) first, then the two older days", s.delivered)
	}
	if len(sum.GaveUp)+len(sum.Dropped) != 0 {
		t.Errorf("gave up %q %q, want nothing", sum.GaveUp, sum.Dropped)
	}
	s.delivered = nil
	c.t = at(5, 9)
	if _, err := j.Run(context.Background()); err != nil || len(s.delivered) != 0 {
		t.Errorf("next run: %v, delivered %q, want nothing due", err, s.delivered)
	}
	// The next downtime goes in pieces from the start (the mark is cleared
	// once the backlog is through, so here a digest is tried again).
	c.t = at(7, 8)
	s.refused = 0
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(s.delivered) != 2 {
		t.Errorf("after the next downtime delivered %q, want days 6 and 7", s.delivered)
	}
}

// A single day too large for the server even on its own is given up for
// that recipient with a note, and the run goes on.
func TestDayTooLargeAloneIsGivenUp(t *testing.T) {
	s := &tooLargeSender{maxDays: 0}
	j, _ := newTestJob(t, 2, "a@example.test", s)
	sum, err := j.Run(context.Background())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(sum.Dropped) != 1 || !strings.Contains(undeliveredLines(sum.Dropped)[0], "too large") {
		t.Errorf("dropped %q, want the day named as too large", sum.Dropped)
	}
}

// A digest refused as too large when the run is being stopped (SIGTERM)
// is still a failure of the run, not silently dropped: the next run sends
// it in pieces.
func TestDigestTooLargeWhileStopping(t *testing.T) {
	s := &tooLargeSender{maxDays: 1}
	j, c := newTestJob(t, 6, "a@example.test", s)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.t = at(5, 8)
	ctx, cancel := context.WithCancel(context.Background())
	s.onRefuse = cancel // systemd stops the run as the digest is refused
	sum, err := j.Run(ctx)
	if !errors.Is(err, ErrUndelivered) || len(sum.Failures) != 1 {
		t.Fatalf("stopped run: %v, failures %+v; want the digest reported undelivered", err, sum.Failures)
	}
	s.onRefuse, s.delivered = nil, nil
	c.t = at(5, 9)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(s.delivered) != 3 {
		t.Errorf("next run delivered %q, want the three days one by one", s.delivered)
	}
}
