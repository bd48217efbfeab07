package certs

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"cotd/internal/needs"
)

func TestEarliest(t *testing.T) {
	ca := newCA(t, "Test Root", now.AddDate(5, 0, 0))
	inter := newCA(t, "Test Intermediate", now.AddDate(0, 0, 3))
	l := leaf(t, ca, leafOpts{cn: "mail.example.test", dns: []string{"mail.example.test"}, notAfter: now.AddDate(0, 0, 40)})

	e := Earliest("smtp mail.example.test:587", []*x509.Certificate{l.Leaf, inter.cert, ca.cert})
	if e.Source != "smtp mail.example.test:587" {
		t.Errorf("Source = %q", e.Source)
	}
	if !e.NotAfter.Equal(inter.cert.NotAfter) || e.Subject != "CN=Test Intermediate" {
		t.Errorf("Earliest picked %q until %v, want the intermediate until %v", e.Subject, e.NotAfter, inter.cert.NotAfter)
	}
	if !e.NotBefore.Equal(inter.cert.NotBefore) {
		t.Errorf("NotBefore = %v, want %v", e.NotBefore, inter.cert.NotBefore)
	}

	empty := Earliest("x", nil)
	if empty.Source != "x" || !empty.NotAfter.IsZero() || empty.Subject != "" {
		t.Errorf("Earliest of no chain = %+v", empty)
	}

	// An ACME certificate may have an empty subject: fall back to the SAN.
	noSubject := leaf(t, ca, leafOpts{dns: []string{"only.example.test"}, notAfter: now.AddDate(0, 0, 9)})
	if got := Earliest("f", []*x509.Certificate{noSubject.Leaf}).Subject; got != "only.example.test" {
		t.Errorf("Subject of a subject-less certificate = %q", got)
	}
}

func TestClassify(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		needs.Missing(t, "no tzdata: "+err.Error(), "apt install tzdata")
	}
	exp := func(notBefore, notAfter time.Time) Expiry {
		return Expiry{Source: "smtp mail.example.test:587", Subject: "CN=mail.example.test", NotBefore: notBefore, NotAfter: notAfter}
	}
	long := now.AddDate(-1, 0, 0)
	tests := []struct {
		name     string
		e        Expiry
		now      time.Time
		warn     int
		level    Level
		daysLeft int
		contains []string
	}{
		{"expired 5 days ago", exp(long, now.AddDate(0, 0, -5)), now, 21, Expired, -5,
			[]string{"smtp mail.example.test:587", "expired on 2026-11-20", "5 days ago", "renew"}},
		{"expired this very second", exp(long, now), now, 21, Expired, 0,
			[]string{"expired on 2026-11-25", "today"}},
		{"expired yesterday", exp(long, now.Add(-30*time.Hour)), now, 21, Expired, -1,
			[]string{"1 day ago"}},
		{"not yet valid", exp(now.AddDate(0, 0, 2), now.AddDate(1, 0, 0)), now, 21, NotYetValid, 365,
			[]string{"not valid until 2026-11-27", "in 2 days", "clock"}},
		{"5 days left", exp(long, now.AddDate(0, 0, 5)), now, 21, Warn, 5,
			[]string{"expires on 2026-11-30", "in 5 days", "renew it before then"}},
		{"10 days left", exp(long, now.AddDate(0, 0, 10)), now, 21, Warn, 10,
			[]string{"expires on 2026-12-05", "in 10 days"}},
		{"exactly at the window", exp(long, now.AddDate(0, 0, 21)), now, 21, Warn, 21, nil},
		{"just outside the window", exp(long, now.AddDate(0, 0, 21).Add(time.Second)), now, 21, OK, 21,
			[]string{"valid until 2026-12-16"}},
		{"hours left", exp(long, now.Add(5*time.Hour)), now, 21, Warn, 0,
			[]string{"in less than a day"}},
		{"warn 0 days means only expiry counts", exp(long, now.AddDate(0, 0, 1)), now, 0, OK, 1, nil},
		{"no certificate", Expiry{Source: "/etc/x.pem"}, now, 21, Expired, 0,
			[]string{"/etc/x.pem", "no certificate"}},
		// 23:30 UTC on the 29th is already the 30th in Berlin.
		{"date in the owner's zone", exp(long, time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC)), now.In(berlin), 21, Warn, 4,
			[]string{"expires on 2026-11-30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Classify(tt.e, tt.now, tt.warn)
			if st.Level != tt.level {
				t.Errorf("Level = %v, want %v (%s)", st.Level, tt.level, st.Message)
			}
			if st.DaysLeft != tt.daysLeft {
				t.Errorf("DaysLeft = %d, want %d", st.DaysLeft, tt.daysLeft)
			}
			for _, want := range tt.contains {
				if !strings.Contains(st.Message, want) {
					t.Errorf("Message %q lacks %q", st.Message, want)
				}
			}
			if strings.ContainsAny(st.Message, "\n\r") || strings.HasSuffix(st.Message, ".") {
				t.Errorf("Message %q is not one line without a trailing period", st.Message)
			}
		})
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[Level]string{OK: "ok", Warn: "warn", Expired: "expired", NotYetValid: "not-yet-valid", Level(9): "level(9)"} {
		if got := l.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(l), got, want)
		}
	}
}

// Kind is named by the same helper as Level, out-of-range values too.
func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{File: "file", Glob: "glob", Endpoint: "endpoint", Kind(7): "kind(7)", Kind(-1): "kind(-1)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}

// A certificate that expired late yesterday is worded "1 day ago" beside
// yesterday's date, not "(today)" (issue 21 §3: the VM run found
// "expired on 2026-12-04 (today)" on the 5th).
func TestExpiredYesterdayIsNotToday(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, loc)
	for _, tt := range []struct {
		notAfter time.Time
		want     string
	}{
		{time.Date(2026, 12, 4, 23, 0, 0, 0, loc), "expired on 2026-12-04 (1 day ago)"},
		{time.Date(2026, 12, 5, 7, 0, 0, 0, loc), "expired on 2026-12-05 (today)"},
		{time.Date(2026, 12, 2, 9, 0, 0, 0, loc), "expired on 2026-12-02 (3 days ago)"},
	} {
		st := Classify(Expiry{Source: "smtp x:587", NotBefore: now.AddDate(-1, 0, 0), NotAfter: tt.notAfter}, now, 21)
		if !strings.Contains(st.Message, tt.want) {
			t.Errorf("expired at %s: %q, want %q", tt.notAfter, st.Message, tt.want)
		}
	}
}
