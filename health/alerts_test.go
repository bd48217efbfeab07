package health

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"cotd/internal/needs"
)

func TestReconcile(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		needs.Missing(t, "no tzdata: "+err.Error(), "apt install tzdata")
	}
	day := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, berlin) }
	undelivered := Problem{Key: "undelivered", Summary: "2 recipients did not get today's cat"}
	cert := Problem{Key: "cert:smtp mail.example.test:587", Summary: "certificate of mail.example.test expires in 5 days"}
	low := Problem{Key: "cats-low", Summary: "6 unsent cats left"}

	type run struct {
		at       time.Time
		current  []Problem
		alert    []string // keys
		resolved []string // keys
	}
	hourly := func(d, from, to int, current []Problem, firstAlerts []string) []run {
		var rs []run
		for h := from; h <= to; h++ {
			r := run{at: day(d, h, 0), current: current}
			if h == from {
				r.alert = firstAlerts
			}
			rs = append(rs, r)
		}
		return rs
	}
	tests := []struct {
		name string
		loc  *time.Location
		runs []run
	}{
		{
			name: "hourly runs on one day alert once",
			loc:  berlin,
			runs: hourly(25, 7, 23, []Problem{cert}, []string{cert.Key}),
		},
		{
			name: "next day alerts again while still present",
			loc:  berlin,
			runs: append(hourly(25, 7, 9, []Problem{cert}, []string{cert.Key}),
				hourly(26, 7, 9, []Problem{cert}, []string{cert.Key})...),
		},
		{
			name: "resolved when gone, then quiet",
			loc:  berlin,
			runs: []run{
				{at: day(25, 7, 0), current: []Problem{undelivered}, alert: []string{"undelivered"}},
				{at: day(25, 8, 0), current: []Problem{undelivered}},
				{at: day(25, 9, 0), current: nil, resolved: []string{"undelivered"}},
				{at: day(25, 10, 0), current: nil},
			},
		},
		{
			name: "two distinct problems, one clears",
			loc:  berlin,
			runs: []run{
				{at: day(25, 7, 0), current: []Problem{undelivered, low}, alert: []string{"undelivered", "cats-low"}},
				{at: day(25, 8, 0), current: []Problem{low}, resolved: []string{"undelivered"}},
				{at: day(25, 9, 0), current: []Problem{low}},
				{at: day(26, 7, 0), current: []Problem{low}, alert: []string{"cats-low"}},
			},
		},
		{
			name: "a new problem on a day another was already alerted",
			loc:  berlin,
			runs: []run{
				{at: day(25, 7, 0), current: []Problem{low}, alert: []string{"cats-low"}},
				{at: day(25, 8, 0), current: []Problem{low, cert}, alert: []string{cert.Key}},
				{at: day(25, 9, 0), current: []Problem{cert, low}},
			},
		},
		{
			name: "the day is the owner's day, not UTC's",
			loc:  berlin,
			runs: []run{
				// 23:30 and 00:30 Berlin are 22:30 and 23:30 on one UTC day.
				{at: day(25, 23, 30), current: []Problem{cert}, alert: []string{cert.Key}},
				{at: day(26, 0, 30), current: []Problem{cert}, alert: []string{cert.Key}},
			},
		},
		{
			name: "in UTC the same two runs are one day",
			loc:  time.UTC,
			runs: []run{
				{at: day(25, 23, 30), current: []Problem{cert}, alert: []string{cert.Key}},
				{at: day(26, 0, 30), current: []Problem{cert}},
			},
		},
		{
			name: "a key given twice is one problem",
			loc:  nil,
			runs: []run{
				{at: day(25, 7, 0), current: []Problem{low, low}, alert: []string{"cats-low"}},
			},
		},
		{
			name: "cleared and back on the same day is a new occurrence",
			loc:  berlin,
			runs: []run{
				{at: day(25, 7, 0), current: []Problem{undelivered}, alert: []string{"undelivered"}},
				{at: day(25, 8, 0), current: nil, resolved: []string{"undelivered"}},
				{at: day(25, 9, 0), current: []Problem{undelivered}, alert: []string{"undelivered"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var state []byte // persisted between runs as the caller will, through JSON
			firstSeen := map[string]time.Time{}
			for i, r := range tt.runs {
				var prev []AlertState
				if state != nil {
					if err := json.Unmarshal(state, &prev); err != nil {
						t.Fatal(err)
					}
				}
				alert, resolved, next := Reconcile(prev, r.current, r.at, tt.loc)
				if got := problemKeys(alert); !slices.Equal(got, r.alert) {
					t.Errorf("run %d at %s: alerted %v, want %v", i, r.at.Format(time.DateTime), got, r.alert)
				}
				if got := stateKeys(resolved); !slices.Equal(got, r.resolved) {
					t.Errorf("run %d at %s: resolved %v, want %v", i, r.at.Format(time.DateTime), got, r.resolved)
				}
				var uniq []string
				for _, p := range r.current {
					if !slices.Contains(uniq, p.Key) {
						uniq = append(uniq, p.Key)
					}
				}
				if got := stateKeys(next); !slices.Equal(got, uniq) {
					t.Errorf("run %d: next %v, want %v", i, got, uniq)
				}
				for _, s := range next {
					if first, ok := firstSeen[s.Key]; ok && !s.Since.Equal(first) {
						t.Errorf("run %d: %s since %v, want first seen %v", i, s.Key, s.Since, first)
					}
					if slices.Contains(problemKeys(alert), s.Key) && !s.LastAlerted.Equal(r.at) {
						t.Errorf("run %d: %s alerted but LastAlerted %v", i, s.Key, s.LastAlerted)
					}
				}
				// A resolved problem starts over when it comes back.
				for _, s := range resolved {
					delete(firstSeen, s.Key)
				}
				for _, s := range next {
					if _, ok := firstSeen[s.Key]; !ok {
						firstSeen[s.Key] = s.Since
					}
				}
				if state, err = json.Marshal(next); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestReconcileNeverAlertedState(t *testing.T) {
	// A state saved without LastAlerted (say, by an older cotd) alerts.
	now := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	prev := []AlertState{{Key: "cats-low", Since: now.Add(-48 * time.Hour)}}
	alert, _, next := Reconcile(prev, []Problem{{Key: "cats-low", Summary: "low"}}, now, time.UTC)
	if len(alert) != 1 || !next[0].Since.Equal(prev[0].Since) || next[0].Summary != "low" {
		t.Errorf("alert %v next %+v", alert, next)
	}
}

func problemKeys(ps []Problem) []string {
	var ks []string
	for _, p := range ps {
		ks = append(ks, p.Key)
	}
	return ks
}

func stateKeys(ss []AlertState) []string {
	var ks []string
	for _, s := range ss {
		ks = append(ks, s.Key)
	}
	return ks
}

func TestAlertText(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		needs.Missing(t, "no tzdata: "+err.Error(), "apt install tzdata")
	}
	now := time.Date(2026, 11, 25, 7, 0, 0, 0, berlin)
	undelivered := Problem{
		Key:     "undelivered",
		Summary: "today's cat did not reach 2 recipients",
		Detail:  "anna@example.test: 451 4.7.1 try again later\r\nben@example.test: 550 5.1.1 no such user\n\nThe temporary failure is retried on the next run; check ben's address.",
	}
	cert := Problem{
		Key:     "cert:smtp mail.example.test:587",
		Summary: "certificate of mail.example.test expires in 5 days",
		Detail:  "the certificate of smtp mail.example.test:587 (CN=mail.example.test) expires on 2026-11-30 (in 5 days); renew it before then",
	}
	prev := []AlertState{
		{Key: cert.Key, Since: now.Add(-26 * time.Hour), LastAlerted: now.Add(-24 * time.Hour), Summary: cert.Summary},
		{Key: "photos-skipped", Since: now.Add(-72 * time.Hour), LastAlerted: now.Add(-24 * time.Hour), Summary: "3 photos were skipped"},
		{Key: "cats-low", Since: now.Add(-2 * time.Hour), LastAlerted: now.Add(-2 * time.Hour), Summary: "6 unsent cats left"},
	}
	alert, resolved, next := Reconcile(prev, []Problem{undelivered, cert, {Key: "cats-low", Summary: "6 unsent cats left"}}, now, berlin)
	subject, body := AlertText(alert, resolved, next, "catpi", now)
	if want := "cotd on catpi: today's cat did not reach 2 recipients (and 1 more problem), 1 resolved"; subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
	golden(t, "alert.txt", []byte("Subject: "+subject+"\n\n"+body))
	if strings.Contains(body, "\r") {
		t.Error("body keeps CR")
	}

	t.Run("subjects", func(t *testing.T) {
		one := Problem{Key: "k", Summary: "mail\r\nBcc: evil@example.test is down"}
		tests := []struct {
			name     string
			alert    []Problem
			resolved []AlertState
			want     string
		}{
			{"one problem, one line", []Problem{one}, nil, "cotd on catpi: mail Bcc: evil@example.test is down"},
			{"one resolved", nil, []AlertState{{Key: "x", Summary: "3 photos were skipped"}}, "cotd on catpi: resolved: 3 photos were skipped"},
			{"two resolved", nil, []AlertState{{Key: "x"}, {Key: "y"}}, "cotd on catpi: 2 problems resolved"},
			{"three problems", []Problem{one, one, one}, nil, "cotd on catpi: mail Bcc: evil@example.test is down (and 2 more problems)"},
		}
		for _, tt := range tests {
			s, b := AlertText(tt.alert, tt.resolved, nil, "catpi", now)
			if s != tt.want {
				t.Errorf("%s: subject %q, want %q", tt.name, s, tt.want)
			}
			if b == "" {
				t.Errorf("%s: empty body", tt.name)
			}
		}
	})

	if s, b := AlertText(nil, nil, next, "catpi", now); s != "" || b != "" {
		t.Errorf("nothing new to say should send nothing, got %q", s)
	}
}
