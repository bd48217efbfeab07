package main

import (
	"errors"
	"fmt"
	"strings"

	"cotd/job"
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
	s := newSettings("clock-reset")
	if err := s.parse(args, e.lookup); err != nil {
		return err
	}
	if s.fs.NArg() > 0 {
		return usagef("run 'cotd help clock-reset'", "cotd clock-reset takes no arguments, got %q", strings.Join(s.fs.Args(), " "))
	}
	c, err := s.load(e.lookup)
	if err != nil {
		return err
	}
	st, err := store.Open(c.db, lockWait)
	if err != nil {
		return err
	}
	defer st.Close()
	loc := c.job.sched.Loc
	f, err := job.ForgetFuture(st, c.now(), loc)
	if errors.Is(err, job.ErrNothingInFuture) {
		fmt.Fprintf(e.stdout, "nothing to forget: nothing in %s is recorded after %s\n", c.db, c.now().In(loc).Format("2006-01-02 15:04 MST"))
		return nil
	}
	if err != nil {
		return err
	}
	var parts []string
	if !f.LastRun.IsZero() {
		parts = append(parts, "the run at "+f.LastRun.In(loc).Format("2006-01-02 15:04 MST"))
	}
	if len(f.Days) > 0 {
		parts = append(parts, fmt.Sprintf("%s (%s)", plural(len(f.Days), "day", "days"), span(f.Days)))
	}
	if f.Deliveries > 0 {
		parts = append(parts, plural(f.Deliveries, "delivery of a future day", "deliveries of future days"))
	}
	if f.Joined > 0 {
		parts = append(parts, plural(f.Joined, "recipient's future join date", "recipients' future join dates"))
	}
	fmt.Fprintf(e.stdout, "forgot %s; the next run catches up from the last real day, and nothing already delivered is sent again\n", strings.Join(parts, ", "))
	return nil
}
