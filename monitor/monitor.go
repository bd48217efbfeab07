// Package monitor watches cotd's runs for the owner: after the cat mail
// has gone out (or not) it decides what went wrong (problems with typed
// keys and severities), tells the owner and the machines watching for the
// owner (a dead man's switch ping, an alert mail once a day per problem, a
// push notification when mail itself is broken, a Prometheus textfile),
// keeps the run record and the alert book in the store, and judges the
// state for `cotd status`.
//
// It sits between the CLI and the domain: it asks job for the domain's
// answers (who is owed which day, the inventory) and never changes a
// run's outcome. It is not the transport: health pings, notifies and
// formats; mail sends. It prints nothing; the CLI does.
package monitor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cotd/care"
	"cotd/certs"
	"cotd/health"
	"cotd/internal/text"
	"cotd/job"
	"cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// DefaultTimeout bounds each ping, notification and watched TLS endpoint.
const DefaultTimeout = 10 * time.Second

// alertMailTimeout bounds each step of sending the alert mail; the cat
// mail has already gone out, so this only delays the end of the run.
const alertMailTimeout = 20 * time.Second

// alertMailBudget bounds the whole alert mail: with the cat mail's
// mail.DefaultBudget and the final dot's wait it keeps a run inside
// cotd.service's TimeoutStartSec=30min.
const alertMailBudget = time.Minute

// Settings are the owner's monitoring settings, validated by the CLI.
type Settings struct {
	AlertTo     string         // the owner's address; empty: no alert mail
	NotifyURL   string         // ntfy or Gotify; empty: no push
	PingURL     string         // healthchecks-style; empty: no ping
	MetricsFile string         // Prometheus textfile; empty: none
	WarnDays    int            // warn this many days before a certificate expires
	Watch       []certs.Target // more certificates to watch (--watch-certs)
}

// Config is what the monitor knows of the runs it watches.
type Config struct {
	Settings
	From       string             // the cat mail's sender, and the alert mail's
	Recipients []*netmail.Address // --to
	// Mornings are the recipients' own send times, zones and pauses (the
	// recipients file), by lower-case address; see job.Config.Mornings.
	Mornings map[string]schedule.Morning
	Photos   string // the photo folder; "" for the built-in cat
	// FollowLinks is --follow-links all: status counts the photos the
	// run would see.
	FollowLinks bool
	Schedule    schedule.Settings
	SMTP        *mail.SMTPConfig // nil: outbox mode
	Outbox      string
	Now         func() time.Time
	Timeout     time.Duration // per channel; 0 means DefaultTimeout
	// SideFile keeps the run record and the alert book when the database
	// cannot (it is damaged, lost or could not be opened), so the owner is
	// still told once a day, not every run; "" for none.
	SideFile string
	// Backups is the folder of the database's snapshots (status reads the
	// newest while a run holds the database).
	Backups string
	// DB is the database, and Care where the machine's care looks (the
	// real Pi, or a test's): its findings are problems like the run's.
	DB   string
	Care care.Machine
	// Classify maps a run's error to the exit code and hint the CLI
	// gives; the CLI owns both.
	Classify func(error) (code int, hint string)
}

// Monitor tells the owner how runs go: pings, alerts, metrics.
type Monitor struct {
	c    Config
	st   *store.Store
	log  *slog.Logger
	ping health.Pinger
	push health.Notifier
	host string
}

// New returns a monitor that keeps its records in st; st is nil when the
// run could not open the database (its records then go to c.SideFile).
func New(c Config, st *store.Store, log *slog.Logger) *Monitor {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	host, _ := os.Hostname()
	return &Monitor{
		c: c, st: st, log: log, host: host,
		ping: health.Pinger{URL: c.PingURL, Timeout: c.Timeout},
		push: health.Notifier{URL: c.NotifyURL, Timeout: c.Timeout},
	}
}

// Start runs before the job (the /start ping).
func (m *Monitor) Start(ctx context.Context) {
	if err := m.ping.Start(ctx); err != nil {
		m.log.Warn("start ping failed; the run goes on", "err", m.scrub(err.Error()))
	}
}

// Finish runs after the job: alerts, pings, metrics. It never changes the
// run's outcome and never blocks it for long.
func (m *Monitor) Finish(ctx context.Context, sum job.Summary, runErr error) {
	// A run stopped by systemd still reports how it ended; each call below
	// has its own timeout.
	ctx = context.WithoutCancel(ctx)
	now := m.c.Now()
	prev, book := m.load()

	rec := store.Run{At: now, OK: runErr == nil, Summary: m.scrub(SummaryLine(m.c, sum, runErr)),
		Sent: sum.Sent, Pending: sum.Pending, Failed: len(sum.Failures), LastSuccess: prev.LastSuccess}
	if runErr != nil {
		rec.ExitCode, _ = m.c.Classify(runErr)
		rec.Error = m.scrub(text.OneLine(runErr.Error()))
	} else {
		rec.LastSuccess = now
	}
	rec.PhotosTotal, rec.PhotosLeft = sum.PhotosTotal, sum.PhotosLeft
	rec.QuotesTotal, rec.QuotesLeft = sum.QuotesTotal, sum.QuotesLeft
	// A run that stopped before counting keeps the last known counts, each
	// on its own: a failed run that read the quotes but no photo (the
	// photo folder gone) must not clear the few-cats advisory.
	if sum.PhotosTotal == 0 && (runErr != nil || sum.QuotesTotal == 0) {
		rec.PhotosTotal, rec.PhotosLeft = prev.PhotosTotal, prev.PhotosLeft
	}
	if sum.QuotesTotal == 0 && (runErr != nil || sum.PhotosTotal == 0) {
		rec.QuotesTotal, rec.QuotesLeft = prev.QuotesTotal, prev.QuotesLeft
	}
	rec.Certs, rec.WatchErrors = m.certificates(ctx, sum, runErr, now, prev)
	var unusable []string
	if sum.Index.Unusable > 0 && m.usable() {
		_ = m.st.View(func(tx *store.Tx) (err error) { unusable, err = job.UnusableFiles(tx, m.c.Photos); return })
	}
	problems := m.problems(sum, runErr, rec, unusable, now)
	if m.usable() {
		problems = append(problems, lasting(prev.Problems, problems, m.c.Recipients, func(addr string) bool {
			refused := false
			_ = m.st.View(func(tx *store.Tx) error { _, refused, _ = tx.Failure(addr); return nil })
			return refused
		})...)
	}
	if runErr != nil && sum.PhotosTotal == 0 && sum.QuotesTotal == 0 {
		problems = append(problems, notLooked(prev.Problems, problems)...)
	}
	var first time.Time
	if m.usable() {
		_ = m.st.View(func(tx *store.Tx) error { s, err := tx.State(); first = s.FirstRun; return err })
	}
	var found []care.Finding
	found, rec.Disks = m.c.machineCare(first, prev.At, now, prev.Disks)
	for _, f := range found {
		problems = append(problems, careProblem(f))
	}
	sort.SliceStable(problems, func(i, j int) bool { return urgency(problems[i]) < urgency(problems[j]) })
	rec.Problems = storedProblems(problems)

	// A clock that went backwards changes nothing in the database and mails
	// nobody (its alert bookkeeping would be dated in the past); the /fail
	// ping and the metrics file still say why the run was refused.
	refused := errors.Is(runErr, schedule.ErrClockBackwards)
	if !refused {
		book = m.alert(ctx, sum, problems, book, now)
	} else if m.c.SideFile != "" {
		// Told once by mail too, with the fix (issue 24: a clock a day
		// behind was refused for ~24 h with only a ping): the bookkeeping
		// goes to the side file, never into the database, and the first
		// run with the clock right again takes it over and resolves it.
		side, _ := m.loadSide()
		m.saveSide(side.Run, m.alert(ctx, sum, problems, side.Book, now))
	}
	m.writeMetrics(rec)
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
// record is ignored here (the run itself stops on it).
func (m *Monitor) load() (store.Run, store.AlertBook) {
	var rec store.Run
	var book store.AlertBook
	side, hasSide := m.loadSide()
	if !m.usable() {
		return side.Run, side.Book
	}
	_ = m.st.View(func(tx *store.Tx) error {
		var err error
		if rec, _, err = tx.LastRun(); err != nil {
			m.log.Warn("ignoring the damaged monitor record", "err", err)
			rec = store.Run{}
		}
		if book, _, err = tx.AlertBook(); err != nil {
			m.log.Warn("ignoring the damaged alert bookkeeping", "err", err)
			book = store.AlertBook{}
		}
		return nil
	})
	if hasSide { // alerts sent while the database could not keep them: resolved from here on
		book.Mail = mergeAlerts(book.Mail, side.Book.Mail)
		book.Push = mergeAlerts(book.Push, side.Book.Push)
	}
	return rec, book
}

func (m *Monitor) save(rec store.Run, book store.AlertBook) {
	if !m.usable() {
		m.saveSide(rec, book)
		return
	}
	err := m.st.Update(func(tx *store.Tx) error {
		if err := tx.PutLastRun(rec); err != nil {
			return err
		}
		return tx.PutAlertBook(book)
	})
	if err != nil {
		m.log.Warn("cannot store the monitor record; `cotd status` shows the run before", "err", err)
		m.saveSide(rec, book)
		return
	}
	m.dropSide()
}

// SMTPSource names the SMTP server's certificate in alerts, metrics and
// `cotd check`.
func SMTPSource(c *mail.SMTPConfig) string {
	return "smtp " + net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// certificates gathers the SMTP server's certificate from this run's
// connection (or from the error that refused it, or from an earlier run
// when nothing was sent) and the --watch-certs list.
func (m *Monitor) certificates(ctx context.Context, sum job.Summary, runErr error, now time.Time, prev store.Run) ([]store.Cert, []string) {
	var out []store.Cert
	if m.c.SMTP != nil {
		src := SMTPSource(m.c.SMTP)
		got := false
		if len(sum.ServerChain) > 0 {
			out = append(out, storedCert(certs.Earliest(src, sum.ServerChain), now))
			got = true
		}
		var invalid x509.CertificateInvalidError
		if !got && errors.As(runErr, &invalid) && invalid.Cert != nil {
			out = append(out, storedCert(certs.Earliest(src, []*x509.Certificate{invalid.Cert}), now))
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
	if len(m.c.Watch) > 0 {
		var roots *x509.CertPool
		if m.c.SMTP != nil {
			roots = m.c.SMTP.RootCAs
		}
		es, errs := certs.WatchTargets(ctx, m.c.Watch, roots, m.c.Timeout, now)
		for _, e := range es {
			out = append(out, storedCert(e, now))
		}
		for _, err := range errs {
			watchErrs = append(watchErrs, text.OneLine(err.Error()))
		}
	}
	return out, watchErrs
}

// scrub removes the SMTP password from text that leaves the process, in
// case a server or library ever echoes it.
func (m *Monitor) scrub(s string) string { return Scrub(m.c.SMTP, s) }

// Scrub removes the SMTP password of c from s.
func Scrub(c *mail.SMTPConfig, s string) string {
	if c == nil || len(c.Password) < 4 {
		return s
	}
	return c.Scrub(s) // the password and its AUTH PLAIN/LOGIN encodings
}

// reportText is the ping body: the outcome, the summary, the error and
// the problems, a few lines a person reads in the Healthchecks log.
func reportText(host string, rec store.Run) string {
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

func hostName(h string) string {
	if h == "" {
		return "this machine"
	}
	return h
}

// SummaryLine is the run in one line: the journal's summary, and the
// first line of what the pings and alerts report.
func SummaryLine(c Config, sum job.Summary, runErr error) string {
	if sum.Plan.Today.IsZero() {
		if runErr != nil {
			return "failed before deciding what is due"
		}
		return "nothing done"
	}
	var parts []string
	where := "sent"
	if c.SMTP == nil {
		where = "wrote"
	}
	switch {
	case runErr != nil && sum.Sent == 0 && sum.Pending == 0:
		// Not "nothing due" or "wrote 0 of 0": it stopped before it could
		// tell what to send.
		parts = append(parts, "failed before sending anything")
	case sum.Pending == 0 && len(sum.Plan.Open) == 0:
		parts = append(parts, "nothing due")
	default:
		n := fmt.Sprintf("%s %d of %s", where, sum.Sent, text.Plural(sum.Pending, "message", "messages"))
		if c.SMTP == nil && sum.Sent > 0 {
			abs, _ := filepath.Abs(c.Outbox)
			n += " to " + abs
		}
		parts = append(parts, n)
	}
	if len(sum.Plan.Open) > 0 {
		// The days this run opened, and any opened earlier that went out
		// now (a recipient west of the others, a retry): what went out.
		days := slices.Clone(sum.Plan.Open)
		for _, t := range sum.Tried {
			if !slices.Contains(days, t.Day) {
				days = append(days, t.Day)
			}
		}
		slices.SortFunc(days, func(a, b schedule.Day) int { return strings.Compare(a.String(), b.String()) })
		parts = append(parts, "days "+schedule.List(days))
	} else if len(sum.Tried) > 0 {
		// A retry later the same day: which day went to whom again.
		var tried []string
		for _, t := range sum.Tried {
			tried = append(tried, t.Day.String()+" to "+strings.Join(t.To, ", "))
		}
		parts = append(parts, "retried "+strings.Join(tried, "; "))
	}
	if len(sum.Plan.Skipped) > 0 {
		parts = append(parts, fmt.Sprintf("skipped %s (%s)", text.Plural(len(sum.Plan.Skipped), "missed day", "missed days"), schedule.Span(sum.Plan.Skipped)))
	}
	if len(sum.Failures) > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", len(sum.Failures)))
	}
	if len(sum.InDoubt) > 0 {
		// The server probably has them: not failures; sent once more next run.
		parts = append(parts, fmt.Sprintf("%d in doubt (no answer after the whole message went out; sent once more next run)", len(sum.InDoubt)))
	}
	if len(sum.Resent) > 0 {
		parts = append(parts, text.Plural(len(sum.Resent), "message in doubt", "messages in doubt")+" sent again")
	}
	if sum.Index.Unusable > 0 {
		parts = append(parts, text.Plural(sum.Index.Unusable, "unusable photo file", "unusable photo files"))
	}
	if !sum.Plan.Next.IsZero() {
		parts = append(parts, "next "+sum.Plan.Next.Format(text.Stamp))
	}
	return strings.Join(parts, "; ")
}

// jobConfig is the part of the run's configuration that says who is owed
// what when, so status asks the job's own rule (job.Config.OwedNow).
func (c Config) jobConfig() job.Config {
	return job.Config{To: c.Recipients, Mornings: c.Mornings, Schedule: c.Schedule}
}
