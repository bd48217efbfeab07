package job

import (
	"net/mail"
	"strings"

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
// away. Whether a day is still inside the catch-up window is the caller's
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
// today: a new recipient (or one coming back) joins today, one no longer in
// to leaves. It returns the recipients that joined on this run.
func recordMembership(tx *store.Tx, to []*mail.Address, today schedule.Day) ([]string, error) {
	now := map[string]bool{}
	var joinedNow []string
	for _, a := range to {
		k := key(a)
		now[k] = true
		_, ok, err := tx.Joined(k)
		if err != nil {
			return nil, err
		}
		if !ok {
			if err := tx.PutJoined(k, today); err != nil {
				return nil, err
			}
			joinedNow = append(joinedNow, k)
		}
	}
	var left []string
	err := tx.EachJoined(func(addr string, _ schedule.Day) error {
		if !now[addr] {
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
