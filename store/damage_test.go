package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cotd/schedule"
)

// fullDB writes a database with enough records to span many pages.
func fullDB(t *testing.T, path string) {
	t.Helper()
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(func(tx *Tx) error {
		for i := range 300 {
			d := schedule.Day{Year: 2025, Month: 1, Day: 1}.AddDays(i)
			if err := tx.PutDay(Day{Day: d, Status: StatusOpen, Photo: fmt.Sprintf("%064d", i), Text: strings.Repeat("purr ", 20)}); err != nil {
				return err
			}
			if err := tx.PutDelivery(d, "a@example.test", Delivery{At: time.Unix(int64(i), 0), MessageID: fmt.Sprintf("<%d@x>", i)}); err != nil {
				return err
			}
			if err := tx.PutPhoto(Photo{Hash: fmt.Sprintf("%064d", i), Path: fmt.Sprintf("p%d.jpg", i)}); err != nil {
				return err
			}
		}
		if err := tx.PutJoined("a@example.test", schedule.Day{Year: 2025, Month: 1, Day: 1}); err != nil {
			return err
		}
		return tx.RecordRun(time.Date(2025, 10, 27, 8, 0, 0, 0, time.UTC))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pages lists the page ids of the file's leaf and branch pages (bbolt's
// page header: id uint64, flags uint16, count uint16, overflow uint32).
func pages(t *testing.T, b []byte) (pageSize int, ids []int) {
	t.Helper()
	pageSize = int(binary.LittleEndian.Uint32(b[16+8:])) // meta: magic, version, pageSize
	for id := 2; (id+1)*pageSize <= len(b); id++ {
		if f := binary.LittleEndian.Uint16(b[id*pageSize+8:]); f == 0x01 || f == 0x02 {
			ids = append(ids, id)
		}
	}
	return pageSize, ids
}

// Storage faults, generated (issue 25 §5): a database truncated at a
// random offset, emptied, with a damaged page, or with a damaged record
// value is never a panic and never read as a new database: opening,
// reading and writing it each either work on the intact data or say
// ErrDamaged, naming the file; after damage is seen nothing more is
// written into it.
func TestStorageFaultsGenerated(t *testing.T) {
	dir := t.TempDir()
	golden := filepath.Join(dir, "golden.db")
	fullDB(t, golden)
	orig, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	pageSize, ids := pages(t, orig)
	if len(ids) < 5 {
		t.Fatalf("only %d data pages", len(ids))
	}
	rng := rand.New(rand.NewPCG(25, 5))
	type fault struct {
		name  string
		apply func(b []byte) []byte
	}
	var faults []fault
	for range 12 {
		off := rng.IntN(len(orig)-1) + 1
		faults = append(faults, fault{fmt.Sprintf("truncated at %d", off), func(b []byte) []byte { return b[:off] }})
	}
	faults = append(faults, fault{"zero length", func(b []byte) []byte { return nil }})
	for range 12 {
		id := ids[rng.IntN(len(ids))]
		flags := uint16(rng.IntN(0xffff))
		if flags == 0x01 || flags == 0x02 {
			flags = 0x40
		}
		faults = append(faults, fault{fmt.Sprintf("page %d flags %#x", id, flags), func(b []byte) []byte {
			binary.LittleEndian.PutUint16(b[id*pageSize+8:], flags)
			return b
		}})
	}
	for range 12 {
		id := ids[rng.IntN(len(ids))]
		seed := rng.Uint64()
		faults = append(faults, fault{fmt.Sprintf("page %d scribbled (seed %d)", id, seed), func(b []byte) []byte {
			r := rand.New(rand.NewPCG(seed, 1))
			p := b[id*pageSize : (id+1)*pageSize]
			for range 64 {
				p[16+r.IntN(len(p)-16)] = byte(r.IntN(256))
			}
			return b
		}})
	}
	for i, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("f%d.db", i))
			b := f.apply(append([]byte(nil), orig...))
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			exercise(t, path, len(b) == 0)
		})
	}
}

// exercise opens, reads everything and writes once; each step must work
// or fail with ErrDamaged naming path, and a store that saw damage must
// refuse the write.
func exercise(t *testing.T, path string, empty bool) {
	t.Helper()
	ok := func(step string, err error) bool {
		t.Helper()
		if err == nil {
			return true
		}
		if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrNotDatabase) {
			t.Errorf("%s: %v, want ErrDamaged or ErrNotDatabase", step, err)
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v does not name %s", step, err, path)
		}
		return false
	}
	if _, err := Inspect(path); err == nil && empty {
		t.Errorf("an empty file inspected as a database")
	} else if err != nil {
		ok("inspect", err)
	}
	if ro, err := OpenReadOnly(path, time.Second); ok("open read-only", err) {
		ok("read", readAll(ro))
		ro.Close()
	}
	if empty {
		return // Open of an empty file is a new database; the CLI refuses it when cotd's traces say otherwise
	}
	s, err := Open(path, time.Second)
	if !ok("open", err) {
		return
	}
	defer s.Close()
	readErr := readAll(s)
	ok("read", readErr)
	writeErr := s.Update(func(tx *Tx) error { return tx.PutJoined("b@example.test", schedule.Day{Year: 2026, Month: 1, Day: 1}) })
	if readErr != nil && errors.Is(readErr, ErrDamaged) && !errors.Is(writeErr, ErrDamaged) {
		t.Errorf("write after damage was seen: %v, want it refused", writeErr)
	}
	ok("write", writeErr)
}

func readAll(s *Store) error {
	return s.View(func(tx *Tx) error {
		if _, err := tx.State(); err != nil {
			return err
		}
		if err := tx.EachDay(schedule.Day{}, func(Day) error { return nil }); err != nil {
			return err
		}
		if err := tx.EachPhoto(func(Photo) error { return nil }); err != nil {
			return err
		}
		_, _, err := tx.Delivery(schedule.Day{Year: 2025, Month: 5, Day: 5}, "a@example.test")
		return err
	})
}

// A damaged page reached in the middle of a run's transaction is an
// error naming the file and the damage, not bbolt's panic; a panic of
// the caller's own inside a transaction is not taken for damage.
func TestPanicInTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cotd.db")
	fullDB(t, path)
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	func() {
		defer func() {
			if r := recover(); r != "cotd's own bug" {
				t.Errorf("recovered %v, want the caller's panic to go on up", r)
			}
		}()
		_ = s.View(func(*Tx) error { panic("cotd's own bug") })
	}()
	if s.Damage() != nil {
		t.Errorf("the caller's panic marked the store damaged: %v", s.Damage())
	}
}

// A snapshot is a consistent copy that Inspect reads back with what it
// holds; Backup keeps the newest seven, by day.
func TestBackupKeepsSeven(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cotd.db")
	fullDB(t, path)
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	backups := filepath.Join(dir, "backups")
	day := schedule.Day{Year: 2026, Month: 3, Day: 1}
	for i := range 10 {
		if _, err := s.Backup(backups, day.AddDays(i)); err != nil {
			t.Fatal(err)
		}
	}
	snaps, err := Snapshots(backups, path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sn := range snaps {
		names = append(names, filepath.Base(sn.Path))
	}
	want := "cotd-2026-03-10.db cotd-2026-03-09.db cotd-2026-03-08.db cotd-2026-03-07.db cotd-2026-03-06.db cotd-2026-03-05.db cotd-2026-03-04.db"
	if strings.Join(names, " ") != want {
		t.Errorf("kept %v, want %s", names, want)
	}
	c, err := Inspect(snaps[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Photos != 300 || c.Days != 300 || c.LastDelivered.String() != "2025-10-27" || strings.Join(c.Recipients, ",") != "a@example.test" {
		t.Errorf("contents %+v", c)
	}
}

// cotd restore (issue 21 §1): refuses a damaged snapshot and refuses while
// a run holds the database; otherwise keeps the replaced file aside
// (never over an earlier one) and puts the snapshot's bytes in place.
func TestRestore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cotd.db")
	fullDB(t, db)
	s, err := Open(db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Backup(filepath.Join(dir, "backups"), schedule.Day{Year: 2026, Month: 3, Day: 1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if _, _, err := Restore(snap, db, now); !errors.Is(err, ErrLocked) {
		t.Errorf("restore while a run holds the database: %v, want ErrLocked", err)
	}
	s.Close()

	bad := filepath.Join(dir, "bad.db")
	b, _ := os.ReadFile(snap)
	if err := os.WriteFile(bad, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Restore(bad, db, now); !errors.Is(err, ErrDamaged) {
		t.Errorf("restore of a truncated snapshot: %v, want ErrDamaged", err)
	}

	old, _ := os.ReadFile(db)
	var asides []string
	for range 2 {
		aside, c, err := Restore(snap, db, now)
		if err != nil {
			t.Fatal(err)
		}
		asides = append(asides, aside)
		if c.Photos != 300 || c.LastDelivered.String() != "2025-10-27" {
			t.Errorf("contents %+v", c)
		}
	}
	if asides[0] == asides[1] {
		t.Errorf("both restores kept the replaced file as %s", asides[0])
	}
	if kept, _ := os.ReadFile(asides[0]); !bytes.Equal(kept, old) {
		t.Errorf("%s is not the replaced database", asides[0])
	}
	if now, _ := os.ReadFile(db); !bytes.Equal(now, b) {
		t.Errorf("the database is not the snapshot's bytes")
	}
}
