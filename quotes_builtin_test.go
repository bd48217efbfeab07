package main

import (
	"bytes"
	"strings"
	"testing"

	"cotd/quotes"
)

// TestBuiltinQuotes (issue 14 item 7): the embedded quotes.txt parses with
// no problem, every quote is credited (a source, or "proverb"/"unknown"),
// there are enough for three weeks without a repeat, none of the popular
// misattributions the old file carried is back, and the header says how
// to add your own.
func TestBuiltinQuotes(t *testing.T) {
	qs, problems, err := quotes.Parse(bytes.NewReader(defaultQuotes))
	if err != nil || len(problems) > 0 {
		t.Fatalf("built-in quotes: %v %v", err, problems)
	}
	if len(qs) < 21 {
		t.Errorf("%d built-in quotes, want at least 21 (three weeks before a repeat)", len(qs))
	}
	for _, q := range qs {
		if q.Author == "" {
			t.Errorf("%q has no credit; write its source, or proverb or unknown", q.Text)
		}
	}
	for _, bad := range []string{
		"Peter Drucker", "C. S. Lewis", "Nelson Mandela", "Walt Whitman", "Theodore Roosevelt",
		"Be yourself; everyone else is already taken", "The secret of getting ahead",
		"Kindness is a language", "Little by little, one travels far. — J. R. R. Tolkien",
	} {
		if bytes.Contains(defaultQuotes, []byte(bad)) {
			t.Errorf("quotes.txt carries the misattribution %q", bad)
		}
	}
	head := string(defaultQuotes[:min(len(defaultQuotes), 800)])
	if !strings.Contains(head, "# Add your own:") || !strings.Contains(head, "--quotes") {
		t.Errorf("quotes.txt's header does not say how to add your own:\n%s", head)
	}
}
