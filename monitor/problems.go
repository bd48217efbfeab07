package monitor

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"sort"
	"strings"
	"time"

	"cotd/schedule"

	"cotd/certs"
	"cotd/internal/text"
	"cotd/job"
	"cotd/recipients"
	"cotd/store"
)

// Key identifies a problem across runs: two problems with one key are one
// problem, alerted once a day while it lasts.
type Key string

// The problems a run can find. A certificate's key is CertKey(source).
const (
	Undelivered   Key = "undelivered"    // due mail not delivered this run
	RunFailed     Key = "run-failed"     // the run stopped before delivering
	GaveUp        Key = "gave-up"        // days older than --catch-up-max-days, never delivered
	Dropped       Key = "dropped"        // mail the server will never take, given up
	ClockJump     Key = "clock"          // the clock jumped far beyond the catch-up window
	PhotosSkipped Key = "photos-skipped" // files in the photo folder cotd cannot use
	QuotesProblem Key = "quotes"         // lines of the quotes file skipped
	BadRecipient  Key = "recipients"     // lines of the recipients file that could not be used: those get no mail
	CatsLow       Key = "cats-low"       // few unsent cats before they repeat
	WatchCerts    Key = "watch-certs"    // a watched certificate could not be read
	MailBroken    Key = "mail-broken"    // the push channel's one problem: mail itself fails
)

// CertKey is the key of the problem with the certificate from source.
func CertKey(source string) Key { return Key("cert:" + source) }

// IsCert reports whether k is a certificate's problem.
func (k Key) IsCert() bool { return strings.HasPrefix(string(k), "cert:") }

// Severity says what a problem does to `cotd status`; severity.go gives
// each kind its one.
type Severity string

const (
	// Error makes `cotd status` unhealthy (exit 1).
	Error Severity = "error"
	// Warning is told to the owner, but the probe stays green.
	Warning Severity = "warning"
)

// Problem is something the owner should hear about after a run.
type Problem struct {
	Key      Key
	Severity Severity
	Summary  string // one line: the alert's subject, a status line
	Detail   string // what happened and what to do
	// Recipients are the addresses mail was given up to (GaveUp,
	// Dropped): the problem lasts while one of them still refuses mail.
	Recipients []string
}

// urgentDays: a certificate that expires within this many days is an
// error (status unhealthy, check says problem), not only a warning.
const urgentDays = 3

// CertSeverity is how serious a certificate's state is; ok is false when
// there is nothing to say. One rule for the run's alerts, `cotd status`
// and `cotd check`.
func CertSeverity(st certs.Status) (sev Severity, ok bool) {
	switch {
	case st.Level == certs.OK:
		return "", false
	case st.Level == certs.Warn && st.DaysLeft > urgentDays:
		return Warning, true
	default:
		return Error, true
	}
}

// catsLowDays: fewer unsent cats than this and the owner is told to add
// photos, a week ahead of the first repeat.
const catsLowDays = 7

// maxListed bounds the files an alert lists, so a folder of HEIC photos
// makes a readable mail and a small database record.
const maxListed = 30

const retry = "The next run retries it (the timer runs every 15 minutes); to retry now: sudo systemctl start cotd.service"

// problems lists what the owner should hear about after this run.
func (m *Monitor) problems(sum job.Summary, runErr error, rec store.Run, unusable []string, now time.Time) []Problem {
	var out []Problem
	add := func(key Key, summary, detail string) {
		out = append(out, NewProblem(key, summary, m.scrub(detail)))
	}
	loc := m.c.Schedule.Loc
	switch {
	case stopped(sum):
		var b strings.Builder
		b.WriteString("The run was stopped (systemctl stop, a shutdown or ^C) before the cat mail went out; nothing was recorded as delivered that was not.\n")
		if len(sum.Plan.Open) > 0 {
			fmt.Fprintf(&b, "Due: %s to %d recipients.\n", schedule.List(sum.Plan.Open), len(m.c.Recipients))
		}
		b.WriteString(retry + ".")
		add(Undelivered, "the run was stopped before the cat mail went out (context canceled)", b.String())
	case sum.ConnErr != nil:
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n\n", text.OneLine(sum.ConnErr.Error()))
		b.WriteString("Nothing was delivered and nothing was recorded as delivered.\n")
		if len(sum.Plan.Open) > 0 {
			fmt.Fprintf(&b, "Due: %s to %d recipients.\n", schedule.List(sum.Plan.Open), len(m.c.Recipients))
		}
		b.WriteString(retry + "; `cotd check` tests the connection without sending.")
		add(Undelivered, "the cat mail could not be sent: the SMTP server refused or could not be reached", b.String())
	case len(sum.Failures) > 0:
		var b strings.Builder
		for _, f := range sum.Failures {
			fmt.Fprintf(&b, "- %s, %s: %s\n", f.To, schedule.List(f.Days), text.OneLine(fmt.Sprint(f.Err)))
		}
		b.WriteString("\n" + retry + "; a refused address is tried again the next day.")
		add(Undelivered, text.Plural(len(sum.Failures), "recipient did", "recipients did")+" not get the cat mail", b.String())
	case errors.Is(runErr, store.ErrDamaged) || errors.Is(runErr, store.ErrHistoryLost):
		_, hint := m.c.Classify(runErr)
		detail := text.OneLine(runErr.Error()) + "\n\nNothing is mailed until it is mended, so no day goes out twice."
		if hint != "" {
			detail += "\n\nWhat to do: " + hint
		}
		add(StateDamaged, "the database cannot be used: "+text.OneLine(runErr.Error()), detail)
	case errors.Is(runErr, schedule.ErrClockBackwards):
		_, hint := m.c.Classify(runErr)
		add(ClockBackwards, "the clock is behind the last run: nothing is mailed until it is right",
			text.OneLine(runErr.Error())+"\n\nNo day is mailed twice and nothing is recorded while the clock is behind.\n\nWhat to do: "+hint)
	case runErr != nil:
		code, hint := m.c.Classify(runErr)
		detail := text.OneLine(runErr.Error())
		if hint != "" {
			detail += "\n\nWhat to do: " + hint
		}
		add(RunFailed, fmt.Sprintf("the run failed (exit %d)", code), detail)
	}
	if len(sum.GaveUp) > 0 {
		add(GaveUp, "gave up on mail older than --catch-up-max-days",
			"Never delivered:\n- "+strings.Join(undeliveredLines(sum.GaveUp), "\n- ")+"\n\nThese days are older than --catch-up-max-days and will not be sent.")
		out[len(out)-1].Recipients = addresses(sum.GaveUp)
	}
	if len(sum.Dropped) > 0 {
		add(Dropped, "gave up on mail the server will not take",
			"Never delivered:\n- "+strings.Join(undeliveredLines(sum.Dropped), "\n- ")+"\n\nThe other days and recipients were not held up by these.")
		out[len(out)-1].Recipients = addresses(sum.Dropped)
	}
	if sum.ClockJump != nil {
		add(ClockJump, "the clock jumped far ahead: a clock problem?", sum.ClockJump.String())
	}
	if sum.Index.Unusable > 0 {
		list := unusable
		if len(list) == 0 {
			list = sum.Index.ReportLines()
		}
		// File names come from anyone who can write to the folder: one
		// with a line break must not forge lines in the owner's mail.
		var names []string
		for _, f := range list[:min(len(list), maxListed)] {
			names = append(names, text.Escape(f))
		}
		if len(list) > maxListed {
			names = append(names, fmt.Sprintf("… and %d more ('cotd check' counts them)", len(list)-maxListed))
		}
		list = names
		detail := "Convert them to JPEG or PNG, or move them out of the photo folder:\n- " + strings.Join(list, "\n- ")
		add(PhotosSkipped, text.Plural(sum.Index.Unusable, "photo file", "photo files")+" cannot be used", detail)
	}
	if len(sum.Problems) > 0 {
		add(QuotesProblem, text.Plural(len(sum.Problems), "problem", "problems")+" with the quotes",
			strings.Join(quotesProblemLines(sum.Problems), "\n")+"\n\nThese lines are skipped; fix them in the quotes file.")
	}
	if len(sum.RecipientProblems) > 0 {
		lines := RecipientProblemLines(sum.RecipientsFile, sum.RecipientProblems)
		whom := "those recipients"
		if len(lines) == 1 {
			whom = "that recipient"
		}
		add(BadRecipient, text.Plural(len(lines), "line", "lines")+" of the recipients file cannot be used: no mail for "+whom,
			"- "+strings.Join(lines, "\n- ")+"\n\nThe other recipients got their mail. Fix these lines in "+sum.RecipientsFile+
				" (the next run reads it again), then check it with: sudo cotd-service check")
	}
	if m.c.Photos != "" && rec.PhotosTotal > 0 && rec.PhotosLeft < catsLowDays {
		summary := fmt.Sprintf("only %s left before cats repeat", text.Plural(rec.PhotosLeft, "unsent cat", "unsent cats"))
		switch {
		case rec.PhotosTotal == 1:
			summary = "only 1 photo: the same cat every day"
		case rec.PhotosTotal < catsLowDays:
			summary = fmt.Sprintf("only %d photos: the same cats come back every %d days", rec.PhotosTotal, rec.PhotosTotal)
		}
		// "Unsent: 1 of 1 photo", not "1 of 1 photos have": the count
		// goes through text.Plural, and no verb needs to agree with it.
		add(CatsLow, summary, fmt.Sprintf(
			"Unsent in this round: %d of %s. Add new photos to %s; new photos go out first.",
			rec.PhotosLeft, text.Plural(rec.PhotosTotal, "photo", "photos"), text.Escape(m.c.Photos)))
	}
	for _, c := range rec.Certs {
		st := certs.Classify(expiry(c), now.In(loc), m.c.WarnDays)
		sev, ok := CertSeverity(st)
		if !ok {
			continue
		}
		var summary string
		switch st.Level {
		case certs.Warn:
			summary = fmt.Sprintf("the certificate of %s expires in %s", c.Source, text.Plural(st.DaysLeft, "day", "days"))
		case certs.Expired:
			summary = fmt.Sprintf("the certificate of %s has expired", c.Source)
		default:
			summary = fmt.Sprintf("the certificate of %s is not valid yet", c.Source)
		}
		detail := st.Message
		if c.Seen.Before(now) {
			detail += fmt.Sprintf(" (last seen %s)", c.Seen.In(loc).Format(text.Stamp))
		}
		if strings.HasPrefix(c.Source, "smtp ") {
			detail += "\n\ncotd refuses to send to a server whose certificate has expired: renew it before then, or ask your mail provider to."
		}
		p := NewProblem(CertKey(c.Source), summary, m.scrub(detail))
		p.Severity = sev // the one rule for certificates: CertSeverity
		out = append(out, p)
	}
	if len(rec.WatchErrors) > 0 {
		var lines []string
		for _, e := range rec.WatchErrors {
			lines = append(lines, text.Escape(e)) // they name files matched by a glob
		}
		add(WatchCerts, text.Plural(len(rec.WatchErrors), "watched certificate", "watched certificates")+" could not be checked",
			strings.Join(lines, "\n"))
	}
	sort.SliceStable(out, func(i, j int) bool { return urgency(out[i]) < urgency(out[j]) })
	return out
}

// urgency orders problems, most urgent first, so an alert's subject names
// the one to act on: mail that is not going out, then certificates about
// to stop it (the fewer days left the sooner), then mail given up, then
// advisories. Equal ranks keep the order problems() found them in.
func urgency(p Problem) int {
	switch {
	case p.Key == Undelivered || p.Key == RunFailed:
		return 0
	case p.Key.IsCert() && p.Severity == Error:
		return 1
	case p.Key == GaveUp || p.Key == Dropped || p.Key == ClockJump || p.Key == BadRecipient || p.Key == ClockNeverSet:
		return 2
	case p.Key.IsCert():
		return 3
	case p.Key == WatchCerts:
		return 4
	case p.Key == PhotosSkipped || p.Key == QuotesProblem:
		return 5
	}
	return 6 // CatsLow and anything new: advice, not an incident
}

// Advisory reports problems that do not keep the cats from going out:
// the owner is reminded of them weekly, not daily (they always show in
// `cotd status`). Incidents (undelivered, given up, certificates, failed
// runs) keep their daily reminder.
func (k Key) Advisory() bool {
	return k == CatsLow || k == PhotosSkipped || k == QuotesProblem
}

// Cleared is the news when a problem goes away, for the resolved note's
// subject ("resolved: all photo files can be used again").
func (k Key) Cleared() string {
	switch {
	case k == Undelivered:
		return "the cat mail goes out again"
	case k == RunFailed:
		return "runs succeed again"
	case k == GaveUp || k == Dropped:
		return "no more mail given up"
	case k == ClockJump:
		return "the clock runs normally again"
	case k == ClockBackwards:
		return "the clock is right again"
	case k == StateDamaged:
		return "the database can be used again"
	case k == PhotosSkipped:
		return "all photo files can be used again"
	case k == QuotesProblem:
		return "every line of the quotes file can be used again"
	case k == BadRecipient:
		return "every line of the recipients file can be used again"
	case k == CatsLow:
		return "enough new cats before any repeats"
	case k == WatchCerts:
		return "every watched certificate can be checked again"
	case k == RebootPending:
		return "the machine was rebooted"
	case k == DiskLow:
		return "enough free space again"
	case k == ReadOnlyFS:
		return "the filesystems are writable again"
	case k == ClockNeverSet:
		return "the clock is synchronised"
	case k == UnderVoltage:
		return "no under-voltage or throttling since the last boot"
	case k == BackupsStale:
		return "the snapshots of the database are current again"
	case k.IsCert():
		return "the certificate of " + strings.TrimPrefix(string(k), "cert:") + " is fine again"
	}
	return ""
}

// UndeliveredLine words a given-up day as the journal and the alert mail
// show it: "2026-03-02 to x@example.test", then ": why" when it was
// dropped for a reason.
func UndeliveredLine(u job.Undelivered) string {
	l := fmt.Sprintf("%s to %s", u.Day, strings.Join(u.To, ", "))
	if u.Reason != "" {
		l += ": " + u.Reason
	}
	return l
}

func undeliveredLines(us []job.Undelivered) []string {
	ls := make([]string, len(us))
	for i, u := range us {
		ls[i] = UndeliveredLine(u)
	}
	return ls
}

// QuotesProblemLine words a quotes problem as the journal, the alert mail
// and `cotd check` show it: "quotes.txt:3: not valid UTF-8; …" for a bad
// line, and what the run does instead for a file it cannot use.
func QuotesProblemLine(p job.QuotesProblem) string {
	switch p.Kind {
	case job.QuotesUnreadable:
		return fmt.Sprintf("quotes %s: %s; using the built-in quotes until it is fixed", p.File, p.Reason)
	case job.NoQuote:
		return fmt.Sprintf("%s has no usable quote; using the built-in quotes until it has one", p.File)
	}
	file := p.File
	if file == "" {
		file = "built-in quotes"
	}
	return fmt.Sprintf("%s:%d: %s", file, p.Line, p.Reason)
}

func quotesProblemLines(ps []job.QuotesProblem) []string {
	ls := make([]string, len(ps))
	for i, p := range ps {
		ls[i] = QuotesProblemLine(p)
	}
	return ls
}

// RecipientProblemLine words an unusable line of the recipients file as
// the journal and `cotd check` show it: where, what is wrong, the line.
func RecipientProblemLine(file string, p recipients.Problem) string {
	return fmt.Sprintf("%s:%d: %s: %s", file, p.Line, p.Reason, text.Escape(p.Text))
}

// RecipientProblemLines words the lines for the alert mail: each with the
// fix on a line of its own.
func RecipientProblemLines(file string, ps []recipients.Problem) []string {
	ls := make([]string, len(ps))
	for i, p := range ps {
		ls[i] = RecipientProblemLine(file, p) + "\n  fix: " + p.Fix
	}
	return ls
}

func addresses(us []job.Undelivered) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range us {
		for _, a := range u.To {
			if k := strings.ToLower(a); !seen[k] {
				seen[k] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// lasting carries the last run's "gave up" problems into this run's
// while their cause lasts (issue 24: the owner was told "resolved: no
// more mail given up" 15 minutes after the alert, while the recipient
// was still refused): a problem stays open while one of its recipients
// is still in --to and its last delivery failed; it resolves when each
// accepted mail again or was removed. stillRefused answers from the
// store.
func lasting(prev []store.Problem, current []Problem, recipients []*netmail.Address, stillRefused func(addr string) bool) []Problem {
	have := map[Key]bool{}
	for _, p := range current {
		have[p.Key] = true
	}
	in := map[string]bool{}
	for _, r := range recipients {
		in[strings.ToLower(r.Address)] = true
	}
	var out []Problem
	for _, p := range prev {
		k := Key(p.Key)
		if (k != GaveUp && k != Dropped) || have[k] {
			continue
		}
		var left []string
		for _, a := range p.Recipients {
			if in[strings.ToLower(a)] && stillRefused(strings.ToLower(a)) {
				left = append(left, a)
			}
		}
		if len(left) > 0 {
			out = append(out, Problem{Key: k, Severity: k.Severity(), Summary: p.Summary, Detail: p.Detail, Recipients: left})
		}
	}
	return out
}

// contentKeys are the findings about what the run reads (photos, quotes,
// the recipients file), which only a run that read them can clear.
var contentKeys = map[Key]bool{CatsLow: true, PhotosSkipped: true, QuotesProblem: true, BadRecipient: true}

// notLooked carries the previous run's findings about the content over a
// run that ended before it read any (a config error at run time, a damaged
// database): a run that did not look cannot report them mended (issue 25
// §5: with the photo folder gone, the owner was told "resolved: enough
// new cats").
func notLooked(prev []store.Problem, current []Problem) []Problem {
	have := map[Key]bool{}
	for _, p := range current {
		have[p.Key] = true
	}
	var out []Problem
	for _, p := range prev {
		if k := Key(p.Key); contentKeys[k] && !have[k] {
			out = append(out, Problem{Key: k, Severity: k.Severity(), Summary: p.Summary, Detail: p.Detail, Recipients: p.Recipients})
		}
	}
	return out
}
