package health

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"cotd/certs"
	"cotd/internal/atomicfile"
)

// Metrics is what one run leaves for node_exporter's textfile collector.
type Metrics struct {
	LastRun     time.Time
	LastSuccess time.Time // zero: never; written as 0 so "time() - x" alerts fire
	ExitCode    int

	MessagesSent     int
	DeliveryFailures int
	PhotosTotal      int
	PhotosUnsent     int
	QuotesTotal      int
	QuotesUnsent     int

	// CertExpiry becomes cotd_cert_expiry_timestamp_seconds{source="..."};
	// for a source listed twice the earlier expiry is kept, since
	// Prometheus rejects duplicate series. Entries with a zero NotAfter (no
	// certificate seen) are left out.
	CertExpiry []certs.Expiry
}

// Format renders m in the Prometheus text exposition format. Gauges only:
// the values describe the last run, not running totals, and node_exporter
// re-reads the file on every scrape.
func Format(m Metrics) []byte {
	var b bytes.Buffer
	gauge := func(name, help string, value string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, value)
	}
	gauge("cotd_last_run_timestamp_seconds", "Unix time of the last cotd run.", unix(m.LastRun))
	gauge("cotd_last_success_timestamp_seconds", "Unix time of the last successful cotd run (0 if none).", unix(m.LastSuccess))
	gauge("cotd_last_exit_code", "Exit code of the last cotd run (0 is success).", strconv.Itoa(m.ExitCode))
	gauge("cotd_messages_sent", "Messages delivered by the last run.", strconv.Itoa(m.MessagesSent))
	gauge("cotd_delivery_failures", "Messages the last run failed to deliver.", strconv.Itoa(m.DeliveryFailures))
	gauge("cotd_photos", "Usable photos in the photo folder.", strconv.Itoa(m.PhotosTotal))
	gauge("cotd_photos_unsent", "Photos not yet sent in the current rotation.", strconv.Itoa(m.PhotosUnsent))
	gauge("cotd_quotes", "Usable quotes in the quotes file.", strconv.Itoa(m.QuotesTotal))
	gauge("cotd_quotes_unsent", "Quotes not yet sent in the current rotation.", strconv.Itoa(m.QuotesUnsent))

	earliest := map[string]time.Time{}
	for _, e := range m.CertExpiry {
		if e.NotAfter.IsZero() {
			continue // no certificate seen: 0 would read as expired in 1970
		}
		if t, ok := earliest[e.Source]; !ok || e.NotAfter.Before(t) {
			earliest[e.Source] = e.NotAfter
		}
	}
	if len(earliest) > 0 {
		const name = "cotd_cert_expiry_timestamp_seconds"
		fmt.Fprintf(&b, "# HELP %s Unix time when the first certificate of each chain cotd checks expires.\n# TYPE %s gauge\n", name, name)
		sources := make([]string, 0, len(earliest))
		for s := range earliest {
			sources = append(sources, s)
		}
		slices.Sort(sources)
		for _, s := range sources {
			fmt.Fprintf(&b, "%s{source=\"%s\"} %s\n", name, escapeLabel(s), unix(earliest[s]))
		}
	}
	return b.Bytes()
}

func unix(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// escapeLabel escapes a label value as the text format requires, and
// replaces invalid UTF-8 (a file name can hold any bytes), which would make
// the whole file unreadable to Prometheus.
func escapeLabel(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// WriteMetrics writes m to path atomically: node_exporter may read the file
// at any moment and must never see half of it. The temporary file lives in
// the same directory (rename is atomic only within one filesystem) and its
// name does not end in .prom, so the collector ignores it.
func WriteMetrics(path string, m Metrics) error {
	// node_exporter usually runs as another user: the file must be readable.
	err := atomicfile.Write(path, Format(m), atomicfile.Options{Perm: 0o644, Pattern: "." + filepath.Base(path) + ".tmp*"})
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("write metrics %s: %w; create the directory node_exporter's --collector.textfile.directory points at, writable by the user cotd runs as", path, err)
	}
	if err != nil {
		return fmt.Errorf("write metrics %s: %w", path, err)
	}
	return nil
}
