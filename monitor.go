package main

// The run monitor (issue 5): after the cat mail has gone out (or not), it
// tells the owner and the machines watching for the owner how the run went:
// a dead man's switch ping, an alert mail for each problem once a day, a
// push notification when mail itself is broken, a Prometheus textfile, and
// a record in the database for `cotd status`.
//
// Nothing here changes the run's outcome: every channel has a short
// timeout, a failing channel is logged and the run's exit code stays.

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/certs"
	"cotd/health"
	"cotd/job"
	"cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// monitorTimeout bounds each ping, notification and watched TLS endpoint.
const monitorTimeout = 10 * time.Second

// alertMailTimeout bounds each step of sending the alert mail; the cat
// mail has already gone out, so this only delays the end of the run.
const alertMailTimeout = 20 * time.Second

// catsLowDays: fewer unsent cats than this and the owner is told to add
// photos, a week ahead of the first repeat.
const catsLowDays = 7

// maxListed bounds the files an alert lists, so a folder of HEIC photos
// makes a readable mail and a small database record.
const maxListed = 30

// metaRecord is the store's meta key of the last run's record.
const metaRecord = "monitor"

// monitorConfig holds the monitoring settings (issue 5).
type monitorConfig struct {
	alertTo     string // the owner's address; empty: no alert mail
	notifyURL   string
	pingURL     string
	metricsFile string
	warnDays    int
	watch       string
	timeout     time.Duration
}

// The monitor's records are typed in the store, under its schema version.
type (
	runRecord  = store.Run
	certRecord = store.Cert
)

func expiryOf(c certRecord) certs.Expiry {
	return certs.Expiry{Source: c.Source, Subject: c.Subject, NotBefore: c.NotBefore, NotAfter: c.NotAfter}
}

// Severities: an error makes `cotd status` unhealthy; a warning is told to
// the owner but the probe stays green.
const (
	sevError   = "error"
	sevWarning = "warning"
)

type problemEntry = store.Problem

// monitor tells the owner how runs go: pings, alerts, metrics.
type monitor struct {
	c    *config
	st   *store.Store
	log  *slog.Logger
	ping health.Pinger
	push health.Notifier
	host string
}

func newMonitor(c *config, st *store.Store, log *slog.Logger) *monitor {
	host, _ := os.Hostname()
	return &monitor{
		c: c, st: st, log: log, host: host,
		ping: health.Pinger{URL: c.mon.pingURL, Timeout: c.mon.timeout},
		push: health.Notifier{URL: c.mon.notifyURL, Timeout: c.mon.timeout},
	}
}

// start runs before the job (the /start ping).
func (m *monitor) start(ctx context.Context) {
	if err := m.ping.Start(ctx); err != nil {
		m.log.Warn("start ping failed; the run goes on", "err", m.scrub(err.Error()))
	}
}

// finish runs after the job: alerts, pings, metrics. It never changes the
// run's outcome and never blocks it for long.
func (m *monitor) finish(ctx context.Context, j *job.Job, sum job.Summary, runErr error) {
	// A run stopped by systemd still reports how it ended; each call below
	// has its own timeout.
	ctx = context.WithoutCancel(ctx)
	now := m.c.now()
	prev, book := m.load()

	rec := runRecord{At: now, OK: runErr == nil, Summary: m.scrub(summaryLine(m.c, sum, runErr)),
		Sent: sum.Sent, Pending: sum.Pending, Failed: len(sum.Failures), LastSuccess: prev.LastSuccess}
	if runErr != nil {
		rec.ExitCode, _ = classify(runErr)
		rec.Error = m.scrub(oneLine(runErr.Error()))
	} else {
		rec.LastSuccess = now
	}
	rec.PhotosTotal, rec.PhotosLeft = sum.PhotosTotal, sum.PhotosLeft
	rec.QuotesTotal, rec.QuotesLeft = sum.QuotesTotal, sum.QuotesLeft
	if sum.PhotosTotal == 0 && sum.QuotesTotal == 0 {
		// The run stopped before counting: keep the last known counts.
		rec.PhotosTotal, rec.PhotosLeft = prev.PhotosTotal, prev.PhotosLeft
		rec.QuotesTotal, rec.QuotesLeft = prev.QuotesTotal, prev.QuotesLeft
	}
	rec.Certs, rec.WatchErrors = m.certificates(ctx, j, runErr, now, prev)
	var unusable []string
	if sum.Index.Unusable > 0 {
		_ = m.st.View(func(tx *store.Tx) (err error) { unusable, err = job.UnusableFiles(tx, m.c.job.photos); return })
	}
	rec.Problems = m.problems(sum, runErr, rec, unusable, now)

	// A clock that went backwards changes nothing in the database and mails
	// nobody (its alert bookkeeping would be dated in the past); the /fail
	// ping and the metrics file still say why the run was refused.
	refused := errors.Is(runErr, schedule.ErrClockBackwards)
	if !refused {
		book = m.alert(ctx, sum, rec, book, now)
	}
	m.writeMetrics(rec, sum)
	if !refused {
		m.save(rec, book)
	}

	body := m.scrub(reportText(m.host, rec))
	var err error
	if runErr == nil {
		err = m.ping.Success(ctx, body)
	} else {
		err = m.ping.Fail(ctx, rec.ExitCode, body)
	}
	if err != nil {
		m.log.Warn("ping failed", "err", m.scrub(err.Error()))
	}
}

// load reads the last run's record and the alert bookkeeping. A damaged
// record is ignored: monitoring starts afresh rather than stopping runs.
func (m *monitor) load() (runRecord, store.AlertBook) {
	var rec runRecord
	var book store.AlertBook
	_ = m.st.View(func(tx *store.Tx) error {
		var err error
		if rec, _, err = tx.LastRun(); err != nil {
			m.log.Warn("ignoring the damaged monitor record", "err", err)
			rec = runRecord{}
		}
		if book, _, err = tx.AlertBook(); err != nil {
			m.log.Warn("ignoring the damaged alert bookkeeping", "err", err)
			book = store.AlertBook{}
		}
		return nil
	})
	return rec, book
}

func (m *monitor) save(rec runRecord, book store.AlertBook) {
	err := m.st.Update(func(tx *store.Tx) error {
		if err := tx.PutLastRun(rec); err != nil {
			return err
		}
		return tx.PutAlertBook(book)
	})
	if err != nil {
		m.log.Warn("cannot store the monitor record; `cotd status` shows the run before", "err", err)
	}
}

// readRecord returns the last run's record, if any.
func readRecord(tx *store.Tx) (runRecord, bool) {
	rec, ok, err := tx.LastRun()
	if err != nil {
		return runRecord{}, false
	}
	return rec, ok
}

// smtpSource names the SMTP server's certificate in alerts and metrics.
func smtpSource(c *config) string {
	return "smtp " + net.JoinHostPort(c.smtp.Host, strconv.Itoa(c.smtp.Port))
}

// certificates gathers the SMTP server's certificate from this run's
// connection (or from the error that refused it, or from an earlier run
// when nothing was sent) and the --watch-certs list.
func (m *monitor) certificates(ctx context.Context, j *job.Job, runErr error, now time.Time, prev runRecord) ([]certRecord, []string) {
	var out []certRecord
	if m.c.smtp != nil {
		src := smtpSource(m.c)
		got := false
		if s, ok := j.Sender.(*mail.SMTP); ok {
			if _, chain, ok := s.Cert(); ok {
				out = append(out, fromExpiry(certs.Earliest(src, chain), now))
				got = true
			}
		}
		var invalid x509.CertificateInvalidError
		if !got && errors.As(runErr, &invalid) && invalid.Cert != nil {
			out = append(out, fromExpiry(certs.Earliest(src, []*x509.Certificate{invalid.Cert}), now))
			got = true
		}
		if !got {
			for _, c := range prev.Certs {
				if c.Source == src {
					out = append(out, c) // no connection this run
				}
			}
		}
	}
	var watchErrs []string
	if m.c.mon.watch != "" {
		var roots *x509.CertPool
		if m.c.smtp != nil {
			roots = m.c.smtp.RootCAs
		}
		es, errs := certs.Watch(ctx, m.c.mon.watch, roots, m.c.mon.timeout, now)
		for _, e := range es {
			out = append(out, fromExpiry(e, now))
		}
		for _, err := range errs {
			watchErrs = append(watchErrs, oneLine(err.Error()))
		}
	}
	return out, watchErrs
}

func fromExpiry(e certs.Expiry, now time.Time) certRecord {
	return certRecord{Source: e.Source, Subject: e.Subject, NotBefore: e.NotBefore, NotAfter: e.NotAfter, Seen: now}
}

// problems lists what the owner should hear about after this run.
func (m *monitor) problems(sum job.Summary, runErr error, rec runRecord, unusable []string, now time.Time) []problemEntry {
	var out []problemEntry
	add := func(key, sev, summary, detail string) {
		out = append(out, problemEntry{Key: key, Severity: sev, Summary: summary, Detail: m.scrub(detail)})
	}
	retry := "The next run retries it (the timer runs every 15 minutes); to retry now: sudo systemctl start cotd.service"
	switch {
	case sum.ConnErr != nil:
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n\n", oneLine(sum.ConnErr.Error()))
		b.WriteString("Nothing was delivered and nothing was recorded as delivered.\n")
		if len(sum.Plan.Open) > 0 {
			fmt.Fprintf(&b, "Due: %s to %d recipients.\n", daysString(sum.Plan.Open), len(m.c.job.to))
		}
		b.WriteString(retry + "; `cotd check` tests the connection without sending.")
		add("undelivered", sevError, "the cat mail could not be sent: the SMTP server refused or could not be reached", b.String())
	case len(sum.Failures) > 0:
		var b strings.Builder
		for _, f := range sum.Failures {
			fmt.Fprintf(&b, "- %s, %s: %s\n", f.To, daysString(f.Days), oneLine(fmt.Sprint(f.Err)))
		}
		b.WriteString("\n" + retry + "; a refused address is tried again the next day.")
		add("undelivered", sevError, plural(len(sum.Failures), "recipient did", "recipients did")+" not get the cat mail", b.String())
	case runErr != nil:
		code, hint := classify(runErr)
		detail := oneLine(runErr.Error())
		if hint != "" {
			detail += "\n\nWhat to do: " + hint
		}
		add("run-failed", sevError, fmt.Sprintf("the run failed (exit %d)", code), detail)
	}
	if len(sum.GaveUp) > 0 {
		add("gave-up", sevError, "gave up on mail older than --catch-up-max-days",
			"Never delivered:\n- "+strings.Join(sum.GaveUp, "\n- ")+"\n\nThese days are older than --catch-up-max-days and will not be sent.")
	}
	if len(sum.Dropped) > 0 {
		add("dropped", sevError, "gave up on mail the server will not take",
			"Never delivered:\n- "+strings.Join(sum.Dropped, "\n- ")+"\n\nThe other days and recipients were not held up by these.")
	}
	if sum.ClockJump != "" {
		add("clock", sevError, "the clock jumped far ahead: a clock problem?", sum.ClockJump)
	}
	if sum.Index.Unusable > 0 {
		list := unusable
		if len(list) == 0 {
			list = sum.Index.Reports
		}
		if len(list) > maxListed {
			list = append(list[:maxListed:maxListed], fmt.Sprintf("… and %d more ('cotd check' counts them)", len(list)-maxListed))
		}
		detail := "Convert them to JPEG or PNG, or move them out of the photo folder:\n- " + strings.Join(list, "\n- ")
		add("photos-skipped", sevWarning, plural(sum.Index.Unusable, "photo file", "photo files")+" cannot be used", detail)
	}
	if len(sum.Problems) > 0 {
		add("quotes", sevWarning, plural(len(sum.Problems), "problem", "problems")+" with the quotes",
			strings.Join(sum.Problems, "\n")+"\n\nThese lines are skipped; fix them in the quotes file.")
	}
	if m.c.job.photos != "" && rec.PhotosTotal > 0 && rec.PhotosLeft < catsLowDays {
		summary := fmt.Sprintf("only %s left before cats repeat", plural(rec.PhotosLeft, "unsent cat", "unsent cats"))
		switch {
		case rec.PhotosTotal == 1:
			summary = "only 1 photo: the same cat every day"
		case rec.PhotosTotal < catsLowDays:
			summary = fmt.Sprintf("only %d photos: the same cats come back every %d days", rec.PhotosTotal, rec.PhotosTotal)
		}
		add("cats-low", sevWarning, summary, fmt.Sprintf(
			"%d of %d photos have not been sent in this round. Add new photos to %s; new photos go out first.",
			rec.PhotosLeft, rec.PhotosTotal, m.c.job.photos))
	}
	for _, c := range rec.Certs {
		st := certs.Classify(expiryOf(c), now.In(m.c.job.sched.Loc), m.c.mon.warnDays)
		if st.Level == certs.OK {
			continue
		}
		sev, summary := sevError, ""
		switch st.Level {
		case certs.Warn:
			summary = fmt.Sprintf("the certificate of %s expires in %s", c.Source, plural(st.DaysLeft, "day", "days"))
			if st.DaysLeft > 3 {
				sev = sevWarning
			}
		case certs.Expired:
			summary = fmt.Sprintf("the certificate of %s has expired", c.Source)
		default:
			summary = fmt.Sprintf("the certificate of %s is not valid yet", c.Source)
		}
		detail := st.Message
		if c.Seen.Before(now) {
			detail += fmt.Sprintf(" (last seen %s)", c.Seen.In(m.c.job.sched.Loc).Format("2006-01-02 15:04"))
		}
		if strings.HasPrefix(c.Source, "smtp ") {
			detail += "\n\ncotd refuses to send to a server whose certificate has expired: renew it before then, or ask your mail provider to."
		}
		add("cert:"+c.Source, sev, summary, detail)
	}
	if len(rec.WatchErrors) > 0 {
		add("watch-certs", sevWarning, plural(len(rec.WatchErrors), "watched certificate", "watched certificates")+" could not be checked",
			strings.Join(rec.WatchErrors, "\n"))
	}
	return out
}

// alert mails the owner about new and resolved problems, and pushes a
// notification when mail itself is broken. It returns the bookkeeping to
// store: a channel that failed keeps its old state so the next run tries
// again.
func (m *monitor) alert(ctx context.Context, sum job.Summary, rec runRecord, book store.AlertBook, now time.Time) store.AlertBook {
	loc := m.c.job.sched.Loc
	now = now.In(loc)
	var current []health.Problem
	for _, p := range rec.Problems {
		current = append(current, health.Problem{Key: p.Key, Summary: p.Summary, Detail: p.Detail})
	}

	var mailErr error
	var subject, body string
	if m.c.mon.alertTo != "" {
		alert, resolved, next := reconcile(book.Mail, current, now, loc)
		if len(alert)+len(resolved) > 0 {
			subject, body = health.AlertText(alert, resolved, next, m.host, now)
			subject, body = m.scrub(subject), m.scrub(body)
			if sum.ConnErr != nil {
				// The same server just failed; the push below says it instead.
				mailErr = fmt.Errorf("alert mail to %s not sent: %w", m.c.mon.alertTo, sum.ConnErr)
			} else {
				mailErr = m.sendAlert(ctx, subject, body, now)
			}
		}
		if mailErr == nil {
			book.Mail = stored(next)
			if subject != "" {
				m.log.Info("alert mail sent", "to", m.c.mon.alertTo, "subject", subject)
			}
		} else {
			m.log.Warn("alert mail failed", "to", m.c.mon.alertTo, "err", m.scrub(oneLine(mailErr.Error())))
		}
	}

	var broken []health.Problem
	allFailed := sum.Pending > 0 && sum.Sent == 0 && len(sum.Failures) > 0
	if sum.ConnErr != nil || allFailed || mailErr != nil {
		var b strings.Builder
		switch {
		case sum.ConnErr != nil:
			fmt.Fprintf(&b, "%s\n", oneLine(sum.ConnErr.Error()))
		case allFailed:
			fmt.Fprintf(&b, "No message was delivered: %s\n", oneLine(fmt.Sprint(sum.Failures[0].Err)))
		default:
			fmt.Fprintf(&b, "The alert mail could not be sent: %s\n", oneLine(mailErr.Error()))
		}
		if len(rec.Problems) > 0 {
			b.WriteString("\nProblems:\n")
			for _, p := range rec.Problems {
				fmt.Fprintf(&b, "- %s\n", p.Summary)
			}
		}
		b.WriteString("\nRun `cotd check` on " + hostName(m.host) + " to test the mail server.")
		broken = append(broken, health.Problem{Key: "mail-broken", Summary: "cotd cannot send mail", Detail: m.scrub(b.String())})
	}
	if m.c.mon.notifyURL == "" {
		return book
	}
	alert, resolved, next := reconcile(book.Push, broken, now, loc)
	var note *health.Notification
	switch {
	case len(alert) > 0:
		note = &health.Notification{Title: "cotd on " + hostName(m.host) + ": " + alert[0].Summary, Message: alert[0].Detail,
			Priority: 5, Tags: []string{"rotating_light", "cat"}}
	case len(resolved) > 0:
		note = &health.Notification{Title: "cotd on " + hostName(m.host) + ": mail works again",
			Message:  fmt.Sprintf("Mail goes out again; it had failed since %s.", resolved[0].Since.In(loc).Format("2006-01-02 15:04 MST")),
			Priority: 3, Tags: []string{"white_check_mark", "cat"}}
	}
	if note != nil {
		if err := m.push.Notify(ctx, *note); err != nil {
			m.log.Warn("push notification failed", "err", m.scrub(err.Error()))
			return book
		}
		m.log.Info("push notification sent", "title", note.Title)
	}
	book.Push = stored(next)
	return book
}

func hostName(h string) string {
	if h == "" {
		return "this machine"
	}
	return h
}

// sendAlert mails the owner through the run's SMTP server, or writes the
// mail into the outbox in outbox mode.
func (m *monitor) sendAlert(ctx context.Context, subject, body string, now time.Time) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.c.job.from); err != nil {
		return fmt.Errorf("alert mail: from: %w", err)
	}
	if err := msg.To(m.c.mon.alertTo); err != nil {
		return fmt.Errorf("alert mail: to: %w", err)
	}
	msg.Subject(subject)
	msg.SetDateWithValue(now)
	sum := sha256.Sum256([]byte(now.String() + subject + body))
	domain := "cotd.invalid"
	if a, err := mail.ParseAddress(m.c.job.from); err == nil {
		if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
			domain = a.Address[at+1:]
		}
	}
	msg.SetMessageIDWithValue("cotd-alert." + now.UTC().Format("20060102T150405") + "." + hex.EncodeToString(sum[:6]) + "@" + domain)
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetUserAgent("cotd")
	msg.SetBodyString(gomail.TypeTextPlain, body)

	var sender job.Sender
	if m.c.smtp != nil {
		cfg := *m.c.smtp
		cfg.Timeout = alertMailTimeout
		sender = mail.NewSMTP(cfg)
	} else {
		sender = mail.Outbox{Dir: m.c.outbox, Now: m.c.now}
	}
	var res mail.Result
	if err := sender.SendEach(ctx, []*gomail.Msg{msg}, func(_ int, r mail.Result) { res = r }); err != nil {
		return err
	}
	if !res.Delivered {
		return res.Err
	}
	return nil
}

func (m *monitor) writeMetrics(rec runRecord, sum job.Summary) {
	if m.c.mon.metricsFile == "" {
		return
	}
	met := health.Metrics{
		LastRun: rec.At, LastSuccess: rec.LastSuccess, ExitCode: rec.ExitCode,
		MessagesSent: rec.Sent, DeliveryFailures: rec.Failed,
		PhotosTotal: rec.PhotosTotal, PhotosUnsent: rec.PhotosLeft,
		QuotesTotal: rec.QuotesTotal, QuotesUnsent: rec.QuotesLeft,
	}
	for _, c := range rec.Certs {
		met.CertExpiry = append(met.CertExpiry, expiryOf(c))
	}
	if err := health.WriteMetrics(m.c.mon.metricsFile, met); err != nil {
		m.log.Warn("metrics not written", "err", err)
	}
}

// scrub removes the SMTP password from text that leaves the process, in
// case a server or library ever echoes it.
func (m *monitor) scrub(s string) string { return scrubPassword(m.c, s) }

func scrubPassword(c *config, s string) string {
	if c.smtp == nil || len(c.smtp.Password) < 4 {
		return s
	}
	return strings.ReplaceAll(s, c.smtp.Password, "***")
}

// reportText is the ping body: the outcome, the summary, the error and
// the problems, a few lines a person reads in the Healthchecks log.
func reportText(host string, rec runRecord) string {
	var b strings.Builder
	outcome := "ok"
	if !rec.OK {
		outcome = fmt.Sprintf("FAILED (exit %d)", rec.ExitCode)
	}
	fmt.Fprintf(&b, "cotd on %s: %s\n%s\n", hostName(host), outcome, rec.Summary)
	if rec.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", rec.Error)
	}
	for _, p := range rec.Problems {
		fmt.Fprintf(&b, "%s: %s\n", p.Severity, p.Summary)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// reconcile is health.Reconcile over the stored alert states.
func reconcile(prev []store.Alert, current []health.Problem, now time.Time, loc *time.Location) ([]health.Problem, []health.AlertState, []health.AlertState) {
	var states []health.AlertState
	for _, a := range prev {
		states = append(states, health.AlertState(a))
	}
	return health.Reconcile(states, current, now, loc)
}

func stored(states []health.AlertState) []store.Alert {
	var out []store.Alert
	for _, s := range states {
		out = append(out, store.Alert(s))
	}
	return out
}
