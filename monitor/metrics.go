package monitor

import (
	"cotd/health"
	"cotd/store"
)

// writeMetrics maps the run record onto the Prometheus textfile.
func (m *Monitor) writeMetrics(rec store.Run) {
	if m.c.MetricsFile == "" {
		return
	}
	met := health.Metrics{
		LastRun: rec.At, LastSuccess: rec.LastSuccess, ExitCode: rec.ExitCode,
		MessagesSent: rec.Sent, DeliveryFailures: rec.Failed,
		PhotosTotal: rec.PhotosTotal, PhotosUnsent: rec.PhotosLeft,
		QuotesTotal: rec.QuotesTotal, QuotesUnsent: rec.QuotesLeft,
	}
	for _, c := range rec.Certs {
		met.CertExpiry = append(met.CertExpiry, expiry(c))
	}
	if err := health.WriteMetrics(m.c.MetricsFile, met); err != nil {
		m.log.Warn("metrics not written", "err", err)
	}
}
