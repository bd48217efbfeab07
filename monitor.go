package main

import (
	"context"
	"log/slog"

	"cotd/job"
	"cotd/store"
)

// monitorConfig holds the monitoring settings (issue 5).
type monitorConfig struct{}

// loadMonitor validates the monitoring settings into c.mon.
func (s *settings) loadMonitor(c *config) error { return nil }

// monitor tells the owner how runs go: pings, alerts, metrics.
type monitor struct{}

func newMonitor(c *config, st *store.Store, log *slog.Logger) *monitor { return &monitor{} }

// start runs before the job (the /start ping).
func (m *monitor) start(ctx context.Context) {}

// finish runs after the job: alerts, pings, metrics. It never changes the
// run's outcome and never blocks it for long.
func (m *monitor) finish(ctx context.Context, j *job.Job, sum job.Summary, runErr error) {}
