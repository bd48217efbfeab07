package monitor

import (
	"context"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"cotd/certs"
	"cotd/health"
	"cotd/internal/atomicfile"
	"cotd/internal/text"
)

// Level is how a line of `cotd check` reads.
type Level string

const (
	OK      Level = "ok"      // it works
	Warn    Level = "warn"    // it works, but needs care soon
	Trouble Level = "problem" // it does not work; Fix says how to mend it
)

// Finding is one line of `cotd check` and its fix.
type Finding struct {
	Level          Level
	What, Msg, Fix string
}

// CheckCerts judges the certificates cotd depends on for `cotd check`:
// those the caller read (the SMTP server's) and the --watch-certs list,
// each fetched within timeout. The same rule as the run's alerts decides
// warn and problem.
func (c Config) CheckCerts(ctx context.Context, read []certs.Expiry, timeout time.Duration, now time.Time) []Finding {
	var out []Finding
	expiries := read
	if c.Watch != "" {
		var roots *x509.CertPool
		if c.SMTP != nil {
			roots = c.SMTP.RootCAs
		}
		es, errs := certs.Watch(ctx, c.Watch, roots, timeout, now)
		expiries = append(expiries, es...)
		for _, err := range errs {
			out = append(out, Finding{Trouble, "certificate", text.OneLine(err.Error()), ""})
		}
	}
	for _, ex := range expiries {
		v := certs.Classify(ex, now, c.WarnDays)
		switch sev, ok := CertSeverity(v); {
		case !ok:
			out = append(out, Finding{OK, "certificate", v.Message, ""})
		case sev == Warning:
			out = append(out, Finding{Warn, "certificate", v.Message, ""})
		default:
			out = append(out, Finding{Trouble, "certificate", v.Message, ""})
		}
	}
	return out
}

// CheckChannels judges the monitoring settings for `cotd check` without
// contacting anything: a ping from a check would look like a run.
func (c Config) CheckChannels() []Finding {
	var out []Finding
	if f := c.MetricsFile; f != "" {
		switch err := atomicfile.Writable(filepath.Dir(f)); {
		case err != nil:
			out = append(out, Finding{Trouble, "metrics", fmt.Sprintf("cannot write %s: %v", f, err), "create the folder node_exporter's --collector.textfile.directory points at, writable by the user cotd runs as"})
		case !strings.HasSuffix(f, ".prom"):
			out = append(out, Finding{Warn, "metrics", f + " does not end in .prom, so node_exporter's textfile collector ignores it", "name it cotd.prom"})
		default:
			out = append(out, Finding{OK, "metrics", "written to " + f + " after each run", ""})
		}
	}
	var mon []string
	if c.AlertTo != "" {
		mon = append(mon, "alert mail to "+c.AlertTo)
	}
	if c.PingURL != "" {
		mon = append(mon, "pings to "+health.Redact(c.PingURL))
	}
	if c.NotifyURL != "" {
		mon = append(mon, "push notifications to "+health.Redact(c.NotifyURL))
	}
	if len(mon) == 0 {
		return append(out, Finding{Warn, "monitoring", "nobody hears about a failed or missing run", "set --alert-to and --ping-url (see the README's monitoring section)"})
	}
	return append(out, Finding{OK, "monitoring", strings.Join(mon, ", ") + " (not contacted by check)", ""})
}
