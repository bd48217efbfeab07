package monitor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"cotd/certs"
	"cotd/health"
	"cotd/internal/atomicfile"
	"cotd/internal/text"
	"cotd/job"
	"cotd/mail"
	"cotd/schedule"
	"cotd/store"
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
	if len(c.Watch) > 0 {
		var roots *x509.CertPool
		if c.SMTP != nil {
			roots = c.SMTP.RootCAs
		}
		es, errs := certs.WatchTargets(ctx, c.Watch, roots, timeout, now)
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

// CheckContent judges what the run would mail, for `cotd check`: the
// clock against the database, the quotes and the photos, read by j the
// way a run reads them.
//
// A first look at a big new folder would take the whole first index (an
// hour on a Pi for a few thousand photos), so check indexes for at most
// budget and says how many files it left to the runs, which index within
// their own budget and mail from what is done.
func (c Config) CheckContent(ctx context.Context, j *job.Job, quotes, photos string, now time.Time, budget time.Duration) []Finding {
	var out []Finding
	if err := j.Store.View(func(tx *store.Tx) error { return job.ClockCheck(tx, now, c.Schedule) }); err != nil {
		out = append(out, Finding{Trouble, "clock", text.OneLine(err.Error()), job.ClockFix(err)})
	}
	n, qproblems, err := j.CheckQuotes()
	where := orDefault(quotes, "the built-in quotes")
	switch {
	case err != nil:
		out = append(out, Finding{Trouble, "quotes", text.OneLine(err.Error()), "fix the quotes file or point --quotes at another one"})
	case len(qproblems) > 0:
		out = append(out, Finding{Trouble, "quotes", fmt.Sprintf("%d usable quotes, and %s: %s", n, text.Plural(len(qproblems), "problem", "problems"), strings.Join(quotesProblemLines(qproblems), "; ")), "fix or delete those lines (one quote per line, author after ' — ')"})
	default:
		out = append(out, Finding{OK, "quotes", fmt.Sprintf("%d quotes in %s", n, where), ""})
	}
	idx, err := j.IndexWithin(ctx, budget)
	where = orDefault(photos, "the built-in sample cat")
	sofar := ""
	if idx.Left > 0 {
		sofar = fmt.Sprintf(" so far; %s not indexed yet, which the runs index (each mails from what is indexed)", text.Plural(idx.Left, "new photo file", "new photo files"))
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// A signal (^C) or check's own deadline, not the folder: no fix to
		// give for the folder (issue 24).
		what := "interrupted"
		if !errors.Is(context.Cause(ctx), context.Canceled) {
			what = "not done within check's deadline"
		}
		out = append(out, Finding{Trouble, "photos", fmt.Sprintf("%s while reading %s; %s", what, where, text.Plural(idx.Photos, "usable photo", "usable photos")+" found so far"), ""})
	case err != nil:
		out = append(out, Finding{Trouble, "photos", text.OneLine(err.Error()), "check --photos and that the user cotd runs as can read it"})
	case idx.Photos == 0 && idx.Left > 0:
		out = append(out, Finding{Warn, "photos", "no usable photo in " + where + sofar, "run 'cotd check' again, or let the first run index them"})
	case idx.Photos == 0:
		out = append(out, Finding{Trouble, "photos", "no usable photo in " + where, "put JPEG or PNG photos in " + where})
	case idx.Unusable > 0:
		out = append(out, Finding{Warn, "photos", fmt.Sprintf("%s in %s%s; %s cannot be used", text.Plural(idx.Photos, "usable photo", "usable photos"), where, sofar, text.Plural(idx.Unusable, "file", "files")),
			"'cotd status' and the alert mail list them; convert them to JPEG or remove them"})
	default:
		out = append(out, Finding{OK, "photos", fmt.Sprintf("%s in %s%s", text.Plural(idx.Photos, "usable photo", "usable photos"), where, sofar), ""})
	}
	return out
}

// CheckSending judges the way out, for `cotd check`: the outbox folder,
// or the SMTP server's TLS and login, without sending anything. It
// returns the server's certificate for CheckCerts.
func (c Config) CheckSending(ctx context.Context, timeout time.Duration) ([]Finding, []certs.Expiry) {
	if c.SMTP == nil {
		if err := atomicfile.Writable(c.Outbox); err != nil {
			return []Finding{{Trouble, "outbox", fmt.Sprintf("cannot write .eml files into %s: %v", c.Outbox, err), "fix --outbox or its permissions, or set --smtp-host to send for real"}}, nil
		}
		return []Finding{{OK, "outbox", fmt.Sprintf("no --smtp-host: messages are written to %s, nothing is sent", c.Outbox), ""}}, nil
	}
	cfg := *c.SMTP
	cfg.Timeout = timeout
	sm := mail.NewSMTP(cfg)
	src := SMTPSource(c.SMTP)
	if err := sm.Check(ctx); err != nil {
		var read []certs.Expiry
		var invalid x509.CertificateInvalidError
		if errors.As(err, &invalid) && invalid.Cert != nil {
			read = append(read, certs.Earliest(src, []*x509.Certificate{invalid.Cert}))
		}
		return []Finding{{Trouble, "smtp", Scrub(c.SMTP, text.OneLine(err.Error())), ""}}, read
	}
	how := map[mail.TLSMode]string{mail.TLSStartTLS: "STARTTLS", mail.TLSImplicit: "TLS", mail.TLSNone: "an unencrypted loopback connection"}[c.SMTP.TLS]
	login := ""
	if c.SMTP.User != "" {
		login = " and the login of " + c.SMTP.User
	}
	out := []Finding{{OK, "smtp", fmt.Sprintf("%s accepted %s%s (nothing sent)", strings.TrimPrefix(src, "smtp "), how, login), ""}}
	var read []certs.Expiry
	if _, chain, ok := sm.Cert(); ok {
		read = append(read, certs.Earliest(src, chain))
	}
	return out, read
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// CheckRecipients judges the recipients for `cotd check`: each line of the
// recipients file it cannot use is a problem (that recipient would get no
// mail), and each recipient's next send is shown in their own zone and in
// UTC, so a wrong tz= or at= shows before the morning it would spoil.
func CheckRecipients(jc job.Config, now time.Time) []Finding {
	var out []Finding
	for _, p := range jc.RecipientProblems {
		out = append(out, Finding{Trouble, "recipients", RecipientProblemLine(jc.RecipientsFile, p) + " (no mail for this line until it is fixed)", p.Fix})
	}
	for _, a := range jc.To {
		who := a.Address
		if a.Name != "" {
			who = a.Name + " <" + a.Address + ">"
		}
		out = append(out, Finding{OK, "recipient", who + ": " + NextSend(jc.Morning(a), now), ""})
	}
	return out
}

// NextSend words when a recipient's next mail is due: in their zone, in
// UTC, and the pause when they have one.
func NextSend(m schedule.Morning, now time.Time) string {
	next := m.NextSend(now)
	s := fmt.Sprintf("next %s %s, %s UTC", next.In(m.Loc).Format("2006-01-02 15:04"), zoneName(m.Loc, now), next.UTC().Format("2006-01-02 15:04"))
	if m.Paused(now) {
		s += ", paused until " + m.PausedUntil.String()
	}
	return s
}

// zoneName names loc as the owner wrote it; Go's "Local" is the machine's
// zone, named by its abbreviation.
func zoneName(loc *time.Location, now time.Time) string {
	if loc.String() == "Local" {
		z, _ := now.In(loc).Zone()
		return z
	}
	return loc.String()
}
