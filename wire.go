package main

import (
	"log/slog"
	"time"

	"cotd/care"
	"cotd/clocksync"
	"cotd/config"
	"cotd/job"
	"cotd/mail"
	"cotd/monitor"
	"cotd/store"
)

// The parts each command is built from.

// monitorConfig is what the monitor needs to know of the runs it watches.
func monitorConfig(c *config.Config) monitor.Config {
	return monitor.Config{Settings: c.Monitor, From: c.Job.From, Recipients: c.Job.To, Mornings: c.Job.Mornings, Photos: c.Job.Photos,
		FollowLinks: c.Job.Indexing.FollowLinks, Schedule: c.Job.Schedule, SMTP: c.SMTP, Outbox: c.Outbox, Now: c.Now, Classify: classify,
		Backups: c.BackupDir, SideFile: sideFile(c), DB: c.DB, Care: machine()}
}

// machine is where the machine's care looks (package care): the real
// Pi; the scripts' cotd looks at a folder of its own (main_test.go).
var machine = func() care.Machine { return care.Pi(clocksync.Kernel{}.Synced) }

// sideFile keeps the monitor's records while the database cannot; only
// when there is an alert to send once a day rather than every run.
func sideFile(c *config.Config) string {
	if c.Monitor.AlertTo == "" && c.Monitor.NotifyURL == "" {
		return ""
	}
	return c.DB + ".monitor.json"
}

// lockWait is how long a command waits for a run to release the database.
const lockWait = 5 * time.Second

// openJob opens the database and builds the job: the first steps of every
// command that reads or changes the state. The caller closes j.Store.
func openJob(c *config.Config, e env) (*job.Job, *slog.Logger, error) {
	log := newLogger(e.stderr)
	if err := lostHistory(c); err != nil {
		return nil, nil, err
	}
	st, err := store.Open(c.DB, lockWait)
	if err != nil {
		return nil, nil, err
	}
	return newJob(c, st, log), log, nil
}

func newJob(c *config.Config, st *store.Store, log *slog.Logger) *job.Job {
	sender := mail.NewSender(c.SMTP, c.Outbox, c.Now)
	cfg := c.Job
	if c.SMTP != nil {
		cfg.Login = c.SMTP.LoginID()
	}
	cfg.Sample, cfg.DefaultQuotes = sampleCat, defaultQuotes
	return &job.Job{Config: cfg, Store: st, Sender: sender, Now: c.Now, Log: log, Stopwatch: time.Now}
}
