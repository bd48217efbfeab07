package monitor

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"cotd/job"
	"cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// Issue 11 item 4: a clock jump far beyond the catch-up window is its own
// problem in the alert, named as a clock problem with the fix.
func TestClockJumpIsAnAlertProblem(t *testing.T) {
	m := &Monitor{c: Config{Photos: "photos", Schedule: schedule.Settings{Loc: time.UTC}}}
	jump := "the clock jumped 365 days past the last run (2026-03-02 08:00 CET), so 357 days were skipped: if the clock is wrong, fix it (timedatectl) and run 'cotd clock-reset'"
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cj := &job.ClockJump{By: 365 * 24 * time.Hour, LastRun: time.Date(2026, 3, 2, 8, 0, 0, 0, berlin), Skipped: 357, Loc: berlin}
	ps := m.problems(job.Summary{ClockJump: cj}, nil, store.Run{}, nil, time.Now())
	for _, p := range ps {
		if p.Key == ClockJump {
			if !strings.Contains(p.Summary, "clock") || p.Detail != jump {
				t.Errorf("clock problem %+v, want the jump and its fix", p)
			}
			return
		}
	}
	t.Errorf("problems %+v lack the clock jump", ps)
}

// Issue 11 item 10: the monitor's reports (pings, notifications, the
// alert) drop the AUTH PLAIN and LOGIN encodings of the password too.
func TestScrubAuthEncodings(t *testing.T) {
	c := &mail.SMTPConfig{User: "bob", Password: "Sw0rdf1sh"}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00bob\x00Sw0rdf1sh"))
	login := base64.StdEncoding.EncodeToString([]byte("Sw0rdf1sh"))
	got := Scrub(c, "535 5.7.8 failed for "+plain+" and "+login)
	if strings.Contains(got, plain) || strings.Contains(got, login) || !strings.Contains(got, "failed for *** and ***") {
		t.Errorf("scrubbed: %q", got)
	}
}
