package main

import (
	"errors"
	"fmt"
	"strings"

	"cotd/internal/text"
	"cotd/job"
	"cotd/schedule"
	"cotd/store"
)

var clockResetCommand = command{
	name:    "clock-reset",
	summary: "trust the corrected clock again after it was ahead",
	help: `Usage: cotd clock-reset [flags]

Example, after a run with the clock a year ahead and 'timedatectl' shows
the right time again:
    sudo -u cotd cotd clock-reset

A run whose clock was ahead recorded the future: every later run then
refuses with "the clock went backwards". clock-reset forgets what was
recorded after now (the run time, the days after today, the days that jump
skipped, the deliveries of future days), so the next run catches up on the
real missed days. It never forgets a delivery of a day up to today: nothing
already delivered is sent again. Run it only when the clock is right now.
`,
	settings: true,
	run:      cmdClockReset,
}

func cmdClockReset(args []string, e env) error {
	c, err := loadSettings("clock-reset", args, e, nil)
	if err != nil {
		return err
	}
	st, err := store.Open(c.DB, lockWait)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := schedule.TooEarly(c.Now(), c.Job.Schedule); err != nil {
		return err // everything would look recorded in the future
	}
	loc := c.Job.Schedule.Loc
	f, err := job.ForgetFuture(st, c.Now(), loc)
	if errors.Is(err, job.ErrNothingInFuture) {
		fmt.Fprintf(e.stdout, "nothing to forget: nothing in %s is recorded after %s\n", c.DB, c.Now().In(loc).Format(text.Stamp))
		return nil
	}
	if err != nil {
		return err
	}
	var parts []string
	if !f.LastRun.IsZero() {
		parts = append(parts, "the run at "+f.LastRun.In(loc).Format(text.Stamp))
	}
	if len(f.Days) > 0 {
		parts = append(parts, fmt.Sprintf("%s (%s)", text.Plural(len(f.Days), "day", "days"), schedule.Span(f.Days)))
	}
	if f.Deliveries > 0 {
		parts = append(parts, text.Plural(f.Deliveries, "delivery of a future day", "deliveries of future days"))
	}
	if f.Joined > 0 {
		parts = append(parts, text.Plural(f.Joined, "recipient's future join date", "recipients' future join dates"))
	}
	fmt.Fprintf(e.stdout, "forgot %s; the next run catches up from the last real day, and nothing already delivered is sent again\n", strings.Join(parts, ", "))
	return nil
}
