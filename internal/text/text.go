// Package text holds the few ways cotd puts things into words that every
// part of it must say alike: counted nouns, one-line messages, the
// timestamp format, how long ago. It is not a formatting library; a word
// used in one package stays in that package.
package text

import (
	"fmt"
	"strings"
	"time"
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
