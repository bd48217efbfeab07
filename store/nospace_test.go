package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cotd/internal/tmpfs"
	"cotd/schedule"
)

// TestDiskFull fills a small tmpfs (mounted by the test, as root) with
// commits until the disk is full: the failing commit reports ENOSPC naming
// the database, and after reopening every earlier commit is there and the
// database still takes writes once there is room.
func TestDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tiny")
	tmpfs.Mount(t, dir, "512k")
	path := filepath.Join(dir, "cotd.db")
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	day := schedule.Day{Year: 2026, Month: 3, Day: 2}
	value := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 20<<10) }
	committed := 0
	var fullErr error
	for i := 0; i < 1000; i++ {
		err := s.Update(func(tx *Tx) error {
			if err := tx.PutDayPhoto(day.AddDays(i), value(i)); err != nil {
				return err
			}
			return tx.PutDelivery(day.AddDays(i), "a@example.test", Delivery{MessageID: fmt.Sprintf("<%d@x>", i)})
		})
		if err != nil {
			fullErr = err
			break
		}
		committed++
	}
	if fullErr == nil {
		t.Fatal("1000 commits of 20 KiB fit on a 512 KiB tmpfs")
	}
	t.Logf("%d commits, then: %v", committed, fullErr)
	if !errors.Is(fullErr, syscall.ENOSPC) {
		t.Errorf("error %v, want ENOSPC", fullErr)
	}
	if !strings.Contains(fullErr.Error(), path) {
		t.Errorf("error %q does not name the database %s", fullErr, path)
	}
	if committed == 0 {
		t.Fatal("not one commit fitted")
	}
	if err := s.Close(); err != nil {
		t.Logf("close: %v", err)
	}

	s, err = Open(path, time.Second)
	if err != nil {
		t.Fatalf("reopen after the disk filled: %v", err)
	}
	defer s.Close()
	check := func() {
		t.Helper()
		err := s.View(func(tx *Tx) error {
			for i := 0; i < committed; i++ {
				d := day.AddDays(i)
				if !bytes.Equal(tx.DayPhoto(d), value(i)) {
					return fmt.Errorf("day photo %s lost or damaged", d)
				}
				if _, ok, err := tx.Delivery(d, "a@example.test"); err != nil || !ok {
					return fmt.Errorf("delivery %s lost: %v", d, err)
				}
			}
			if tx.DayPhoto(day.AddDays(committed)) != nil {
				return fmt.Errorf("the failed commit left its day photo behind")
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
	check()
}
