package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// damaged marks err as ErrDamaged without changing its text.
func damaged(err error) error { return &markedError{err, ErrDamaged} }

type markedError struct {
	error
	mark error
}

func (e *markedError) Is(target error) bool { return target == e.mark }

func (e *markedError) Unwrap() error { return e.error }

// diagnose turns an OS error from opening the database into what it
// means for the owner, or returns nil when it is none of those.
func diagnose(path string, err error) error {
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("database %s %w (%v)", path, ErrReadOnly, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("database %s: %w for this user (uid %d): %v", path, ErrPermission, os.Geteuid(), err)
	}
	return nil
}

// openBolt is bolt.Open with its panic on a damaged page (reading the
// freelist) turned into ErrDamaged.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	err = (&Store{path: path}).safely(func() (err error) { db, err = bolt.Open(path, 0o600, o); return err })
	return db, err
}

// safely runs fn with a damaged page's panic turned into ErrDamaged.
func (s *Store) safely(fn func() error) (err error) {
	defer s.guard(&err, debug.SetPanicOnFault(true))
	return fn()
}

// sniff reads the bbolt magic number so foreign files are refused early.
func sniff(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if d := diagnose(path, err); d != nil {
			return d
		}
		return fmt.Errorf("database %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 32)
	if _, err := f.ReadAt(head, 0); err != nil {
		return fmt.Errorf("database %s: %w: too short (%v)", path, ErrNotDatabase, err)
	}
	// page header (16 bytes) then meta: magic uint32 0xED0CDAED, little endian.
	if head[16] != 0xED || head[17] != 0xDA || head[18] != 0x0C || head[19] != 0xED {
		return fmt.Errorf("database %s: %w (no bbolt header)", path, ErrNotDatabase)
	}
	// bbolt grows its file by whole pages (two meta pages, a freelist and
	// a root at least): a size that is not is a truncated copy, refused
	// before bbolt maps it (it would take its lock, then fault reading a
	// page past the end).
	if fi, err := f.Stat(); err == nil {
		ps := int64(binary.LittleEndian.Uint32(head[24:28]))
		if ps >= 512 && (fi.Size()%ps != 0 || fi.Size() < 4*ps) {
			return damaged(fmt.Errorf("database %s: %w: truncated to %d bytes, not whole %d-byte pages", path, ErrNotDatabase, fi.Size(), ps))
		}
	}
	return nil
}

// checkSize refuses a file shorter than the pages its meta page claims (a
// truncated copy): bbolt would read past its end, panic, and before that
// init would already have written to it.
func checkSize(db *bolt.DB, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	var need int64
	if err := (&Store{path: path}).safely(func() error { return db.View(func(tx *bolt.Tx) error { need = tx.Size(); return nil }) }); err != nil {
		return damaged(fmt.Errorf("database %s: %w: %v", path, ErrNotDatabase, err))
	}
	if fi.Size() < need {
		return damaged(fmt.Errorf("database %s: %w: truncated to %d bytes, its pages need %d", path, ErrNotDatabase, fi.Size(), need))
	}
	return nil
}

// Damage is why the file is known to be damaged, or nil.
func (s *Store) Damage() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.damage
}

func (s *Store) noteDamage(err error) error {
	if err != nil && errors.Is(err, ErrDamaged) {
		s.mu.Lock()
		if s.damage == nil {
			s.damage = err
		}
		s.mu.Unlock()
	}
	return err
}

// guard turns bbolt's panic on a damaged page (it panics in the caller's
// goroutine, inside the transaction, which bbolt has rolled back by then)
// into ErrDamaged, and so a fault reading the memory-mapped file (a page
// past its end: SIGBUS), which SetPanicOnFault turned into a panic; it
// restores the goroutine's fault setting to faults. A panic raised by
// cotd's own code in a transaction is not damage: it goes on up, to the
// run's one place that words panics.
func (s *Store) guard(err *error, faults bool) {
	defer debug.SetPanicOnFault(faults)
	r := recover()
	if r == nil {
		return
	}
	if !panicInBbolt() {
		panic(r)
	}
	*err = s.noteDamage(damaged(fmt.Errorf("database %s: %w: bbolt: %v", s.path, ErrNotDatabase, r)))
}

// panicInBbolt reports whether the panic being recovered was raised in
// bbolt's code: below the runtime's panic machinery, a bbolt frame comes
// before any of cotd's (the standard library's bytes.Compare or
// sort.Search may sit on top, called by bbolt). Called from a deferred
// function.
func panicInBbolt() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	inPanic := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			inPanic = true
		case inPanic && strings.HasPrefix(f.Function, "go.etcd.io/bbolt"):
			return true
		case inPanic && strings.HasPrefix(f.Function, "cotd/"):
			return false
		}
		if !more {
			return false
		}
	}
}
