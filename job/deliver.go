package job

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/crash"
	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// outgoing is one composed message and what it covers.
type outgoing struct {
	to   *mail.Address
	days []schedule.Day // newest first
	id   string
	msg  *gomail.Msg
}

// owedWork is what one recipient is owed this run, oldest first.
type owedWork struct {
	to   *mail.Address
	days []store.Day
}

// deliver sends every recipient the open days they are owed (see owed.go)
// within the catch-up window, and records each delivery the moment it
// lands. Trouble with one recipient (a refusal, a message too large, a
// photo no longer kept) stays that recipient's: the others still get
// their morning.
func (j *Job) deliver(ctx context.Context, sum *Summary) error {
	now := sum.Now
	window := j.oldestWindow(now)
	var open []store.Day
	photos := map[schedule.Day][]byte{}
	pending := map[string][]store.Day{} // address -> days, oldest first
	deferred := map[string][]schedule.Day{}
	deferredErr := map[string]error{}
	split := map[string]bool{}
	var noPhoto []store.Day
	err := j.Store.Update(func(tx *store.Tx) error {
		_, err := recordMembership(tx, j.To, j.Morning, now)
		return err
	})
	if err != nil {
		return err
	}
	if err := j.resendInDoubt(ctx, window, sum); err != nil {
		return err
	}
	err = j.Store.View(func(tx *store.Tx) error {
		return tx.EachDay(window, func(d store.Day) error {
			if d.Status != store.StatusOpen {
				return nil
			}
			open = append(open, d)
			owed, err := j.OwedNow(tx, d, now)
			if err != nil || len(owed) == 0 {
				return err
			}
			if photos[d.Day] == nil {
				photos[d.Day] = j.dayPhoto(tx, d)
			}
			if photos[d.Day] == nil {
				noPhoto = append(noPhoto, d)
				return nil
			}
			for _, to := range owed {
				f, failed, err := tx.Failure(key(to))
				if err != nil {
					return err
				}
				if tx.Split(key(to)) {
					split[key(to)] = true
				}
				m := j.Morning(to)
				if failed && f.Permanent && schedule.DayOf(f.Last, m.Loc) == m.Today(now) {
					// A refused address is tried again tomorrow, not every hour.
					deferred[key(to)] = append(deferred[key(to)], d.Day)
					deferredErr[key(to)] = fmt.Errorf("refused at %s, next try tomorrow: %s", f.Last.In(m.Loc).Format("15:04"), f.Error)
					continue
				}
				pending[key(to)] = append(pending[key(to)], d)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, d := range noPhoto {
		if err := j.giveUpDay(d.Day, j.To, "its photo is no longer kept or in the folder", sum); err != nil {
			return err
		}
	}

	var work []owedWork
	for _, to := range j.To {
		if ds := deferred[key(to)]; len(ds) > 0 {
			sum.Failures = append(sum.Failures, Failure{To: to.String(), Days: ds, Err: deferredErr[key(to)]})
			sum.Pending++
		}
		if days := pending[key(to)]; len(days) > 0 {
			work = append(work, owedWork{to: to, days: days})
		}
	}
	sum.Tried = triedDays(work)
	if err := j.send(ctx, work, photos, split, sum); err != nil {
		return err
	}
	return j.tidy(now, open, sum)
}

// dayPhoto is the JPEG mailed for day d: the copy kept with the day, or,
// if that is gone, the photo's rendition when the photo is still indexed.
func (j *Job) dayPhoto(tx *store.Tx, d store.Day) []byte {
	if b := tx.DayPhoto(d.Day); b != nil {
		return b
	}
	p, ok, err := tx.Photo(d.Photo)
	if err != nil || !ok {
		return nil
	}
	b, err := j.loadRendition(p)
	if err != nil {
		return nil
	}
	return b
}

// giveUpDay settles day d for the recipients in to that are still owed it,
// without a delivery, and names them and why in the summary.
func (j *Job) giveUpDay(d schedule.Day, to []*mail.Address, why string, sum *Summary) error {
	now := j.now()
	var names []string
	err := j.Store.Update(func(tx *store.Tx) error {
		rec, ok, err := tx.Day(d)
		if err != nil || !ok {
			return err
		}
		owed, err := Owed(tx, to, rec)
		if err != nil {
			return err
		}
		for _, a := range owed {
			if err := tx.PutDelivery(d, key(a), store.Delivery{At: now, GaveUp: why}); err != nil {
				return err
			}
			names = append(names, a.Address)
		}
		return nil
	})
	if err == nil && len(names) > 0 {
		sum.Dropped = append(sum.Dropped, Undelivered{Day: d, To: names, Reason: why})
		j.log().Error(fmt.Sprintf("gave up: %s to %s: %s", d, strings.Join(names, ", "), why))
	}
	return err
}

// compose builds one message holding days (oldest first in g).
func (j *Job) compose(to *mail.Address, g []store.Day, photos map[schedule.Day][]byte, skipped []schedule.Day) (outgoing, error) {
	mo := j.Morning(to) // the recipient's own date, send time and zone
	loc := mo.Loc
	m := cmail.Message{From: j.From, To: to.String(), Owner: j.Owner}
	var days []schedule.Day
	for i := len(g) - 1; i >= 0; i-- { // newest first
		d := g[i]
		m.Days = append(m.Days, cmail.Day{
			Date: d.Day.Midnight(loc), Quote: d.Text, Author: d.Author,
			Photo: photos[d.Day], PhotoWidth: d.PhotoWidth, PhotoHeight: d.PhotoHeight,
			Caption: d.Caption,
		})
		days = append(days, d.Day)
	}
	m.SentAt = mo.Due(g[len(g)-1].Day)
	m.Date = j.now().In(loc) // composed just before sending: the time of submission
	if len(g) > 1 {
		for _, d := range skipped {
			m.Skipped = append(m.Skipped, d.Midnight(loc))
		}
	}
	msg, err := cmail.Compose(m)
	if err != nil {
		return outgoing{}, fmt.Errorf("compose mail to %s: %w", to, err)
	}
	o := outgoing{to: to, days: days, id: cmail.MessageID(m), msg: msg}
	if testHookComposed != nil {
		testHookComposed(o)
	}
	return o, nil
}

// testHookComposed lets the property test learn which days each message
// carries, as the server would see them.
var testHookComposed func(o outgoing)

// testHookPoint lets the property tests pull the plug in-process: it is
// called at each crash point, where a panic plays SIGKILL.
var testHookPoint func(name string)

// point is a place where a power cut is tested: crash.Point for the
// fault tests' binary, testHookPoint for the property tests.
func point(name string) {
	crash.Point(name)
	if testHookPoint != nil {
		testHookPoint(name)
	}
}

// record writes one message's outcome. One commit per message keeps the
// window for a duplicate after a power cut at a single message. retry
// marks a digest that will be sent again in pieces this run: it is not
// reported as a failure, but the recipient's mail goes in pieces from now
// until their backlog is through.
func (j *Job) record(o outgoing, r cmail.Result, retry bool, sum *Summary) error {
	now := j.now()
	addr := key(o.to)
	if r.Delivered {
		sum.Sent++
		sum.Messages = append(sum.Messages, o.id)
		return j.Store.Update(func(tx *store.Tx) error {
			for _, d := range o.days {
				if err := tx.PutDelivery(d, addr, store.Delivery{At: now, MessageID: o.id}); err != nil {
					return err
				}
			}
			if err := tx.DeleteSending(addr, o.id); err != nil {
				return err
			}
			return tx.DeleteFailure(addr)
		})
	}
	class := classOf(r)
	if !retry {
		sum.Failures = append(sum.Failures, Failure{To: o.to.String(), Days: o.days, Err: r.Err, Class: class})
	}
	return j.Store.Update(func(tx *store.Tx) error {
		if err := tx.DeleteSending(addr, o.id); err != nil {
			return err
		}
		f, ok, err := tx.Failure(addr)
		if err != nil {
			return err
		}
		if !ok {
			f.Since = now
		}
		f.Last = now
		f.Attempts++
		f.Error = fmt.Sprint(r.Err)
		// A refusal for good of this address or this message is tried again
		// tomorrow, not at every run (a 554 content refusal is not uploaded
		// 96 times a day).
		// A digest sent again in pieces is not refused for good.
		f.Permanent = class.Permanent() && !retry
		if retry {
			if err := tx.PutSplit(addr, true); err != nil {
				return err
			}
		}
		return tx.PutFailure(addr, f)
	})
}

// tidy drops the kept JPEG of days nobody is owed any more, and gives up on
// days that fell out of a recipient's window, naming who never got them. A day
// someone is still owed inside the window keeps its photo.
func (j *Job) tidy(now time.Time, open []store.Day, sum *Summary) error {
	return j.Store.Update(func(tx *store.Tx) error {
		var kept []schedule.Day
		if err := tx.EachDayPhoto(func(d schedule.Day) error { kept = append(kept, d); return nil }); err != nil {
			return err
		}
		stillOwed := map[string]bool{}
		for _, d := range kept {
			rec, ok, err := tx.Day(d)
			if err != nil {
				return err
			}
			var owed []*mail.Address
			if ok {
				if owed, err = Owed(tx, j.To, rec); err != nil {
					return err
				}
			}
			// Each recipient's window is their own: a day past it for one
			// may still be coming for another further west.
			var gone []string
			keep := false
			for _, a := range owed {
				if d.Before(j.Morning(a).Window(now, j.Schedule.MaxDays)) {
					gone = append(gone, a.Address)
					continue
				}
				keep = true
				stillOwed[key(a)] = true
			}
			if len(gone) > 0 {
				sum.GaveUp = append(sum.GaveUp, Undelivered{Day: d, To: gone})
			}
			if keep {
				// The photo stays for the others: settle it for those past
				// their window, so they are named once.
				for _, a := range owed {
					if slices.Contains(gone, a.Address) {
						if err := tx.PutDelivery(d, key(a), store.Delivery{At: now, GaveUp: "older than --catch-up-max-days"}); err != nil {
							return err
						}
					}
				}
				continue
			}
			if err := tx.DeleteDayPhoto(d); err != nil {
				return err
			}
		}
		for _, a := range j.To {
			if tx.Split(key(a)) && !stillOwed[key(a)] {
				if err := tx.PutSplit(key(a), false); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// triedDays lists what a run set out to deliver, by day, oldest first,
// with the recipients each day went to: a retry later the same day logs
// which day and recipients it retried (issue 21 §3).
func triedDays(work []owedWork) []Undelivered {
	byDay := map[schedule.Day][]string{}
	var days []schedule.Day
	for _, w := range work {
		for _, d := range w.days {
			if byDay[d.Day] == nil {
				days = append(days, d.Day)
			}
			byDay[d.Day] = append(byDay[d.Day], w.to.Address)
		}
	}
	sort.Slice(days, func(a, b int) bool { return days[a].Before(days[b]) })
	out := make([]Undelivered, len(days))
	for i, d := range days {
		out[i] = Undelivered{Day: d, To: byDay[d]}
	}
	return out
}
