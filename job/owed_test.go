package job

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"testing"

	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// Issue 11 item 1: a recipient added while another's day is still kept
// (here a's refused day 2) is not owed that day, so when it leaves the
// window the "gave up" names a only, never the newcomer.
func TestNewRecipientNotGivenUpForDaysBeforeJoining(t *testing.T) {
	fs := &fakeSender{answer: func(to string) cmail.Result {
		if to == "a@example.test" {
			return cmail.Result{Err: smtpErr(550, "5.1.1 no such user")}
		}
		return cmail.Result{Delivered: true}
	}}
	j, c := newTestJob(t, 6, "a@example.test", fs)
	if _, err := j.Run(context.Background()); !errors.Is(err, ErrUndelivered) {
		t.Fatalf("day 2: %v", err)
	}
	j.To = append(j.To, mustAddr(t, "n@example.test"))
	var gaveUp []string
	for day := 3; day <= 7; day++ {
		c.t = at(day, 8)
		sum, _ := j.Run(context.Background())
		gaveUp = append(gaveUp, undeliveredLines(sum.GaveUp)...)
		for _, f := range sum.Failures {
			if strings.Contains(f.To, "n@") {
				t.Errorf("day %d: n failed: %v", day, f.Err)
			}
		}
	}
	if len(gaveUp) == 0 || gaveUp[0] != "2026-03-02 to a@example.test" {
		t.Errorf("gave up %q, want 2026-03-02 to a@example.test first", gaveUp)
	}
	for _, g := range gaveUp {
		if strings.Contains(g, "n@example.test") {
			t.Errorf("gave up %q: n joined on day 3 and was never owed day 2", g)
		}
	}
}

func mustAddr(t *testing.T, s string) *mail.Address {
	t.Helper()
	a, err := cmail.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Owed is the one answer: a day before a recipient joined, a settled day
// and a recipient no longer in --to are owed to nobody; leaving and coming
// back starts a new membership.
func TestOwed(t *testing.T) {
	fs := &fakeSender{}
	j, c := newTestJob(t, 3, "a@example.test, b@example.test", fs)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	day2 := store.Day{Day: schedule.DayOf(at(2, 8), berlin), Status: store.StatusOpen}
	owedNames := func(to string, d store.Day) string {
		t.Helper()
		addrs, err := cmail.ParseAddressList(to)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = j.Store.View(func(tx *store.Tx) error {
			o, err := Owed(tx, addrs, d)
			for _, a := range o {
				got = append(got, a.Address)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, ",")
	}
	if got := owedNames("a@example.test, b@example.test, n@example.test", day2); got != "" {
		t.Errorf("day 2 after delivery owed to %q, want nobody (n never ran)", got)
	}
	// b leaves on day 3 and is back on day 4: owed day 4, never day 3.
	j.To = j.To[:1]
	c.t = at(3, 6) // before the send time: nothing opens
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	j.To = append(j.To, mustAddr(t, "b@example.test"))
	c.t = at(4, 6) // day 3 opens as a missed day; b was away for it
	fs.take()
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fs.take(); !equal(got, []string{"a@example.test"}) {
		t.Errorf("catching up day 3 tried %v, want only a", got)
	}
	day3 := store.Day{Day: schedule.DayOf(at(3, 8), berlin), Status: store.StatusOpen}
	day4 := store.Day{Day: schedule.DayOf(at(4, 8), berlin), Status: store.StatusOpen}
	if got := owedNames("a@example.test, b@example.test", day3); got != "" {
		t.Errorf("day 3 owed to %q, want nobody (a has it, b was away)", got)
	}
	if got := owedNames("a@example.test, b@example.test", day4); got != "a@example.test,b@example.test" {
		t.Errorf("day 4 owed to %q, want both", got)
	}
}

// undeliveredLines words given-up days as the journal shows them
// ("2026-03-02 to a@example.test[: why]"), for the assertions.
func undeliveredLines(us []Undelivered) []string {
	var ls []string
	for _, u := range us {
		l := fmt.Sprintf("%s to %s", u.Day, strings.Join(u.To, ", "))
		if u.Reason != "" {
			l += ": " + u.Reason
		}
		ls = append(ls, l)
	}
	return ls
}
