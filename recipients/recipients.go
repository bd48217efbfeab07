// Package recipients reads the recipients file: one recipient a line, an
// address optionally followed by key=value settings of their own morning
// (tz=, at=, paused-until=), '#' comments and blank lines ignored:
//
//	Zoe Lima <zoe@example.test>  tz=Asia/Tokyo  at=07:30  paused-until=2027-01-05
//
// It parses and checks; who is owed which day is the job's question. A
// line it cannot use is named with its number, its text and the fix, so
// that the run can deliver to the others and tell the owner, rather than
// dropping that recipient without a word.
package recipients

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"cotd/mail"
	"cotd/schedule"
)

// MaxBytes is how much of the file is read; a family list is a few
// hundred bytes, so anything beyond this is not a recipients file.
const MaxBytes = 1 << 20

// Recipient is one usable line. Zone and At are nil when the line leaves
// them to the global --tz and --at.
type Recipient struct {
	Address     *netmail.Address
	Zone        *time.Location
	At          *schedule.Clock
	PausedUntil schedule.Day // zero: not paused
	Line        int
}

// Problem is a line that could not be used: its recipient gets no mail
// until it is fixed, and the owner is told.
type Problem struct {
	Line   int
	Text   string // the line as written (control characters removed)
	Reason string // what is wrong
	Fix    string // what to write instead
}

func (p Problem) String() string {
	return fmt.Sprintf("line %d: %s (%s)", p.Line, p.Reason, p.Fix)
}

// DuplicateError is an address listed on two lines. It is refused like a
// duplicate in --to: which line holds the right settings is the owner's
// call, not cotd's.
type DuplicateError struct {
	Address     string
	First, Line int
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("line %d: %s is already listed on line %d", e.Line, e.Address, e.First)
}

// keys lists the settings a line may carry, with an example each.
var keys = []struct{ name, example string }{
	{"tz", "tz=Asia/Tokyo"},
	{"at", "at=07:30"},
	{"paused-until", "paused-until=2027-01-05"},
}

// Parse reads the recipients from r. Lines it cannot use are problems; the
// error is for reading failures and duplicates.
func Parse(r io.Reader) ([]Recipient, []Problem, error) {
	sc := bufio.NewScanner(io.LimitReader(r, MaxBytes))
	sc.Buffer(make([]byte, 0, 4096), MaxBytes)
	var out []Recipient
	var ps []Problem
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		if n == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		rc, p, ok := parseLine(raw)
		if !ok {
			continue // blank or comment
		}
		if p != nil {
			p.Line = n
			ps = append(ps, *p)
			continue
		}
		rc.Line = n
		k := strings.ToLower(rc.Address.Address)
		if first, dup := seen[k]; dup {
			return nil, nil, &DuplicateError{Address: rc.Address.Address, First: first, Line: n}
		}
		seen[k] = n
		out = append(out, rc)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read recipients: %w", err)
	}
	return out, ps, nil
}

// parseLine reads one line; ok is false for a blank line or a comment.
func parseLine(raw string) (Recipient, *Problem, bool) {
	bad := func(reason, fix string) (Recipient, *Problem, bool) {
		return Recipient{}, &Problem{Text: printable(raw), Reason: reason, Fix: fix}, true
	}
	if !utf8.ValidString(raw) {
		return bad("not valid UTF-8", "save the recipients file as UTF-8")
	}
	s := strings.TrimSpace(strings.ReplaceAll(raw, "\t", " "))
	if s == "" || strings.HasPrefix(s, "#") {
		return Recipient{}, nil, false
	}
	// Settings are the trailing key=value words; the first word is always
	// part of the address, so an address with '=' in it stays one.
	fields := strings.Fields(s)
	end := len(fields)
	for end > 1 && isSetting(fields[end-1]) {
		end--
	}
	var rc Recipient
	a, err := mail.ParseAddress(strings.Join(fields[:end], " "))
	if err != nil {
		return bad(err.Error(), "write the address like 'Zoe Lima <zoe@example.test>' or zoe@example.test, then any of "+examples())
	}
	rc.Address = a
	set := map[string]bool{}
	for _, f := range fields[end:] {
		k, v, _ := strings.Cut(f, "=")
		if set[k] {
			return bad(fmt.Sprintf("%s= is given twice", k), "keep one "+k+"=")
		}
		set[k] = true
		switch k {
		case "tz":
			loc, err := loadZone(v)
			if err != nil {
				return bad(fmt.Sprintf("unknown time zone %q", v), "use an IANA zone name such as tz=Asia/Tokyo or tz=America/New_York (see timedatectl list-timezones)")
			}
			rc.Zone = loc
		case "at":
			c, err := schedule.ParseClock(v)
			if err != nil {
				return bad(err.Error(), "write the time like at=07:30")
			}
			rc.At = &c
		case "paused-until":
			d, err := schedule.ParseDay(v)
			if err != nil {
				return bad(fmt.Sprintf("paused-until %q is not a date", v), "write the first day they get mail again like paused-until=2027-01-05, or remove it")
			}
			rc.PausedUntil = d
		default:
			return bad(fmt.Sprintf("unknown setting %q", k+"="), "the settings are "+examples())
		}
	}
	return rc, nil, true
}

// isSetting reports whether f is written as a setting: a lower-case word,
// '=', a value.
func isSetting(f string) bool {
	k, _, ok := strings.Cut(f, "=")
	if !ok || k == "" {
		return false
	}
	for _, r := range k {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

func loadZone(v string) (*time.Location, error) {
	if v == "" || v == "Local" { // "Local" is Go's word for the machine's zone, not a zone
		return nil, errors.New("no zone")
	}
	return time.LoadLocation(v)
}

func examples() string {
	var s []string
	for _, k := range keys {
		s = append(s, k.example)
	}
	return strings.Join(s, ", ")
}

// printable drops control characters, so a line quoted back in the
// owner's mail cannot forge lines of its own.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s))
}
