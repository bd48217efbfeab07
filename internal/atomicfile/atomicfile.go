// Package atomicfile writes a file so that a reader, or a power cut, sees
// the old file or the new one and never a part of one: a temporary file in
// the same folder (rename is atomic only within one filesystem), written,
// synced, renamed into place, and the folder synced so the rename itself
// survives. It is cotd's one copy of that dance, used by the outbox, the
// metrics file and the rendition cache; it is not a general file library.
package atomicfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is the part of *os.File a write uses; a test may hand in one that
// fails (a full disk).
type File interface {
	io.Writer
	Name() string
	Sync() error
	Chmod(fs.FileMode) error
	Close() error
}

// Options tune a write; the zero value is a private, durable file.
type Options struct {
	// Perm is the file's mode; 0 keeps os.CreateTemp's 0600.
	Perm fs.FileMode
	// NoSync skips both syncs, for a cache that is rebuilt when lost: the
	// rename still keeps readers from seeing half a file.
	NoSync bool
	// Pattern names the temporary file (os.CreateTemp's pattern); the
	// default ".tmp-*" is hidden and ends in nothing a reader collects.
	Pattern string
	// CreateTemp is os.CreateTemp unless a test injects a failing disk.
	CreateTemp func(dir, pattern string) (File, error)
}

// Write writes data to path atomically. On error the temporary file is
// gone and path is as it was, unless only the folder's sync failed.
func Write(path string, data []byte, o Options) error {
	return WriteWith(path, func(w io.Writer) error { _, err := w.Write(data); return err }, o)
}

// WriteWith is Write for contents that fill streams (a database snapshot
// too big to hold in memory): write writes the whole file to w.
func WriteWith(path string, write func(w io.Writer) error, o Options) error {
	dir := filepath.Dir(path)
	create := o.CreateTemp
	if create == nil {
		create = func(dir, pattern string) (File, error) { return os.CreateTemp(dir, pattern) }
	}
	pattern := o.Pattern
	if pattern == "" {
		pattern = ".tmp-*"
	}
	f, err := create(dir, pattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := write(f); err != nil {
		return fail(err)
	}
	if o.Perm != 0 {
		if err := f.Chmod(o.Perm); err != nil {
			return fail(err)
		}
	}
	if !o.NoSync {
		if err := f.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if o.NoSync {
		return nil
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Writable creates dir if needed and writes and removes a file in it:
// what `cotd check` asks of every folder cotd will write to.
func Writable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".cotd-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
