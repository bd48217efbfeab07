package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"cotd/schedule"
)

// What a warm morning reads of the index, kept compact beside the JSON
// records (issue 22 §4): a run with nothing new compares every file's size
// and time and ranks every photo, and decoding 10,000 JSON records for
// that cost more than the rest of the run. PutFile and PutPhoto (and their
// deletes) keep these copies in the same transaction; schema 2 built them
// from the records of an older database.
var (
	// bFileKeys: path → size (8 bytes), mtime (8), then the hash (hex) of a
	// usable file; a file that cannot be used has no hash, and one that
	// waits for its decoder program a single 'h'.
	bFileKeys = []byte("filekeys")
	// bRotation: photo hash → added (time.MarshalBinary, length-prefixed),
	// sent (8), last sent day (4: year, 1: month, 1: day).
	bRotation = []byte("rotation")
)

// FileKey is what a rescan compares of a file: unchanged size and time
// mean its contents are not read again.
type FileKey struct {
	Size    int64
	ModTime int64  // UnixNano
	Hash    string // the photo it is; "" for a file that cannot be used
	// NeedsHelper: unusable until its decoder program is installed.
	NeedsHelper bool
}

// helperMark is the compact record's tail of a file that waits for its
// decoder program: a hash is 32 hex digits, so one byte is unambiguous.
const helperMark = 'h'

// Rotation is what picking the next cat reads of a photo.
type Rotation struct {
	Hash  string
	Added time.Time
	Sent  int
	Last  schedule.Day
}

var errBadKey = errors.New("malformed compact record")

// EachFileKey calls fn for every file of the index in path order (byte
// order, as sort.Strings orders the walk).
func (t *Tx) EachFileKey(fn func(path string, k FileKey) error) error {
	return t.tx.Bucket(bFileKeys).ForEach(func(p, v []byte) error {
		if len(v) < 16 {
			return fmt.Errorf("%s/%s: %w", bFileKeys, p, errBadKey)
		}
		k := FileKey{Size: int64(binary.BigEndian.Uint64(v)), ModTime: int64(binary.BigEndian.Uint64(v[8:])), Hash: string(v[16:])}
		if len(v) == 17 && v[16] == helperMark {
			k.Hash, k.NeedsHelper = "", true
		}
		return fn(string(p), k)
	})
}

// EachRotation calls fn for every photo, in hash order.
func (t *Tx) EachRotation(fn func(r Rotation) error) error {
	return t.tx.Bucket(bRotation).ForEach(func(h, v []byte) error {
		r, err := decodeRotation(v)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", bRotation, h, err)
		}
		r.Hash = string(h)
		return fn(r)
	})
}

// EachPhotoHash calls fn with the hash of every photo, reading no record.
func (t *Tx) EachPhotoHash(fn func(hash string) error) error {
	return t.tx.Bucket(bPhotos).ForEach(func(h, _ []byte) error { return fn(string(h)) })
}

func putFileKey(tx *bolt.Tx, path string, f File) error {
	v := make([]byte, 16, 16+max(len(f.Hash), 1))
	binary.BigEndian.PutUint64(v, uint64(f.Size))
	binary.BigEndian.PutUint64(v[8:], uint64(f.ModTime))
	if f.Hash == "" && f.NeedsHelper {
		v = append(v, helperMark)
	}
	return tx.Bucket(bFileKeys).Put([]byte(path), append(v, f.Hash...))
}

func putRotation(tx *bolt.Tx, p Photo) error {
	added, err := p.Added.MarshalBinary()
	if err != nil {
		return err
	}
	v := make([]byte, 0, 1+len(added)+8+6)
	v = append(v, byte(len(added)))
	v = append(v, added...)
	v = binary.BigEndian.AppendUint64(v, uint64(p.Sent))
	v = binary.BigEndian.AppendUint32(v, uint32(int32(p.Last.Year)))
	v = append(v, byte(p.Last.Month), byte(p.Last.Day))
	return tx.Bucket(bRotation).Put([]byte(p.Hash), v)
}

func decodeRotation(v []byte) (Rotation, error) {
	var r Rotation
	if len(v) < 1 || len(v) != 1+int(v[0])+8+6 {
		return r, errBadKey
	}
	n := int(v[0])
	if err := r.Added.UnmarshalBinary(v[1 : 1+n]); err != nil {
		return r, err
	}
	v = v[1+n:]
	r.Sent = int(binary.BigEndian.Uint64(v))
	r.Last = schedule.Day{Year: int(int32(binary.BigEndian.Uint32(v[8:]))), Month: time.Month(v[12]), Day: int(v[13])}
	return r, nil
}

// buildCompact (schema 1 → 2) writes the compact copies of every file and
// photo record of an older database.
func buildCompact(tx *bolt.Tx) error {
	for _, name := range [][]byte{bFileKeys, bRotation} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	err := tx.Bucket(bFiles).ForEach(func(path, raw []byte) error {
		var f File
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("record %s/%s: %w", bFiles, path, err)
		}
		return putFileKey(tx, string(path), f)
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bPhotos).ForEach(func(hash, raw []byte) error {
		var p Photo
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("record %s/%s: %w", bPhotos, hash, err)
		}
		return putRotation(tx, p)
	})
}

// keyIndexChanged (in bMeta) marks an index whose records changed since
// its last full sweep (see job's indexRun.sweep): set with every batch of
// new file records, cleared by the sweep that follows. A run killed in
// between leaves it set, so the next run sweeps in full even when its own
// walk finds nothing new.
const keyIndexChanged = "x:index-changed"

// MarkIndexChanged records that file or photo records changed.
func (t *Tx) MarkIndexChanged() error {
	return t.tx.Bucket(bMeta).Put([]byte(keyIndexChanged), []byte{1})
}

// IndexChanged reports whether records changed since the last full sweep.
func (t *Tx) IndexChanged() bool { return t.tx.Bucket(bMeta).Get([]byte(keyIndexChanged)) != nil }

// ClearIndexChanged records a full sweep.
func (t *Tx) ClearIndexChanged() error { return t.tx.Bucket(bMeta).Delete([]byte(keyIndexChanged)) }

// PhotoCount is the number of photos, reading no record.
func (t *Tx) PhotoCount() int {
	n := 0
	c := t.tx.Bucket(bPhotos).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
