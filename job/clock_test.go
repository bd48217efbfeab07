package job

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cotd/schedule"
	"cotd/store"
)

// A clock behind the last run by hours says so in hours, as the rest of
// cotd words a span (text.Lasted), not as a Go duration ("5h0m0s").
func TestClockCheckSaysHowFarBehind(t *testing.T) {
	j, c := newTestJob(t, 1, "a@example.test", &fakeSender{})
	c.t = at(2, 13)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := j.Store.View(func(tx *store.Tx) error { return ClockCheck(tx, at(2, 8), schedule.Settings{Loc: berlin}) })
	if !errors.Is(err, schedule.ErrClockBackwards) || !strings.Contains(err.Error(), "(5 hours in the future)") {
		t.Errorf("ClockCheck = %v, want the last run named 5 hours in the future", err)
	}
}

// Issue 11 item 4: one run with the clock a year ahead used to lock cotd
// out for a year. The jump is named as a clock problem with the fix;
// once the clock is right, ClockCheck says what is wrong, and
// ForgetFuture makes the next run deliver the missed days of the real
// calendar without sending anything already delivered again.
func TestClockAYearAheadIsRecoverable(t *testing.T) {
	fs := &fakeSender{}
	j, c := newTestJob(t, 12, "a@example.test", fs)
	if _, err := j.Run(context.Background()); err != nil { // 2026-03-02
		t.Fatal(err)
	}
	fs.take()
	c.t = time.Date(2027, 3, 2, 8, 0, 0, 0, berlin) // a bad NTP answer
	sum, err := j.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.ClockJump == nil {
		t.Fatalf("no ClockJump, want the jump named with %q", ClockResetCommand)
	}
	if !strings.Contains(sum.ClockJump.String(), "the clock jumped 365 days") || !strings.Contains(sum.ClockJump.String(), ClockResetCommand) {
		t.Errorf("ClockJump = %q, want the jump named with %q", sum.ClockJump, ClockResetCommand)
	}
	fs.take()

	c.t = at(5, 8) // the clock is right again
	if _, err := j.Run(context.Background()); !errors.Is(err, schedule.ErrClockBackwards) {
		t.Fatalf("run on the corrected clock: %v, want ErrClockBackwards", err)
	}
	err = j.Store.View(func(tx *store.Tx) error { return ClockCheck(tx, c.t, schedule.Settings{Loc: berlin}) })
	if !errors.Is(err, schedule.ErrClockBackwards) || !strings.Contains(err.Error(), "in the future") {
		t.Errorf("ClockCheck = %v, want the future last run named", err)
	}
	f, err := ForgetFuture(j.Store, c.t, berlin)
	if err != nil {
		t.Fatal(err)
	}
	if f.LastRun.Year() != 2027 || len(f.Days) < 300 || f.Deliveries != 3 {
		t.Errorf("forgot %+v (%d days), want the 2027 run, its year of days and the 3 deliveries of its digest", f.LastRun, len(f.Days))
	}
	if err := j.Store.View(func(tx *store.Tx) error { return ClockCheck(tx, c.t, schedule.Settings{Loc: berlin}) }); err != nil {
		t.Errorf("ClockCheck after the reset: %v", err)
	}
	sum, err = j.Run(context.Background())
	if err != nil {
		t.Fatalf("run after the reset: %v", err)
	}
	// Days 3, 4 and 5 are the real missed days (MaxDays 2 plus today);
	// day 2 was delivered before the jump and is not sent again.
	if got := daysString(sum.Plan.Open); got != "2026-03-03,2026-03-04,2026-03-05" {
		t.Errorf("opened %s, want 2026-03-03..05", got)
	}
	if got := fs.take(); len(got) != 1 || sum.Sent != 1 {
		t.Errorf("tried %v, sent %d, want one digest", got, sum.Sent)
	}
	if _, err := ForgetFuture(j.Store, c.t, berlin); !errors.Is(err, ErrNothingInFuture) {
		t.Errorf("a second reset: %v, want ErrNothingInFuture", err)
	}
	// When 2027-03-01 really comes, it is a new day with a new cat.
	c.t = time.Date(2027, 3, 1, 8, 0, 0, 0, berlin)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fs.take(); len(got) != 1 {
		t.Errorf("on the real 2027-03-01 tried %v, want a", got)
	}
}

func daysString(ds []schedule.Day) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return strings.Join(s, ",")
}
