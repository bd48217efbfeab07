// Package clocksync tells whether the kernel's clock has been synchronised
// by NTP, and waits a bounded time for it.
//
// A Raspberry Pi has no real-time clock: until NTP answers, its clock is
// roughly the time of the last shutdown, and cotd would judge what is due by
// it. systemd-time-wait-sync.service waits for the same signal, but without
// any bound and in silence (a Pi whose NTP is blocked never ran cotd again).
// So the unit only orders cotd after time-set.target and cotd waits itself,
// for a bounded time, and then says in the journal that it goes on with an
// unsynchronised clock. Every NTP client (systemd-timesyncd, chrony, ntpd)
// clears the kernel's STA_UNSYNC flag once it has set the time, so that
// flag is the one thing asked.
package clocksync

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// Checker reports whether the clock is synchronised. Kernel is the real
// one; tests pass their own.
type Checker interface {
	Synced() (bool, error)
}

// staUnsync is STA_UNSYNC from <linux/timex.h>: set while no NTP client has
// vouched for the clock (at boot, and again once its error estimate grows
// past 16 s without an update).
const staUnsync = 0x0040

// Kernel asks the kernel with adjtimex(2) in read-only mode (modes 0),
// which needs no privilege.
type Kernel struct{}

// Synced reports whether the kernel's STA_UNSYNC flag is clear.
func (Kernel) Synced() (bool, error) {
	var tx syscall.Timex
	if _, err := syscall.Adjtimex(&tx); err != nil {
		return false, fmt.Errorf("reading the kernel's time state (adjtimex): %w", err)
	}
	return tx.Status&staUnsync == 0, nil
}

// Result is what Wait found.
type Result struct {
	Synced bool
	Waited time.Duration // how long Wait slept before it knew
	Err    error         // the checker could not tell; Wait did not wait
}

// Interval is how often Wait asks.
const Interval = 5 * time.Second

// Wait asks c until it reports synchronised or max has passed, every
// interval. sleep waits for a duration or until ctx is done (Sleep does it
// with a real timer; tests count instead). An error from c ends the wait at
// once: a clock whose state cannot be read is not going to become readable.
func Wait(ctx context.Context, c Checker, max, interval time.Duration, sleep func(context.Context, time.Duration) error) Result {
	var r Result
	for {
		ok, err := c.Synced()
		if err != nil {
			r.Err = err
			return r
		}
		if ok || r.Waited >= max {
			r.Synced = ok
			return r
		}
		d := min(interval, max-r.Waited)
		if err := sleep(ctx, d); err != nil {
			return r
		}
		r.Waited += d
	}
}

// Sleep waits d, or less when ctx is cancelled (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Line is the one-line account of the clock for `cotd check` and `cotd
// status`: whether it is synchronised and, if not, what a run does about
// it (wait is the run's --clock-sync-wait) and how to fix it.
type Line struct {
	OK   bool
	Msg  string
	Hint string
}

// Describe asks c once and words the answer.
func Describe(c Checker, wait time.Duration) Line {
	ok, err := c.Synced()
	switch {
	case err != nil:
		return Line{Msg: "cannot tell whether it is synchronised: " + err.Error(), Hint: "check it with: timedatectl"}
	case ok:
		return Line{OK: true, Msg: "synchronised (NTP)"}
	}
	// No "clock" in these words: check's line is "time sync", beside the
	// "clock" line that appears only when the clock went backwards.
	what := "runs go on without waiting for NTP"
	if wait > 0 {
		what = fmt.Sprintf("a run waits up to %s for NTP, then goes on with the time it has", wait)
	}
	return Line{
		Msg:  "not synchronised: no NTP server has answered yet; " + what,
		Hint: "see timedatectl timesync-status; the NTP server must be reachable (UDP port 123)",
	}
}

// Unsynced is the journal line of a run that waited in vain (or could not
// tell), saying what it does next: it goes on, because the clock cannot be
// behind the last run (cotd refuses a clock earlier than its last run), and
// so every day it can think due really is due.
func Unsynced(r Result) string {
	if r.Err != nil {
		return "cannot tell whether the clock is synchronised (" + r.Err.Error() + "); going on with it"
	}
	return fmt.Sprintf("the clock is not synchronised after waiting %s (no NTP answer; see timedatectl timesync-status); "+
		"going on with it, because a clock earlier than the last run is refused", r.Waited)
}
