// Package text holds the few ways cotd puts things into words that every
// part of it must say alike: counted nouns, one-line messages, the
// timestamp format, how long ago. It is not a formatting library; a word
// used in one package stays in that package.
package text

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Stamp is the format of a moment shown to the owner: in the status, the
// alert mail, the journal's summary line.
const Stamp = "2006-01-02 15:04 MST"

// Plural counts: Plural(1, "cat", "cats") is "1 cat", Plural(2, …) "2 cats".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// OneLine makes s one line for a log line, a subject or a status row: runs
// of white space and control characters become one space, so a message
// that held a newline can neither break the line nor forge another.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)), " ")
}

const day = 24 * time.Hour

// DaysAgo says how many whole days lie behind: "today", "1 day ago",
// "3 days ago".
func DaysAgo(d time.Duration) string {
	switch n := int(d / day); n {
	case 0:
		return "today"
	case 1:
		return "1 day ago"
	default:
		return fmt.Sprintf("%d days ago", n)
	}
}

// Lasted says how long something went on, in the largest unit that reads
// well: "40 minutes", "5 hours", "3 days".
func Lasted(d time.Duration) string {
	switch {
	case d < time.Hour:
		return Plural(int(d/time.Minute), "minute", "minutes")
	case d < 2*day:
		return Plural(int(d/time.Hour), "hour", "hours")
	}
	return Plural(int(d/day), "day", "days")
}

// Escape makes a name from the outside world (a file name, an address a
// server echoed) safe to put into a line a person reads: control
// characters (a line break that would forge a line), bidirectional
// overrides (that would reorder what the reader sees) and bytes that are
// not UTF-8 are written as Go escapes (\n, \u202e, \xff), the way the
// journal shows them; every other character is left as it is.
func Escape(s string) string {
	clean := true
	for _, r := range s {
		if mustEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case mustEscape(r):
			q := strconv.QuoteRune(r) // '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func mustEscape(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
		r == '\u2028' || r == '\u2029' // line and paragraph separators break lines too
}
