package monitor

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"cotd/schedule"
	"cotd/store"
)

// statusConfig is a monitor config for a one-recipient schedule at 07:00 UTC.
func statusConfig(t *testing.T, now time.Time) Config {
	t.Helper()
	at, err := schedule.ParseClock("07:00")
	if err != nil {
		t.Fatal(err)
	}
	return Config{Settings: Settings{WarnDays: 21}, Schedule: schedule.Settings{At: at, Loc: time.UTC, MaxDays: 7},
		Now: func() time.Time { return now }}
}

// okState records a run at now that delivered nothing due (the day is
// not due yet at 06:00), with the last run's record rec.
func okState(t *testing.T, db string, now time.Time, rec store.Run) {
	t.Helper()
	st, err := store.Open(db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(func(tx *store.Tx) error {
		if err := tx.RecordRun(now); err != nil {
			return err
		}
		return tx.PutLastRun(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Status as a table (issue 20 §2): health, problems and warnings follow
// the one severity rule, for what the last run stored and what status
// finds now alike. Before the rule, a stored "gave up" (an error) was
// shown as a warning and status said healthy.
func TestStatusTable(t *testing.T) {
	now := time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC)
	ran := now.Add(-10 * time.Minute)
	okRun := store.Run{At: ran, OK: true, LastSuccess: ran, Summary: "nothing due", PhotosTotal: 30, PhotosLeft: 20, QuotesTotal: 9, QuotesLeft: 5}
	with := func(ps ...store.Problem) store.Run { r := okRun; r.Problems = ps; return r }
	failed := okRun
	failed.OK, failed.ExitCode, failed.Error = false, 2, "photo folder photos: no such file or directory"
	cert := func(days int) store.Run {
		r := okRun
		r.Certs = []store.Cert{{Source: "smtp mail.example.test:587", NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(0, 0, days).Add(time.Hour), Seen: ran}}
		return r
	}
	tests := []struct {
		name     string
		noDB     bool
		rec      store.Run
		healthy  bool
		problems []string
		warnings []string
	}{
		{name: "no database", noDB: true, healthy: false, problems: []string{"cotd has never run here: there is no database at DB"}},
		{name: "ok", rec: okRun, healthy: true},
		{name: "last run failed", rec: failed, healthy: false, problems: []string{"the last run (2026-03-10 05:50 UTC) failed: photo folder photos: no such file or directory"}},
		{name: "gave up is an error", rec: with(store.Problem{Key: "gave-up", Severity: "error", Summary: "gave up on mail older than --catch-up-max-days"}),
			healthy: false, problems: []string{"gave up on mail older than --catch-up-max-days"}},
		{name: "an old record's severity yields to the rule", rec: with(store.Problem{Key: "dropped", Severity: "warning", Summary: "gave up on mail the server will not take"}),
			healthy: false, problems: []string{"gave up on mail the server will not take"}},
		{name: "clock jump", rec: with(store.Problem{Key: "clock", Severity: "error", Summary: "the clock jumped far ahead: a clock problem?"}),
			healthy: false, problems: []string{"the clock jumped far ahead: a clock problem?"}},
		{name: "skipped photos warn", rec: with(store.Problem{Key: "photos-skipped", Severity: "warning", Summary: "2 photo files cannot be used"}),
			healthy: true, warnings: []string{"2 photo files cannot be used"}},
		{name: "an unknown kind keeps its recorded error", rec: with(store.Problem{Key: "from-a-newer-cotd", Severity: "error", Summary: "new"}),
			healthy: false, problems: []string{"new"}},
		{name: "an unknown kind keeps its recorded warning", rec: with(store.Problem{Key: "from-a-newer-cotd", Severity: "warning", Summary: "new"}),
			healthy: true, warnings: []string{"new"}},
		{name: "certificate in 10 days warns", rec: cert(10), healthy: true, warnings: []string{"the certificate of smtp mail.example.test:587 expires on 2026-03-20 (in 10 days); renew it before then"}},
		{name: "certificate in 2 days is an error", rec: cert(2), healthy: false, problems: []string{"the certificate of smtp mail.example.test:587 expires on 2026-03-12 (in 2 days); renew it before then"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "cotd.db")
			if !tt.noDB {
				okState(t, db, ran, tt.rec)
			}
			r, err := Status(statusConfig(t, now), db)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range tt.problems {
				if p == "cotd has never run here: there is no database at DB" {
					tt.problems[i] = "cotd has never run here: there is no database at " + db
				}
			}
			if r.Healthy != tt.healthy || !slices.Equal(r.Problems, orEmpty(tt.problems)) || !slices.Equal(r.Warnings, orEmpty(tt.warnings)) {
				t.Errorf("healthy %v, problems %q, warnings %q; want %v, %q, %q", r.Healthy, r.Problems, r.Warnings, tt.healthy, tt.problems, tt.warnings)
			}
			assertOneRule(t, r)
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// assertOneRule checks the report against its findings: unhealthy exactly
// when one is an error, each error a problem and each warning a warning.
func assertOneRule(t *testing.T, r *Report) {
	t.Helper()
	var errs, warns []string
	for _, f := range r.Findings {
		if Severity(f.Severity) == Error {
			errs = append(errs, f.Summary)
		} else {
			warns = append(warns, f.Summary)
		}
	}
	if r.Healthy != (len(errs) == 0) || !slices.Equal(orEmpty(errs), r.Problems) || !slices.Equal(orEmpty(warns), r.Warnings) {
		t.Errorf("report disagrees with its severities: healthy %v, findings %+v, problems %q, warnings %q", r.Healthy, r.Findings, r.Problems, r.Warnings)
	}
}

// Every kind a run or status can find has a row in the rule, so none
// falls back to the unknown-kind default.
func TestEveryKindHasASeverity(t *testing.T) {
	for _, k := range []Key{Undelivered, RunFailed, GaveUp, Dropped, ClockJump, PhotosSkipped, QuotesProblem, CatsLow, WatchCerts,
		NeverRun, Overdue, ClockBackwards, ClockUnsynced, RunInProgress, StateDamaged} {
		if !k.known() {
			t.Errorf("kind %q has no row in the severity rule", k)
		}
	}
}
