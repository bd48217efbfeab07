// Package quotes reads the quotes file: one quote per line, an optional
// attribution after " — " or " -- ", '#' comments and blank lines ignored.
//
// It is forgiving about how the file was saved (BOM, CRLF, any editor) and
// strict about what it hands on: every quote is valid UTF-8 without control
// characters, and every line it could not use is named with its reason.
package quotes

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLine is the longest line read as a quote, in bytes. Longer lines are
// skipped (and read in pieces, so a 10 MB line costs no 10 MB of memory).
const MaxLine = 2000

// MaxQuotes is how many quotes are read from one file: 27 years of days
// without a repeat. The rest of a bigger file is not read, so a huge or
// runaway quotes.txt costs neither memory nor a ballooning database.
const MaxQuotes = 10_000

// MaxBytes is how much of the file is read at most, so a run over a
// 200 MB file of junk lines stays quick and small.
const MaxBytes = 16 << 20

// maxProblems is how many bad lines are named one by one; the rest are
// counted in one line.
const maxProblems = 100

// Quote is one usable line.
type Quote struct {
	Text   string
	Author string // empty when the line has no attribution
	Line   int
}

// ID identifies a quote by its words, so moving lines around or adding
// others does not make a quote new.
func (q Quote) ID() string {
	h := sha256.Sum256([]byte(q.Text + "\x00" + q.Author))
	return hex.EncodeToString(h[:8])
}

// Problem is a line that could not be used.
type Problem struct {
	Line   int
	Reason string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// Parse reads quotes from r, streaming: memory stays bounded whatever the
// size of the file (at most MaxQuotes quotes from the first MaxBytes, and
// maxProblems problems named one by one). The error is only for reading
// failures; bad lines are reported as problems and skipped.
func Parse(r io.Reader) ([]Quote, []Problem, error) {
	lr := &io.LimitedReader{R: r, N: MaxBytes}
	br := bufio.NewReaderSize(lr, 64*1024)
	var qs []Quote
	var ps []Problem
	more, lastBad := 0, 0 // problems beyond maxProblems, and the last one's line
	problem := func(n int, reason string) {
		if len(ps) < maxProblems {
			ps = append(ps, Problem{n, reason})
		} else {
			more, lastBad = more+1, n
		}
	}
	done := func() ([]Quote, []Problem, error) {
		if more > 0 {
			ps = append(ps, Problem{lastBad, fmt.Sprintf("and %d more lines with problems, up to this one", more)})
		}
		return qs, ps, nil
	}
	seen := map[string]int{}
	for n := 1; ; n++ {
		line, long, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return qs, ps, err
		}
		if len(qs) == MaxQuotes && (len(line) > 0 || long) {
			ps = append(ps, Problem{n, fmt.Sprintf("more than %d quotes; this line and the rest of the file are not read", MaxQuotes)})
			return done()
		}
		if len(line) > 0 || long {
			if n == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			}
			q, reason := parseLine(line, long)
			switch {
			case reason != "":
				problem(n, reason)
			case q.Text == "":
				// blank or comment
			default:
				q.Line = n
				if first, dup := seen[q.ID()]; dup {
					problem(n, fmt.Sprintf("same quote as line %d, skipped", first))
					break
				}
				seen[q.ID()] = n
				qs = append(qs, q)
			}
		}
		if errors.Is(err, io.EOF) {
			if lr.N == 0 {
				if k, _ := r.Read(make([]byte, 1)); k > 0 {
					ps = append(ps, Problem{n, fmt.Sprintf("the file is larger than %d MiB; the rest is not read", MaxBytes>>20)})
				}
			}
			return done()
		}
	}
}

// readLine returns the next line without its line ending. A line longer
// than MaxLine is drained and reported as long with its first bytes only.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLine+2 {
			long = true
		} else {
			buf = append(buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == nil {
			buf = bytes.TrimSuffix(buf, []byte("\n"))
		}
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		if err == nil && len(buf) == 0 && !long {
			buf = []byte{} // an empty line, not the end
		}
		return buf, long, err
	}
}

var separators = []string{" — ", " -- ", " – "}

func parseLine(raw []byte, long bool) (Quote, string) {
	if long {
		return Quote{}, fmt.Sprintf("line is longer than %d bytes, skipped (one quote per line)", MaxLine)
	}
	if !utf8.Valid(raw) {
		return Quote{}, "not valid UTF-8; save quotes.txt as UTF-8"
	}
	s := strings.TrimSpace(clean(string(raw)))
	if s == "" || strings.HasPrefix(s, "#") {
		return Quote{}, ""
	}
	text, author := s, ""
	for _, sep := range separators {
		if i := strings.LastIndex(s, sep); i >= 0 {
			text, author = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+len(sep):])
			break
		}
	}
	if text == "" {
		return Quote{}, "only an attribution, no quote before it"
	}
	if strings.HasPrefix(s, "—") || strings.HasPrefix(s, "-- ") {
		return Quote{}, "only an attribution, no quote before it"
	}
	return Quote{Text: text, Author: author}, ""
}

// clean turns tabs into spaces and drops other control and format
// characters, which would otherwise reach mail headers and HTML.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case unicode.IsControl(r), r == '\u2028', r == '\u2029', r == '\ufeff':
			return -1
		}
		return r
	}, s)
}
