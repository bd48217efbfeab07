// Package store keeps cotd's state in one bbolt file: the photo and quote
// index, which day got which cat, and which recipient got which day.
//
// A delivery is written only after the server accepted the message, one
// commit per message, so a power cut can cost at most one duplicate. The
// store never deletes or rewrites a file it does not recognise.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout this build writes. Older layouts are migrated
// on open; newer ones are refused rather than misread.
const SchemaVersion = 2

// Errors that callers map to exit code 3 (refuse to act on the state).
var (
	// ErrLocked means another process holds the database.
	ErrLocked = errors.New("another cotd run is using")
	// ErrNotDatabase means the file is not a cotd database (or is damaged).
	ErrNotDatabase = errors.New("not a cotd database, or damaged")
	// ErrNewerSchema means a newer cotd wrote the database.
	ErrNewerSchema = errors.New("written by a newer cotd")
	// ErrDamaged marks an ErrNotDatabase that is cotd's database, damaged
	// (truncated, or pages bbolt cannot read), rather than another file.
	ErrDamaged = errors.New("damaged")
	// ErrReadOnly means the database (or its folder) is on a read-only
	// file system: the file itself is fine.
	ErrReadOnly = errors.New("is on a read-only file system")
	// ErrHistoryLost means the database is missing or empty while cotd's
	// own traces (the rendition cache, the outbox, the snapshots) say it
	// had a history: taking it for a new one would mail days again.
	ErrHistoryLost = errors.New("cotd does not start afresh on its own")
	// ErrPermission means the user cotd runs as may not read or write the
	// database or create it in its folder: the file itself is fine.
	ErrPermission = errors.New("permission denied")
)

// Hint is the safe fix for an error from Open, or "" when err is not one
// of this package's. A healthy database that cotd may not write must never
// be answered with "move it away".
func Hint(err error) string {
	switch {
	case errors.Is(err, ErrLocked):
		return "wait for the other run to finish (the timer, or a manual run) and try again"
	case errors.Is(err, ErrNewerSchema):
		return "install the newer cotd again; this one must not change that database"
	case errors.Is(err, ErrReadOnly):
		return "the database is not damaged: remount that file system read-write (mount -o remount,rw), or point --db at a writable place; do not move or delete it"
	case errors.Is(err, ErrPermission):
		return "the database is not damaged: give the user cotd runs as read and write access to it and its folder (ls -l, then chown or chmod), or run cotd as the file's owner; do not move or delete it"
	case errors.Is(err, ErrHistoryLost):
		return "restore the newest snapshot with 'cotd restore FILE' (see 'cotd help restore'), or start afresh with 'cotd restore --afresh' (the next run then mails only today)"
	case errors.Is(err, ErrHistoryLost):
		return "restore the newest snapshot with 'cotd restore FILE' (see 'cotd help restore'), or start afresh with 'cotd restore --afresh' (the next run then mails only today)"
	case errors.Is(err, ErrDamaged):
		return "the file is damaged; cotd did not change it: restore a snapshot with 'cotd restore FILE' (see 'cotd help restore'), or start afresh with 'cotd restore --afresh' (the next run then mails only today)"
	case errors.Is(err, ErrNotDatabase):
		return "point --db at cotd's database; cotd never overwrites a file it does not recognise (move it away to start afresh)"
	}
	return ""
}

var (
	bMeta       = []byte("meta")
	bFiles      = []byte("files")
	bPhotos     = []byte("photos")
	bQuotes     = []byte("quotes")
	bDays       = []byte("days")
	bDayPhotos  = []byte("dayphotos")
	bDeliveries = []byte("deliveries")
	bFailures   = []byte("failures")
	bAlerts     = []byte("alerts")
	allBuckets  = [][]byte{bMeta, bFiles, bPhotos, bQuotes, bDays, bDayPhotos, bDeliveries, bFailures, bAlerts, bFileKeys, bRotation}
)

// Store is an open database.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool

	mu     sync.Mutex
	damage error // set once the file proved damaged: no more writes
}

// Open opens or creates the database at path, waiting up to timeout for
// another process to release it.
func Open(path string, timeout time.Duration) (*Store, error) { return open(path, timeout, 1) }

// testHookLocked runs after bbolt has the lock, before Open checks that
// the file is still the one at the path; a test replaces it there.
var testHookLocked func()

// replaced reports whether path no longer names the file f is open on.
func replaced(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return true // set aside; what comes there next is the database
	}
	return err == nil && !os.SameFile(a, b)
}

func open(path string, timeout time.Duration, attempt int) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		if d := diagnose(path, err); d != nil {
			return nil, d
		}
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	fi, statErr := os.Stat(path)
	existed := statErr == nil && fi.Size() > 0
	if statErr == nil && fi.IsDir() {
		return nil, fmt.Errorf("database %s: is a directory: %w", path, ErrNotDatabase)
	}
	if existed {
		// bbolt maps the file read-write; check the header first so that a
		// file that is not a database is never touched.
		if err := sniff(path); err != nil {
			return nil, err
		}
	}
	// The file as it is now, to tell after bbolt's lock whether it is
	// still the database at path: a restore may have put another file
	// there while this open waited for the lock (the timer's run starting
	// just as 'cotd restore' swaps), and a run on the old one would record
	// its deliveries in the copy kept aside.
	var before *os.File
	if existed {
		if f, err := os.Open(path); err == nil {
			before = f
			defer before.Close()
		}
	}
	db, err := openBolt(path, &bolt.Options{Timeout: timeout})
	if err == nil && before != nil {
		if testHookLocked != nil {
			testHookLocked()
		}
		if replaced(before, path) {
			db.Close()
			if attempt >= 3 {
				return nil, fmt.Errorf("%w %s: it was replaced again and again while this run waited for it", ErrLocked, path)
			}
			return open(path, timeout, attempt+1)
		}
	}
	if err != nil {
		if d := diagnose(path, err); d != nil {
			return nil, d
		}
		switch {
		case errors.Is(err, ErrDamaged):
			return nil, err
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("%w %s (waited %s)", ErrLocked, path, timeout)
		case existed:
			return nil, damaged(fmt.Errorf("database %s: %w: %v", path, ErrNotDatabase, err))
		}
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	if existed {
		if err := checkSize(db, path); err != nil {
			db.Close()
			return nil, err
		}
	}
	s := &Store{db: db, path: path}
	if err := s.safely(s.init); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens an existing database for reading only, as `bbolt
// info` does: it never creates, migrates or writes a byte, so a probe can
// run as another user or on a read-only file system. bbolt's shared lock
// still waits while a run holds the file, so a reader passes a short
// timeout and, on ErrLocked, reads the run's newest snapshot instead.
func OpenReadOnly(path string, timeout time.Duration) (*Store, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if d := diagnose(path, err); d != nil {
			return nil, d
		}
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("database %s: is a directory: %w", path, ErrNotDatabase)
	}
	if fi.Size() == 0 {
		return nil, damaged(fmt.Errorf("database %s: %w: the file is empty (0 bytes)", path, ErrNotDatabase))
	}
	if err := sniff(path); err != nil {
		return nil, err
	}
	db, err := openBolt(path, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		if d := diagnose(path, err); d != nil {
			return nil, d
		}
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w %s (waited %s)", ErrLocked, path, timeout)
		}
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, damaged(fmt.Errorf("database %s: %w: %v", path, ErrNotDatabase, err))
	}
	if err := checkSize(db, path); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, path: path, readOnly: true}
	var schema string
	var missing bool
	err = s.View(func(tx *Tx) error {
		if m := tx.tx.Bucket(bMeta); m != nil {
			schema = string(m.Get([]byte("schema")))
		}
		for _, name := range allBuckets {
			missing = missing || tx.tx.Bucket(name) == nil
		}
		return nil
	})
	switch n, _ := strconv.Atoi(schema); {
	case err != nil:
	case schema == "" && missing:
		err = fmt.Errorf("database %s: %w (bbolt file without cotd's meta bucket)", path, ErrNotDatabase)
	case n > SchemaVersion:
		err = fmt.Errorf("database %s: %w (schema %d, this cotd knows %d); upgrade cotd", path, ErrNewerSchema, n, SchemaVersion)
	case n < SchemaVersion || missing:
		err = fmt.Errorf("database %s was written by an older cotd: the next run upgrades it", path)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init() error {
	// A current database is only read: opening it (for status, or for a run
	// that then refuses a backwards clock) must not change a byte.
	current := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil || string(meta.Get([]byte("schema"))) != strconv.Itoa(SchemaVersion) {
			return nil
		}
		current = true
		for _, name := range allBuckets {
			current = current && tx.Bucket(name) != nil
		}
		return nil
	})
	if current {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			if hasOtherBuckets(tx) {
				return fmt.Errorf("%w (bbolt file without cotd's meta bucket)", ErrNotDatabase)
			}
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta = tx.Bucket(bMeta)
		v := 0
		if raw := meta.Get([]byte("schema")); raw != nil {
			n, err := strconv.Atoi(string(raw))
			if err != nil {
				return fmt.Errorf("%w (schema version %q)", ErrNotDatabase, raw)
			}
			v = n
		}
		if v > SchemaVersion {
			return fmt.Errorf("%w (schema %d, this cotd knows %d); upgrade cotd", ErrNewerSchema, v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
		}
		return meta.Put([]byte("schema"), []byte(strconv.Itoa(SchemaVersion)))
	})
	if err != nil {
		if d := diagnose(s.path, err); d != nil {
			return d
		}
		return fmt.Errorf("database %s: %w", s.path, err)
	}
	return nil
}

func hasOtherBuckets(tx *bolt.Tx) bool {
	found := false
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		found = true
		return nil
	})
	return found
}

// migrations[v] upgrades schema v to v+1 inside one transaction, so an
// interrupted upgrade leaves the old layout intact.
var migrations = map[int]func(*bolt.Tx) error{
	0: func(*bolt.Tx) error { return nil }, // a new database: buckets are created above
	1: buildCompact,                        // the compact file keys and rotation (scan.go)
}

// Close releases the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database's file.
func (s *Store) Path() string { return s.path }

// Update runs fn in a read-write transaction; it commits (and syncs) when fn
// returns nil. Once the file proved damaged (a page bbolt cannot read, a
// record that does not decode) it writes nothing more and returns that
// error: writing into a damaged file spreads the damage.
func (s *Store) Update(fn func(*Tx) error) (err error) {
	if d := s.Damage(); d != nil {
		return d
	}
	if s.readOnly {
		return fmt.Errorf("database %s is open read-only", s.path)
	}
	defer s.guard(&err, debug.SetPanicOnFault(true))
	err = s.db.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx, s}) })
	return s.noteDamage(err)
}

// View runs fn in a read-only transaction. A damaged page is an error
// (ErrDamaged, naming the file), never a panic.
func (s *Store) View(fn func(*Tx) error) (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	err = s.db.View(func(tx *bolt.Tx) error { return fn(&Tx{tx, s}) })
	return s.noteDamage(err)
}
