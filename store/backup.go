package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"cotd/internal/atomicfile"
	"cotd/schedule"
)

// Snapshots (issue 21 §1): after a run that changed the state, a
// consistent copy of the database (bbolt's Tx.WriteTo, a hot backup) is
// written atomically into the backup folder, one per day, the newest
// KeepSnapshots kept. They are what `cotd restore` puts back, and what
// `cotd status` reads while a run holds the database.

// KeepSnapshots is how many daily snapshots are kept.
const KeepSnapshots = 7

const snapSuffix = ".db"

// snapPrefix names the snapshots of the database at db after its file
// ("cotd-" for cotd.db), so two databases sharing a folder (and so a
// default backup folder) never take each other's.
func snapPrefix(db string) string { return strings.TrimSuffix(filepath.Base(db), ".db") + "-" }

// SnapshotName is the file name of day's snapshot of the database at db:
// cotd-2026-03-10.db.
func SnapshotName(db string, day schedule.Day) string {
	return snapPrefix(db) + day.String() + snapSuffix
}

// Generation identifies the database's last commit: a run that leaves it
// unchanged changed no state.
func (s *Store) Generation() (uint64, error) {
	var id int
	err := s.View(func(tx *Tx) error { id = tx.tx.ID(); return nil })
	return uint64(id), err
}

// Snapshot writes a consistent copy of the database to path, atomically
// (a power cut leaves the old snapshot or the new one).
func (s *Store) Snapshot(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	err := s.View(func(tx *Tx) error {
		return atomicfile.WriteWith(path, func(w io.Writer) error { _, err := tx.tx.WriteTo(w); return err }, atomicfile.Options{Pattern: ".snapshot-*"})
	})
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return nil
}

// Backup writes today's snapshot into dir and removes all but the newest
// KeepSnapshots; it returns the snapshot's path.
func (s *Store) Backup(dir string, today schedule.Day) (string, error) {
	path := filepath.Join(dir, SnapshotName(s.path, today))
	if err := s.Snapshot(path); err != nil {
		return "", err
	}
	// A snapshot of a damaged database is no backup: it must not push a
	// good one out of the seven kept.
	if _, err := Inspect(path); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("snapshot %s not kept: %w", path, err)
	}
	snaps, err := Snapshots(dir, s.path)
	if err != nil {
		return path, err
	}
	for _, old := range snaps[min(len(snaps), KeepSnapshots):] {
		if err := os.Remove(old.Path); err != nil {
			return path, fmt.Errorf("remove old snapshot: %w", err)
		}
	}
	return path, nil
}

// SnapshotFile is one snapshot in the backup folder.
type SnapshotFile struct {
	Path    string       `json:"path"`
	Day     schedule.Day `json:"day"`
	Written time.Time    `json:"written"`
	Size    int64        `json:"size"`
}

// Snapshots lists the snapshots of the database at db in dir, newest
// first; a missing folder has none.
func Snapshots(dir, db string) ([]SnapshotFile, error) {
	prefix := snapPrefix(db)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	var out []SnapshotFile
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, snapSuffix) || !e.Type().IsRegular() {
			continue
		}
		d, err := schedule.ParseDay(strings.TrimSuffix(strings.TrimPrefix(name, prefix), snapSuffix))
		if err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, SnapshotFile{Path: filepath.Join(dir, name), Day: d, Written: fi.ModTime(), Size: fi.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[j].Day.Before(out[i].Day) })
	return out, nil
}

// NewestGood is the newest snapshot of the database at db in dir that
// Inspect accepts, and what it holds; ok is false when there is none.
func NewestGood(dir, db string) (SnapshotFile, Contents, bool) {
	snaps, _ := Snapshots(dir, db)
	for _, s := range snaps {
		if c, err := Inspect(s.Path); err == nil {
			return s, c, true
		}
	}
	return SnapshotFile{}, Contents{}, false
}

// Contents is what a database or snapshot holds, as `cotd restore`
// prints it.
type Contents struct {
	LastRun       time.Time    `json:"last_run"`
	LastDelivered schedule.Day `json:"last_delivered"` // the newest day some recipient was delivered
	Recipients    []string     `json:"recipients"`     // the members of --to it knows
	Photos        int          `json:"photos"`
	Days          int          `json:"days"`
}

// Inspect opens the database or snapshot at path read-only and reads
// every page and record of it, so a damaged one is refused here rather
// than after it replaced the database.
func Inspect(path string) (Contents, error) {
	var c Contents
	s, err := OpenReadOnly(path, time.Second)
	if err != nil {
		return c, err
	}
	defer s.Close()
	err = s.View(func(tx *Tx) error {
		// Every page: bbolt panics on a damaged one (View recovers it).
		err := tx.tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			return b.ForEach(func(_, _ []byte) error { return nil })
		})
		if err != nil {
			return err
		}
		st, err := tx.State()
		if err != nil {
			return damaged(fmt.Errorf("database %s is damaged: %v", path, err))
		}
		c.LastRun = st.LastRun
		// Every record is a JSON object, checked by scanning it: decoding
		// each one into a map cost the morning's backup 61% of its run at
		// 10,000 photos (BenchmarkInspect).
		for _, b := range [][]byte{bFiles, bPhotos, bQuotes, bDays, bDeliveries, bFailures} {
			err := tx.tx.Bucket(b).ForEach(func(k, raw []byte) error {
				if !jsonObject(raw) {
					return tx.badRecord(b, string(k), errors.New("not a JSON object"))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		c.Photos = tx.tx.Bucket(bPhotos).Stats().KeyN
		if err := tx.EachJoined(func(a string, _ schedule.Day) error { c.Recipients = append(c.Recipients, a); return nil }); err != nil {
			return err
		}
		cur := tx.tx.Bucket(bDeliveries).Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			day, _, ok := bytes.Cut(k, []byte{0})
			if !ok || bytes.Contains(v, []byte(`"gave_up":`)) {
				continue
			}
			if d, err := schedule.ParseDay(string(day)); err == nil && c.LastDelivered.Before(d) {
				c.LastDelivered = d
			}
		}
		c.Days = tx.tx.Bucket(bDays).Stats().KeyN
		return nil
	})
	return c, err
}

// jsonObject reports whether raw is one valid JSON object.
func jsonObject(raw []byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
}

// Restore replaces the database at db with the snapshot at snap, after
// Inspect accepted it: the replaced file is kept beside it (its name is
// returned; "" when there was none) and the new one is written
// atomically. It refuses while a run holds the database.
func Restore(snap, db string, now time.Time) (aside string, c Contents, err error) {
	c, err = Inspect(snap)
	if err != nil {
		return "", c, fmt.Errorf("snapshot %s cannot be restored: %w", snap, err)
	}
	if same, _ := sameFile(snap, db); same {
		return "", c, fmt.Errorf("snapshot %s is the database itself", snap)
	}
	// The replaced file is kept by a second name (a hard link) and the
	// snapshot's copy then takes the path in one rename: the path always
	// names a database, so a run that starts meanwhile waits for the lock
	// and then finds the restored one (Open checks).
	aside, unlock, err := setAside(db, now, true)
	if err != nil {
		return "", c, err
	}
	defer unlock()
	in, err := os.Open(snap)
	if err != nil {
		return aside, c, err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		return aside, c, err
	}
	err = atomicfile.WriteWith(db, func(w io.Writer) error { _, err := io.Copy(w, in); return err }, atomicfile.Options{Pattern: ".restore-*"})
	if err != nil {
		return aside, c, fmt.Errorf("write %s: %w", db, err)
	}
	return aside, c, nil
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// setAside keeps the database at db under a name beside it while holding
// bbolt's own lock on it (a run holds that exclusively while it works, so
// this refuses while one does): renamed away, or with link a second name
// for the file, which stays at db until the caller replaces it. unlock
// releases the lock.
func setAside(db string, now time.Time, link bool) (aside string, unlock func(), err error) {
	f, err := os.Open(db)
	if errors.Is(err, os.ErrNotExist) {
		return "", func() {}, nil
	}
	if err != nil {
		if d := diagnose(db, err); d != nil {
			return "", nil, d
		}
		return "", nil, fmt.Errorf("database %s: %w", db, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return "", nil, fmt.Errorf("%w %s: it cannot be replaced while a run works (%v)", ErrLocked, db, err)
	}
	unlock = func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }
	aside = fmt.Sprintf("%s.replaced-%s", db, now.UTC().Format("20060102-150405"))
	for n := 2; ; n++ { // never over an earlier one kept aside
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s.replaced-%s-%d", db, now.UTC().Format("20060102-150405"), n)
	}
	if link && os.Link(db, aside) == nil {
		return aside, unlock, nil // a file system without hard links renames
	}
	if err := os.Rename(db, aside); err != nil {
		unlock()
		return "", nil, fmt.Errorf("keep the replaced database aside: %w", err)
	}
	return aside, unlock, nil
}

// StartAfresh sets the database at db aside (kept, its name returned)
// and creates an empty one: the explicit way to start afresh, which a run
// never takes on its own (see ErrHistoryLost).
func StartAfresh(db string, now time.Time) (aside string, err error) {
	aside, unlock, err := setAside(db, now, false)
	if err != nil {
		return "", err
	}
	defer unlock()
	s, err := Open(db, time.Second)
	if err != nil {
		return aside, err
	}
	return aside, s.Close()
}
