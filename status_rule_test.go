package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

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
