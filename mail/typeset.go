package mail

import (
	"strings"
	"unicode"
)

// typeset turns typewriter quotes into typographic ones, the way a printed
// page has them: "it's" becomes “it’s”, and quotation marks inside a quote
// (nested, since the mail wraps every quote in “…”) become single ones, so
// `He said "meow"` reads “He said ‘meow’” and never “He said “meow””.
// Text that already uses curly quotes keeps them (nested ones turn single).
func typeset(s string, nested bool) string {
	if s == "" {
		return s
	}
	openD, closeD := "“", "”"
	if nested {
		openD, closeD = "‘", "’"
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		var prev, next rune
		if i > 0 {
			prev = rs[i-1]
		}
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch r {
		case '\'':
			if opening(prev, next) {
				b.WriteRune('‘')
			} else {
				b.WriteRune('’') // an apostrophe or a closing quote
			}
		case '"':
			if opening(prev, next) {
				b.WriteString(openD)
			} else {
				b.WriteString(closeD)
			}
		case '“':
			b.WriteString(openD)
		case '”':
			b.WriteString(closeD)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// opening reports whether a quotation mark between prev and next opens a
// quotation: it follows a space, an opening bracket or dash (or starts the
// text) and is followed by something to quote.
func opening(prev, next rune) bool {
	before := prev == 0 || unicode.IsSpace(prev) || strings.ContainsRune("([{—–-/“‘", prev)
	return before && next != 0 && !unicode.IsSpace(next)
}
