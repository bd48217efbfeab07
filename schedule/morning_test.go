package schedule

import (
	"testing"
	"time"
)

// Each recipient's day is their own local date at their own send time; a
// day opens as soon as it is due to anyone, and is skipped only when it is
// older than every recipient's window.
func TestDecideFor(t *testing.T) {
	berlin, tokyo, ny := mustLoc(t, "Europe/Berlin"), mustLoc(t, "Asia/Tokyo"), mustLoc(t, "America/New_York")
	seven := Clock{7, 0}
	zoe := Morning{At: Clock{7, 30}, Loc: tokyo}
	bo := Morning{At: seven, Loc: ny}
	ana := Morning{At: seven, Loc: berlin}
	s := Settings{At: seven, Loc: berlin, CatchUp: Digest, MaxDays: 2}
	tests := []struct {
		name    string
		st      State
		now     string // Berlin
		ms      []Morning
		open    string
		skipped string
		next    string // RFC 3339 in UTC
	}{
		// 23:30 UTC on the 6th is 07:30 on the 7th in Tokyo: the 7th opens
		// for Zoe while Berlin and New York are still on the 6th.
		{"tokyo first", State{Last: day(t, "2026-12-06"), LastRun: at(t, berlin, "2026-12-06 23:00")}, "2026-12-07 00:30",
			[]Morning{zoe, ana, bo}, "2026-12-07", "", "2026-12-07T06:00:00Z"},
		{"nothing new before anyone's morning", State{Last: day(t, "2026-12-07"), LastRun: at(t, berlin, "2026-12-07 00:30")}, "2026-12-07 01:00",
			[]Morning{zoe, ana, bo}, "", "", "2026-12-07T06:00:00Z"}, // Ana's, although the 7th is open already
		// A week down: the days older than everyone's window are skipped;
		// New York's window reaches a day further back than Tokyo's.
		{"downtime", State{Last: day(t, "2026-12-01"), LastRun: at(t, berlin, "2026-12-01 23:00")}, "2026-12-09 02:00",
			[]Morning{zoe, bo}, "2026-12-06,2026-12-07,2026-12-08,2026-12-09", "2026-12-02,2026-12-03,2026-12-04,2026-12-05", "2026-12-09T12:00:00Z"},
		{"skip keeps the oldest today", State{Last: day(t, "2026-12-01"), LastRun: at(t, berlin, "2026-12-01 23:00")}, "2026-12-09 02:00",
			[]Morning{zoe, bo}, "2026-12-08,2026-12-09", "2026-12-02,2026-12-03,2026-12-04,2026-12-05,2026-12-06,2026-12-07", "2026-12-09T12:00:00Z"},
		// 21:00 on the 6th in New York: the 6th's morning has been, as on
		// any first run after the send time.
		// Ana is paused: the next send is Zoe's, not Ana's 07:00.
		{"paused mornings are not next", State{Last: day(t, "2026-12-07"), LastRun: at(t, berlin, "2026-12-07 00:30")}, "2026-12-07 01:00",
			[]Morning{zoe, {At: seven, Loc: berlin, PausedUntil: day(t, "2027-01-05")}}, "", "", "2026-12-07T22:30:00Z"},
		{"first run west of the owner", State{}, "2026-12-07 03:00", []Morning{bo}, "2026-12-06", "", "2026-12-07T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := s
			if tt.name == "skip keeps the oldest today" {
				ss.CatchUp = Skip
			}
			p, err := DecideFor(tt.st, at(t, berlin, tt.now), ss, tt.ms)
			if err != nil {
				t.Fatal(err)
			}
			if days(p.Open) != tt.open || days(p.Skipped) != tt.skipped || p.Next.UTC().Format(time.RFC3339) != tt.next {
				t.Errorf("open %s skipped %s next %s, want open %s skipped %s next %s",
					days(p.Open), days(p.Skipped), p.Next.UTC().Format(time.RFC3339), tt.open, tt.skipped, tt.next)
			}
		})
	}
}

// With no mornings of their own, DecideFor is the one-zone Decide.
func TestDecideForOwnerOnly(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	s := Settings{At: Clock{7, 0}, Loc: berlin, CatchUp: Digest, MaxDays: 3}
	st := State{Last: day(t, "2026-03-20"), LastRun: at(t, berlin, "2026-03-20 08:00")}
	for _, now := range []string{"2026-03-21 06:59", "2026-03-21 07:00", "2026-03-29 03:30", "2026-03-30 07:15"} {
		a, err1 := Decide(st, at(t, berlin, now), s)
		b, err2 := DecideFor(st, at(t, berlin, now), s, []Morning{s.Owner(), s.Owner()})
		if err1 != nil || err2 != nil || days(a.Open) != days(b.Open) || days(a.Skipped) != days(b.Skipped) || !a.Next.Equal(b.Next) {
			t.Errorf("%s: Decide %+v, DecideFor %+v", now, a, b)
		}
	}
}

func TestMorning(t *testing.T) {
	tokyo := mustLoc(t, "Asia/Tokyo")
	m := Morning{At: Clock{7, 30}, Loc: tokyo, PausedUntil: day(t, "2027-01-05")}
	now := at(t, tokyo, "2027-01-04 23:59")
	if !m.Paused(now) || m.Paused(now.Add(time.Minute)) {
		t.Errorf("paused until the 5th: paused at 23:59 on the 4th, not at midnight")
	}
	if got := m.Latest(at(t, tokyo, "2027-01-05 07:29")); got != day(t, "2027-01-04") {
		t.Errorf("latest before the send time = %s", got)
	}
	if got := m.Latest(at(t, tokyo, "2027-01-05 07:30")); got != day(t, "2027-01-05") {
		t.Errorf("latest at the send time = %s", got)
	}
	if m.Deliverable(day(t, "2027-01-01"), at(t, tokyo, "2027-01-05 08:00"), 3) || !m.Deliverable(day(t, "2027-01-02"), at(t, tokyo, "2027-01-05 08:00"), 3) {
		t.Errorf("the window is three days back from their today")
	}
}
