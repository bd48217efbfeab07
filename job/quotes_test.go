package job_test

// The quotes problems of a run, read as the owner reads them: worded by
// monitor, which imports job, so these tests live outside package job.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cotd/job"
	"cotd/monitor"
	"cotd/quotes"
	"cotd/schedule"
	"cotd/store"
)

// lines words a run's quotes problems as the journal shows them.
func lines(ps []job.QuotesProblem) []string {
	var ls []string
	for _, p := range ps {
		ls = append(ls, monitor.QuotesProblemLine(p))
	}
	return ls
}

// Quotes files as editors and accidents leave them: the cat always goes
// out, with the file's quote when there is one and a built-in one (and a
// line saying so) when there is not.
func TestBadQuotesFiles(t *testing.T) {
	tests := []struct {
		name     string
		content  []byte // nil: the file is missing
		want     string // the quote mailed
		problems []string
	}{
		{"BOM", []byte("\xef\xbb\xbfCats rule. — Me\n"), "Cats rule.", nil},
		{"CRLF", []byte("# mine\r\nCats rule. — Me\r\n"), "Cats rule.", nil},
		{"invalid UTF-8", []byte("Caf\xe9 cats. — Me\nCats rule. — Me\n"), "Cats rule.", []string{":1: not valid UTF-8"}},
		{"10 MB line", append(bytes.Repeat([]byte("x"), 10<<20), "\nCats rule. — Me\n"...), "Cats rule.", []string{":1: line is longer than"}},
		{"only comments", []byte("# one\n# two\n\n"), "Built in.", []string{"has no usable quote; using the built-in quotes"}},
		{"empty", []byte{}, "Built in.", []string{"has no usable quote; using the built-in quotes"}},
		{"missing", nil, "Built in.", []string{"it vanished or is a broken link; using the built-in quotes until it is fixed"}},
		{"only bad lines", []byte("\xff\xfe\n"), "Built in.", []string{":1: not valid UTF-8", "has no usable quote"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &job.FakeSender{}
			j, _ := job.NewTestJob(t, 1, "a@example.test", fs)
			j.Quotes = filepath.Join(t.TempDir(), "quotes.txt")
			if tt.content != nil {
				os.WriteFile(j.Quotes, tt.content, 0o644)
			}
			sum, err := j.Run(context.Background())
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if sum.Sent != 1 {
				t.Fatalf("sent %d, want the cat to go out", sum.Sent)
			}
			var d store.Day
			j.Store.View(func(tx *store.Tx) error { d, _, _ = tx.Day(schedule.Day{Year: 2026, Month: 3, Day: 2}); return nil })
			if d.Text != tt.want {
				t.Errorf("mailed quote %q, want %q", d.Text, tt.want)
			}
			all := strings.Join(lines(sum.Problems), "\n")
			for _, p := range tt.problems {
				if !strings.Contains(all, p) {
					t.Errorf("problems %q lack %q", lines(sum.Problems), p)
				}
			}
			if len(tt.problems) == 0 && len(sum.Problems) > 0 {
				t.Errorf("unexpected problems %q", lines(sum.Problems))
			}
		})
	}
}

// A huge quotes.txt (issue 11 item 8) is streamed, not read whole, and
// only its first quotes.MaxQuotes are kept: the run mails, says what it
// left out, and the database does not balloon.
func TestHugeQuotesFileBounded(t *testing.T) {
	j, _ := job.NewTestJob(t, 1, "a@example.test", &job.FakeSender{})
	j.Quotes = filepath.Join(t.TempDir(), "quotes.txt")
	f, err := os.Create(j.Quotes)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range 400_000 { // about 20 MB, the size that made a 121 MB database
		fmt.Fprintf(w, "Cats sleep %d hours a day, and this is quote number %d of a very long file. — Someone\n", i%24, i)
	}
	w.Flush()
	f.Close()

	sum, err := j.Run(context.Background())
	if err != nil || sum.Sent != 1 {
		t.Fatalf("run: %v, sent %d", err, sum.Sent)
	}
	if !strings.Contains(strings.Join(lines(sum.Problems), "\n"), "more than 10000 quotes; this line and the rest of the file are not read") {
		t.Errorf("problems %q do not say the rest was left out", lines(sum.Problems))
	}
	n := 0
	j.Store.View(func(tx *store.Tx) error { return tx.EachQuote(func(store.Quote) error { n++; return nil }) })
	if n > quotes.MaxQuotes {
		t.Errorf("%d quotes stored; want at most %d", n, quotes.MaxQuotes)
	}
	fi, err := os.Stat(filepath.Join(filepath.Dir(j.CacheDir), "cotd.db"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 16<<20 {
		t.Errorf("the database is %d MiB after one run; want it bounded by the quotes kept", fi.Size()>>20)
	}
}
