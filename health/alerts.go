package health

import (
	"fmt"
	"strings"
	"time"

	"cotd/internal/text"
)

// Problem is something the owner should hear about.
type Problem struct {
	// Key identifies the problem across runs; it must be stable, e.g.
	// "undelivered", "cert:smtp mail.example.test:587", "photos-skipped",
	// "cats-low". Two problems with one key are one problem.
	Key string
	// Summary is one short line, used in the subject.
	Summary string
	// Detail says what happened, since when and what to do.
	Detail string
	// Advisory marks a problem that does not stop the mail (few cats left,
	// files to convert): reminded at most weekly, not daily, so a lasting
	// advisory does not train the owner to ignore cotd's mail.
	Advisory bool
	// Cleared is the news when the problem goes away, e.g. "all photo
	// files can be used again"; empty means "resolved: " + Summary.
	Cleared string
}

// AdvisoryEvery is how often a lasting advisory is mailed again.
const AdvisoryEvery = 7 // days

// AlertState is what cotd remembers about an open problem between runs;
// the caller persists the slice (as JSON, say) and hands it back next run.
type AlertState struct {
	Key         string    `json:"key"`
	Since       time.Time `json:"since"`        // first run that saw it
	LastAlerted time.Time `json:"last_alerted"` // zero: never alerted
	Summary     string    `json:"summary"`
	// Cleared is the problem's news for when it clears (Problem.Cleared).
	Cleared string `json:"cleared,omitempty"`
	// Thread is the Message-ID of the first alert that reported the
	// problem: its reminders and its resolved note reply to it, so a
	// mail client shows one conversation per problem.
	Thread string `json:"thread,omitempty"`
}

// Reconcile decides what to tell the owner now. A problem is alerted when
// it is new or was last alerted on an earlier calendar day in loc (the
// owner's zone; nil means UTC), so an hourly timer sends at most one mail
// per problem per day; an advisory is alerted again only AdvisoryEvery
// calendar days after its last alert. Problems in prev that are no longer current are
// resolved. next is the state to persist: one entry per current problem,
// in the order of current, keeping Since from prev.
//
// A problem that clears and comes back on the same day is alerted again:
// it is a new occurrence and the owner was told it had cleared.
func Reconcile(prev []AlertState, current []Problem, now time.Time, loc *time.Location) (alert []Problem, resolved []AlertState, next []AlertState) {
	if loc == nil {
		loc = time.UTC
	}
	old := make(map[string]AlertState, len(prev))
	for _, s := range prev {
		if _, dup := old[s.Key]; !dup {
			old[s.Key] = s
		}
	}
	seen := make(map[string]bool, len(current))
	for _, p := range current {
		if seen[p.Key] {
			continue
		}
		seen[p.Key] = true
		s, known := old[p.Key]
		if !known {
			s = AlertState{Key: p.Key, Since: now}
		}
		s.Summary = p.Summary
		s.Cleared = p.Cleared
		due := s.LastAlerted.IsZero() || !sameDay(s.LastAlerted, now, loc)
		if p.Advisory && !s.LastAlerted.IsZero() {
			due = daysBetween(s.LastAlerted, now, loc) >= AdvisoryEvery
		}
		if due {
			alert = append(alert, p)
			s.LastAlerted = now
		}
		next = append(next, s)
	}
	done := map[string]bool{}
	for _, s := range prev {
		if !seen[s.Key] && !done[s.Key] {
			done[s.Key] = true
			resolved = append(resolved, s)
		}
	}
	return alert, resolved, next
}

// daysBetween counts calendar days in loc from a to b.
func daysBetween(a, b time.Time, loc *time.Location) int {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return int(time.Date(by, bm, bd, 12, 0, 0, 0, time.UTC).Sub(time.Date(ay, am, ad, 12, 0, 0, 0, time.UTC)).Hours()+1) / 24
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return ay == by && am == bm && ad == bd
}

// AlertText formats the plain-text alert mail for the problems to alert and
// the resolved ones; next (from Reconcile) supplies since when each problem
// has lasted and the problems still open but already reported today. Times
// are shown in now's location. With nothing to alert or resolve, subject
// and body are empty: send nothing.
func AlertText(alert []Problem, resolved []AlertState, next []AlertState, host string, now time.Time) (subject, body string) {
	if len(alert) == 0 && len(resolved) == 0 {
		return "", ""
	}
	if host == "" {
		host = "this machine"
	}
	state := map[string]AlertState{}
	for _, s := range next {
		state[s.Key] = s
	}

	subject = "cotd on " + text.OneLine(host) + ": "
	switch {
	case len(alert) == 1:
		subject += text.OneLine(alert[0].Summary)
	case len(alert) > 1:
		subject += fmt.Sprintf("%s (and %s)", text.OneLine(alert[0].Summary), text.Plural(len(alert)-1, "more problem", "more problems"))
	case len(resolved) == 1:
		subject += cleared(resolved[0])
	default:
		subject += text.Plural(len(resolved), "problem", "problems") + " resolved"
	}
	if len(alert) > 0 && len(resolved) > 0 {
		subject += ", " + text.Plural(len(resolved), "resolved", "resolved")
	}

	var b strings.Builder
	fmt.Fprintf(&b, "cotd on %s, %s\n", text.OneLine(host), now.Format(text.Stamp))
	for _, p := range alert {
		fmt.Fprintf(&b, "\nPROBLEM: %s\n", text.OneLine(p.Summary))
		if s, ok := state[p.Key]; ok && !s.Since.IsZero() && s.Since.Before(now) {
			fmt.Fprintf(&b, "since %s (%s)\n", s.Since.In(now.Location()).Format(text.Stamp), text.Lasted(now.Sub(s.Since)))
		} else {
			b.WriteString("first seen on this run\n")
		}
		if d := strings.TrimSpace(strings.ReplaceAll(p.Detail, "\r\n", "\n")); d != "" {
			b.WriteString("\n" + indent(d) + "\n")
		}
	}
	for _, s := range resolved {
		fmt.Fprintf(&b, "\nRESOLVED: %s\n", text.OneLine(s.Summary))
		if s.Cleared != "" {
			fmt.Fprintf(&b, "%s\n", upper(text.OneLine(s.Cleared)))
		}
		if !s.Since.IsZero() {
			fmt.Fprintf(&b, "it had lasted since %s (%s)\n", s.Since.In(now.Location()).Format(text.Stamp), text.Lasted(now.Sub(s.Since)))
		}
	}
	alerted := map[string]bool{}
	for _, p := range alert {
		alerted[p.Key] = true
	}
	var today, earlier []AlertState
	for _, s := range next {
		switch {
		case alerted[s.Key]:
		case sameDay(s.LastAlerted, now, now.Location()):
			today = append(today, s)
		default:
			earlier = append(earlier, s)
		}
	}
	for _, group := range []struct {
		head string
		list []AlertState
	}{{"Still open, already reported today:", today}, {"Still open, reported earlier (reminded weekly):", earlier}} {
		if len(group.list) == 0 {
			continue
		}
		b.WriteString("\n" + group.head + "\n")
		for _, s := range group.list {
			fmt.Fprintf(&b, "- %s (since %s)\n", text.OneLine(s.Summary), s.Since.In(now.Location()).Format(text.Stamp))
		}
	}
	b.WriteString("\nA problem that keeps the cats from going out is reminded once a day while it lasts;\n" +
		"an advisory (few cats left, files to convert) once a week; each gets a note when it clears.\n" +
		"`cotd status` shows all of them at any time.\n")
	return subject, b.String()
}

// cleared is the subject of a resolved-only mail: the news, not the old
// problem ("resolved: all photo files can be used again").
func cleared(s AlertState) string {
	if s.Cleared != "" {
		return "resolved: " + text.OneLine(s.Cleared)
	}
	return "resolved: " + text.OneLine(s.Summary)
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l = strings.TrimRight(l, " \t"); l != "" {
			lines[i] = "  " + l
		} else {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}
