package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"cotd/clocksync"
	"cotd/job"
	"cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// lockWait is how long a run waits for another run to release the database.
const lockWait = 5 * time.Second

var runCommand = command{
	name:    "run",
	summary: "mail what is due today (and days missed while cotd was off)",
	help: `Usage: cotd run [flags]

Example, on a Raspberry Pi with the settings in /etc/cotd/cotd.env:
    sudo systemctl start cotd.service && journalctl -u cotd -n 5

Indexes the photo folder and the quotes, then mails each recipient the days
that are due and that they have not had: today once it is past --at, plus
days missed while cotd was not running (see --catch-up). Running it again
the same day sends nothing.
`,
	settings: true,
	run:      cmdRun,
}

func cmdRun(args []string, e env) error {
	s := newSettings("run")
	if err := s.parse(args, e.lookup); err != nil {
		return err
	}
	c, err := s.load(e.lookup)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	// Before the database is opened, so that waiting holds no lock.
	if c.clockWait > 0 {
		if r := clocksync.Wait(ctx, clocksync.Kernel{}, c.clockWait, clocksync.Interval, clocksync.Sleep); !r.Synced {
			newLogger(e.stderr).Warn(clocksync.Unsynced(r))
		}
	}
	j, log, err := c.openJob(e)
	if err != nil {
		return err
	}
	defer j.Store.Close()
	st := j.Store
	j.Progress = newProgress(e.stderr, log).update
	mon := newMonitor(c, st, log)
	mon.start(ctx)
	sum, runErr := j.Run(ctx)
	logSummary(log, c, sum, runErr)
	mon.finish(ctx, j, sum, runErr)
	return runErr
}

// openJob opens the database and builds the job: the first steps of every
// command that reads or changes the state. The caller closes j.Store.
func (c *config) openJob(e env) (*job.Job, *slog.Logger, error) {
	log := newLogger(e.stderr)
	st, err := store.Open(c.db, lockWait)
	if err != nil {
		return nil, nil, err
	}
	return c.newJob(st, log), log, nil
}

func (c *config) newJob(st *store.Store, log *slog.Logger) *job.Job {
	var sender job.Sender
	if c.smtp != nil {
		sender = mail.NewSMTP(*c.smtp) // the monitor reads its certificate after the run
	} else {
		sender = mail.Outbox{Dir: c.outbox, Now: c.now}
	}
	return &job.Job{
		Config: job.Config{
			Photos: c.job.photos, Sample: sampleCat,
			Quotes: c.job.quotes, DefaultQuotes: defaultQuotes,
			From: c.job.from, Owner: c.job.owner, To: c.job.to,
			Schedule: c.job.sched, CacheDir: c.job.cache, Render: c.job.render, Indexing: c.job.indexing,
		},
		Store: st, Sender: sender, Now: c.now, Log: log, Stopwatch: time.Now,
	}
}

// logSummary writes the run's one summary line, after one line per
// problem, so `journalctl -u cotd` reads at a glance.
func logSummary(log *slog.Logger, c *config, sum job.Summary, runErr error) {
	for _, r := range sum.Index.Reports {
		log.Warn(r)
	}
	for _, p := range sum.Problems {
		log.Warn(p)
	}
	for _, f := range sum.Failures {
		if sum.ConnErr != nil && errors.Is(f.Err, sum.ConnErr) {
			continue // said once, as the run's error
		}
		log.Error("not delivered", "to", f.To, "days", daysString(f.Days), "err", f.Err)
	}
	for _, g := range sum.GaveUp {
		log.Error("gave up: " + g + " (older than --catch-up-max-days)")
	}
	if errors.Is(runErr, schedule.ErrClockBackwards) || sum.Plan.Today.IsZero() {
		return
	}
	level := slog.LevelInfo
	if runErr != nil {
		level = slog.LevelError
	}
	log.Log(context.Background(), level, summaryLine(c, sum, runErr),
		"sent", sum.Sent, "failed", len(sum.Failures), "skipped_photos", sum.Index.Unusable)
}

// summaryLine is the run in one line: the journal's summary, and the
// first line of what the pings and alerts report.
func summaryLine(c *config, sum job.Summary, runErr error) string {
	if sum.Plan.Today.IsZero() {
		if runErr != nil {
			return "failed before deciding what is due"
		}
		return "nothing done"
	}
	var parts []string
	where := "sent"
	if c.smtp == nil {
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
		n := fmt.Sprintf("%s %d of %s", where, sum.Sent, plural(sum.Pending, "message", "messages"))
		if c.smtp == nil && sum.Sent > 0 {
			abs, _ := filepath.Abs(c.outbox)
			n += " to " + abs
		}
		parts = append(parts, n)
	}
	if len(sum.Plan.Open) > 0 {
		parts = append(parts, "days "+daysString(sum.Plan.Open))
	}
	if len(sum.Plan.Skipped) > 0 {
		parts = append(parts, fmt.Sprintf("skipped %s (%s)", plural(len(sum.Plan.Skipped), "missed day", "missed days"), span(sum.Plan.Skipped)))
	}
	if len(sum.Failures) > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", len(sum.Failures)))
	}
	if sum.Index.Unusable > 0 {
		parts = append(parts, plural(sum.Index.Unusable, "unusable photo file", "unusable photo files"))
	}
	if !sum.Plan.Next.IsZero() {
		parts = append(parts, "next "+sum.Plan.Next.Format("2006-01-02 15:04 MST"))
	}
	return strings.Join(parts, "; ")
}

func daysString(ds []schedule.Day) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return strings.Join(s, ",")
}

func span(ds []schedule.Day) string {
	if len(ds) == 1 {
		return ds[0].String()
	}
	return ds[0].String() + " to " + ds[len(ds)-1].String()
}
