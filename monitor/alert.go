package monitor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cotd/health"
	"cotd/internal/text"
	"cotd/job"
	"cotd/mail"
	"cotd/store"
)

// alert mails the owner about new and resolved problems, and pushes a
// notification when mail itself is broken. It returns the bookkeeping to
// store: a channel that failed keeps its old state so the next run tries
// again.
func (m *Monitor) alert(ctx context.Context, sum job.Summary, problems []Problem, book store.AlertBook, now time.Time) store.AlertBook {
	loc := m.c.Schedule.Loc
	now = now.In(loc)
	var current []health.Problem
	for _, p := range problems {
		current = append(current, health.Problem{Key: string(p.Key), Summary: p.Summary, Detail: p.Detail,
			Advisory: p.Key.Advisory(), Cleared: p.Key.Cleared()})
	}

	var mailErr error
	var subject, body string
	if m.c.AlertTo != "" {
		prev := alertStates(book.Mail)
		alert, resolved, next := health.Reconcile(prev, current, now, loc)
		if len(alert)+len(resolved) > 0 {
			subject, body = health.AlertText(alert, resolved, next, m.host, now)
			subject, body = m.scrub(subject), m.scrub(body)
			id := mail.AlertID(m.c.From, subject, body, now)
			if mailDown(sum) {
				// The same server just failed; the push below says it instead.
				mailErr = fmt.Errorf("alert mail to %s not sent: %w", m.c.AlertTo, sum.ConnErr)
			} else {
				mailErr = m.sendAlert(ctx, subject, body, now, id, threads(alert, resolved, prev))
			}
			if mailErr == nil {
				// This mail starts the thread of each problem it is the
				// first to report.
				first := map[string]bool{}
				for _, p := range alert {
					first[p.Key] = true
				}
				for i := range next {
					if first[next[i].Key] && next[i].Thread == "" {
						next[i].Thread = id
					}
				}
			}
		}
		if mailErr == nil {
			book.Mail = storedAlerts(next)
			if subject != "" {
				m.log.Info("alert mail sent", "to", m.c.AlertTo, "subject", subject)
			}
		} else {
			m.log.Warn("alert mail failed", "to", m.c.AlertTo, "err", m.scrub(text.OneLine(mailErr.Error())))
		}
	}

	var broken []health.Problem
	// Nothing delivered is broken mail only when the alert mail did not
	// reach the owner either: a server refusing one address while the
	// alert goes through is that recipient's problem, said by mail.
	alerted := m.c.AlertTo != "" && mailErr == nil
	allFailed := sum.Pending > 0 && sum.Sent == 0 && len(sum.Failures) > 0 && !stopped(sum) && !alerted
	if mailDown(sum) || allFailed || mailErr != nil {
		var b strings.Builder
		switch {
		case mailDown(sum):
			fmt.Fprintf(&b, "%s\n", text.OneLine(sum.ConnErr.Error()))
		case allFailed:
			fmt.Fprintf(&b, "No message was delivered: %s\n", text.OneLine(fmt.Sprint(sum.Failures[0].Err)))
		default:
			fmt.Fprintf(&b, "The alert mail could not be sent: %s\n", text.OneLine(mailErr.Error()))
		}
		if len(problems) > 0 {
			b.WriteString("\nProblems:\n")
			for _, p := range problems {
				fmt.Fprintf(&b, "- %s\n", p.Summary)
			}
		}
		b.WriteString("\nRun `cotd check` on " + hostName(m.host) + " to test the mail server.")
		broken = append(broken, health.Problem{Key: string(MailBroken), Summary: "cotd cannot send mail", Detail: m.scrub(b.String())})
	}
	if m.c.NotifyURL == "" {
		return book
	}
	alert, resolved, next := health.Reconcile(alertStates(book.Push), broken, now, loc)
	var note *health.Notification
	switch {
	case len(alert) > 0:
		note = &health.Notification{Title: "cotd on " + hostName(m.host) + ": " + alert[0].Summary, Message: alert[0].Detail,
			Priority: 5, Tags: []string{"rotating_light", "cat"}}
	case len(resolved) > 0:
		note = &health.Notification{Title: "cotd on " + hostName(m.host) + ": mail works again",
			Message:  fmt.Sprintf("Mail goes out again; it had failed since %s.", resolved[0].Since.In(loc).Format(text.Stamp)),
			Priority: 3, Tags: []string{"white_check_mark", "cat"}}
	}
	if note != nil {
		if err := m.push.Notify(ctx, *note); err != nil {
			m.log.Warn("push notification failed", "err", m.scrub(err.Error()))
			return book
		}
		m.log.Info("push notification sent", "title", note.Title)
	}
	book.Push = storedAlerts(next)
	return book
}

// threads lists the Message-IDs an alert replies to: the first alert of
// each problem it reports or resolves, the subject's (most urgent) first,
// so its reminders and its resolved note sit in one conversation.
func threads(alert []health.Problem, resolved, prev []health.AlertState) []string {
	known := map[string]string{}
	for _, s := range prev {
		known[s.Key] = s.Thread
	}
	var out []string
	seen := map[string]bool{}
	addID := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, p := range alert {
		addID(known[p.Key])
	}
	for _, s := range resolved {
		addID(s.Thread)
	}
	return out
}

// sendAlert mails the owner through the run's SMTP server, or writes the
// mail into the outbox in outbox mode. refs are the Message-IDs it replies
// to (In-Reply-To the first, References all).
func (m *Monitor) sendAlert(ctx context.Context, subject, body string, now time.Time, id string, refs []string) error {
	msg, err := mail.ComposeAlert(mail.Alert{From: m.c.From, To: m.c.AlertTo, Subject: subject, Body: body, Date: now, ID: id, Refs: refs})
	if err != nil {
		return err
	}

	var cfg *mail.SMTPConfig
	if m.c.SMTP != nil {
		c := *m.c.SMTP
		c.Timeout = alertMailTimeout
		c.Budget = alertMailBudget
		cfg = &c
	}
	return mail.SendOne(ctx, mail.NewSender(cfg, m.c.Outbox, m.c.Now), msg)
}

// stopped reports a run stopped by a signal (systemctl stop, a shutdown,
// ^C) before its mail went: the server is not to blame.
func stopped(sum job.Summary) bool { return errors.Is(sum.ConnErr, context.Canceled) }

// mailDown reports that the SMTP server itself failed this run (it could
// not be reached, or refused the session): the alert mail cannot go that
// way, and the push is the channel for it.
func mailDown(sum job.Summary) bool { return sum.ConnErr != nil && !stopped(sum) }
