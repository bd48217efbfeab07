package monitor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"cotd/job"
	"cotd/schedule"
	"cotd/store"
)

// Each quotes problem is worded as the journal and `cotd check` have
// always shown it: the file and line of a bad line (the built-in quotes
// named as such), and what the run does instead for a file it cannot use.
func TestQuotesProblemLine(t *testing.T) {
	tests := []struct {
		name string
		p    job.QuotesProblem
		want string
	}{
		{"bad line", job.QuotesProblem{Kind: job.BadQuote, File: "quotes.txt", Line: 3, Reason: "not valid UTF-8; save quotes.txt as UTF-8"},
			"quotes.txt:3: not valid UTF-8; save quotes.txt as UTF-8"},
		{"bad built-in line", job.QuotesProblem{Kind: job.BadQuote, Line: 7, Reason: "same quote as line 2, skipped"},
			"built-in quotes:7: same quote as line 2, skipped"},
		{"unreadable", job.QuotesProblem{Kind: job.QuotesUnreadable, File: "/srv/cotd/quotes.txt", Reason: "permission denied; make it readable by the cotd user"},
			"quotes /srv/cotd/quotes.txt: permission denied; make it readable by the cotd user; using the built-in quotes until it is fixed"},
		{"no quote", job.QuotesProblem{Kind: job.NoQuote, File: "quotes.txt"},
			"quotes.txt has no usable quote; using the built-in quotes until it has one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := QuotesProblemLine(tt.p); got != tt.want {
				t.Errorf("QuotesProblemLine(%+v) =\n %q\nwant\n %q", tt.p, got, tt.want)
			}
		})
	}
}

// The alert mail lists the run's quotes problems one a line, worded as
// in the journal.
func TestQuotesAlertListsProblems(t *testing.T) {
	m := &Monitor{c: Config{Schedule: schedule.Settings{Loc: time.UTC}}}
	sum := job.Summary{Problems: []job.QuotesProblem{
		{Kind: job.BadQuote, File: "quotes.txt", Line: 2, Reason: "only an attribution, no quote before it"},
		{Kind: job.NoQuote, File: "quotes.txt"},
	}}
	var got *Problem
	for _, p := range m.problems(sum, nil, store.Run{}, nil, time.Now()) {
		if p.Key == QuotesProblem {
			got = &p
		}
	}
	if got == nil {
		t.Fatal("no quotes problem")
	}
	want := "quotes.txt:2: only an attribution, no quote before it\nquotes.txt has no usable quote; using the built-in quotes until it has one\n\n"
	if got.Summary != "2 problems with the quotes" || !strings.HasPrefix(got.Detail, want) {
		t.Errorf("quotes problem %q:\n%s\nwant the detail to start\n%s", got.Summary, got.Detail, want)
	}
}

// A run that ended before it read the photos and quotes keeps their
// findings open; it neither clears them nor doubles one it found itself.
func TestNotLookedKeepsContentFindings(t *testing.T) {
	prev := []store.Problem{
		{Key: string(CatsLow), Summary: "only 2 photos"},
		{Key: string(GaveUp), Summary: "gave up"},
		{Key: string(PhotosSkipped), Summary: "1 photo file cannot be used"},
		{Key: string(QuotesProblem), Summary: "1 problem with the quotes"},
	}
	current := []Problem{{Key: PhotosSkipped, Summary: "2 photo files cannot be used"}}
	got := notLooked(prev, current)
	var keys []Key
	for _, p := range got {
		keys = append(keys, p.Key)
		if p.Severity != p.Key.Severity() {
			t.Errorf("%s: severity %q, want the rule's %q", p.Key, p.Severity, p.Key.Severity())
		}
	}
	if want := []Key{CatsLow, QuotesProblem}; !slices.Equal(keys, want) {
		t.Errorf("carried over %v, want %v", keys, want)
	}
}
