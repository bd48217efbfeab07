package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"cotd/schedule"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "cotd.db")
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	_, path := openTemp(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Dir(path))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", di.Mode().Perm())
	}
}

func TestStateRoundTrip(t *testing.T) {
	s, path := openTemp(t)
	first := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	d := schedule.Day{Year: 2026, Month: 3, Day: 2}
	err := s.Update(func(tx *Tx) error {
		if err := tx.RecordRun(first); err != nil {
			return err
		}
		if err := tx.RecordRun(first.Add(time.Hour)); err != nil {
			return err
		}
		if err := tx.PutDay(Day{Day: d, Status: StatusOpen, Photo: "abc", Text: "hi"}); err != nil {
			return err
		}
		return tx.PutDelivery(d, "a@example.test", Delivery{At: first, MessageID: "<x@y>"})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(func(tx *Tx) error {
		st, err := tx.State()
		if err != nil {
			return err
		}
		if !st.FirstRun.Equal(first) || !st.LastRun.Equal(first.Add(time.Hour)) || st.Last != d {
			t.Errorf("state = %+v", st)
		}
		if _, ok, _ := tx.Delivery(d, "a@example.test"); !ok {
			t.Error("delivery lost")
		}
		if _, ok, _ := tx.Delivery(d, "b@example.test"); ok {
			t.Error("delivery for someone else")
		}
		if n := tx.DeliveryCount(d); n != 1 {
			t.Errorf("DeliveryCount = %d", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenLocked(t *testing.T) {
	_, path := openTemp(t)
	_, err := Open(path, 50*time.Millisecond)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	db, err := bolt.Open(newer, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket(bMeta)
		return b.Put([]byte("schema"), []byte("99"))
	})
	db.Close()
	foreignBolt := filepath.Join(dir, "foreign.db")
	db, _ = bolt.Open(foreignBolt, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err })
	db.Close()

	good, goodPath := openTemp(t)
	good.Close()
	whole, _ := os.ReadFile(goodPath)

	tests := []struct {
		name    string
		content []byte
		path    string
		want    error
	}{
		{name: "text file", content: []byte("these are my notes, not a database\n"), want: ErrNotDatabase},
		{name: "short file", content: []byte("xx"), want: ErrNotDatabase},
		{name: "truncated database", content: whole[:4096+100], want: ErrNotDatabase},
		{name: "garbage after a valid header", content: append(bytes.Clone(whole[:32]), bytes.Repeat([]byte{0xAB}, 20000)...), want: ErrNotDatabase},
		{name: "newer schema", path: newer, want: ErrNewerSchema},
		{name: "another program's bbolt file", path: foreignBolt, want: ErrNotDatabase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = filepath.Join(t.TempDir(), "cotd.db")
				if err := os.WriteFile(path, tt.content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			s, err := Open(path, time.Second)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("the refused file was modified")
			}
		})
	}
}

func TestEachDayFrom(t *testing.T) {
	s, _ := openTemp(t)
	base := schedule.Day{Year: 2026, Month: 12, Day: 30}
	s.Update(func(tx *Tx) error {
		for i := 0; i < 4; i++ {
			tx.PutDay(Day{Day: base.AddDays(i), Status: StatusOpen})
		}
		return nil
	})
	var got []string
	s.View(func(tx *Tx) error {
		return tx.EachDay(base.AddDays(2), func(d Day) error { got = append(got, d.Day.String()); return nil })
	})
	if len(got) != 2 || got[0] != "2027-01-01" || got[1] != "2027-01-02" {
		t.Errorf("days = %v", got)
	}
}

// A run that waits for the lock while 'cotd restore' puts another file at
// the path works on the file now there, not on the one kept aside: its
// deliveries would be recorded in a copy nobody reads (and mailed again).
func TestOpenAfterTheFileWasReplaced(t *testing.T) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "cotd.db"), filepath.Join(dir, "snapshot.db")
	for _, f := range []struct {
		path string
		day  int
	}{{path, 1}, {other, 2}} {
		s, err := Open(f.path, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Update(func(tx *Tx) error {
			return tx.PutJoined("a@example.test", schedule.Day{Year: 2026, Month: 3, Day: f.day})
		}); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	swaps := 0
	testHookLocked = func() {
		if swaps++; swaps == 1 {
			if err := os.Rename(other, path); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { testHookLocked = nil })
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var joined schedule.Day
	s.View(func(tx *Tx) (err error) { joined, _, err = tx.Joined("a@example.test"); return })
	if joined.Day != 2 || swaps != 2 {
		t.Errorf("after the swap Open reads joined %s (opened %d times), want the new file's 2026-03-02, opened twice", joined, swaps)
	}
}
