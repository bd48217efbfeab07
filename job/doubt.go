package job

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"cotd/internal/text"
	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// classOf is what a failed result means for the next try (mail.Classify);
// a sender that did not say is classified from its error.
func classOf(r cmail.Result) cmail.Class {
	if r.Delivered {
		return 0
	}
	if r.Class != 0 {
		return r.Class
	}
	return cmail.ClassOf(r.Err)
}

// writeAhead records o as on its way, with its bytes, just before it is
// attempted; recording its outcome removes the record in the same
// transaction. A run killed in between (a SIGKILL during the wait for the
// final dot's answer, a power cut) leaves it for the next run, which sends
// it once more byte for byte (TakeSending, resendInDoubt) instead of
// composing its days anew, perhaps into a digest with a new day and a new
// Message-ID. A record that cannot be written stops o from going out: a
// message the database cannot account for is not sent.
func (j *Job) writeAhead(o outgoing) error {
	raw, err := cmail.RawOf(o.msg)
	if err != nil {
		return err
	}
	return j.Store.Update(func(tx *store.Tx) error {
		return tx.PutSending(store.InDoubt{To: key(o.to), MessageID: o.id, Days: o.days, At: j.now(),
			Raw: raw.Data, From: raw.From, Rcpt: raw.To})
	})
}

// recordInDoubt keeps a message whose final dot went out without an
// answer: its days count as delivered for who is owed what (so no digest
// folds them in), and the next run sends it once more, byte for byte.
func (j *Job) recordInDoubt(o outgoing, r cmail.Result, sum *Summary) error {
	raw, err := cmail.RawOf(o.msg)
	if err != nil {
		// Without its bytes it cannot be sent again unchanged: a failure,
		// retried as usual.
		return j.record(o, r, false, sum)
	}
	sum.InDoubt = append(sum.InDoubt, Failure{To: o.to.String(), Days: o.days, Err: r.Err, Class: cmail.Temporary})
	j.log().Warn(fmt.Sprintf("in doubt: %s to %s: %v", schedule.List(o.days), o.to, r.Err))
	return j.Store.Update(func(tx *store.Tx) error {
		if err := tx.PutInDoubt(store.InDoubt{To: key(o.to), MessageID: o.id, Days: o.days, At: j.now(),
			Raw: raw.Data, From: raw.From, Rcpt: raw.To}); err != nil {
			return err
		}
		return tx.DeleteSending(key(o.to), o.id)
	})
}

// errFound stops a walk at its first record.
var errFound = errors.New("found")

// resendInDoubt sends each message in doubt once more, exactly as it was.
// Taken, its final dot unanswered again, or refused for good (a 5xx), it
// counts as delivered: the server had it once already, most likely. One
// the last run was cut off on may never have reached its final dot: if
// refused for good, its days are given up for that recipient, with a
// word to the owner. Not
// sent again (no connection,
// no time, a temporary answer, a line dropped before the dot), it stays
// in doubt for the next run, until its days leave the catch-up window;
// one for a recipient no longer listed is settled. A message in doubt is
// settled before it is sent, so a power cut during the resend never makes
// it go out twice more; one the last run was cut off on (Unanswered) may
// never have gone out, so it is settled only by its answer.
func (j *Job) resendInDoubt(ctx context.Context, window schedule.Day, sum *Summary) error {
	var todo []store.InDoubt
	cutOff := false
	collect := func(tx *store.Tx) error {
		todo = todo[:0]
		cutOff = tx.EachSending(func(store.InDoubt) error { return errFound }) == errFound
		return tx.EachInDoubt(func(m store.InDoubt) error { todo = append(todo, m); return nil })
	}
	if err := j.Store.View(collect); err != nil {
		return err
	}
	if cutOff { // a write only then: most runs find nothing to take
		if err := j.Store.Update(func(tx *store.Tx) error {
			n, err := tx.TakeSending()
			if err != nil {
				return err
			}
			j.log().Warn(fmt.Sprintf("the last run was cut off with %s on its way, its answer unrecorded: sending it again as it was", text.Plural(n, "message", "messages")))
			return collect(tx)
		}); err != nil {
			return err
		}
	}
	for _, m := range todo {
		listed := slices.ContainsFunc(j.To, func(a *mail.Address) bool { return key(a) == m.To })
		newest := slices.MaxFunc(m.Days, func(a, b schedule.Day) int { return strings.Compare(a.String(), b.String()) })
		send := listed && !newest.Before(window) && j.loginHeld() == nil && ctx.Err() == nil
		if !send && listed && !newest.Before(window) {
			continue // not now; still in doubt
		}
		// Settled first, then sent: a power cut during the resend leaves it
		// settled, so it goes out at most once more. An unanswered one may
		// never have gone out: it stays in doubt until its resend is
		// answered (a power cut meanwhile costs one more copy, no loss).
		if !m.Unanswered || !send {
			if err := j.Store.Update(func(tx *store.Tx) error { return tx.SettleInDoubt(m, j.now()) }); err != nil {
				return err
			}
		}
		if !send {
			continue // a recipient no longer listed, or days out of the window
		}
		r := j.Sender.Resend(ctx, cmail.Raw{From: m.From, To: m.Rcpt, Data: m.Raw})
		point("resent") // sent again and settled
		if r.Chain != nil {
			sum.ServerChain = r.Chain
		}
		refused := cmail.Attempted(r.Err) && classOf(r).Permanent()
		switch {
		case r.Delivered || r.InDoubt || refused && !m.Unanswered:
			// Taken, or its final dot unanswered once more, or refused for
			// good when its first final dot went out: delivered (the server
			// most likely has the first copy; composing it anew would send
			// the day twice).
			sum.Resent = append(sum.Resent, m.MessageID)
			if !r.Delivered {
				j.log().Warn(fmt.Sprintf("in doubt, sent again and now counted as delivered: %s to %s: %v", schedule.List(m.Days), m.Rcpt, r.Err))
			}
			if m.Unanswered {
				if err := j.Store.Update(func(tx *store.Tx) error { return tx.SettleInDoubt(m, j.now()) }); err != nil {
					return err
				}
			}
		case refused:
			// Cut off before its answer, and now refused for good: it may
			// have arrived the first time or not. Sent anew it might come
			// twice; counted delivered it might be lost unseen. Its days are
			// given up for this recipient and the owner is told.
			why := fmt.Sprintf("the run before was cut off while sending it, and sending it again was refused (%v): it may or may not have arrived", r.Err)
			if err := j.Store.Update(func(tx *store.Tx) error { return tx.GiveUpInDoubt(m, j.now(), why) }); err != nil {
				return err
			}
			for _, d := range m.Days {
				sum.Dropped = append(sum.Dropped, Undelivered{Day: d, To: []string{m.Rcpt}, Reason: why})
			}
			j.log().Error(fmt.Sprintf("gave up: %s to %s: %s", schedule.List(m.Days), m.Rcpt, why))
		default:
			// Not sent again: no connection, no time, or a temporary
			// answer (a 4xx, a 421, a line dropped before the final dot).
			// Still in doubt, for the next run, until its days leave the
			// window.
			j.log().Warn(fmt.Sprintf("in doubt, not sent again yet: %s to %s: %v", schedule.List(m.Days), m.Rcpt, r.Err))
			if !m.Unanswered {
				if err := j.Store.Update(func(tx *store.Tx) error { return tx.PutInDoubt(m) }); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// loginBackoff is how long runs wait before trying a login the server
// refused again: 30 minutes after the first refusal, doubling up to 8
// hours, so a wrong password costs a handful of logins a day instead of
// 96 (and no lockout at the provider). A changed password or user is
// tried at once.
func loginBackoff(attempts int) time.Duration {
	d := 30 * time.Minute
	for i := 1; i < attempts && d < 8*time.Hour; i++ {
		d *= 2
	}
	return min(d, 8*time.Hour)
}

// loginHeld is the reason this run does not try the SMTP login, or nil.
func (j *Job) loginHeld() error {
	if j.Login == "" {
		return nil
	}
	var r store.LoginRefusal
	var ok bool
	if err := j.Store.View(func(tx *store.Tx) (err error) { r, ok, err = tx.LoginRefusal(); return }); err != nil || !ok || r.Login != j.Login {
		return nil
	}
	next := r.Last.Add(loginBackoff(r.Attempts))
	if !j.now().Before(next) {
		return nil
	}
	loc := j.Schedule.Loc
	return fmt.Errorf("%w: the server refused the login %d times since %s (last: %s); not tried again before %s, or at once when --smtp-user or the password file changes",
		cmail.ErrLoginRefused, r.Attempts, r.Since.In(loc).Format("2006-01-02 15:04"), r.Error, next.In(loc).Format("2006-01-02 15:04"))
}

// noteLogin records what this run learnt about the login: refused (the
// back-off grows) or working (it is forgotten).
func (j *Job) noteLogin(sum *Summary) error {
	if j.Login == "" {
		return nil
	}
	refused := sum.ConnErr != nil && cmail.LoginRefused(sum.ConnErr)
	worked := sum.ConnErr == nil && (sum.Sent > 0 || len(sum.Resent) > 0)
	if !refused && !worked {
		return nil
	}
	now := j.now()
	return j.Store.Update(func(tx *store.Tx) error {
		if worked {
			return tx.DeleteLoginRefusal()
		}
		r, ok, err := tx.LoginRefusal()
		if err != nil {
			return err
		}
		if !ok || r.Login != j.Login {
			r = store.LoginRefusal{Login: j.Login, Since: now}
		}
		r.Last, r.Attempts, r.Error = now, r.Attempts+1, sum.ConnErr.Error()
		return tx.PutLoginRefusal(r)
	})
}
