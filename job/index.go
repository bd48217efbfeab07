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
	"sort"
	"strings"
	"time"

	"cotd/caption"
	"cotd/images"
	"cotd/internal/crash"
	"cotd/quotes"
	"cotd/store"
)

// SamplePath is the name the built-in sample cat is indexed under.
const SamplePath = "(built-in sample cat)"

// indexBatch bounds how much indexing work a power cut can undo: every
// batch is one commit (and one fsync), so a 10,000-photo first index does
// not pay 10,000 fsyncs on an SD card.
const indexBatch = 64

// IndexStats describes one photo scan.
type IndexStats struct {
	Files    int      // image files seen
	New      int      // new or changed files read and rendered
	Photos   int      // distinct usable photos
	Unusable int      // files that cannot be used (reported when first seen)
	Reports  []string // "skipped photos/x.heic: reason" for files new or changed this run
	Removed  int      // photos gone from the folder
	Elapsed  time.Duration
	// Read counts photo files whose contents were read: zero on a rescan
	// of an unchanged folder, which only stats.
	Read int
}

type entry struct {
	rel  string
	abs  string
	size int64
	mod  int64
	err  string // a reason the file cannot be used, known without reading it
}

// Index scans the photo folder incrementally: a file whose size and
// modification time are unchanged is not read again; a new or changed file
// is hashed and, if its contents are new, rendered into the cache once.
func (j *Job) Index() (IndexStats, error) {
	watch := j.Stopwatch
	if watch == nil {
		watch = j.Now
	}
	start := watch()
	var st IndexStats
	entries, err := j.walk()
	if err != nil {
		return st, err
	}
	st.Files = len(entries)
	now := j.now()

	// Which entries need reading: compare with what the last scan saw.
	var todo []entry
	seen := map[string]bool{}
	err = j.Store.View(func(tx *store.Tx) error {
		for _, e := range entries {
			seen[e.rel] = true
			f, ok, err := tx.File(e.rel)
			if err != nil {
				return err
			}
			if ok && f.Size == e.size && f.ModTime == e.mod && (f.Hash == "" || j.renditionExists(f.Hash)) {
				continue
			}
			todo = append(todo, e)
		}
		return nil
	})
	if err != nil {
		return st, err
	}

	type pending struct {
		e       entry
		f       store.File
		img     *rendered
		caption string
	}
	var batch []pending
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := j.Store.Update(func(tx *store.Tx) error {
			for _, p := range batch {
				if err := tx.PutFile(p.e.rel, p.f); err != nil {
					return err
				}
				if p.f.Hash == "" {
					continue
				}
				ph, ok, err := tx.Photo(p.f.Hash)
				if err != nil {
					return err
				}
				if !ok {
					ph = store.Photo{Hash: p.f.Hash, Added: now}
				}
				ph.Path = p.e.rel
				ph.Caption = p.caption
				if p.img != nil {
					ph.Width, ph.Height, ph.Render = p.img.w, p.img.h, p.img.key
				}
				if err := tx.PutPhoto(ph); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		crash.Point("index-commit")
		return err
	}
	if j.Progress != nil && len(todo) > 0 {
		j.Progress(0, len(todo))
	}
	for i, e := range todo {
		f := store.File{Size: e.size, ModTime: e.mod}
		var img *rendered
		var capt string
		if e.err != "" {
			f.Err = e.err
		} else {
			hash, data, err := j.hashFile(e)
			st.Read++
			switch {
			case err != nil:
				f.Err = err.Error()
			default:
				f.Hash = hash
				if j.Photos != "" {
					capt = caption.Find(e.abs, data)
				}
				img, err = j.ensureRendition(hash, data, e.abs)
				if errors.Is(err, errCache) {
					// The disk's problem, not the photo's: stop, keep
					// what is done, and read this file again next run.
					if ferr := flush(); ferr != nil {
						return st, ferr
					}
					return st, err
				}
				if err != nil {
					f.Hash, f.Err = "", err.Error()
				}
			}
		}
		if f.Err != "" {
			st.Reports = append(st.Reports, fmt.Sprintf("skipped %s: %s", j.display(e.rel), f.Err))
		}
		st.New++
		batch = append(batch, pending{e, f, img, capt})
		crash.Point("index-file")
		if len(batch) >= indexBatch {
			if err := flush(); err != nil {
				return st, err
			}
		}
		if j.Progress != nil {
			j.Progress(i+1, len(todo))
		}
	}
	if err := flush(); err != nil {
		return st, err
	}

	// Forget files that are gone, and photos no file shows any more.
	err = j.Store.Update(func(tx *store.Tx) error {
		live := map[string]bool{}
		var gone []string
		err := tx.EachFile(func(path string, f store.File) error {
			switch {
			case !seen[path]:
				gone = append(gone, path)
			case f.Hash != "":
				live[f.Hash] = true
			default:
				st.Unusable++
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range gone {
			if err := tx.DeleteFile(p); err != nil {
				return err
			}
		}
		var dead []store.Photo
		err = tx.EachPhoto(func(p store.Photo) error {
			if live[p.Hash] {
				st.Photos++
			} else {
				dead = append(dead, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range dead {
			if err := tx.DeletePhoto(p.Hash); err != nil {
				return err
			}
			j.removeRendition(p.Hash)
			st.Removed++
		}
		return nil
	})
	if err == nil {
		j.pruneRenditions()
	}
	st.Elapsed = watch().Sub(start)
	return st, err
}

// walk lists the image files in the photo folder (or the built-in sample).
func (j *Job) walk() ([]entry, error) {
	if j.Photos == "" {
		return []entry{{rel: SamplePath, size: int64(len(j.Sample)), mod: 1}}, nil
	}
	root := j.Photos
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("photo folder %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("photo folder %s is not a folder", root)
	}
	var out []entry
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, path)
		if err != nil {
			if path == root {
				return err
			}
			out = append(out, entry{rel: rel, abs: path, err: "cannot read: " + reason(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") && path != root {
			if d.IsDir() {
				return fs.SkipDir // .thumbnails, .git and the like
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		ok, why := images.Supported(name)
		if !ok && why == "" {
			return nil // not an image file name: notes, sidecars
		}
		e := entry{rel: rel, abs: path}
		info, err := os.Stat(path) // follows a symbolic link to the file it names
		switch {
		case err != nil:
			e.err = "cannot read: " + reason(err)
		case !info.Mode().IsRegular():
			e.err = "not a regular file"
		default:
			e.size, e.mod = info.Size(), info.ModTime().UnixNano()
		}
		if !ok && e.err == "" {
			e.err = why
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan photo folder %s: %w", root, err)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].rel < out[b].rel })
	return out, nil
}

// reason shortens an fs error to what a person needs.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied; make it readable by the cotd user"
	case errors.Is(err, fs.ErrNotExist):
		return "it vanished or is a broken link"
	}
	if strings.Contains(err.Error(), "too many levels of symbolic links") {
		return "symbolic link loop"
	}
	return err.Error()
}

func (j *Job) display(rel string) string {
	if j.Photos == "" {
		return rel
	}
	return filepath.Join(j.Photos, rel)
}

// testHookBeforeRead lets a test change a file between the scan and the
// read (a file that vanishes mid-run).
var testHookBeforeRead func(path string)

func (j *Job) hashFile(e entry) (string, []byte, error) {
	var data []byte
	var err error
	if j.Photos == "" {
		data = j.Sample
	} else {
		if testHookBeforeRead != nil {
			testHookBeforeRead(e.abs)
		}
		data, err = os.ReadFile(e.abs)
		if err != nil {
			return "", nil, errors.New("cannot read: " + reason(err))
		}
	}
	if len(data) == 0 {
		return "", nil, errors.New("empty file (0 bytes)")
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:16]), data, nil
}

// rendered describes a rendition in the cache.
type rendered struct {
	key  string
	w, h int
}

func (j *Job) renditionPath(hash string) string {
	return filepath.Join(j.CacheDir, "renditions", hash+"-"+j.Render.Key()+".jpg")
}

func (j *Job) renditionExists(hash string) bool {
	_, err := os.Stat(j.renditionPath(hash))
	return err == nil
}

// pruneRenditions removes cached renditions no photo uses: those of
// photos that left the folder while cotd was not looking and those made
// with older render settings. The cache thus holds one file per photo.
func (j *Job) pruneRenditions() {
	dir := filepath.Join(j.CacheDir, "renditions")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	live := map[string]bool{}
	_ = j.Store.View(func(tx *store.Tx) error {
		return tx.EachPhoto(func(p store.Photo) error {
			live[filepath.Base(j.renditionPath(p.Hash))] = true
			return nil
		})
	})
	for _, e := range ents {
		if !live[e.Name()] {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				j.log().Warn("remove cached rendition", "file", e.Name(), "err", err)
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
			return &rendered{j.Render.Key(), cfg.Width, cfg.Height}, nil
		}
	}
	res, err := images.Render(bytes.NewReader(data), j.Render)
	if err != nil {
		return nil, err
	}
	// Not synced: the cache can always be rebuilt, and loadRendition
	// checks a rendition is whole before mailing it, so a power cut costs
	// a re-render, never a broken cat (and an SD card is spared an fsync
	// per photo during a first index of thousands).
	if err := writeFile(out, res.JPEG, false); err != nil {
		return nil, fmt.Errorf("%w %s: %w", errCache, out, err)
	}
	return &rendered{j.Render.Key(), res.Width, res.Height}, nil
}

// loadRendition returns the mailed JPEG of a photo, rendering it again if
// the cache lost it.
func (j *Job) loadRendition(p store.Photo) ([]byte, error) {
	b, err := os.ReadFile(j.renditionPath(p.Hash))
	if err == nil && wholeJPEG(b) {
		return b, nil
	}
	var data []byte
	if p.Path == SamplePath {
		data = j.Sample
	} else {
		data, err = os.ReadFile(filepath.Join(j.Photos, p.Path))
		if err != nil {
			return nil, fmt.Errorf("photo %s: %w", j.display(p.Path), err)
		}
	}
	if _, err := j.ensureRendition(p.Hash, data, p.Path); err != nil {
		return nil, err
	}
	return os.ReadFile(j.renditionPath(p.Hash))
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
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// indexQuotes reads the quotes and records new ones; it returns the usable
// quotes and one line per problem.
func (j *Job) indexQuotes() ([]quotes.Quote, []string, error) {
	name, data := "built-in quotes", j.DefaultQuotes
	var problems []string
	if j.Quotes != "" {
		b, err := os.ReadFile(j.Quotes)
		if err != nil {
			problems = append(problems, fmt.Sprintf("quotes %s: %s; using the built-in quotes until it is fixed", j.Quotes, reason(err)))
		} else {
			name, data = j.Quotes, b
		}
	}
	qs, ps, err := quotes.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	for _, p := range ps {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", name, p.Line, p.Reason))
	}
	if len(qs) == 0 && name != "built-in quotes" {
		problems = append(problems, fmt.Sprintf("%s has no usable quote; using the built-in quotes until it has one", name))
		qs, _, _ = quotes.Parse(bytes.NewReader(j.DefaultQuotes))
	}
	if len(qs) == 0 {
		qs = []quotes.Quote{fallbackQuote}
	}
	now := j.now()
	err = j.Store.Update(func(tx *store.Tx) error {
		for _, q := range qs {
			if _, ok, err := tx.Quote(q.ID()); err != nil || ok {
				if err != nil {
					return err
				}
				continue
			}
			if err := tx.PutQuote(store.Quote{ID: q.ID(), Text: q.Text, Author: q.Author, Added: now}); err != nil {
				return err
			}
		}
		return nil
	})
	return qs, problems, err
}

var fallbackQuote = quotes.Quote{Text: "Time spent with cats is never wasted.", Author: "Sigmund Freud", Line: 1}
