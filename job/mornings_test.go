package job

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	cmail "cotd/mail"
	"cotd/schedule"
)

// mornings is a job whose recipients have mornings of their own, and a
// record of the days each message carried, by recipient.
func morningsJob(t *testing.T, to string, ms map[string]schedule.Morning) (*Job, *clock, *fakeSender, map[string][]schedule.Day) {
	t.Helper()
	s := &fakeSender{}
	j, c := newTestJob(t, 6, to, s)
	j.Mornings = ms
	got := map[string][]schedule.Day{}
	testHookComposed = func(o outgoing) {
		got[strings.ToLower(o.to.Address)] = append(got[strings.ToLower(o.to.Address)], o.days...)
	}
	t.Cleanup(func() { testHookComposed = nil })
	return j, c, s, got
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func runAt(t *testing.T, j *Job, c *clock, when time.Time) {
	t.Helper()
	c.t = when
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatalf("run at %s: %v", when.UTC().Format(time.RFC3339), err)
	}
}

func days(ds ...string) []schedule.Day {
	var out []schedule.Day
	for _, s := range ds {
		d, _ := schedule.ParseDay(s)
		out = append(out, d)
	}
	return out
}

// Each recipient's day is their own local date at their own time: Tokyo's
// 7 March comes at 23:30 on the 6th in Berlin, Berlin's at 07:00 the next
// morning (the same day record, so the same cat).
func TestMorningsOwnLocalDate(t *testing.T) {
	tokyo := mustZone(t, "Asia/Tokyo")
	j, c, _, got := morningsJob(t, "a@example.test, z@example.test", map[string]schedule.Morning{
		"z@example.test": {At: schedule.Clock{Hour: 7, Minute: 30}, Loc: tokyo},
	})
	runAt(t, j, c, at(6, 8)) // the first run: the 6th for both
	runAt(t, j, c, time.Date(2026, 3, 6, 23, 15, 0, 0, berlin))
	runAt(t, j, c, time.Date(2026, 3, 6, 23, 45, 0, 0, berlin)) // 07:45 on the 7th in Tokyo
	if want := days("2026-03-06", "2026-03-07"); !slices.Equal(got["z@example.test"], want) {
		t.Errorf("z (Tokyo) got %v, want %v", got["z@example.test"], want)
	}
	if want := days("2026-03-06"); !slices.Equal(got["a@example.test"], want) {
		t.Errorf("a (Berlin) got %v by 23:45 Berlin time, want %v", got["a@example.test"], want)
	}
	runAt(t, j, c, at(7, 7))
	if want := days("2026-03-06", "2026-03-07"); !slices.Equal(got["a@example.test"], want) {
		t.Errorf("a (Berlin) got %v, want %v", got["a@example.test"], want)
	}
}

// Moving a recipient east across midnight owes them the new date once,
// west owes them nothing they already had: never a date twice, none lost.
func TestMorningsZoneMoves(t *testing.T) {
	honolulu, tokyo := mustZone(t, "Pacific/Honolulu"), mustZone(t, "Asia/Tokyo")
	j, c, _, got := morningsJob(t, "z@example.test", map[string]schedule.Morning{
		"z@example.test": {At: schedule.Clock{Hour: 7}, Loc: honolulu},
	})
	runAt(t, j, c, time.Date(2026, 3, 6, 7, 15, 0, 0, honolulu)) // 6th in Honolulu
	// East: at 08:00 on the 7th in Tokyo it is still the 6th in Honolulu.
	j.Mornings["z@example.test"] = schedule.Morning{At: schedule.Clock{Hour: 7}, Loc: tokyo}
	runAt(t, j, c, time.Date(2026, 3, 7, 8, 0, 0, 0, tokyo))
	if want := days("2026-03-06", "2026-03-07"); !slices.Equal(got["z@example.test"], want) {
		t.Fatalf("after moving east z got %v, want %v", got["z@example.test"], want)
	}
	// West again: Honolulu's 7th comes round, which z already had.
	j.Mornings["z@example.test"] = schedule.Morning{At: schedule.Clock{Hour: 7}, Loc: honolulu}
	runAt(t, j, c, time.Date(2026, 3, 7, 7, 15, 0, 0, honolulu))
	runAt(t, j, c, time.Date(2026, 3, 8, 7, 15, 0, 0, honolulu))
	if want := days("2026-03-06", "2026-03-07", "2026-03-08"); !slices.Equal(got["z@example.test"], want) {
		t.Errorf("after moving west z got %v, want %v", got["z@example.test"], want)
	}
}

// A pause is not a backlog: added while a catch-up is owed, it ends the
// catch-up; when it passes, that day's cat only.
func TestMorningsPauseIsNotABacklog(t *testing.T) {
	j, c, s, got := morningsJob(t, "a@example.test, b@example.test", map[string]schedule.Morning{})
	runAt(t, j, c, at(2, 8))
	// b's server refuses for two days: the 3rd and 4th are owed to b.
	s.answer = func(to string) cmail.Result {
		if to == "b@example.test" {
			return cmail.Result{Err: smtpErr(451, "4.3.0 try later")}
		}
		return cmail.Result{Delivered: true}
	}
	for _, d := range []int{3, 4} {
		c.t = at(d, 8)
		j.Run(context.Background())
	}
	s.answer = nil
	got["b@example.test"] = nil // what was composed for b and refused
	// Now b is paused until the 7th: nothing on the 5th or 6th, no digest.
	j.Mornings["b@example.test"] = schedule.Morning{At: schedule.Clock{Hour: 7}, Loc: berlin, PausedUntil: days("2026-03-07")[0]}
	runAt(t, j, c, at(5, 8))
	runAt(t, j, c, at(6, 8))
	runAt(t, j, c, at(7, 8))
	if want := days("2026-03-07"); !slices.Equal(got["b@example.test"], want) {
		t.Errorf("b got %v, want %v: the pause ended the catch-up, then that day's cat only", got["b@example.test"], want)
	}
	if want := days("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07"); !slices.Equal(got["a@example.test"], want) {
		t.Errorf("a got %v, want %v: b's pause is b's", got["a@example.test"], want)
	}
}
