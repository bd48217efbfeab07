package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cotd/internal/photogen"
	"cotd/monitor"
	"cotd/store"
)

// The exit code of `cotd status` agrees with the severity rule (issue 20
// §2): for every kind a run records, a record holding only that problem
// makes status exit 1 exactly when the rule calls the kind an error, and
// --json's "healthy" says the same. Before the rule, a recorded "gave up"
// (an error) exited 0.
func TestStatusExitFollowsSeverity(t *testing.T) {
	now := time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC)
	for _, kd := range monitor.Kinds() {
		switch kd.Key {
		case monitor.Undelivered, monitor.RunFailed, monitor.NeverRun, monitor.Overdue, monitor.ClockBackwards,
			monitor.ClockUnsynced, monitor.RunInProgress, monitor.StateDamaged:
			continue // judged from the state now, not from the record (monitor's TestStatusTable)
		}
		if kd.Key.IsCare() {
			continue // the machine, judged as it is now (care_machine.txtar)
		}
		t.Run(string(kd.Key), func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "cotd.db")
			if err := os.Mkdir(filepath.Join(dir, "photos"), 0o755); err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(db, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			ran := now.Add(-time.Minute)
			err = st.Update(func(tx *store.Tx) error {
				if err := tx.RecordRun(ran); err != nil {
					return err
				}
				return tx.PutLastRun(store.Run{At: ran, OK: true, LastSuccess: ran, Summary: "nothing due", PhotosTotal: 30, PhotosLeft: 20,
					Problems: []store.Problem{{Key: string(kd.Key), Severity: string(kd.Severity), Summary: kd.Says}}})
			})
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{"COTD_DB": db, "COTD_NOW": now.Format(time.RFC3339), "COTD_TZ": "UTC", "COTD_TO": "a@example.test",
				"COTD_PHOTOS": filepath.Join(dir, "photos"), "COTD_OUTBOX": filepath.Join(dir, "outbox")}
			var out, errOut bytes.Buffer
			code := cli([]string{"status", "--json"}, env{&out, &errOut, func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
			var rep struct {
				Healthy bool `json:"healthy"`
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("status --json: %v\n%s%s", err, out.String(), errOut.String())
			}
			want := exitOK
			if kd.Severity == monitor.Error {
				want = exitFailed
			}
			if code != want || rep.Healthy != (want == exitOK) {
				t.Errorf("a recorded %s (%s): exit %d, healthy %v; want exit %d\n%s%s", kd.Key, kd.Severity, code, rep.Healthy, want, out.String(), errOut.String())
			}
		})
	}
}

// `cotd status` while a run holds the database (issue 25 §7: it exited 3
// for as long as the run, up to 13 minutes): it reads the run's newest
// snapshot and says so as a warning, healthy; without a snapshot it says
// that too, and never waits for the run.
func TestStatusDuringARun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cotd.db")
	vars := map[string]string{"COTD_DB": db, "COTD_NOW": "2026-03-02T08:00:00+01:00", "COTD_TZ": "Europe/Berlin",
		"COTD_OUTBOX": filepath.Join(dir, "outbox"), "COTD_PHOTOS": filepath.Join(dir, "photos"), "COTD_QUOTES": filepath.Join(dir, "quotes.txt")}
	os.Mkdir(filepath.Join(dir, "photos"), 0o755)
	for i, name := range []string{"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg", "g.jpg", "h.jpg"} {
		if err := os.WriteFile(filepath.Join(dir, "photos", name), photogen.Distinct(i, 320, 240), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	var out, errOut bytes.Buffer
	if code := cli([]string{"run"}, env{&out, &errOut, lookup}); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, errOut.String())
	}
	run, err := store.Open(db, time.Second) // a run holds it from here on
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	vars["COTD_NOW"] = "2026-03-02T09:00:00+01:00"
	out.Reset()
	errOut.Reset()
	code := cli([]string{"status"}, env{&out, &errOut, lookup})
	if code != exitOK || !strings.Contains(out.String(), "a run is using the database now: this is the state of its snapshot of 2026-03-02") ||
		!strings.Contains(out.String(), "last delivered:  2026-03-02") {
		t.Errorf("status during a run: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	os.RemoveAll(filepath.Join(dir, "backups"))
	out.Reset()
	errOut.Reset()
	code = cli([]string{"status"}, env{&out, &errOut, lookup})
	if code != exitOK || !strings.Contains(out.String(), "a run is using the database now, and there is no snapshot yet") {
		t.Errorf("status during a run, no snapshot: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
