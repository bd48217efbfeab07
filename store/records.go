package store

import (
	"bytes"
	"fmt"
	"time"

	"cotd/schedule"
)

// File is what the last scan saw at a path in the photo folder. Unchanged
// size and modification time mean the contents are not read again.
type File struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime"` // UnixNano
	Hash    string `json:"hash,omitempty"`
	// Err is why the file cannot be used; kept so a bad file is reported
	// once and not re-read on every run until it changes.
	Err string `json:"err,omitempty"`
	// NeedsHelper: it cannot be used only because its decoder program
	// (heif-convert) is missing; it is read again once that is installed.
	NeedsHelper bool `json:"needs_helper,omitempty"`
}

// Photo is one distinct cat, identified by the hash of its contents.
type Photo struct {
	Hash   string       `json:"hash"`
	Path   string       `json:"path"` // a path it was last seen at, relative to the folder
	Added  time.Time    `json:"added"`
	Sent   int          `json:"sent"`
	Last   schedule.Day `json:"last"`
	Width  int          `json:"w"`
	Height int          `json:"h"`
	Render string       `json:"render"` // rendition cache key the mailed JPEG is stored under
	// Digest is the SHA-256 (hex) of the cached rendition, recorded when
	// it was made and checked before it is mailed: a damaged cache file
	// is rendered again instead of going out broken.
	Digest string `json:"digest,omitempty"`
	// Caption is who or what is in the picture, as the owner wrote it (a
	// sidecar file, the photo's own title, or its file name), read when
	// the photo is indexed; empty when there is none.
	Caption string `json:"caption,omitempty"`
}

// Quote is one distinct quote.
type Quote struct {
	ID     string       `json:"id"`
	Text   string       `json:"text"`
	Author string       `json:"author"`
	Added  time.Time    `json:"added"`
	Sent   int          `json:"sent"`
	Last   schedule.Day `json:"last"`
}

// Day statuses.
const (
	StatusOpen    = "open"    // content chosen; deliveries may be pending
	StatusSkipped = "skipped" // missed and given up (catch-up cap or skip mode)
)

// Day is what cotd decided for one calendar day. The chosen quote is copied
// so a retry days later mails the same words even if quotes.txt changed.
type Day struct {
	Day         schedule.Day `json:"day"`
	Status      string       `json:"status"`
	Photo       string       `json:"photo,omitempty"`
	PhotoWidth  int          `json:"w,omitempty"`
	PhotoHeight int          `json:"h,omitempty"`
	Caption     string       `json:"caption,omitempty"` // the photo's caption when the day was decided
	Quote       string       `json:"quote,omitempty"`
	Text        string       `json:"text,omitempty"`
	Author      string       `json:"author,omitempty"`
	Decided     time.Time    `json:"decided"`
	Why         string       `json:"why,omitempty"`
}

// Delivery records that a day is settled for a recipient: normally its
// server accepted the day's message; a non-empty GaveUp instead says why
// the day will never be sent to that recipient (a message too large for
// the server even on its own, a photo no longer kept), so it is neither
// retried nor counted as owed.
type Delivery struct {
	At        time.Time `json:"at"`
	MessageID string    `json:"message_id"`
	GaveUp    string    `json:"gave_up,omitempty"`
	// InDoubt: the message went out whole and no answer came; it is sent
	// once more (see InDoubt) and then counts as delivered. It already
	// counts as delivered for who is owed what, so no digest folds it in.
	InDoubt bool `json:"in_doubt,omitempty"`
}

// Failure is a recipient whose last delivery attempt failed.
type Failure struct {
	Since     time.Time `json:"since"`
	Last      time.Time `json:"last"`
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error"`
	Permanent bool      `json:"permanent"`
}

// Meta keys.
const (
	metaFirstRun = "first_run"
	metaLastRun  = "last_run"
)

// State returns what the scheduler needs to decide the next days.
func (t *Tx) State() (schedule.State, error) {
	var st schedule.State
	meta := t.tx.Bucket(bMeta)
	for key, dst := range map[string]*time.Time{metaFirstRun: &st.FirstRun, metaLastRun: &st.LastRun} {
		if raw := meta.Get([]byte(key)); raw != nil {
			v, err := time.Parse(time.RFC3339Nano, string(raw))
			if err != nil {
				return st, err
			}
			*dst = v
		}
	}
	if k, _ := t.tx.Bucket(bDays).Cursor().Last(); k != nil {
		d, err := schedule.ParseDay(string(k))
		if err != nil {
			return st, err
		}
		st.Last = d
	}
	return st, nil
}

// RecordRun remembers the run's time (and the first run's).
func (t *Tx) RecordRun(now time.Time) error {
	meta := t.tx.Bucket(bMeta)
	v := []byte(now.UTC().Format(time.RFC3339Nano))
	if meta.Get([]byte(metaFirstRun)) == nil {
		if err := meta.Put([]byte(metaFirstRun), v); err != nil {
			return err
		}
	}
	return meta.Put([]byte(metaLastRun), v)
}

// ResetRunTimes moves a first or last run recorded after now back to now:
// the clock that recorded them was wrong (see job.ForgetFuture).
func (t *Tx) ResetRunTimes(now time.Time) error {
	meta := t.tx.Bucket(bMeta)
	v := []byte(now.UTC().Format(time.RFC3339Nano))
	for _, key := range []string{metaFirstRun, metaLastRun} {
		raw := meta.Get([]byte(key))
		if raw == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, string(raw))
		if err != nil || at.After(now) {
			if err := meta.Put([]byte(key), v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Tx) File(path string) (File, bool, error) { return getJSON[File](t, bFiles, path) }

// PutFile records a file, and its compact key (scan.go).
func (t *Tx) PutFile(path string, f File) error {
	if err := putJSON(t, bFiles, path, f); err != nil {
		return err
	}
	return putFileKey(t.tx, path, f)
}

func (t *Tx) DeleteFile(path string) error {
	if err := del(t.tx, bFiles, path); err != nil {
		return err
	}
	return del(t.tx, bFileKeys, path)
}

func (t *Tx) EachFile(fn func(path string, f File) error) error {
	return eachJSON(t, bFiles, fn)
}

func (t *Tx) Photo(hash string) (Photo, bool, error) { return getJSON[Photo](t, bPhotos, hash) }

// PutPhoto records a photo, and its place in the rotation (scan.go).
func (t *Tx) PutPhoto(p Photo) error {
	if err := putJSON(t, bPhotos, p.Hash, p); err != nil {
		return err
	}
	return putRotation(t.tx, p)
}

func (t *Tx) DeletePhoto(hash string) error {
	if err := del(t.tx, bPhotos, hash); err != nil {
		return err
	}
	return del(t.tx, bRotation, hash)
}

func (t *Tx) EachPhoto(fn func(p Photo) error) error {
	return eachJSON(t, bPhotos, func(_ string, p Photo) error { return fn(p) })
}

func (t *Tx) Quote(id string) (Quote, bool, error) { return getJSON[Quote](t, bQuotes, id) }
func (t *Tx) PutQuote(q Quote) error               { return putJSON(t, bQuotes, q.ID, q) }
func (t *Tx) EachQuote(fn func(q Quote) error) error {
	return eachJSON(t, bQuotes, func(_ string, q Quote) error { return fn(q) })
}

func (t *Tx) Day(d schedule.Day) (Day, bool, error) { return getJSON[Day](t, bDays, d.String()) }
func (t *Tx) PutDay(d Day) error                    { return putJSON(t, bDays, d.Day.String(), d) }
func (t *Tx) DeleteDay(d schedule.Day) error        { return del(t.tx, bDays, d.String()) }

// EachDay visits the recorded days from from on, oldest first.
func (t *Tx) EachDay(from schedule.Day, fn func(d Day) error) error {
	c := t.tx.Bucket(bDays).Cursor()
	for k, _ := c.Seek([]byte(from.String())); k != nil; k, _ = c.Next() {
		d, ok, err := getJSON[Day](t, bDays, string(k))
		if err != nil {
			return err
		}
		if ok {
			if err := fn(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// DayPhoto returns the mailed JPEG kept for an open day, so a retry does
// not depend on the photo still being in the folder.
func (t *Tx) DayPhoto(d schedule.Day) []byte {
	return bytes.Clone(t.tx.Bucket(bDayPhotos).Get([]byte(d.String())))
}
func (t *Tx) PutDayPhoto(d schedule.Day, jpeg []byte) error {
	return t.tx.Bucket(bDayPhotos).Put([]byte(d.String()), jpeg)
}
func (t *Tx) DeleteDayPhoto(d schedule.Day) error { return del(t.tx, bDayPhotos, d.String()) }

// EachDayPhoto lists the days that still keep a JPEG.
func (t *Tx) EachDayPhoto(fn func(d schedule.Day) error) error {
	return t.tx.Bucket(bDayPhotos).ForEach(func(k, _ []byte) error {
		d, err := schedule.ParseDay(string(k))
		if err != nil {
			return err
		}
		return fn(d)
	})
}

func deliveryKey(d schedule.Day, addr string) string { return d.String() + "\x00" + addr }

func (t *Tx) Delivery(d schedule.Day, addr string) (Delivery, bool, error) {
	return getJSON[Delivery](t, bDeliveries, deliveryKey(d, addr))
}
func (t *Tx) PutDelivery(d schedule.Day, addr string, v Delivery) error {
	return putJSON(t, bDeliveries, deliveryKey(d, addr), v)
}

// DeleteDeliveries removes every delivery recorded for day d.
func (t *Tx) DeleteDeliveries(d schedule.Day) error {
	c := t.tx.Bucket(bDeliveries).Cursor()
	prefix := []byte(d.String() + "\x00")
	var keys [][]byte
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := t.tx.Bucket(bDeliveries).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// DeliveryCount counts deliveries recorded for day d.
func (t *Tx) DeliveryCount(d schedule.Day) int {
	n := 0
	c := t.tx.Bucket(bDeliveries).Cursor()
	prefix := []byte(d.String() + "\x00")
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// joinedPrefix keys the day each recipient's current membership of --to
// began (in the meta bucket, under the keys cotd has always used).
const joinedPrefix = "x:joined:"

// Joined returns the first day of addr's current membership of --to.
func (t *Tx) Joined(addr string) (schedule.Day, bool, error) {
	raw := t.tx.Bucket(bMeta).Get([]byte(joinedPrefix + addr))
	if raw == nil {
		return schedule.Day{}, false, nil
	}
	d, err := schedule.ParseDay(string(raw))
	if err != nil {
		return schedule.Day{}, false, fmt.Errorf("joined date of %s: %w", addr, err)
	}
	return d, true, nil
}

// PutJoined records that addr is a recipient from day d on.
func (t *Tx) PutJoined(addr string, d schedule.Day) error {
	return t.tx.Bucket(bMeta).Put([]byte(joinedPrefix+addr), []byte(d.String()))
}

// DeleteJoined forgets addr's membership (it left --to).
func (t *Tx) DeleteJoined(addr string) error { return del(t.tx, bMeta, joinedPrefix+addr) }

// EachJoined visits every recorded membership.
func (t *Tx) EachJoined(fn func(addr string, d schedule.Day) error) error {
	c := t.tx.Bucket(bMeta).Cursor()
	prefix := []byte(joinedPrefix)
	var addrs []string
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		addrs = append(addrs, string(k[len(prefix):]))
	}
	for _, a := range addrs {
		d, _, err := t.Joined(a)
		if err != nil {
			return err
		}
		if err := fn(a, d); err != nil {
			return err
		}
	}
	return nil
}

// splitPrefix marks recipients whose digest was too large or too slow for
// the server: until their backlog is through, today's cat goes alone and
// the older days in pieces.
const splitPrefix = "x:split:"

// Split reports whether addr's mail goes in pieces.
func (t *Tx) Split(addr string) bool {
	return t.tx.Bucket(bMeta).Get([]byte(splitPrefix+addr)) != nil
}

// PutSplit sets or clears addr's split mark.
func (t *Tx) PutSplit(addr string, on bool) error {
	if !on {
		return del(t.tx, bMeta, splitPrefix+addr)
	}
	return t.tx.Bucket(bMeta).Put([]byte(splitPrefix+addr), []byte("1"))
}

func (t *Tx) Failure(addr string) (Failure, bool, error) {
	return getJSON[Failure](t, bFailures, addr)
}
func (t *Tx) PutFailure(addr string, f Failure) error { return putJSON(t, bFailures, addr, f) }
func (t *Tx) DeleteFailure(addr string) error         { return del(t.tx, bFailures, addr) }
func (t *Tx) EachFailure(fn func(addr string, f Failure) error) error {
	return eachJSON(t, bFailures, fn)
}
