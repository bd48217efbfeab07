package job

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cotd/caption"
	"cotd/images"
	"cotd/internal/atomicfile"
	"cotd/schedule"
	"cotd/store"
)

// The rendition cache: one rendered JPEG per photo, made when the photo is
// indexed, checked against its digest before it is mailed.

// indexed is one file's outcome, from a worker to the committing loop.
type indexed struct {
	e       entry
	f       store.File
	img     *rendered
	caption string // who is in the picture (package caption), read with the file
	read    bool
	// vanished means the file was not at its path when the worker opened
	// it: it may have moved (see followMoves).
	vanished bool
	fatal    error // the cache cannot be written: stop the index
}

// indexOne reads, hashes and renders one file. It runs on a worker
// goroutine and touches no database: the caller commits its outcome.
func (j *Job) indexOne(e entry, mem *memBudget) indexed {
	p := indexed{e: e, f: store.File{Size: e.size, ModTime: e.mod}}
	if e.err != "" {
		p.f.Err = e.err
		return p
	}
	release, data, err := j.readPhoto(e, mem)
	defer release()
	p.read = true
	if err != nil {
		p.f.Err = err.Error()
		p.vanished = errors.Is(err, fs.ErrNotExist)
		return p
	}
	if len(data) == 0 {
		p.f.Err = "empty file (0 bytes)"
		return p
	}
	h := sha256.Sum256(data)
	p.f.Hash = hex.EncodeToString(h[:16])
	if j.Photos != "" {
		p.caption = caption.Find(e.abs, data)
	}
	img, err := j.ensureRendition(p.f.Hash, data, e.abs)
	switch {
	case errors.Is(err, errCache):
		p.fatal = err
	case errors.Is(err, images.ErrNoHelper):
		// Installing heif-convert makes the photo usable: the first run
		// that finds it installed reads the file again (plan). Until then
		// it is an unusable file like any other, not read every run.
		p.f.Hash, p.f.Err, p.f.NeedsHelper = "", err.Error(), true
	case err != nil:
		p.f.Hash, p.f.Err = "", err.Error()
	default:
		p.img = img
	}
	return p
}

// rendered describes a rendition in the cache.
type rendered struct {
	key    string
	w, h   int
	digest string // SHA-256 of the JPEG, hex
}

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (j *Job) renditionPath(hash string) string {
	return filepath.Join(j.CacheDir, "renditions", hash+"-"+j.Render.Key()+".jpg")
}

// cachedRenditions returns the photos (by hash) that have a rendition
// made with the current render settings among names (renditionNames).
func (j *Job) cachedRenditions(names []string) map[string]bool {
	out := make(map[string]bool, len(names))
	suffix := "-" + j.Render.Key() + ".jpg"
	for _, name := range names {
		if hash, ok := strings.CutSuffix(name, suffix); ok {
			out[hash] = true
		}
	}
	return out
}

// The rendition cache's folder changes its modification time whenever a
// rendition is added, replaced or removed. After a complete index (every
// photo rendered, strays pruned) the index records that time with the
// render settings in intactMarker; while both still match, the cache holds
// exactly one rendition per photo and a morning need not list it (10,000
// names). A damaged rendition does not change the folder, but it is caught
// by its digest before it is mailed (loadRendition).
const intactMarker = "renditions.intact"

func (j *Job) renditionsStamp() (string, bool) {
	fi, err := os.Stat(filepath.Join(j.CacheDir, "renditions"))
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%d %s\n", fi.ModTime().UnixNano(), j.Render.Key()), true
}

// renditionsIntact reports whether the cache is as the last complete index
// left it.
func (j *Job) renditionsIntact() bool {
	stamp, ok := j.renditionsStamp()
	if !ok {
		return false
	}
	b, err := os.ReadFile(filepath.Join(j.CacheDir, intactMarker))
	return err == nil && string(b) == stamp
}

// markRenditionsIntact records the cache as a complete index leaves it,
// unless the folder changed too recently to tell a later change by its
// time: file systems keep coarse times (a few ms, FAT 2 s), so the record
// is kept only when the folder is intactMargin older than the record
// itself, by the file system's own clock.
func (j *Job) markRenditionsIntact() {
	path := filepath.Join(j.CacheDir, intactMarker)
	stamp, ok := j.renditionsStamp()
	if ok {
		if err := writeFile(path, []byte(stamp), false); err != nil {
			j.log().Warn("record the rendition cache", "err", err)
		}
		dir, err1 := os.Stat(filepath.Join(j.CacheDir, "renditions"))
		mark, err2 := os.Stat(path)
		ok = err1 == nil && err2 == nil && mark.ModTime().Sub(dir.ModTime()) > intactMargin
	}
	if !ok {
		os.Remove(path)
	}
}

// intactMargin is how much older than its record the cache's folder must
// be for the record to be kept (see markRenditionsIntact).
const intactMargin = 5 * time.Second

// renditionNames lists the files of the rendition cache, unsorted.
func (j *Job) renditionNames() []string {
	d, err := os.Open(filepath.Join(j.CacheDir, "renditions"))
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	return names
}

// pruneRenditions removes the cached renditions among names (listed when
// the index began; those made since are in use) that no photo uses: those
// of photos that left the folder while cotd was not looking and those made
// with older render settings. The cache thus holds one file per photo.
func (j *Job) pruneRenditions(names []string) {
	if len(names) == 0 {
		return
	}
	live := make(map[string]bool, len(names))
	suffix := "-" + j.Render.Key() + ".jpg" // as renditionPath names them
	_ = j.Store.View(func(tx *store.Tx) error {
		return tx.EachPhotoHash(func(hash string) error {
			live[hash+suffix] = true
			return nil
		})
	})
	dir := filepath.Join(j.CacheDir, "renditions")
	for _, name := range names {
		if !live[name] {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				j.log().Warn("remove cached rendition", "file", name, "err", err)
			}
		}
	}
}

func (j *Job) removeRendition(hash string) {
	if err := os.Remove(j.renditionPath(hash)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		j.log().Warn("remove cached rendition", "photo", hash, "err", err)
	}
}

// errCache marks a failure to write the rendition cache (disk full,
// permissions): it must not mark the photo unusable for good.
var errCache = errors.New("rendition cache")

// ensureRendition renders the photo into the cache unless it is there.
func (j *Job) ensureRendition(hash string, data []byte, path string) (*rendered, error) {
	out := j.renditionPath(hash)
	if b, err := os.ReadFile(out); err == nil && wholeJPEG(b) {
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(b)); err == nil {
			return &rendered{j.Render.Key(), cfg.Width, cfg.Height, digestOf(b)}, nil
		}
	}
	res, err := images.Render(bytes.NewReader(data), j.Render)
	if err != nil {
		return nil, err
	}
	if res.Note != "" { // e.g. a CMYK colour profile: mailed unconverted
		j.log().Warn(res.Note, "photo", path)
	}
	// Not synced: the cache can always be rebuilt, and loadRendition
	// checks a rendition against its digest before mailing it, so a power
	// cut costs a re-render, never a broken cat (and an SD card is spared
	// an fsync per photo during a first index of thousands).
	if err := writeFile(out, res.JPEG, false); err != nil {
		return nil, fmt.Errorf("%w %s: %w", errCache, out, err)
	}
	return &rendered{j.Render.Key(), res.Width, res.Height, digestOf(res.JPEG)}, nil
}

// loadRendition returns the mailed JPEG of a photo: the cached rendition
// when it matches the digest recorded when it was made, else (lost,
// damaged by the SD card, made by an older cotd that kept no digest and
// no longer whole) a fresh render of the photo, saying why.
func (j *Job) loadRendition(p store.Photo) ([]byte, error) {
	b, err := os.ReadFile(j.renditionPath(p.Hash))
	switch {
	case err == nil && p.Digest != "" && digestOf(b) == p.Digest:
		return b, nil
	case err == nil && p.Digest == "" && wholeJPEG(b):
		return b, nil // cached before digests were recorded
	case err == nil:
		j.log().Warn(fmt.Sprintf("the cached rendition of %s is damaged (it does not match the digest recorded when it was made); rendering the photo again", j.display(p.Path)))
	}
	var data []byte
	if p.Path == SamplePath {
		data = j.Sample
	} else {
		abs := filepath.Join(j.Photos, p.Path)
		e, err := j.entryFor(abs)
		if err == nil && e.err != "" {
			err = errors.New(e.err)
		}
		if err != nil {
			return nil, fmt.Errorf("photo %s: %w", j.display(p.Path), err)
		}
		_, data, err = j.readPhoto(e, nil)
		if err != nil {
			return nil, fmt.Errorf("photo %s: %w", j.display(p.Path), err)
		}
	}
	h := sha256.Sum256(data)
	if hex.EncodeToString(h[:16]) != p.Hash {
		return nil, fmt.Errorf("photo %s changed since it was indexed; the next run indexes it again", j.display(p.Path))
	}
	os.Remove(j.renditionPath(p.Hash)) // a damaged one must not be taken as cached
	if _, err := j.ensureRendition(p.Hash, data, p.Path); err != nil {
		return nil, err
	}
	return os.ReadFile(j.renditionPath(p.Hash))
}

// pickPhoto chooses day d's cat from photos (the rotation's candidates):
// the next in the rotation whose rendition can be loaded. A photo that
// cannot (gone from the folder, damaged beyond a re-render) is passed over
// with a line in the log saying why, and the next one is tried. It returns
// the chosen candidate's index and its record, with the mailed JPEG's
// digest.
func (j *Job) pickPhoto(tx *store.Tx, photos []schedule.Candidate, d schedule.Day) (int, store.Photo, []byte, error) {
	tried := map[int]bool{}
	var lastErr error
	for len(tried) < len(photos) {
		var cs []schedule.Candidate
		var idx []int
		for i, c := range photos {
			if !tried[i] {
				cs, idx = append(cs, c), append(idx, i)
			}
		}
		i := idx[schedule.Pick(cs)]
		p, ok, err := tx.Photo(photos[i].ID)
		if err == nil && !ok {
			err = fmt.Errorf("photo %s has no record", photos[i].ID)
		}
		if err == nil {
			var b []byte
			if b, err = j.loadRendition(p); err == nil {
				p.Digest = digestOf(b)
				return i, p, b, nil
			}
		}
		tried[i] = true
		lastErr = err
		name := j.display(p.Path)
		if p.Path == "" {
			name = "photo " + photos[i].ID
		}
		j.log().Warn(fmt.Sprintf("cannot mail %s for %s: %v; picking another cat", name, d, err))
	}
	return 0, store.Photo{}, nil, fmt.Errorf("%w for %s: %w", ErrNoPhotos, d, lastErr)
}

// wholeJPEG reports whether b looks like a complete JPEG: a readable header
// and the end-of-image marker.
func wholeJPEG(b []byte) bool {
	if len(b) < 4 || b[len(b)-2] != 0xFF || b[len(b)-1] != 0xD9 {
		return false
	}
	_, err := jpeg.DecodeConfig(bytes.NewReader(b))
	return err == nil
}

// writeFile writes via a temp file and a rename, so readers see the old
// file or the new one, never half of one; durable also syncs the file and
// its folder, so a power cut cannot undo it.
func writeFile(path string, data []byte, durable bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, data, atomicfile.Options{NoSync: !durable})
}
