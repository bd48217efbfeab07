package store

import (
	"reflect"
	"testing"
	"time"
)

// The run record and the alert book round-trip through their typed
// accessors, and a database written by the untyped monitor code before
// (the same JSON under the same keys) still reads.
func TestMonitorRecords(t *testing.T) {
	s, _ := openTemp(t)
	at := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	run := Run{At: at, OK: false, ExitCode: 1, Error: "smtp down", Summary: "sent 0 of 1 message", Pending: 1,
		Certs:    []Cert{{Source: "smtp mail.example.test:587", NotAfter: at.AddDate(0, 1, 0), Seen: at}},
		Problems: []Problem{{Key: "undelivered", Severity: "error", Summary: "1 recipient did not get the cat mail"}}}
	book := AlertBook{Mail: []Alert{{Key: "undelivered", Since: at, LastAlerted: at, Summary: "x"}}}
	err := s.Update(func(tx *Tx) error {
		if _, ok, err := tx.LastRun(); ok || err != nil {
			t.Errorf("empty database: LastRun ok=%v err=%v", ok, err)
		}
		if err := tx.PutLastRun(run); err != nil {
			return err
		}
		return tx.PutAlertBook(book)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		got, ok, err := tx.LastRun()
		if !ok || err != nil || !reflect.DeepEqual(got, run) {
			t.Errorf("LastRun = %+v, %v, %v; want %+v", got, ok, err, run)
		}
		gotBook, ok, err := tx.AlertBook()
		if !ok || err != nil || !reflect.DeepEqual(gotBook, book) {
			t.Errorf("AlertBook = %+v, %v, %v", gotBook, ok, err)
		}
		return nil
	})

	// The layout written before these accessors existed.
	s.Update(func(tx *Tx) error {
		tx.tx.Bucket(bMeta).Put([]byte("x:monitor"), []byte(`{"at":"2026-03-01T07:00:00Z","ok":true,"exit_code":0,"summary":"sent 1 of 1 message","sent":1,"problems":[{"key":"cats-low","severity":"warning","summary":"only 2 unsent cats left"}]}`))
		return tx.tx.Bucket(bAlerts).Put([]byte("state"), []byte(`{"push":[{"key":"mail-broken","since":"2026-03-01T07:00:00Z","last_alerted":"2026-03-01T07:00:00Z","summary":"cotd cannot send mail"}]}`))
	})
	s.View(func(tx *Tx) error {
		got, ok, err := tx.LastRun()
		if !ok || err != nil || got.Sent != 1 || len(got.Problems) != 1 || got.Problems[0].Key != "cats-low" {
			t.Errorf("old record = %+v, %v, %v", got, ok, err)
		}
		b, ok, err := tx.AlertBook()
		if !ok || err != nil || len(b.Push) != 1 || b.Push[0].Key != "mail-broken" {
			t.Errorf("old alert book = %+v, %v, %v", b, ok, err)
		}
		return nil
	})
}
