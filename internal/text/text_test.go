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
