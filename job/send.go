package job

import (
	"context"
	"fmt"
	"net/mail"
	"slices"

	gomail "github.com/wneessen/go-mail"

	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// send delivers what work says is owed. A digest the server refuses as too
// large, or that cannot be sent in time, is not allowed to hold today's
// cat hostage: that recipient gets today's cat on its own at once, then the
// backlog in pieces that fit the server's SIZE (one day each when the limit
// is unknown), and a day too large even alone is given up with a note.
func (j *Job) send(ctx context.Context, work []owedWork, photos map[schedule.Day][]byte, split map[string]bool, sum *Summary) error {
	var out []outgoing
	for _, w := range work {
		out = append(out, j.pieces(w, photos, split[key(w.to)], 0, sum)...)
	}
	// Single days first: a slow digest must not eat the time of someone
	// else's morning.
	slices.SortStableFunc(out, func(a, b outgoing) int { return len(a.days) - len(b.days) })
	sum.Pending += len(out)
	if held := j.loginHeld(); held != nil && len(out) > 0 {
		// The server refused this login lately: not tried again yet.
		sum.ConnErr = held
		for _, o := range out {
			if err := j.record(o, cmail.Result{Err: held, Class: cmail.SessionWide}, false, sum); err != nil {
				return err
			}
		}
		return nil
	}
	again, err := j.sendBatch(ctx, out, sum)
	if err == nil && len(out) > 0 {
		err = j.noteLogin(sum)
	}
	if err != nil || len(again) == 0 {
		return err
	}
	if sum.ConnErr != nil || ctx.Err() != nil {
		// No second pass this run (stopped, or the server is gone): the
		// refused digests are failures after all; the next run sends them
		// in pieces.
		for _, a := range again {
			sum.Failures = append(sum.Failures, Failure{To: a.o.to.String(), Days: a.o.days, Err: a.err, Class: cmail.Temporary})
		}
		return nil
	}
	var second []outgoing
	for _, a := range again {
		for _, w := range work {
			if key(w.to) != key(a.o.to) {
				continue
			}
			// Only the days of the refused message: whatever else went
			// out in the first pass is not sent again.
			var days []store.Day
			for _, d := range w.days {
				if slices.Contains(a.o.days, d.Day) {
					days = append(days, d)
				}
			}
			second = append(second, j.pieces(owedWork{to: w.to, days: days}, photos, true, a.limit, sum)...)
		}
	}
	slices.SortStableFunc(second, func(a, b outgoing) int { return len(a.days) - len(b.days) })
	sum.Pending += len(second) - len(again)
	_, err = j.sendBatch(ctx, second, sum)
	return err
}

// resend is a multi-day message to send again in pieces.
type resend struct {
	o     outgoing
	limit int64 // the server's SIZE, 0 if unknown
	err   error // why it was refused
}

// sendBatch sends out and records each outcome as it lands. It returns the
// multi-day messages that failed for their size or their slowness: those
// are not failures yet, but a reason to send in pieces.
func (j *Job) sendBatch(ctx context.Context, out []outgoing, sum *Summary) ([]resend, error) {
	if len(out) == 0 {
		return nil, nil
	}
	msgs := make([]*gomail.Msg, len(out))
	for i, o := range out {
		msgs[i] = o.msg
	}
	var again []resend
	var recordErr error
	sendErr := j.Sender.SendEach(ctx, msgs, func(i int) error { return j.writeAhead(out[i]) }, func(i int, r cmail.Result) {
		point("delivered") // accepted by the server, not yet recorded
		if r.Chain != nil {
			sum.ServerChain = r.Chain
		}
		o := out[i]
		limit, tooLarge := cmail.TooLarge(r.Err)
		piece := !r.Delivered && !r.InDoubt && len(o.days) > 1 && (tooLarge || cmail.TimedOut(r.Err))
		var err error
		switch {
		case r.InDoubt:
			err = j.recordInDoubt(o, r, sum)
		case !r.Delivered && len(o.days) == 1 && tooLarge && classOf(r) == cmail.PermanentMessage:
			why := fmt.Sprintf("its message is too large for the server even on its own (%s)", r.Err)
			// Refused before anything of it went out: no longer on its way.
			if err = j.Store.Update(func(tx *store.Tx) error { return tx.DeleteSending(key(o.to), o.id) }); err == nil {
				err = j.giveUpDay(o.days[0], []*mail.Address{o.to}, why, sum)
			}
		default:
			err = j.record(o, r, piece, sum)
		}
		if piece {
			again = append(again, resend{o: o, limit: limit, err: r.Err})
		}
		if err != nil && recordErr == nil {
			recordErr = err
		}
		point("recorded")
	})
	if recordErr != nil {
		return nil, recordErr
	}
	sum.ConnErr = sendErr
	return again, nil
}

// pieces composes what w owes: one digest (or one message per day with
// --catch-up each); split sends today's (the newest) day alone and the
// older days in messages that fit limit, one day each without a limit.
// A message that cannot be composed is that recipient's failure only.
func (j *Job) pieces(w owedWork, photos map[schedule.Day][]byte, split bool, limit int64, sum *Summary) []outgoing {
	var groups [][]store.Day
	switch {
	case j.Schedule.CatchUp == schedule.Each || (split && limit <= 0):
		for i := len(w.days) - 1; i >= 0; i-- {
			groups = append(groups, []store.Day{w.days[i]})
		}
	case split:
		newest := len(w.days) - 1
		groups = append(groups, []store.Day{w.days[newest]})
		var cur []store.Day // oldest first, as compose wants
		for i := newest - 1; i >= 0; i-- {
			try := append([]store.Day{w.days[i]}, cur...)
			if len(cur) > 0 {
				if o, err := j.compose(w.to, try, photos, sum.Plan.Skipped); err == nil && cmail.Size(o.msg) > limit {
					groups = append(groups, cur)
					try = []store.Day{w.days[i]}
				}
			}
			cur = try
		}
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
	default:
		groups = [][]store.Day{w.days}
	}
	var out []outgoing
	for _, g := range groups {
		o, err := j.compose(w.to, g, photos, sum.Plan.Skipped)
		if err != nil {
			var days []schedule.Day
			for _, d := range g {
				days = append(days, d.Day)
			}
			sum.Failures = append(sum.Failures, Failure{To: w.to.String(), Days: days, Err: err})
			sum.Pending++
			continue
		}
		out = append(out, o)
	}
	return out
}
