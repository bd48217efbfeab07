package main

import (
	"context"
	"errors"
	"log/slog"

	"cotd/clocksync"
	"cotd/config"
	"cotd/internal/progress"
	"cotd/job"
	"cotd/monitor"
	"cotd/schedule"
)

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
	c, err := loadSettings("run", args, e, nil)
	if err != nil {
		return err
	}
	for _, u := range e.unknownVariables() {
		newLogger(e.stderr).Warn(u.Line())
	}
	ctx, stop := signalContext()
	defer stop()
	// Before the database is opened, so that waiting holds no lock.
	if c.ClockWait > 0 {
		if r := clocksync.Wait(ctx, clocksync.Kernel{}, c.ClockWait, clocksync.Interval, clocksync.Sleep); !r.Synced {
			newLogger(e.stderr).Warn(clocksync.Unsynced(r))
		}
	}
	j, log, err := openJob(c, e)
	if err != nil {
		return err
	}
	defer j.Store.Close()
	st := j.Store
	j.Progress = progress.New(e.stderr, log).Update
	mon := monitor.New(monitorConfig(c), st, log)
	mon.Start(ctx)
	sum, runErr := j.Run(ctx)
	logSummary(log, c, sum, runErr)
	mon.Finish(ctx, sum, runErr)
	return runErr
}

// logSummary writes the run's one summary line, after one line per
// problem, so `journalctl -u cotd` reads at a glance.
func logSummary(log *slog.Logger, c *config.Config, sum job.Summary, runErr error) {
	for _, r := range sum.Index.ReportLines() {
		log.Warn(r)
	}
	for _, p := range sum.Problems {
		log.Warn(monitor.QuotesProblemLine(p))
	}
	for _, f := range sum.Failures {
		if sum.ConnErr != nil && errors.Is(f.Err, sum.ConnErr) {
			continue // said once, as the run's error
		}
		log.Error("not delivered", "to", f.To, "days", schedule.List(f.Days), "err", f.Err)
	}
	for _, g := range sum.GaveUp {
		log.Error("gave up: " + monitor.UndeliveredLine(g) + " (older than --catch-up-max-days)")
	}
	if errors.Is(runErr, schedule.ErrClockBackwards) || sum.Plan.Today.IsZero() {
		return
	}
	level := slog.LevelInfo
	if runErr != nil {
		level = slog.LevelError
	}
	log.Log(context.Background(), level, monitor.SummaryLine(monitorConfig(c), sum, runErr),
		"sent", sum.Sent, "failed", len(sum.Failures), "skipped_photos", sum.Index.Unusable)
}
