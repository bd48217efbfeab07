package monitor

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"cotd/health"
	"cotd/internal/testcert"
	"cotd/job"
	"cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// The password is scrubbed from everything the monitor sends out, even if
// a server echoed it into an error.
func TestScrubPassword(t *testing.T) {
	c := &mail.SMTPConfig{Password: "Sw0rdf1sh"}
	rec := store.Run{ExitCode: 1, Error: "smtp login failed: server said Sw0rdf1sh is wrong", Summary: "sent 0 of 1 messages"}
	got := Scrub(c, reportText("pi", rec))
	if strings.Contains(got, "Sw0rdf1sh") || !strings.Contains(got, "server said *** is wrong") {
		t.Errorf("scrubbed report:\n%s", got)
	}
	if !strings.HasPrefix(got, "cotd on pi: FAILED (exit 1)\n") {
		t.Errorf("report starts %q", got)
	}
	short := &mail.SMTPConfig{Password: "ab"}
	if got := Scrub(short, "about abc"); got != "about abc" {
		t.Errorf("a 2-character password mangles text: %q", got)
	}
}

// File names go into the alert mail escaped, as the journal shows them: a
// line break cannot forge a line, a bidi override cannot reorder the
// text, invalid UTF-8 does not pass (issue 11 item 12).
func TestAlertEscapesFileNames(t *testing.T) {
	m := &Monitor{c: Config{Photos: "photos", Schedule: schedule.Settings{Loc: time.UTC}}}
	sum := job.Summary{Index: job.IndexStats{Unusable: 3}}
	unusable := []string{
		"photos/a.jpg\nPROBLEM: the cat mail was hacked: image: unknown format",
		"photos/\u202egpj.exe: image: unknown format",
		"photos/bad\xff.jpg: image: unknown format",
	}
	ps := m.problems(sum, nil, store.Run{WatchErrors: []string{"certs/\u202ex.pem: no certificate"}}, unusable, time.Now())
	var detail string
	for _, p := range ps {
		detail += p.Detail + "\n"
	}
	for _, bad := range []string{"\nPROBLEM:", "\u202e", "\xff"} {
		if strings.Contains(detail, bad) {
			t.Errorf("alert detail holds %q raw:\n%s", bad, detail)
		}
	}
	for _, want := range []string{`photos/a.jpg\nPROBLEM: the cat mail`, `photos/\u202egpj.exe`, `photos/bad\xff.jpg`, `certs/\u202ex.pem`} {
		if !strings.Contains(detail, want) {
			t.Errorf("alert detail lacks %q:\n%s", want, detail)
		}
	}
	_, body := health.AlertText([]health.Problem{{Key: string(ps[0].Key), Summary: ps[0].Summary, Detail: ps[0].Detail}}, nil, nil, "pi", time.Now())
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "PROBLEM: the cat mail was hacked") {
			t.Errorf("a file name forged a line of the alert mail:\n%s", body)
		}
	}
}

// The cats-low alert counts its photos through text.Plural: one photo is
// "1 of 1 photo", not "1 of 1 photos have".
func TestCatsLowCountsPhotos(t *testing.T) {
	m := &Monitor{c: Config{Photos: "photos", Schedule: schedule.Settings{Loc: time.UTC}}}
	for _, tc := range []struct {
		total, left int
		want        string
	}{
		{1, 1, "Unsent in this round: 1 of 1 photo. "},
		{5, 2, "Unsent in this round: 2 of 5 photos. "},
	} {
		ps := m.problems(job.Summary{}, nil, store.Run{PhotosTotal: tc.total, PhotosLeft: tc.left}, nil, time.Now())
		var detail string
		for _, p := range ps {
			if p.Key == CatsLow {
				detail = p.Detail
			}
		}
		if !strings.HasPrefix(detail, tc.want) {
			t.Errorf("%d of %d: cats-low detail %q, want it to start %q", tc.left, tc.total, detail, tc.want)
		}
	}
}

// The server's certificate reaches the monitor in the run's summary, so a
// run whose sender is wrapped or faked still has its certificate watched
// (issue 20 §1: it used to be read by type-asserting the job's sender).
func TestCertificateFromSummary(t *testing.T) {
	now := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	ca := testcert.NewCA(t, "Test CA", now.AddDate(-1, 0, 0), now.AddDate(0, 0, 20))
	chain := []*x509.Certificate{ca.Cert}
	m := &Monitor{c: Config{SMTP: &mail.SMTPConfig{Host: "smtp.example.test", Port: 587}, Schedule: schedule.Settings{Loc: time.UTC}}}
	got, _ := m.certificates(t.Context(), job.Summary{ServerChain: chain}, nil, now, store.Run{})
	if len(got) != 1 || got[0].Source != "smtp smtp.example.test:587" || !got[0].NotAfter.Equal(ca.Cert.NotAfter) {
		t.Fatalf("certificates from the summary = %+v, want the chain's expiry %s", got, ca.Cert.NotAfter)
	}
	prev := store.Run{Certs: []store.Cert{{Source: "smtp smtp.example.test:587", NotAfter: now.AddDate(1, 0, 0)}}}
	got, _ = m.certificates(t.Context(), job.Summary{}, nil, now, prev)
	if len(got) != 1 || !got[0].NotAfter.Equal(prev.Certs[0].NotAfter) {
		t.Fatalf("no connection this run: certificates = %+v, want the last run's", got)
	}
}

// A message in doubt is said as such in the run's line, not as a failure
// and not silently as a shortfall of "sent 2 of 3" (issue 25 §2).
func TestSummaryLineInDoubt(t *testing.T) {
	c := Config{SMTP: &mail.SMTPConfig{Host: "smtp.example.test", Port: 587}}
	sum := job.Summary{Plan: schedule.Plan{Today: schedule.Day{Year: 2026, Month: 3, Day: 2}}, Sent: 2, Pending: 3,
		InDoubt: []job.Failure{{To: "a@example.test"}}, Resent: []string{"<x@example.test>"}}
	got := SummaryLine(c, sum, nil)
	for _, want := range []string{"sent 2 of 3 messages", "1 in doubt", "sent once more next run", "1 message in doubt sent again"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "failed") {
		t.Errorf("summary %q calls a message in doubt a failure", got)
	}
}

// The summary's days are what went out: a day opened by an earlier run
// (for a recipient further east) that reaches one further west now is
// named with the day this run opened (the VM's catch-up said "days
// 2026-12-09,2026-12-10" while dee got the 8th to the 10th).
func TestSummaryLineDaysIncludeEarlierOpened(t *testing.T) {
	d := func(n int) schedule.Day { return schedule.Day{Year: 2026, Month: 12, Day: n} }
	c := Config{SMTP: &mail.SMTPConfig{Host: "smtp.example.test", Port: 587}}
	sum := job.Summary{Plan: schedule.Plan{Today: d(10), Open: []schedule.Day{d(9), d(10)}}, Sent: 2, Pending: 2,
		Tried: []job.Undelivered{{Day: d(8), To: []string{"dee@example.test"}}, {Day: d(9), To: []string{"cee@example.test", "dee@example.test"}}, {Day: d(10), To: []string{"dee@example.test"}}}}
	if got := SummaryLine(c, sum, nil); !strings.HasSuffix(got, "days 2026-12-08,2026-12-09,2026-12-10") {
		t.Errorf("summary %q, want the days 2026-12-08,2026-12-09,2026-12-10", got)
	}
}
