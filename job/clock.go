package job

import (
	"errors"
	"fmt"
	"time"

	"cotd/internal/text"
	"cotd/schedule"
	"cotd/store"
)

// A Pi has no real-time clock, and a bad NTP answer can set it a year
// ahead. A run on such a clock records the future: its run time, the days
// it decided (a year of them skipped, a few mailed with next year's
// dates), the deliveries of those days. Once the clock is right again
// every run refuses with "the clock went backwards", and before
// ForgetFuture only deleting the database got out of that.

// ClockResetCommand is the one command that makes cotd trust a corrected
// clock again; hints name it.
const ClockResetCommand = "cotd clock-reset"

// ClockHint is the fix for schedule.ErrClockBackwards.
const ClockHint = "check the system clock (timedatectl); if it is right now, run '" + ClockResetCommand +
	"': it forgets what was recorded in the future and resends nothing already delivered"

// EarlyClockHint is the fix for schedule.ErrClockTooEarly.
const EarlyClockHint = "set the clock: check 'timedatectl' (NTP must reach the network: timedatectl set-ntp true); with --now or COTD_NOW, give a date from now on"

// ClockFix is the fix for a refused clock: too early (ErrClockTooEarly)
// or behind the last run (ErrClockBackwards).
func ClockFix(err error) string {
	if errors.Is(err, schedule.ErrClockTooEarly) {
		return EarlyClockHint
	}
	return ClockHint
}

// ClockCheck reports a clock before this cotd was built or earlier than
// the last recorded run, the problem `cotd check` and `cotd status` name;
// nil when the clock is fine.
func ClockCheck(tx *store.Tx, now time.Time, s schedule.Settings) error {
	if err := schedule.TooEarly(now, s); err != nil {
		return err
	}
	loc := s.Loc
	st, err := tx.State()
	if err != nil {
		return err
	}
	if !st.LastRun.IsZero() && now.Before(st.LastRun) {
		return fmt.Errorf("%w: it is %s but the last run was at %s (%s in the future)", schedule.ErrClockBackwards,
			now.In(loc).Format(time.RFC3339), st.LastRun.In(loc).Format(time.RFC3339), text.Lasted(st.LastRun.Sub(now)))
	}
	return nil
}

// farJump is how far past the last run a clock may jump before the run
// names it as a possible clock problem: a Pi switched off for a holiday
// is normal, a year is more likely a wrong clock.
func farJump(maxDays int) time.Duration {
	return time.Duration(max(4*maxDays, 31)) * 24 * time.Hour
}

// ClockJump is a jump of the clock far beyond the catch-up window since the
// last run: most likely a wrong clock (a bad NTP answer, a dead RTC battery).
type ClockJump struct {
	By      time.Duration  // how far now is past the last run
	LastRun time.Time      // the last run before the jump
	Skipped int            // days the jump skipped
	Loc     *time.Location // the zone of the schedule, for the wording
}

// String words the jump with its fix, for the journal and the alert.
func (c ClockJump) String() string {
	return fmt.Sprintf("the clock jumped %s past the last run (%s), so %d days were skipped: if the clock is wrong, fix it (timedatectl) and run '%s'",
		text.Lasted(c.By), c.LastRun.In(c.Loc).Format(text.Stamp), c.Skipped, ClockResetCommand)
}

// clockJump describes a jump of the clock far beyond the catch-up window
// since the last run, or returns "".
func clockJump(st schedule.State, now time.Time, s schedule.Settings, skipped int) *ClockJump {
	if st.LastRun.IsZero() || now.Sub(st.LastRun) < farJump(s.MaxDays) {
		return nil
	}
	return &ClockJump{By: now.Sub(st.LastRun), LastRun: st.LastRun, Skipped: skipped, Loc: s.Loc}
}

// Forgotten is what ForgetFuture removed.
type Forgotten struct {
	LastRun    time.Time      // the run time recorded in the future (zero: none)
	Days       []schedule.Day // day records removed, oldest first
	Deliveries int            // deliveries of future days removed
	Joined     int            // memberships dated in the future, moved to today
}

// ErrNothingInFuture means ForgetFuture found nothing recorded after now.
var ErrNothingInFuture = errors.New("nothing is recorded in the future")

// ForgetFuture makes cotd trust the clock at now again: it forgets what a
// run with a clock ahead of now recorded, so the next run decides the
// days from the last real one on. It removes the days after today and,
// going back from there, days decided in the future that no delivery
// depends on (the days a jump skipped), with their kept photos and the
// deliveries of future days. It never removes the delivery of a day up
// to today: what recipients already have is not sent again. Photos and
// quotes used by the forgotten days keep their place in the rotation.
func ForgetFuture(st *store.Store, now time.Time, loc *time.Location) (Forgotten, error) {
	var f Forgotten
	today := schedule.DayOf(now, loc)
	err := st.Update(func(tx *store.Tx) error {
		state, err := tx.State()
		if err != nil {
			return err
		}
		if state.LastRun.After(now) {
			f.LastRun = state.LastRun
		}
		var days []store.Day
		if err := tx.EachDay(schedule.Day{}, func(d store.Day) error { days = append(days, d); return nil }); err != nil {
			return err
		}
		for i := len(days) - 1; i >= 0; i-- {
			d := days[i]
			future := today.Before(d.Day)
			decidedLater := d.Decided.After(now) && (d.Status == store.StatusSkipped || tx.DeliveryCount(d.Day) == 0)
			if !future && !decidedLater {
				break
			}
			n := tx.DeliveryCount(d.Day)
			if future {
				if err := tx.DeleteDeliveries(d.Day); err != nil {
					return err
				}
				f.Deliveries += n
			}
			if err := tx.DeleteDay(d.Day); err != nil {
				return err
			}
			if err := tx.DeleteDayPhoto(d.Day); err != nil {
				return err
			}
			f.Days = append([]schedule.Day{d.Day}, f.Days...)
		}
		var moved []string
		err = tx.EachJoined(func(addr string, d schedule.Day) error {
			if today.Before(d) {
				moved = append(moved, addr)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, a := range moved {
			if err := tx.PutJoined(a, today); err != nil {
				return err
			}
		}
		f.Joined = len(moved)
		if f.LastRun.IsZero() && len(f.Days) == 0 && f.Joined == 0 {
			return ErrNothingInFuture
		}
		return tx.ResetRunTimes(now)
	})
	return f, err
}
