// Package schedule decides what is due: which calendar days get a cat now,
// which missed days are given up, and which photo or quote goes out next.
//
// Everything here is a pure function of (state, now, settings) so that
// catch-up, clocks that jump and daylight-saving changes can be table-tested
// without a database, a network or a real clock.
package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is a calendar date in the owner's time zone.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// DayOf returns the calendar day of t in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return Day{y, m, d}
}

// ParseDay parses YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Day{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return DayOf(t, time.UTC), nil
}

// String formats the day as YYYY-MM-DD, which also sorts correctly as bytes.
func (d Day) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Day (no day).
func (d Day) IsZero() bool { return d == Day{} }

// AddDays returns the day n days after d (n may be negative).
func (d Day) AddDays(n int) Day {
	return DayOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC), time.UTC)
}

// Before reports whether d is earlier than o.
func (d Day) Before(o Day) bool { return d.String() < o.String() }

// Midnight returns the start of the day in loc.
func (d Day) Midnight(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// At returns the moment the day's send time c happens in loc. A send time
// inside a skipped daylight-saving hour maps to the moment as far past the
// jump as it was meant to be (02:30 on a spring-forward night is 03:30), so
// that day still sends, once; a repeated hour uses its first occurrence.
// time.Date alone leaves both cases unspecified, and zones differ.
func (d Day) At(c Clock, loc *time.Location) time.Time {
	_, before := d.Midnight(loc).Zone()
	_, after := time.Date(d.Year, d.Month, d.Day, 23, 59, 0, 0, loc).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		t := time.Date(d.Year, d.Month, d.Day, c.Hour, c.Minute, 0, 0, time.FixedZone("", off)).In(loc)
		if t.Hour() == c.Hour && t.Minute() == c.Minute && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if best.IsZero() { // in a gap: read the wall time with the offset before the jump
		best = time.Date(d.Year, d.Month, d.Day, c.Hour, c.Minute, 0, 0, time.FixedZone("", before)).In(loc)
	}
	return best
}

// Clock is a time of day such as 07:00.
type Clock struct{ Hour, Minute int }

// ParseClock parses HH:MM (24-hour).
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return Clock{}, fmt.Errorf("send time %q is not a 24-hour HH:MM time such as 07:00", s)
	}
	return Clock{hh, mm}, nil
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// Mode says what happens to days that were missed while cotd was not running.
type Mode string

const (
	Digest Mode = "digest" // one message per recipient holding every due day
	Each   Mode = "each"   // one message per day per recipient
	Skip   Mode = "skip"   // only today; missed days are recorded as skipped
)

// ParseMode parses the --catch-up value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Digest, Each, Skip:
		return m, nil
	}
	return "", fmt.Errorf("catch-up mode %q is not one of digest, each, skip", s)
}

// Settings are the owner's schedule settings.
type Settings struct {
	At      Clock
	Loc     *time.Location
	CatchUp Mode
	// MaxDays caps how many missed days are delivered after downtime; older
	// missed days are skipped. Today does not count against the cap.
	MaxDays int
	// NotBefore is a moment the clock cannot really be earlier than (the
	// day this cotd was built): a clock before it is wrong, and is refused
	// like one that went backwards. Zero: no floor.
	NotBefore time.Time
}

// State is what the database remembers between runs.
type State struct {
	FirstRun time.Time // zero before the first run ever
	LastRun  time.Time // zero before the first run ever
	// Last is the newest day already decided (opened or skipped); zero if none.
	Last Day
}

// Plan is the decision for one run.
type Plan struct {
	Today Day
	// Open are the days to deliver now, oldest first.
	Open []Day
	// Skipped are missed days given up, oldest first.
	Skipped []Day
	// Next is when the next day becomes due to a recipient.
	Next time.Time
}

// ErrClockBackwards means now is earlier than the last run recorded. A
// Raspberry Pi has no real-time clock and boots with the time it shut down
// until NTP syncs, so acting on such a clock could resend or skip days.
var ErrClockBackwards = errors.New("the clock went backwards")

// ErrClockTooEarly means now is before Settings.NotBefore: a Pi that
// booted without network at 1970-01-01, or a --now typo. Acting on it
// would mail a 1970 cat and then, once the clock is right, catch up on
// days nobody missed; decided days from 0001-01-01 would fill the
// database. It is also an ErrClockBackwards: a run changes nothing.
var ErrClockTooEarly = errors.New("the clock is before this cotd was built")

// earlyClock is ErrClockTooEarly at one moment.
type earlyClock struct{ now, floor time.Time }

func (e *earlyClock) Error() string {
	return fmt.Sprintf("%v: it says %s, and cotd was built after %s", ErrClockTooEarly, e.now.Format(time.RFC3339), e.floor.Format("2006-01-02"))
}

func (e *earlyClock) Is(target error) bool {
	return target == ErrClockTooEarly || target == ErrClockBackwards
}

// TooEarly refuses a now before s.NotBefore (ErrClockTooEarly), or
// returns nil.
func TooEarly(now time.Time, s Settings) error {
	if s.NotBefore.IsZero() || !now.Before(s.NotBefore) {
		return nil
	}
	return &earlyClock{now: now.In(s.Loc), floor: s.NotBefore.In(s.Loc)}
}

// Decide returns which days to open and which to skip at now, for
// recipients who all have the owner's morning.
func Decide(st State, now time.Time, s Settings) (Plan, error) {
	return DecideFor(st, now, s, nil)
}

// DecideFor returns which days to open and which to skip at now when the
// recipients have mornings ms of their own (none: the owner's). A day is
// opened, with its cat and quote, as soon as it is due to anyone (the
// easternmost morning first); a missed day is given up only when it is
// older than every recipient's catch-up window. Whom an open day is owed
// to, and when, is each recipient's Morning.Due.
func DecideFor(st State, now time.Time, s Settings, ms []Morning) (Plan, error) {
	if err := TooEarly(now, s); err != nil {
		return Plan{}, err
	}
	if !st.LastRun.IsZero() && now.Before(st.LastRun) {
		return Plan{}, fmt.Errorf("%w: it is %s but the last run was at %s",
			ErrClockBackwards, now.In(s.Loc).Format(time.RFC3339), st.LastRun.In(s.Loc).Format(time.RFC3339))
	}
	if len(ms) == 0 {
		ms = []Morning{s.Owner()}
	}
	today := DayOf(now, s.Loc)
	p := Plan{Today: today}

	// The newest day due to anyone, the oldest day anyone may still get,
	// and the oldest "today" (what --catch-up skip keeps).
	newest, window, oldestToday := ms[0].Latest(now), ms[0].Window(now, s.MaxDays), ms[0].Today(now)
	for _, m := range ms[1:] {
		if l := m.Latest(now); newest.Before(l) {
			newest = l
		}
		if w := m.Window(now, s.MaxDays); w.Before(window) {
			window = w
		}
		if t := m.Today(now); t.Before(oldestToday) {
			oldestToday = t
		}
	}

	var start Day
	switch {
	case !st.Last.IsZero():
		start = st.Last.AddDays(1)
	case !st.FirstRun.IsZero():
		start = DayOf(st.FirstRun, s.Loc)
		if oldestToday.Before(start) { // a zone west of the owner's: their today is not missed
			start = oldestToday
		}
	default:
		start = oldestToday // nothing before the first run ever is missed
	}
	keep := window
	if s.CatchUp == Skip {
		keep = oldestToday
	}
	for d := start; !newest.Before(d); d = d.AddDays(1) {
		if d.Before(keep) {
			p.Skipped = append(p.Skipped, d)
		} else {
			p.Open = append(p.Open, d)
		}
	}

	// The next moment a day becomes due to someone (opened already for
	// a zone further east, or not); a paused recipient's mornings do not
	// count while the pause lasts, unless everyone is paused.
	for _, paused := range []bool{false, true} {
		for _, m := range ms {
			if m.Paused(now) != paused {
				continue
			}
			if n := m.NextSend(now); p.Next.IsZero() || n.Before(p.Next) {
				p.Next = n
			}
		}
		if !p.Next.IsZero() {
			break
		}
	}
	return p, nil
}

// Due is the moment day d's mail is due on the owner's morning (a
// recipient's own is Morning.Due).
func (s Settings) Due(d Day) time.Time { return s.Owner().Due(d) }

// Window returns the oldest day that may still be delivered on today:
// undelivered days older than that are given up, which bounds both the
// catch-up after downtime and retries for a failing recipient.
func Window(today Day, maxDays int) Day {
	return today.AddDays(-max(maxDays, 0))
}

// List writes days as the log and the alerts list them:
// "2026-03-01,2026-03-02".
func List(ds []Day) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ",")
}

// Span writes the first and last of days, in order: "2026-03-01 to
// 2026-03-05", or the one day.
func Span(ds []Day) string {
	switch len(ds) {
	case 0:
		return ""
	case 1:
		return ds[0].String()
	}
	return ds[0].String() + " to " + ds[len(ds)-1].String()
}
