package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"cotd/certs"
	"cotd/clocksync"
	"cotd/job"
	"cotd/schedule"
	"cotd/store"
)

var statusCommand = command{
	name:    "status",
	summary: "last delivery, next due time, failures, cats left (--json)",
	help: `Usage: cotd status [--json] [flags]

Example, on the Pi:
    sudo -u cotd cotd status        # or: cotd status --json | jq .healthy

Shows the last run and its outcome, the last day every recipient got,
when the next day is due, days missed or skipped, recipients whose mail
keeps failing, how many cats and quotes are left before they repeat, and
when the certificates cotd watches expire. It reads the same settings as
'cotd run' (flags or COTD_* variables) and sends nothing.

Exit status 0 when healthy; 1 when something is wrong (a due day is not
delivered, the last run failed, no run since a day became due, a
certificate expired or expires within 3 days), so it works as a probe.
Warnings (photos skipped, quotes problems, cats running low, a certificate
within --cert-warn-days) are shown but keep the exit status 0.
`,
	settings: true,
	run:      cmdStatus,
}

// overdueGrace is how long after --at a day may stay undecided before
// status says cotd is not running: the timer runs every 15 minutes, and a
// slow first index of a big photo folder takes a while.
const overdueGrace = time.Hour

// statusReport is `cotd status --json`; its field names are an interface.
type statusReport struct {
	Healthy         bool            `json:"healthy"`
	Now             time.Time       `json:"now"`
	Problems        []string        `json:"problems"`
	Warnings        []string        `json:"warnings"`
	LastRun         *statusRun      `json:"last_run"`
	LastSuccess     *time.Time      `json:"last_success"`
	LastDelivered   string          `json:"last_delivered_day"`
	NextDue         statusNext      `json:"next_due"`
	DueNow          []string        `json:"due_now"`
	Undelivered     []statusDay     `json:"undelivered"`
	Skipped         []statusSkipped `json:"skipped_days"`
	PendingFailures []statusFailure `json:"pending_failures"`
	Photos          statusCount     `json:"photos"`
	Quotes          statusCount     `json:"quotes"`
	CatsRunOutIn    int             `json:"cats_run_out_in_days"`
	Indexing        *statusIndexing `json:"indexing,omitempty"`
	Certificates    []statusCert    `json:"certificates"`
	ClockSynced     *bool           `json:"clock_synchronised"` // null: cannot tell
}

type statusRun struct {
	At       time.Time `json:"at"`
	OK       bool      `json:"ok"`
	ExitCode int       `json:"exit_code"`
	Summary  string    `json:"summary"`
	Error    string    `json:"error,omitempty"`
}

type statusNext struct {
	Day string    `json:"day"`
	At  time.Time `json:"at"`
}

type statusDay struct {
	Day     string   `json:"day"`
	Missing []string `json:"missing"`
}

type statusSkipped struct {
	Day string `json:"day"`
	Why string `json:"why"`
}

type statusFailure struct {
	Recipient string    `json:"recipient"`
	Since     time.Time `json:"since"`
	Last      time.Time `json:"last"`
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error"`
	Permanent bool      `json:"permanent"`
}

// statusIndexing is a photo folder not yet fully indexed.
type statusIndexing struct {
	Files      int     `json:"files"`
	Left       int     `json:"left"`
	Rate       float64 `json:"rate_per_second"`
	ETASeconds int     `json:"eta_seconds"`
}

type statusCount struct {
	Total  int `json:"total"`
	Unsent int `json:"unsent"`
}

type statusCert struct {
	Source   string    `json:"source"`
	Subject  string    `json:"subject,omitempty"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"`
	Level    string    `json:"level"`
	Message  string    `json:"message"`
	Seen     time.Time `json:"seen"`
}

// errUnhealthy makes `cotd status` exit 1.
var errUnhealthy = errors.New("unhealthy")

func cmdStatus(args []string, e env) error {
	s := newSettings("status")
	asJSON := s.fs.Bool("json", false, "print the status as JSON")
	if err := s.parse(args, e.lookup); err != nil {
		return err
	}
	c, err := s.load(e.lookup)
	if err != nil {
		return err
	}
	now := c.now().In(c.job.sched.Loc)
	rep := &statusReport{Now: now, Problems: []string{}, Warnings: []string{}, DueNow: []string{}, Undelivered: []statusDay{},
		Skipped: []statusSkipped{}, PendingFailures: []statusFailure{}, Certificates: []statusCert{}}
	if _, err := os.Stat(c.db); errors.Is(err, fs.ErrNotExist) {
		// Never create the database from a probe.
		rep.Problems = append(rep.Problems, fmt.Sprintf("cotd has never run here: there is no database at %s", c.db))
	} else {
		st, err := store.Open(c.db, lockWait)
		if err != nil {
			return err
		}
		err = st.View(func(tx *store.Tx) error { return rep.fill(c, tx, now) })
		st.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", c.db, err)
		}
	}
	// Last, so that it never pushes the state's own warnings down.
	if ok, err := (clocksync.Kernel{}).Synced(); err == nil {
		rep.ClockSynced = &ok
	}
	if l := clocksync.Describe(clocksync.Kernel{}, c.clockWait); !l.OK {
		rep.Warnings = append(rep.Warnings, "the clock is "+l.Msg)
	}
	rep.Healthy = len(rep.Problems) == 0
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.print(e, c)
	}
	if !rep.Healthy {
		return &hinted{err: fmt.Errorf("%w: %s", errUnhealthy, rep.Problems[0]), hint: "the lines above say what is wrong; 'cotd check' tests the settings, journalctl -u cotd shows the runs"}
	}
	return nil
}

// fill reads the state and judges it at now.
func (r *statusReport) fill(c *config, tx *store.Tx, now time.Time) error {
	sched := c.job.sched
	loc := sched.Loc
	state, err := tx.State()
	if err != nil {
		return err
	}
	rec, haveRec := readRecord(tx)
	if state.LastRun.IsZero() && !haveRec {
		// A first run that failed did run: its record says how below.
		r.Problems = append(r.Problems, "cotd has never run with this database")
	}
	if haveRec {
		r.LastRun = &statusRun{At: rec.At.In(loc), OK: rec.OK, ExitCode: rec.ExitCode, Summary: rec.Summary, Error: rec.Error}
		if !rec.LastSuccess.IsZero() {
			t := rec.LastSuccess.In(loc)
			r.LastSuccess = &t
		}
		if !rec.OK {
			r.Problems = append(r.Problems, fmt.Sprintf("the last run (%s) failed: %s", stamp(rec.At, loc), rec.Error))
		}
	} else if !state.LastRun.IsZero() {
		r.LastRun = &statusRun{At: state.LastRun.In(loc), OK: true, Summary: "run before monitoring was recorded"}
	}

	// What is due.
	plan, err := schedule.Decide(state, now, sched)
	switch {
	case errors.Is(err, schedule.ErrClockBackwards):
		r.Problems = append(r.Problems, oneLine(err.Error())+"; "+job.ClockHint)
	case err != nil:
		return err
	default:
		for _, d := range plan.Open {
			r.DueNow = append(r.DueNow, d.String())
			due := d.At(sched.At, loc)
			if !state.LastRun.IsZero() && now.Sub(due) > overdueGrace {
				r.Problems = append(r.Problems, fmt.Sprintf("%s was due at %s and no run has handled it; is the timer running? (systemctl status cotd.timer)", d, due.Format("15:04")))
			}
		}
		if len(plan.Open) > 0 {
			r.NextDue = statusNext{Day: plan.Open[0].String(), At: plan.Open[0].At(sched.At, loc)}
		} else {
			r.NextDue = statusNext{Day: schedule.DayOf(plan.Next, loc).String(), At: plan.Next.In(loc)}
		}
	}

	// Days decided so far.
	today := schedule.DayOf(now, loc)
	window := schedule.Window(today, sched.MaxDays)
	recent := today.AddDays(-30)
	err = tx.EachDay(schedule.Day{}, func(d store.Day) error {
		switch d.Status {
		case store.StatusSkipped:
			if !d.Day.Before(recent) {
				r.Skipped = append(r.Skipped, statusSkipped{Day: d.Day.String(), Why: d.Why})
			}
		case store.StatusOpen:
			owed, err := job.Owed(tx, c.job.to, d)
			if err != nil {
				return err
			}
			var missing []string
			for _, to := range owed {
				missing = append(missing, to.Address)
			}
			if len(missing) == 0 {
				r.LastDelivered = d.Day.String()
			} else if !d.Day.Before(window) {
				r.Undelivered = append(r.Undelivered, statusDay{Day: d.Day.String(), Missing: missing})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range r.Undelivered {
		r.Problems = append(r.Problems, fmt.Sprintf("%s not delivered to %s", u.Day, strings.Join(u.Missing, ", ")))
	}
	err = tx.EachFailure(func(addr string, f store.Failure) error {
		r.PendingFailures = append(r.PendingFailures, statusFailure{Recipient: addr, Since: f.Since.In(loc), Last: f.Last.In(loc),
			Attempts: f.Attempts, Error: f.Error, Permanent: f.Permanent})
		return nil
	})
	if err != nil {
		return err
	}

	// Cats and quotes.
	if haveRec && (rec.PhotosTotal > 0 || rec.QuotesTotal > 0) {
		r.Photos = statusCount{rec.PhotosTotal, rec.PhotosLeft}
		r.Quotes = statusCount{rec.QuotesTotal, rec.QuotesLeft}
	} else {
		inv, err := job.ReadInventory(tx)
		if err != nil {
			return err
		}
		r.Photos = statusCount{inv.PhotosTotal, inv.PhotosLeft}
		r.Quotes = statusCount{inv.QuotesTotal, inv.QuotesLeft}
	}
	r.CatsRunOutIn = r.Photos.Unsent
	if p, ok := job.ReadIndexProgress(tx); ok && p.Left > 0 {
		r.Indexing = &statusIndexing{Files: p.Files, Left: p.Left, Rate: p.Rate, ETASeconds: int(p.ETA().Seconds())}
	}

	// The last run's warnings, and certificates judged now.
	for _, p := range rec.Problems {
		switch {
		case p.Key == "undelivered" || p.Key == "run-failed" || strings.HasPrefix(p.Key, "cert:"):
			// said above from the state, or judged again below
		default:
			r.Warnings = append(r.Warnings, p.Summary)
		}
	}
	for _, cr := range rec.Certs {
		v := certs.Classify(expiryOf(cr), now, c.mon.warnDays)
		r.Certificates = append(r.Certificates, statusCert{Source: cr.Source, Subject: cr.Subject, NotAfter: cr.NotAfter.In(loc),
			DaysLeft: v.DaysLeft, Level: v.Level.String(), Message: v.Message, Seen: cr.Seen.In(loc)})
		switch {
		case v.Level == certs.OK:
		case v.Level == certs.Warn && v.DaysLeft > 3:
			r.Warnings = append(r.Warnings, v.Message)
		default:
			r.Problems = append(r.Problems, v.Message)
		}
	}
	return nil
}

func stamp(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02 15:04 MST") }

func (r *statusReport) print(e env, c *config) {
	loc := c.job.sched.Loc
	verdict := "healthy"
	if !r.Healthy {
		verdict = "UNHEALTHY"
	}
	fmt.Fprintf(e.stdout, "cotd status at %s: %s\n\n", stamp(r.Now, loc), verdict)
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
	if r.LastRun == nil {
		row("last run:", "never")
	} else {
		outcome := "ok"
		if !r.LastRun.OK {
			outcome = fmt.Sprintf("FAILED (exit %d)", r.LastRun.ExitCode)
		}
		row("last run:", fmt.Sprintf("%s, %s: %s", stamp(r.LastRun.At, loc), outcome, r.LastRun.Summary))
		if r.LastRun.Error != "" {
			row("", r.LastRun.Error)
		}
	}
	if r.LastSuccess != nil {
		row("last success:", stamp(*r.LastSuccess, loc))
	}
	last := r.LastDelivered
	if last == "" {
		last = "none yet"
	} else {
		if len(c.job.to) == 1 {
			last += " (to the one recipient)"
		} else {
			last += fmt.Sprintf(" (to all %d recipients)", len(c.job.to))
		}
	}
	row("last delivered:", last)
	if len(r.DueNow) > 0 {
		row("due now:", strings.Join(r.DueNow, ", "))
	} else if !r.NextDue.At.IsZero() {
		row("next due:", stamp(r.NextDue.At, loc))
	}
	for _, u := range r.Undelivered {
		row("undelivered:", u.Day+" to "+strings.Join(u.Missing, ", "))
	}
	for _, s := range r.Skipped {
		row("skipped:", s.Day+" ("+s.Why+")")
	}
	for _, f := range r.PendingFailures {
		row("failing:", fmt.Sprintf("%s since %s, %s: %s", f.Recipient, stamp(f.Since, loc), plural(f.Attempts, "attempt", "attempts"), f.Error))
	}
	if r.Photos.Total > 0 {
		row("photos:", fmt.Sprintf("%d, %d unsent: cats run out in %s, then repeat", r.Photos.Total, r.Photos.Unsent, plural(r.CatsRunOutIn, "day", "days")))
	} else {
		row("photos:", "none indexed yet")
	}
	if ix := r.Indexing; ix != nil {
		row("indexing:", fmt.Sprintf("%d of %d photo files left, about %s more at %.1f a second; each run goes on", ix.Left, ix.Files, time.Duration(ix.ETASeconds)*time.Second, ix.Rate))
	}
	row("quotes:", fmt.Sprintf("%d, %d unsent", r.Quotes.Total, r.Quotes.Unsent))
	for _, cr := range r.Certificates {
		row("certificate:", cr.Message)
	}
	w.Flush()
	if len(r.Problems) > 0 {
		fmt.Fprintln(e.stdout, "\nproblems:")
		for _, p := range r.Problems {
			fmt.Fprintf(e.stdout, "  - %s\n", p)
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(e.stdout, "\nwarnings:")
		for _, p := range r.Warnings {
			fmt.Fprintf(e.stdout, "  - %s\n", p)
		}
	}
}
