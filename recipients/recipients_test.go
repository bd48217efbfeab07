package recipients

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"cotd/schedule"
)

func TestParse(t *testing.T) {
	in := "\ufeff# family\n" +
		"Zoe Lima <zoe@example.test>  tz=Asia/Tokyo  at=07:30  paused-until=2027-01-05\n" +
		"\n" +
		"ana@example.test\n" +
		"\"Bo = Boss\" <bo@example.test>\tat=06:05\r\n" +
		"a=b@example.test tz=UTC\n"
	rs, ps, err := Parse(strings.NewReader(in))
	if err != nil || len(ps) != 0 {
		t.Fatalf("err %v, problems %v", err, ps)
	}
	type want struct {
		addr, name, zone, at, paused string
		line                         int
	}
	wants := []want{
		{"zoe@example.test", "Zoe Lima", "Asia/Tokyo", "07:30", "2027-01-05", 2},
		{"ana@example.test", "", "", "", "0000-00-00", 4},
		{"bo@example.test", "Bo = Boss", "", "06:05", "0000-00-00", 5},
		{"a=b@example.test", "", "UTC", "", "0000-00-00", 6},
	}
	if len(rs) != len(wants) {
		t.Fatalf("got %d recipients, want %d: %+v", len(rs), len(wants), rs)
	}
	for i, w := range wants {
		r := rs[i]
		zone, at := "", ""
		if r.Zone != nil {
			zone = r.Zone.String()
		}
		if r.At != nil {
			at = r.At.String()
		}
		got := want{r.Address.Address, r.Address.Name, zone, at, r.PausedUntil.String(), r.Line}
		if got != w {
			t.Errorf("recipient %d = %+v, want %+v", i, got, w)
		}
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct{ line, reason, fix string }{
		{"Ann <ann@example.test> tz=Asia/Tokio", `unknown time zone "Asia/Tokio"`, "tz=Asia/Tokyo"},
		{"ann@example.test tz=Local", `unknown time zone "Local"`, "IANA"},
		{"ann@example.test tz=", `unknown time zone ""`, "IANA"},
		{"Cy <cy@example.test> colour=red", `unknown setting "colour="`, "tz=Asia/Tokyo, at=07:30, paused-until=2027-01-05"},
		{"Dee <dee@", `is not valid`, "Zoe Lima <zoe@example.test>"},
		{"tz=Asia/Tokyo", `is not valid`, "Zoe Lima"},
		{"a@example.test, b@example.test", `more than one address`, "Zoe Lima"},
		{"eve@example.test paused-until=2027-13-01", `paused-until "2027-13-01" is not a date`, "paused-until=2027-01-05"},
		{"fay@example.test at=7.30", `send time "7.30" is not a 24-hour HH:MM time`, "at=07:30"},
		{"fay@example.test at=24:00", `send time "24:00"`, "at=07:30"},
		{"gus@example.test at=07:00 at=08:00", `at= is given twice`, "keep one at="},
		{"caf\xe9@example.test", `not valid UTF-8`, "UTF-8"},
	}
	for _, tt := range tests {
		rs, ps, err := Parse(strings.NewReader("ok@example.test\n" + tt.line + "\n"))
		if err != nil {
			t.Fatalf("%q: %v", tt.line, err)
		}
		if len(rs) != 1 || len(ps) != 1 {
			t.Fatalf("%q: %d recipients, problems %v; want the good line and one problem", tt.line, len(rs), ps)
		}
		p := ps[0]
		if p.Line != 2 || !strings.Contains(p.Reason, tt.reason) || !strings.Contains(p.Fix, tt.fix) {
			t.Errorf("%q: problem %+v, want line 2, reason with %q, fix with %q", tt.line, p, tt.reason, tt.fix)
		}
		if !utf8.ValidString(p.Text) || p.Text == "" {
			t.Errorf("%q: the problem's text %q is not the line made printable", tt.line, p.Text)
		}
	}
}

func TestParseDuplicate(t *testing.T) {
	_, _, err := Parse(strings.NewReader("zoe@example.test\n\nZoe <ZOE@Example.test> tz=Asia/Tokyo\n"))
	var dup *DuplicateError
	if !errors.As(err, &dup) || dup.First != 1 || dup.Line != 3 {
		t.Fatalf("err = %v, want a duplicate of line 1 on line 3", err)
	}
}

// A line quoted back to the owner never carries a control character: it
// would forge lines in the alert mail.
func TestProblemTextPrintable(t *testing.T) {
	_, ps, err := Parse(strings.NewReader("Eve <e@example.test> x=\x1b[31m\u2028Bcc: y\n"))
	if err != nil || len(ps) != 1 {
		t.Fatalf("err %v, problems %v", err, ps)
	}
	if strings.ContainsAny(ps[0].Text, "\x1b\u2028\r\n") {
		t.Errorf("problem text %q keeps a control character", ps[0].Text)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Zoe Lima <zoe@example.test>  tz=Asia/Tokyo  at=07:30  paused-until=2027-01-05\n")
	f.Add("a@example.test\nA@example.test\n")
	f.Add("# c\n\n\"x=y\" <x@example.test> at=25:00 tz=Nowhere\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs, ps, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, r := range rs {
			k := strings.ToLower(r.Address.Address)
			if seen[k] {
				t.Fatalf("%q listed twice", k)
			}
			seen[k] = true
			if r.At != nil {
				if _, err := schedule.ParseClock(r.At.String()); err != nil {
					t.Fatalf("at %v does not round-trip", r.At)
				}
			}
		}
		for _, p := range ps {
			if p.Line < 1 || p.Reason == "" || p.Fix == "" || strings.ContainsAny(p.Text, "\r\n") {
				t.Fatalf("problem %+v", p)
			}
		}
	})
}
