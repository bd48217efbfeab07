package job

import (
	"net/mail"
	"strings"
	"time"

	"cotd/schedule"
	"cotd/store"
)

// Who is owed which day is decided here and only here: delivery asks it
// which days to send, the clean-up of kept day photos asks it which photos
// may go, and `cotd status` asks it what is undelivered. When those three
// answered the question each in its own way, a recipient who came back
// after a break made every run fail on a photo the clean-up had already
// deleted, and a newly added recipient was reported as owed (and later
// "given up") the days before they joined.
//
// A recipient is owed an open day when all of these hold:
//   - the recipient is in --to now;
//   - the day is on or after the day their current membership began (the
//     first run that had them in --to since a run that did not);
//   - the day is not settled for them: not delivered, not given up.
//
// A recipient dropped from --to is owed nothing, and on coming back starts
// afresh with that day's cat rather than a digest of the days they were
// away; a pause works the same way (recordMembership). When an owed day is
// due is the recipient's own morning (schedule.Morning.Deliverable: their local
// date at their send time, in their zone). Whether a day is still inside the catch-up window is the caller's
// question: delivery sends only what is inside it, the clean-up gives up
// what fell out of it.

// key is the form an address is recorded under.
func key(a *mail.Address) string { return strings.ToLower(a.Address) }

// Owed returns the recipients among to that are owed day d, in the order
// of to. A recipient with no recorded membership (added since the last
// run) is owed nothing yet: their first run records them from that day.
func Owed(tx *store.Tx, to []*mail.Address, d store.Day) ([]*mail.Address, error) {
	if d.Status != store.StatusOpen {
		return nil, nil
	}
	var out []*mail.Address
	for _, a := range to {
		ok, err := owes(tx, key(a), d.Day)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// owes reports whether the open day d is owed to the recorded address addr.
func owes(tx *store.Tx, addr string, d schedule.Day) (bool, error) {
	joined, member, err := tx.Joined(addr)
	if err != nil || !member || d.Before(joined) {
		return false, err
	}
	_, settled, err := tx.Delivery(d, addr)
	return !settled, err
}

// recordMembership brings the recorded memberships in line with to as of
// now: a new recipient (or one coming back) joins on their local today,
// one no longer in to leaves. A paused recipient's membership starts
// again on the day the pause ends (or on the day it is lifted, if that is
// earlier), so the days of a pause are never owed: a pause is not a
// backlog, and a pause added mid-catch-up ends that catch-up. It returns
// the recipients that joined on this run.
func recordMembership(tx *store.Tx, to []*mail.Address, morning func(*mail.Address) schedule.Morning, now time.Time) ([]string, error) {
	present := map[string]bool{}
	var joinedNow []string
	for _, a := range to {
		k := key(a)
		present[k] = true
		m := morning(a)
		today := m.Today(now)
		joined, ok, err := tx.Joined(k)
		if err != nil {
			return nil, err
		}
		from := joined
		if !ok {
			from = today
			joinedNow = append(joinedNow, k)
		}
		switch {
		case m.Paused(now) && from.Before(m.PausedUntil):
			from = m.PausedUntil
		case !m.Paused(now) && today.Before(from):
			from = today // a pause lifted early (or a zone moved west): from today on
		}
		if !ok || from != joined {
			if err := tx.PutJoined(k, from); err != nil {
				return nil, err
			}
		}
	}
	var left []string
	err := tx.EachJoined(func(addr string, _ schedule.Day) error {
		if !present[addr] {
			left = append(left, addr)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, addr := range left {
		if err := tx.DeleteJoined(addr); err != nil {
			return nil, err
		}
		// Their last failure is no longer anyone's problem.
		if err := tx.DeleteFailure(addr); err != nil {
			return nil, err
		}
	}
	return joinedNow, nil
}

// Morning is recipient a's own morning: the settings of their line in the
// recipients file, or the owner's --at in --tz.
func (c *Config) Morning(a *mail.Address) schedule.Morning {
	if m, ok := c.Mornings[key(a)]; ok {
		return m
	}
	return c.Schedule.Owner()
}

// MorningsOf lists every recipient's morning, in the order of To.
func (c *Config) MorningsOf() []schedule.Morning {
	ms := make([]schedule.Morning, len(c.To))
	for i, a := range c.To {
		ms[i] = c.Morning(a)
	}
	return ms
}

// oldestWindow is the oldest day any recipient may still be delivered at
// now.
func (c *Config) oldestWindow(now time.Time) schedule.Day {
	w := schedule.Window(schedule.DayOf(now, c.Schedule.Loc), c.Schedule.MaxDays)
	for _, m := range c.MorningsOf() {
		if mw := m.Window(now, c.Schedule.MaxDays); mw.Before(w) {
			w = mw
		}
	}
	return w
}

// OwedNow returns the recipients among c.To that are owed day d and for
// whom it is due at now: their send time for d has come in their zone and
// d is still inside their catch-up window.
func (c *Config) OwedNow(tx *store.Tx, d store.Day, now time.Time) ([]*mail.Address, error) {
	owed, err := Owed(tx, c.To, d)
	if err != nil {
		return nil, err
	}
	var out []*mail.Address
	for _, a := range owed {
		// A paused recipient's membership starts when the pause ends
		// (recordMembership); saying it here too keeps a pause a pause
		// even before a run has recorded it.
		if m := c.Morning(a); !m.Paused(now) && m.Deliverable(d.Day, now, c.Schedule.MaxDays) {
			out = append(out, a)
		}
	}
	return out, nil
}

// FirstDue is the first moment day d is due to any recipient (the
// easternmost morning's), when it opens.
func (c *Config) FirstDue(d schedule.Day) time.Time {
	first := c.Schedule.Due(d)
	for i, m := range c.MorningsOf() {
		if t := m.Due(d); i == 0 || t.Before(first) {
			first = t
		}
	}
	return first
}
