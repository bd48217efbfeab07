package job

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/crash"
	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// outgoing is one composed message and what it covers.
type outgoing struct {
	to   *mail.Address
	days []schedule.Day
	id   string
	msg  *gomail.Msg
}

// deliver sends every recipient the open days they have not had, within
// the catch-up window, and records each delivery the moment it lands.
func (j *Job) deliver(ctx context.Context, today schedule.Day, sum *Summary) error {
	window := schedule.Window(today, j.Schedule.MaxDays)
	var open []store.Day
	photos := map[schedule.Day][]byte{}
	pending := map[string][]store.Day{} // address -> days, oldest first
	deferred := map[string][]schedule.Day{}
	deferredErr := map[string]error{}
	joined, err := j.recipientsJoined(today)
	if err != nil {
		return err
	}
	err = j.Store.View(func(tx *store.Tx) error {
		err := tx.EachDay(window, func(d store.Day) error {
			if d.Status != store.StatusOpen {
				return nil
			}
			open = append(open, d)
			for _, to := range j.To {
				if d.Day.Before(joined[key(to)]) {
					continue // days from before this recipient was added
				}
				_, done, err := tx.Delivery(d.Day, key(to))
				if err != nil {
					return err
				}
				if done {
					continue
				}
				f, failed, err := tx.Failure(key(to))
				if err != nil {
					return err
				}
				if failed && f.Permanent && schedule.DayOf(f.Last, j.Schedule.Loc) == today {
					// A refused address is tried again tomorrow, not every hour.
					deferred[key(to)] = append(deferred[key(to)], d.Day)
					deferredErr[key(to)] = fmt.Errorf("refused at %s, next try tomorrow: %s", f.Last.In(j.Schedule.Loc).Format("15:04"), f.Error)
					continue
				}
				pending[key(to)] = append(pending[key(to)], d)
				if photos[d.Day] == nil {
					photos[d.Day] = tx.DayPhoto(d.Day)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}

	var out []outgoing
	for _, to := range j.To {
		if ds := deferred[key(to)]; len(ds) > 0 {
			sum.Failures = append(sum.Failures, Failure{To: to.String(), Days: ds, Err: deferredErr[key(to)]})
			sum.Pending++
		}
		days := pending[key(to)]
		if len(days) == 0 {
			continue
		}
		groups := [][]store.Day{days}
		if j.Schedule.CatchUp == schedule.Each {
			groups = nil
			for _, d := range days {
				groups = append(groups, []store.Day{d})
			}
		}
		for _, g := range groups {
			o, err := j.compose(to, g, photos, sum.Plan.Skipped)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
	}
	sum.Pending += len(out)
	if len(out) > 0 {
		msgs := make([]*gomail.Msg, len(out))
		for i, o := range out {
			msgs[i] = o.msg
		}
		var recordErr error
		sendErr := j.Sender.SendEach(ctx, msgs, func(i int, r cmail.Result) {
			crash.Point("delivered") // accepted by the server, not yet recorded
			if err := j.record(out[i], r, sum); err != nil && recordErr == nil {
				recordErr = err
			}
			crash.Point("recorded")
		})
		if recordErr != nil {
			return recordErr
		}
		sum.ConnErr = sendErr
	}
	return j.tidy(window, open, sum)
}

func key(a *mail.Address) string { return strings.ToLower(a.Address) }

// recipientsJoined returns the day each recipient was first configured,
// recording today for new ones: someone added to --to starts with today's
// cat, not with a digest of the days before they joined.
func (j *Job) recipientsJoined(today schedule.Day) (map[string]schedule.Day, error) {
	joined := map[string]schedule.Day{}
	err := j.Store.Update(func(tx *store.Tx) error {
		for _, to := range j.To {
			k := "joined:" + key(to)
			if raw := tx.Meta(k); raw != nil {
				d, err := schedule.ParseDay(string(raw))
				if err != nil {
					return err
				}
				joined[key(to)] = d
				continue
			}
			joined[key(to)] = today
			if err := tx.PutMeta(k, []byte(today.String())); err != nil {
				return err
			}
		}
		return nil
	})
	return joined, err
}

// compose builds one message holding days (oldest first in g).
func (j *Job) compose(to *mail.Address, g []store.Day, photos map[schedule.Day][]byte, skipped []schedule.Day) (outgoing, error) {
	loc := j.Schedule.Loc
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
	m.SentAt = g[len(g)-1].Day.At(j.Schedule.At, loc)
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
	return outgoing{to: to, days: days, id: cmail.MessageID(m), msg: msg}, nil
}

// record writes one message's outcome. One commit per message keeps the
// window for a duplicate after a power cut at a single message.
func (j *Job) record(o outgoing, r cmail.Result, sum *Summary) error {
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
			return tx.DeleteFailure(addr)
		})
	}
	sum.Failures = append(sum.Failures, Failure{To: o.to.String(), Days: o.days, Err: r.Err, Temporary: r.Temporary})
	return j.Store.Update(func(tx *store.Tx) error {
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
		f.Permanent = cmail.RecipientRefused(r.Err)
		return tx.PutFailure(addr, f)
	})
}

// tidy drops the kept JPEG of days every recipient has, and gives up on
// days that fell out of the window, naming who never got them.
func (j *Job) tidy(window schedule.Day, open []store.Day, sum *Summary) error {
	return j.Store.Update(func(tx *store.Tx) error {
		var kept []schedule.Day
		if err := tx.EachDayPhoto(func(d schedule.Day) error { kept = append(kept, d); return nil }); err != nil {
			return err
		}
		for _, d := range kept {
			var missing []string
			for _, to := range j.To {
				if _, ok, err := tx.Delivery(d, key(to)); err != nil {
					return err
				} else if !ok {
					missing = append(missing, to.Address)
				}
			}
			switch {
			case len(missing) == 0:
			case d.Before(window):
				sum.GaveUp = append(sum.GaveUp, fmt.Sprintf("%s to %s", d, strings.Join(missing, ", ")))
			default:
				continue
			}
			if err := tx.DeleteDayPhoto(d); err != nil {
				return err
			}
		}
		return nil
	})
}
