package job

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"cotd/quotes"
	"cotd/store"
)

// indexQuotes reads the quotes and records new ones; it returns the usable
// quotes and what is wrong with them.
func (j *Job) indexQuotes() ([]quotes.Quote, []QuotesProblem, error) {
	name := "" // the built-in quotes
	var src io.Reader = bytes.NewReader(j.DefaultQuotes)
	var problems []QuotesProblem
	if j.Quotes != "" {
		// Streamed, never read whole: quotes.Parse bounds what a huge
		// file costs.
		f, err := os.Open(j.Quotes)
		if err != nil {
			problems = append(problems, QuotesProblem{Kind: QuotesUnreadable, File: j.Quotes, Reason: reason(err)})
		} else {
			defer f.Close()
			name, src = j.Quotes, f
		}
	}
	qs, ps, err := quotes.Parse(src)
	if err != nil && name != "" {
		problems = append(problems, QuotesProblem{Kind: QuotesUnreadable, File: j.Quotes, Reason: reason(err)})
		name = ""
		qs, ps, err = quotes.Parse(bytes.NewReader(j.DefaultQuotes))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read built-in quotes: %w", err)
	}
	for _, p := range ps {
		problems = append(problems, QuotesProblem{Kind: BadQuote, File: name, Line: p.Line, Reason: p.Reason})
	}
	if len(qs) == 0 && name != "" {
		problems = append(problems, QuotesProblem{Kind: NoQuote, File: name})
		qs, _, _ = quotes.Parse(bytes.NewReader(j.DefaultQuotes))
	}
	if len(qs) == 0 {
		qs = []quotes.Quote{fallbackQuote}
	}
	now := j.now()
	err = j.Store.Update(func(tx *store.Tx) error {
		for _, q := range qs {
			if _, ok, err := tx.Quote(q.ID()); err != nil || ok {
				if err != nil {
					return err
				}
				continue
			}
			if err := tx.PutQuote(store.Quote{ID: q.ID(), Text: q.Text, Author: q.Author, Added: now}); err != nil {
				return err
			}
		}
		return nil
	})
	return qs, problems, err
}

var fallbackQuote = quotes.Quote{Text: "Time spent with cats is never wasted.", Author: "Sigmund Freud", Line: 1}
