package text

import (
	"testing"
	"time"
)

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 cats", 1: "1 cat", 2: "2 cats"} {
		if got := Plural(n, "cat", "cats"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb":                       "a b",
		"  smtp:\r\n  535 denied \t": "smtp: 535 denied",
		"x\x1b[31my":                 "x [31my",
		"Subject: a\r\nBcc: b":       "Subject: a Bcc: b",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDaysAgoAndLasted(t *testing.T) {
	h := time.Hour
	for d, want := range map[time.Duration]string{5 * h: "today", 30 * h: "1 day ago", 75 * h: "3 days ago"} {
		if got := DaysAgo(d); got != want {
			t.Errorf("DaysAgo(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{40 * time.Minute: "40 minutes", 5 * h: "5 hours", 47 * h: "47 hours", 72 * h: "3 days"} {
		if got := Lasted(d); got != want {
			t.Errorf("Lasted(%v) = %q, want %q", d, got, want)
		}
	}
}

// Names from the outside world cannot forge lines, reorder text or carry
// invalid UTF-8 into a mail (issue 11 item 12).
func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"photos/Katze.jpg":                   "photos/Katze.jpg",
		"photos/Zoë 猫.jpg":                   "photos/Zoë 猫.jpg",
		"photos/a.jpg\nPROBLEM: forged line": `photos/a.jpg\nPROBLEM: forged line`,
		"photos/\u202egpj.exe":               `photos/\u202egpj.exe`,
		"photos/\u2066x\u2069.jpg":           `photos/\u2066x\u2069.jpg`,
		"photos/bad\xff\xfe.jpg":             `photos/bad\xff\xfe.jpg`,
		"photos/cr\r.jpg\ttab\x1b[31m":       `photos/cr\r.jpg\ttab\x1b[31m`,
		"photos/sep\u2028line":               `photos/sep\u2028line`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
