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
}

// AlertState is what cotd remembers about an open problem between runs;
// the caller persists the slice (as JSON, say) and hands it back next run.
type AlertState struct {
	Key         string    `json:"key"`
	Since       time.Time `json:"since"`        // first run that saw it
	LastAlerted time.Time `json:"last_alerted"` // zero: never alerted
	Summary     string    `json:"summary"`
}

// Reconcile decides what to tell the owner now. A problem is alerted when
// it is new or was last alerted on an earlier calendar day in loc (the
// owner's zone; nil means UTC), so an hourly timer sends at most one mail
// per problem per day. Problems in prev that are no longer current are
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
		if s.LastAlerted.IsZero() || !sameDay(s.LastAlerted, now, loc) {
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
		subject += "resolved: " + text.OneLine(resolved[0].Summary)
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
		if !s.Since.IsZero() {
			fmt.Fprintf(&b, "it had lasted since %s (%s)\n", s.Since.In(now.Location()).Format(text.Stamp), text.Lasted(now.Sub(s.Since)))
		}
	}
	alerted := map[string]bool{}
	for _, p := range alert {
		alerted[p.Key] = true
	}
	var open []AlertState
	for _, s := range next {
		if !alerted[s.Key] {
			open = append(open, s)
		}
	}
	if len(open) > 0 {
		b.WriteString("\nStill open, already reported today:\n")
		for _, s := range open {
			fmt.Fprintf(&b, "- %s (since %s)\n", text.OneLine(s.Summary), s.Since.In(now.Location()).Format(text.Stamp))
		}
	}
	b.WriteString("\nYou get one mail a day per problem while it lasts, and a note when it clears.\n")
	return subject, b.String()
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
