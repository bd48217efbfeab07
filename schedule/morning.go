package schedule

import "time"

// Morning is one recipient's own morning: their send time and zone, and
// the first day of mail after a pause. A recipient is owed their local
// date D once D's send time has come in their zone; the same date carries
// the same cat for everyone, whatever the zones.
type Morning struct {
	At  Clock
	Loc *time.Location
	// PausedUntil is the first day they get mail again; zero when not
	// paused. While it is after their today they are owed nothing, and
	// the days of the pause are never owed afterwards (no backlog).
	PausedUntil Day
}

// Today is the recipient's local date at now.
func (m Morning) Today(now time.Time) Day { return DayOf(now, m.Loc) }

// Latest is the newest day due to the recipient at now: their today once
// its send time has come, else their yesterday.
func (m Morning) Latest(now time.Time) Day {
	today := m.Today(now)
	if now.Before(m.Due(today)) {
		return today.AddDays(-1)
	}
	return today
}

// Next is when the recipient's next day becomes due after now.
func (m Morning) Next(now time.Time) time.Time {
	return m.Due(m.Latest(now).AddDays(1))
}

// NextSend is when the recipient's next mail is due after now: their
// next morning, or the morning their pause ends.
func (m Morning) NextSend(now time.Time) time.Time {
	if m.Paused(now) {
		return m.Due(m.PausedUntil)
	}
	return m.Next(now)
}

// Window is the oldest day the recipient may still be delivered at now.
func (m Morning) Window(now time.Time, maxDays int) Day {
	return Window(m.Today(now), maxDays)
}

// Paused reports whether the recipient is paused at now: their pause ends
// after their today.
func (m Morning) Paused(now time.Time) bool {
	return !m.PausedUntil.IsZero() && m.Today(now).Before(m.PausedUntil)
}

// Due is the moment day d's mail is due to the recipient: their send
// time on that date in their zone.
func (m Morning) Due(d Day) time.Time { return d.At(m.At, m.Loc) }

// Deliverable reports whether day d is due to the recipient at now and
// still inside their catch-up window.
func (m Morning) Deliverable(d Day, now time.Time, maxDays int) bool {
	return !m.Latest(now).Before(d) && !d.Before(m.Window(now, maxDays))
}

// Owner is the global morning (--at in --tz), the one of every recipient
// without settings of their own.
func (s Settings) Owner() Morning { return Morning{At: s.At, Loc: s.Loc} }
