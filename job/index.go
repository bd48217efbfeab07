package job

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"cotd/caption"
	"cotd/images"
	"cotd/internal/atomicfile"
	"cotd/internal/crash"
	"cotd/quotes"
	"cotd/schedule"
	"cotd/store"
)

// SamplePath is the name the built-in sample cat is indexed under.
const SamplePath = "(built-in sample cat)"

// indexBatch bounds how much indexing work a power cut can undo: every
// batch is one commit (and one fsync), so a 10,000-photo first index does
// not pay 10,000 fsyncs on an SD card. A SIGKILL loses at most the batch
// in flight; its files are simply read again by the next run.
const indexBatch = 64

// DueIndexBudget is the index's time budget in a run with a day due (a
// shorter Budget wins): the first morning of a big folder mails its cat
// after about a minute of indexing, well inside systemd's 15 minutes.
const DueIndexBudget = time.Minute

// DefaultIndexMemory is the peak memory the index keeps the whole process
// under when IndexOptions.Memory is not set: a Pi Zero 2 W has 512 MB.
const DefaultIndexMemory = 256 << 20

// indexReserve is the part of the memory budget that is not for renders:
// the runtime, the binary, bbolt's pages and the garbage collector's slack.
const indexReserve = 72 << 20

// IndexOptions are how one run indexes the photo folder.
type IndexOptions struct {
	// Budget is the most time a run spends reading and rendering new
	// photos before it goes on to deliver from those already indexed; the
	// next runs index the rest. 0 means no limit. The budget only counts
	// once at least one usable photo is indexed, so even the first run of
	// a huge folder has a cat to mail.
	Budget time.Duration
	// DueBudget, when set, replaces a longer Budget in a run that has a
	// day due: the first morning's cat goes out within about a minute and
	// the timer's later runs render the rest with the full Budget.
	DueBudget time.Duration
	// Workers is how many photos are rendered at once; 0 means GOMAXPROCS.
	Workers int
	// Memory is the peak memory, in bytes, the index aims to keep the
	// whole process under (0: DefaultIndexMemory). Renders are admitted by
	// an estimate of their cost (images.Cost), so several small JPEGs run
	// side by side and one 16 MP PNG runs alone.
	Memory int64
	// FollowLinks follows symbolic links to files outside the photo folder.
	// Off by default: a link to a private photo elsewhere is not mailed.
	FollowLinks bool
}

// IndexStats describes one photo scan.
type IndexStats struct {
	Files    int       // image files seen
	New      int       // new or changed files read and rendered
	Photos   int       // distinct usable photos
	Unusable int       // files that cannot be used (reported when first seen)
	Reports  []Skipped // files new or changed this run that cannot be used, in path order
	Removed  int       // photos gone from the folder
	Elapsed  time.Duration
	// Read counts photo files whose contents were read: zero on a rescan
	// of an unchanged folder, which only stats.
	Read int
	// Left counts new or changed files not indexed yet because the time
	// budget ran out; the next runs index them.
	Left int
	// Rate is new files indexed per second this run (0 when none).
	Rate float64
}

// Skipped is a file of the photo folder that a scan could not use.
type Skipped struct {
	File   string // as the owner knows it: under the --photos path
	Reason string // what is wrong with it, with the fix
}

// String words a skip for the journal and the alert:
// "skipped photos/x.heic: reason".
func (s Skipped) String() string { return "skipped " + s.File + ": " + s.Reason }

// ReportLines words the Reports, one line each.
func (st IndexStats) ReportLines() []string {
	out := make([]string, len(st.Reports))
	for i, r := range st.Reports {
		out[i] = r.String()
	}
	return out
}

// IndexProgress is what the last run left of the index.
type IndexProgress store.IndexProgress

// ETA is how much indexing time the files left should take at the last
// run's rate (0 when unknown).
func (p IndexProgress) ETA() time.Duration {
	if p.Left == 0 || p.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(p.Left) / p.Rate * float64(time.Second))
}

// ReadIndexProgress returns what the last run recorded of the index; ok is
// false before the first run (or when the record cannot be read: status
// then simply does not show it).
func ReadIndexProgress(tx *store.Tx) (IndexProgress, bool) {
	p, ok, err := tx.IndexProgress()
	if err != nil || !ok {
		return IndexProgress{}, false
	}
	return IndexProgress(p), true
}

// ErrIndexStopped means a signal (systemd's SIGTERM) stopped the index;
// what was indexed is committed and the next run goes on from there.
var ErrIndexStopped = errors.New("indexing stopped")

type entry struct {
	rel  string
	abs  string
	size int64
	mod  int64
	err  string // a reason the file cannot be used, known without reading it
}

// Index scans the whole photo folder with no time budget; see IndexWithin.
func (j *Job) Index() (IndexStats, error) {
	return j.IndexWithin(context.Background(), 0)
}

// IndexWithin scans the photo folder incrementally: a file whose size and
// modification time are unchanged is not read again; a new or changed file
// is hashed and, if its contents are new, rendered into the cache once, on
// Workers goroutines under the memory budget, newest files first. It stops
// taking new files when budget is spent (once a photo is usable) or ctx is
// done, commits what the renders in flight finish, and leaves the rest to
// the next run. A stop by ctx returns an error wrapping ErrIndexStopped.
func (j *Job) IndexWithin(ctx context.Context, budget time.Duration) (IndexStats, error) {
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
	usable := 0
	seen := map[string]bool{}
	err = j.Store.View(func(tx *store.Tx) error {
		for _, e := range entries {
			seen[e.rel] = true
			f, ok, err := tx.File(e.rel)
			if err != nil {
				return err
			}
			if ok && f.Size == e.size && f.ModTime == e.mod && (f.Hash == "" || j.renditionExists(f.Hash)) {
				if f.Hash != "" {
					usable++
				}
				continue
			}
			todo = append(todo, e)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	// Newest first: when the budget cuts a first index short, the cats
	// mailed first are the owner's recent photos.
	sort.SliceStable(todo, func(a, b int) bool { return todo[a].mod > todo[b].mod })

	var batch []indexed
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
					ph.Width, ph.Height, ph.Render, ph.Digest = p.img.w, p.img.h, p.img.key, p.img.digest
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

	workers := j.Indexing.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	mem := newMemBudget(j.Indexing.Memory)
	defer mem.limitHeap()()
	results := make(chan indexed, workers)
	next, inflight, done := 0, 0, 0
	var fatal error
	var stopped bool
	for {
		for inflight < workers && next < len(todo) && fatal == nil {
			if ctx.Err() != nil {
				stopped = true
				break
			}
			if budget > 0 && usable > 0 && watch().Sub(start) >= budget {
				break
			}
			e := todo[next]
			next++
			inflight++
			go func() { results <- j.indexOne(e, mem) }()
		}
		if inflight == 0 {
			break
		}
		p := <-results
		inflight--
		if p.fatal != nil {
			// The disk's problem, not the photo's: keep what is done, and
			// read this file again next run.
			fatal = p.fatal
			continue
		}
		if p.read {
			st.Read++
		}
		if p.f.Hash != "" {
			usable++
		}
		if p.f.Err != "" {
			st.Reports = append(st.Reports, Skipped{File: j.display(p.e.rel), Reason: p.f.Err})
		}
		st.New++
		done++
		batch = append(batch, p)
		crash.Point("index-file")
		if len(batch) >= indexBatch {
			if err := flush(); err != nil {
				return st, err
			}
		}
		if j.Progress != nil {
			j.Progress(done, len(todo))
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	// Workers finish in any order; the log reads in path order.
	sort.Slice(st.Reports, func(a, b int) bool { return st.Reports[a].File < st.Reports[b].File })
	if fatal != nil {
		return st, fatal
	}
	st.Left = len(todo) - done
	if el := watch().Sub(start); done > 0 && el > 0 {
		st.Rate = float64(done) / el.Seconds()
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
		return tx.PutIndexProgress(store.IndexProgress{At: now, Files: st.Files, Left: st.Left, Rate: st.Rate})
	})
	if err == nil {
		j.pruneRenditions()
	}
	st.Elapsed = watch().Sub(start)
	if err != nil {
		return st, err
	}
	if st.Left > 0 {
		eta := "time unknown"
		if st.Rate > 0 {
			eta = fmt.Sprintf("about %s more at %.1f a second", roundETA(IndexProgress{Left: st.Left, Rate: st.Rate}.ETA()), st.Rate)
		}
		photos := fmt.Sprintf("%d photos", st.Photos)
		if st.Photos == 1 {
			photos = "1 photo"
		}
		msg := fmt.Sprintf("indexed %d of %d new photo files within the %s index budget; %d left (%s), the next runs go on; mailing from the %s indexed so far",
			done, len(todo), budget, st.Left, eta, photos)
		if stopped {
			msg = fmt.Sprintf("stopped indexing on a signal after %d of %d new photo files; %d left for the next run", done, len(todo), st.Left)
			j.log().Warn(msg)
			return st, fmt.Errorf("%w after %d of %d new photo files (kept); the next run goes on: %w", ErrIndexStopped, done, len(todo), context.Cause(ctx))
		}
		j.log().Info(msg)
	}
	return st, nil
}

// roundETA shows an estimate to the precision it has.
func roundETA(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

// indexed is one file's outcome, from a worker to the committing loop.
type indexed struct {
	e       entry
	f       store.File
	img     *rendered
	caption string // who is in the picture (package caption), read with the file
	read    bool
	fatal   error // the cache cannot be written: stop the index
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
		// Installing heif-convert makes the photo usable: no recorded
		// mtime matches, so the next run reads it again.
		p.f.Hash, p.f.Err, p.f.ModTime = "", err.Error(), 0
	case err != nil:
		p.f.Hash, p.f.Err = "", err.Error()
	default:
		p.img = img
	}
	return p
}

// readPhoto reads a photo file whole, after taking its share of the
// memory budget (estimated from its header), and returns the function
// that gives the share back. The size is checked again on the open file,
// so a file that grew after the scan is not read past the limit either.
func (j *Job) readPhoto(e entry, mem *memBudget) (release func(), data []byte, err error) {
	release = func() {}
	if j.Photos == "" {
		return release, j.Sample, nil
	}
	if testHookBeforeRead != nil {
		testHookBeforeRead(e.abs)
	}
	f, err := os.Open(e.abs)
	if err != nil {
		return release, nil, errors.New("cannot read: " + reason(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return release, nil, errors.New("cannot read: " + reason(err))
	}
	if fi.Size() > images.MaxFileBytes {
		return release, nil, tooBig(fi.Size())
	}
	head := make([]byte, min(fi.Size(), images.HeaderBytes))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return release, nil, errors.New("cannot read: " + reason(err))
	}
	head = head[:n]
	release = mem.acquire(images.Cost(head, fi.Size(), j.Render))
	rest, err := io.ReadAll(io.LimitReader(f, images.MaxFileBytes+1-int64(n)))
	if err != nil {
		return release, nil, errors.New("cannot read: " + reason(err))
	}
	if int64(n+len(rest)) > images.MaxFileBytes {
		return release, nil, tooBig(int64(n + len(rest)))
	}
	return release, append(head, rest...), nil
}

func tooBig(size int64) error {
	return fmt.Errorf("file is %d MiB, larger than the %d MiB limit for a photo; not read", size>>20, images.MaxFileBytes>>20)
}

// memBudget admits renders by their estimated cost so their sum stays
// within the budget; one costlier than the whole budget runs alone.
type memBudget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	total int64 // bytes for renders
	used  int64
	limit int64 // the whole process's target, for the garbage collector
}

func newMemBudget(limit int64) *memBudget {
	if limit <= 0 {
		limit = DefaultIndexMemory
	}
	m := &memBudget{total: max(limit-indexReserve, limit/2), limit: limit}
	m.cond = sync.NewCond(&m.mu)
	return m
}

func (m *memBudget) acquire(cost int64) (release func()) {
	if m == nil {
		return func() {} // a single render outside the index
	}
	cost = min(max(cost, 1), m.total)
	m.mu.Lock()
	for m.used+cost > m.total {
		m.cond.Wait()
	}
	m.used += cost
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		m.used -= cost
		m.mu.Unlock()
		m.cond.Broadcast()
	}
}

// limitHeap tells the garbage collector about the budget for the length of
// the index (unless GOMEMLIMIT says otherwise): without it the heap may
// grow to twice what the renders hold before a collection. It returns the
// function that restores the previous limit.
func (m *memBudget) limitHeap() func() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(m.limit - m.limit/8) // RSS has non-heap parts too
	return func() { debug.SetMemoryLimit(old) }
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
	j.realRoot = ""
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
		e, err := j.entryFor(path)
		if err != nil {
			return err
		}
		e.rel = rel
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

// entryFor describes the file at path (inside the photo folder) as a scan
// sees it: its size and time, or why it cannot be used without reading it.
// A symbolic link is followed only to a regular file inside the folder,
// unless Indexing.FollowLinks; a file larger than images.MaxFileBytes is
// refused by its size, so it is never read.
func (j *Job) entryFor(path string) (entry, error) {
	e := entry{abs: path}
	if j.realRoot == "" {
		r, err := filepath.EvalSymlinks(j.Photos)
		if err != nil {
			return e, fmt.Errorf("photo folder %s: %w", j.Photos, err)
		}
		j.realRoot = r
	}
	if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 && !j.Indexing.FollowLinks {
		target, err := filepath.EvalSymlinks(path)
		if err == nil && !inside(j.realRoot, target) {
			e.err = fmt.Sprintf("a symbolic link to %s, outside the photo folder; not followed (--follow-links all mails such files)", target)
			return e, nil
		}
	}
	info, err := os.Stat(path) // follows a symbolic link to the file it names
	switch {
	case err != nil:
		e.err = "cannot read: " + reason(err)
	case !info.Mode().IsRegular():
		e.err = "not a regular file"
	case info.Size() > images.MaxFileBytes:
		e.err = tooBig(info.Size()).Error()
		e.size, e.mod = info.Size(), info.ModTime().UnixNano()
	default:
		e.size, e.mod = info.Size(), info.ModTime().UnixNano()
	}
	return e, nil
}

// inside reports whether path is root or below it (both resolved).
func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
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

// pickPhoto chooses day d's cat from photos: the next in the rotation
// whose rendition can be loaded. A photo that cannot (gone from the
// folder, damaged beyond a re-render) is passed over with a line in the
// log saying why, and the next one is tried. It records the mailed JPEG's
// digest on the chosen photo.
func (j *Job) pickPhoto(photos []store.Photo, d schedule.Day) (int, []byte, error) {
	tried := map[int]bool{}
	var lastErr error
	for len(tried) < len(photos) {
		var cs []schedule.Candidate
		var idx []int
		for i, c := range photoCandidates(photos) {
			if !tried[i] {
				cs, idx = append(cs, c), append(idx, i)
			}
		}
		i := idx[schedule.Pick(cs)]
		b, err := j.loadRendition(photos[i])
		if err == nil {
			photos[i].Digest = digestOf(b)
			return i, b, nil
		}
		tried[i] = true
		lastErr = err
		j.log().Warn(fmt.Sprintf("cannot mail %s for %s: %v; picking another cat", j.display(photos[i].Path), d, err))
	}
	return 0, nil, fmt.Errorf("%w for %s: %w", ErrNoPhotos, d, lastErr)
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

// indexQuotes reads the quotes and records new ones; it returns the usable
// quotes and what is wrong with them.
func (j *Job) indexQuotes() ([]quotes.Quote, []QuotesProblem, error) {
	name := "" // the built-in quotes
	var src io.Reader = bytes.NewReader(j.DefaultQuotes)
	var problems []QuotesProblem
	if j.Quotes != "" {
		// Streamed, never read whole: quotes.Parse bounds what a huge
		// file costs.
		f, err := os.Open(j.Quotes)
		if err != nil {
			problems = append(problems, QuotesProblem{Kind: QuotesUnreadable, File: j.Quotes, Reason: reason(err)})
		} else {
			defer f.Close()
			name, src = j.Quotes, f
		}
	}
	qs, ps, err := quotes.Parse(src)
	if err != nil && name != "" {
		problems = append(problems, QuotesProblem{Kind: QuotesUnreadable, File: j.Quotes, Reason: reason(err)})
		name = ""
		qs, ps, err = quotes.Parse(bytes.NewReader(j.DefaultQuotes))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read built-in quotes: %w", err)
	}
	for _, p := range ps {
		problems = append(problems, QuotesProblem{Kind: BadQuote, File: name, Line: p.Line, Reason: p.Reason})
	}
	if len(qs) == 0 && name != "" {
		problems = append(problems, QuotesProblem{Kind: NoQuote, File: name})
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
