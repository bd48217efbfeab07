package schedule

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func day(t *testing.T, s string) Day {
	t.Helper()
	d, err := ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func days(ds []Day) string {
	var b []string
	for _, d := range ds {
		b = append(b, d.String())
	}
	return strings.Join(b, ",")
}

func TestDecide(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	seven := Clock{7, 0}
	tests := []struct {
		name      string
		st        State
		now       string
		mode      Mode
		max       int
		open      string
		skipped   string
		nskipped  int // when the list is too long to spell out
		next      string
		backwards bool
	}{
		{name: "first run before send time sends nothing",
			now: "2026-03-02 06:59", open: "", next: "2026-03-02 07:00"},
		{name: "first run after send time sends today",
			now: "2026-03-02 08:00", open: "2026-03-02", next: "2026-03-03 07:00"},
		{name: "first run at the send time exactly",
			now: "2026-03-02 07:00", open: "2026-03-02", next: "2026-03-03 07:00"},
		{name: "second run after an early first run sends today",
			st:  State{FirstRun: atB("2026-03-02 06:59"), LastRun: atB("2026-03-02 06:59")},
			now: "2026-03-02 08:00", open: "2026-03-02"},
		{name: "rerun the same day sends nothing",
			st:  State{FirstRun: atB("2026-03-02 08:00"), LastRun: atB("2026-03-02 08:00"), Last: dB("2026-03-02")},
			now: "2026-03-02 09:00", open: "", next: "2026-03-03 07:00"},
		{name: "next morning before the send time",
			st:  State{FirstRun: atB("2026-03-02 08:00"), LastRun: atB("2026-03-02 08:00"), Last: dB("2026-03-02")},
			now: "2026-03-03 06:00", open: "", next: "2026-03-03 07:00"},
		{name: "four days later: three missed plus today",
			st:  State{FirstRun: atB("2026-03-02 08:00"), LastRun: atB("2026-03-02 08:00"), Last: dB("2026-03-02")},
			now: "2026-03-06 08:00", open: "2026-03-03,2026-03-04,2026-03-05,2026-03-06"},
		{name: "four days later but before the send time: missed days only",
			st:  State{FirstRun: atB("2026-03-02 08:00"), LastRun: atB("2026-03-02 08:00"), Last: dB("2026-03-02")},
			now: "2026-03-06 06:00", open: "2026-03-03,2026-03-04,2026-03-05", next: "2026-03-06 07:00"},
		{name: "cap of two after ten days down (the issue's example)",
			st:  State{FirstRun: atB("2026-03-01 08:00"), LastRun: atB("2026-03-02 08:00"), Last: dB("2026-03-02")},
			now: "2026-03-12 08:00", max: 2,
			open: "2026-03-10,2026-03-11,2026-03-12", skipped: "2026-03-03,2026-03-04,2026-03-05,2026-03-06,2026-03-07,2026-03-08,2026-03-09"},
		{name: "cap of zero delivers only today",
			st:  State{FirstRun: atB("2026-03-01 08:00"), LastRun: atB("2026-03-02 08:00"), Last: dB("2026-03-02")},
			now: "2026-03-04 08:00", max: 0, open: "2026-03-04", skipped: "2026-03-03"},
		{name: "skip mode records missed days as skipped",
			st:  State{FirstRun: atB("2026-03-01 08:00"), LastRun: atB("2026-03-02 08:00"), Last: dB("2026-03-02")},
			now: "2026-03-05 08:00", mode: Skip,
			open: "2026-03-05", skipped: "2026-03-03,2026-03-04"},
		{name: "clock went backwards",
			st:  State{FirstRun: atB("2026-03-02 08:00"), LastRun: atB("2026-03-06 08:00"), Last: dB("2026-03-06")},
			now: "2026-03-05 08:00", backwards: true},
		{name: "clock a minute behind the last run is still refused",
			st:  State{FirstRun: atB("2026-03-02 08:00"), LastRun: atB("2026-03-06 08:00"), Last: dB("2026-03-06")},
			now: "2026-03-06 07:59", backwards: true},
		{name: "clock jumped a year ahead is bounded by the cap",
			st:  State{FirstRun: atB("2026-03-02 08:00"), LastRun: atB("2026-03-02 08:00"), Last: dB("2026-03-02")},
			now: "2027-03-02 08:00", max: 1,
			open: "2027-03-01,2027-03-02", nskipped: 363},
		{name: "month and year boundaries",
			st:   State{FirstRun: atB("2026-12-30 08:00"), LastRun: atB("2026-12-30 08:00"), Last: dB("2026-12-30")},
			now:  "2027-01-01 08:00",
			open: "2026-12-31,2027-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode := tt.mode
			if mode == "" {
				mode = Digest
			}
			maxDays := 7
			if tt.max != 0 || strings.Contains(tt.name, "cap of zero") {
				maxDays = tt.max
			}
			p, err := Decide(tt.st, at(t, berlin, tt.now), Settings{At: seven, Loc: berlin, CatchUp: mode, MaxDays: maxDays})
			if tt.backwards {
				if !errors.Is(err, ErrClockBackwards) {
					t.Fatalf("err = %v, want ErrClockBackwards", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := days(p.Open); got != tt.open {
				t.Errorf("open = %q, want %q", got, tt.open)
			}
			if tt.nskipped > 0 {
				if len(p.Skipped) != tt.nskipped || p.Skipped[0].String() != "2026-03-03" {
					t.Errorf("skipped %d days from %v, want %d from 2026-03-03", len(p.Skipped), p.Skipped[0], tt.nskipped)
				}
			} else if got := days(p.Skipped); got != tt.skipped {
				t.Errorf("skipped = %q, want %q", got, tt.skipped)
			}
			if tt.next != "" {
				if want := at(t, berlin, tt.next); !p.Next.Equal(want) {
					t.Errorf("next = %s, want %s", p.Next, want)
				}
			}
		})
	}
}

var testBerlin, _ = time.LoadLocation("Europe/Berlin")

func atB(s string) time.Time {
	v, err := time.ParseInLocation("2006-01-02 15:04", s, testBerlin)
	if err != nil {
		panic(err)
	}
	return v
}

func dB(s string) Day {
	d, err := ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestDST runs an hourly timer through the daylight-saving days of two zones
// and checks each day is opened exactly once, on or after its send time.
func TestDST(t *testing.T) {
	tests := []struct {
		zone  string
		from  string // local start of the simulation (the day before the change)
		at    Clock
		first string // the first hourly tick at or after the day's send time (UTC)
	}{
		// Europe/Berlin springs forward 2026-03-29 02:00 -> 03:00.
		{"Europe/Berlin", "2026-03-28 00:00", Clock{2, 30}, "2026-03-29T02:00:00Z"},
		{"Europe/Berlin", "2026-03-28 00:00", Clock{7, 0}, "2026-03-29T05:00:00Z"},
		// Europe/Berlin falls back 2026-10-25 03:00 -> 02:00 (02:xx happens twice).
		{"Europe/Berlin", "2026-10-24 00:00", Clock{2, 30}, "2026-10-25T01:00:00Z"},
		// America/New_York springs forward 2026-03-08 02:00 -> 03:00.
		{"America/New_York", "2026-03-07 00:00", Clock{2, 30}, "2026-03-08T08:00:00Z"},
		// America/New_York falls back 2026-11-01 02:00 -> 01:00 (01:xx happens twice).
		{"America/New_York", "2026-10-31 00:00", Clock{1, 30}, "2026-11-01T06:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s at %s", tt.zone, tt.at), func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			s := Settings{At: tt.at, Loc: loc, CatchUp: Digest, MaxDays: 7}
			start := at(t, loc, tt.from)
			var st State
			opened := map[Day]time.Time{}
			// Hourly ticks in UTC for three days, as a systemd timer would fire.
			for now := start; now.Before(start.Add(72 * time.Hour)); now = now.Add(time.Hour) {
				p, err := Decide(st, now, s)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range p.Open {
					if prev, dup := opened[d]; dup {
						t.Fatalf("%s opened twice: at %s and %s", d, prev.UTC(), now.UTC())
					}
					opened[d] = now
					if now.Before(s.Due(d)) {
						t.Fatalf("%s opened at %s before its send time %s", d, now.UTC(), s.Due(d).UTC())
					}
					st.Last = d
				}
				if st.FirstRun.IsZero() {
					st.FirstRun = now
				}
				st.LastRun = now
			}
			if len(opened) != 3 {
				t.Fatalf("opened %d days, want 3: %v", len(opened), opened)
			}
			change := DayOf(start, loc).AddDays(1)
			got, ok := opened[change]
			if !ok {
				t.Fatalf("the day of the change %s never sent", change)
			}
			if want, _ := time.Parse(time.RFC3339, tt.first); !got.Equal(want) {
				t.Errorf("the day of the change sent at %s, want %s", got.UTC(), want.UTC())
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	good := map[string]Clock{"07:00": {7, 0}, "0:05": {0, 5}, "23:59": {23, 59}, " 06:30 ": {6, 30}}
	for in, want := range good {
		if got, err := ParseClock(in); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7", "24:00", "07:60", "7am", "07:0", "-1:00", "07:00:00"} {
		if _, err := ParseClock(in); err == nil {
			t.Errorf("ParseClock(%q) accepted a bad time", in)
		}
	}
}

func TestParseMode(t *testing.T) {
	for _, in := range []string{"digest", "each", "skip", "EACH"} {
		if _, err := ParseMode(in); err != nil {
			t.Errorf("ParseMode(%q): %v", in, err)
		}
	}
	if _, err := ParseMode("all"); err == nil {
		t.Error("ParseMode accepted all")
	}
}

func TestPick(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		cs   []Candidate
		want string
	}{
		{"none", nil, ""},
		{"fewest sends first", []Candidate{{"a", t0, 2, Day{}}, {"b", t0, 1, Day{}}, {"c", t0, 3, Day{}}}, "b"},
		{"sent longest ago among the least sent", []Candidate{{"a", t0, 1, Day{2026, 1, 5}}, {"b", t0, 1, Day{2026, 1, 3}}, {"c", t0, 2, Day{2026, 1, 1}}}, "b"},
		{"newest added among the never sent", []Candidate{{"a", t0, 0, Day{}}, {"b", t0.Add(time.Hour), 0, Day{}}, {"c", t0.Add(2 * time.Hour), 1, Day{2026, 1, 1}}}, "b"},
		{"a new photo goes first", []Candidate{{"a", t0, 1, Day{2026, 1, 1}}, {"b", t0, 1, Day{2026, 1, 2}}, {"new", t0.Add(48 * time.Hour), 0, Day{}}}, "new"},
		{"ties broken by id", []Candidate{{"c", t0, 0, Day{}}, {"a", t0, 0, Day{}}, {"b", t0, 0, Day{}}}, "a"},
	}
	for _, tt := range tests {
		i := Pick(tt.cs)
		got := ""
		if i >= 0 {
			got = tt.cs[i].ID
		}
		if got != tt.want {
			t.Errorf("%s: Pick = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestRotationNoRepeats sends five cats over twelve days, adding one on day
// seven, and checks nothing repeats before every cat went out.
func TestRotationNoRepeats(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cs := []Candidate{{ID: "e", Added: t0}, {ID: "a", Added: t0}, {ID: "d", Added: t0}, {ID: "b", Added: t0}, {ID: "c", Added: t0}}
	var got []string
	for d := 0; d < 12; d++ {
		if d == 7 {
			cs = append(cs, Candidate{ID: "new", Added: t0.AddDate(0, 0, 7)})
		}
		i := Pick(cs)
		got = append(got, cs[i].ID)
		cs[i].Sent++
		cs[i].Last = Day{2026, 1, 1 + d}
	}
	// The late photo goes out as soon as it arrives, the round then carries
	// on where it was, and the newcomer catches up before anyone's third time.
	want := "a,b,c,d,e,a,b,new,c,d,e,new"
	if g := strings.Join(got, ","); g != want {
		t.Errorf("order = %s, want %s", g, want)
	}
	if l := Left(cs); l != 6 {
		t.Errorf("Left = %d, want 6", l)
	}
}

func TestDayArithmetic(t *testing.T) {
	d := day(t, "2028-02-28")
	if got := d.AddDays(1).String(); got != "2028-02-29" {
		t.Errorf("leap day: %s", got)
	}
	if got := d.AddDays(2).String(); got != "2028-03-01" {
		t.Errorf("after leap day: %s", got)
	}
	if got := Window(day(t, "2026-03-12"), 2).String(); got != "2026-03-10" {
		t.Errorf("window: %s", got)
	}
	if _, err := ParseDay("2026-13-01"); err == nil {
		t.Error("ParseDay accepted month 13")
	}
}

func TestAtAcrossDST(t *testing.T) {
	tests := []struct {
		zone, day string
		at        Clock
		want      string // RFC 3339
	}{
		{"Europe/Berlin", "2026-03-29", Clock{2, 30}, "2026-03-29T03:30:00+02:00"}, // gap: just past the jump
		{"Europe/Berlin", "2026-10-25", Clock{2, 30}, "2026-10-25T02:30:00+02:00"}, // repeated: first occurrence
		{"Europe/Berlin", "2026-03-29", Clock{7, 0}, "2026-03-29T07:00:00+02:00"},
		{"America/New_York", "2026-03-08", Clock{2, 30}, "2026-03-08T03:30:00-04:00"},
		{"America/New_York", "2026-11-01", Clock{1, 30}, "2026-11-01T01:30:00-04:00"},
		{"America/New_York", "2026-11-01", Clock{7, 0}, "2026-11-01T07:00:00-05:00"},
	}
	for _, tt := range tests {
		got := day(t, tt.day).At(tt.at, mustLoc(t, tt.zone))
		if want, _ := time.Parse(time.RFC3339, tt.want); !got.Equal(want) {
			t.Errorf("%s %s at %s = %s, want %s", tt.zone, tt.day, tt.at, got.Format(time.RFC3339), tt.want)
		}
	}
}

func TestListAndSpan(t *testing.T) {
	a, b, c := Day{2026, 3, 1}, Day{2026, 3, 2}, Day{2026, 3, 5}
	if got := List([]Day{a, b}); got != "2026-03-01,2026-03-02" {
		t.Errorf("List = %q", got)
	}
	for _, tc := range []struct {
		in   []Day
		want string
	}{{nil, ""}, {[]Day{a}, "2026-03-01"}, {[]Day{a, b, c}, "2026-03-01 to 2026-03-05"}} {
		if got := Span(tc.in); got != tc.want {
			t.Errorf("Span(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A clock before NotBefore (the day cotd was built) is refused before
// anything is decided, as a backwards clock is (issue 24); at or after
// it, and with no floor, Decide goes on.
func TestDecideRefusesClockBeforeBuild(t *testing.T) {
	floor := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Settings{At: Clock{Hour: 7}, Loc: time.UTC, CatchUp: Digest, MaxDays: 7, NotBefore: floor}
	for _, tc := range []struct {
		now     time.Time
		refused bool
	}{
		{time.Date(1970, 1, 1, 8, 0, 0, 0, time.UTC), true},
		{time.Date(1, 1, 1, 8, 0, 0, 0, time.UTC), true},
		{floor.Add(-time.Second), true},
		{floor, false},
		{time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), false},
	} {
		p, err := Decide(State{}, tc.now, s)
		if got := errors.Is(err, ErrClockTooEarly) && errors.Is(err, ErrClockBackwards); got != tc.refused {
			t.Errorf("%s: err %v, want refused %v", tc.now, err, tc.refused)
		}
		if tc.refused && (len(p.Open) > 0 || len(p.Skipped) > 0) {
			t.Errorf("%s: refused but decided %+v", tc.now, p)
		}
	}
	s.NotBefore = time.Time{}
	if _, err := Decide(State{}, time.Date(1970, 1, 1, 8, 0, 0, 0, time.UTC), s); err != nil {
		t.Errorf("no floor: %v", err)
	}
}
