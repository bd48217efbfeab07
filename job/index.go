package job

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"time"

	"cotd/images"
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
	// Moved counts files renamed or moved inside the folder while the
	// index ran: found at their new paths, not reported.
	Moved   int
	Elapsed time.Duration
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
//
// Its steps: walk the folder, plan what to read, read and render on the
// workers (committing in batches), sweep out what is gone, then say what
// is left.
func (j *Job) IndexWithin(ctx context.Context, budget time.Duration) (IndexStats, error) {
	r := &indexRun{j: j, ctx: ctx, budget: budget, watch: j.Stopwatch}
	if r.watch == nil {
		r.watch = j.Now
	}
	r.start = r.watch()
	// The walk and the plan make small, short-lived garbage (a name and an
	// entry a file): collecting it as the default does, each time the
	// heap doubles from 4 MiB, was a tenth of a warm morning's CPU. The
	// renders after them run under the memory budget's own limit.
	gc := debug.SetGCPercent(400)
	entries, err := j.walk()
	if err != nil {
		debug.SetGCPercent(gc)
		return r.st, err
	}
	r.now = j.now()
	err = r.plan(entries)
	debug.SetGCPercent(gc)
	if err != nil {
		return r.st, err
	}
	err = r.work()
	if err == nil {
		err = r.followMoves()
	}
	// Workers finish in any order; the log reads in path order.
	sort.Slice(r.st.Reports, func(a, b int) bool { return r.st.Reports[a].File < r.st.Reports[b].File })
	if err != nil {
		return r.st, err
	}
	r.st.Left = len(r.todo) - r.done
	if el := r.watch().Sub(r.start); r.done > 0 && el > 0 {
		r.st.Rate = float64(r.done) / el.Seconds()
	}
	err = r.sweep()
	if err == nil && !j.KeepCache { // check shares the cache; it never prunes it
		r.prune()
	}
	r.st.Elapsed = r.watch().Sub(r.start)
	if err != nil {
		return r.st, err
	}
	return r.st, r.sayLeft()
}

// indexRun is one IndexWithin in progress, shared by its steps.
type indexRun struct {
	j      *Job
	ctx    context.Context
	budget time.Duration
	watch  func() time.Time
	start  time.Time
	now    time.Time // the time recorded on new photos and the progress

	st      IndexStats
	all     []entry         // every file the walks found
	todo    []entry         // new or changed files, newest first (per walk)
	next    int             // the first file of todo no worker has taken
	seen    map[string]bool // every path the walks saw
	usable  int             // usable photos so far (the budget waits for one)
	done    int             // files of todo indexed
	stopped bool            // ctx stopped the index
	batch   []indexed       // indexed, not committed yet

	// Files that moved while the index ran (see followMoves).
	walkGone bool            // a name the walk listed was not there any more
	vanished []indexed       // files gone from their path when read
	hashes   map[string]bool // the contents indexed this run

	// The rendition cache, listed once by the first plan: the photos (by
	// hash) with a rendition made with the current settings, and every
	// file name there, for the prune.
	cached     map[string]bool
	renditions []string
	intact     bool // the cache is as the last complete index left it: not listed
	helper     bool // heif-convert is installed: files that waited for it are read

	// What the first plan found unchanged: the sweep's shortcut (see sweep).
	goneKeys int  // files of the last scan the walk did not see
	unusable int  // unchanged files that cannot be used
	pruned   bool // the cache holds exactly one rendition per photo
}

// plan compares the walk (in path order) with what the last scan saw, in
// one pass over the compact file keys, and keeps, newest first, the files
// that need reading: new, changed, or usable without their rendition.
func (r *indexRun) plan(entries []entry) error {
	j := r.j
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	first := r.cached == nil
	if first {
		r.helper = images.HelperInstalled()
		r.intact = j.renditionsIntact()
		if !r.intact {
			r.renditions = j.renditionNames()
		}
		r.cached = j.cachedRenditions(r.renditions)
		r.seen = make(map[string]bool, len(entries))
	}
	from := len(r.todo)
	r.all = slices.Grow(r.all, len(entries))
	i := 0
	known := func(e entry, k store.FileKey, ok bool) {
		if e.gone {
			r.walkGone = true // it is somewhere else, or deleted: followMoves looks
			return
		}
		r.all = append(r.all, e)
		r.st.Files++
		r.seen[e.rel] = true
		if ok && k.Size == e.size && k.ModTime == e.mod && (k.Hash == "" || r.intact || r.cached[k.Hash]) && !(k.NeedsHelper && r.helper) {
			if k.Hash != "" {
				r.usable++
			} else if first {
				r.unusable++
			}
			return
		}
		r.todo = append(r.todo, e)
	}
	err := j.Store.View(func(tx *store.Tx) error {
		return tx.EachFileKey(func(path string, k store.FileKey) error {
			for ; i < len(entries) && entries[i].rel < path; i++ {
				known(entries[i], store.FileKey{}, false)
			}
			if i < len(entries) && entries[i].rel == path {
				known(entries[i], k, true)
				i++
			} else if first {
				r.goneKeys++
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for ; i < len(entries); i++ {
		known(entries[i], store.FileKey{}, false)
	}
	// Newest first: when the budget cuts a first index short, the cats
	// mailed first are the owner's recent photos.
	todo := r.todo[from:]
	sort.SliceStable(todo, func(a, b int) bool { return todo[a].mod > todo[b].mod })
	return nil
}

// work reads and renders the planned files on the workers under the
// memory budget, until they are done, the budget is spent or ctx is done,
// committing what they finish in batches. A failure to write the cache
// stops it after the renders in flight, keeping what is done.
func (r *indexRun) work() error {
	j := r.j
	if j.Progress != nil && len(r.todo) > 0 && r.next == 0 {
		j.Progress(0, len(r.todo))
	}
	workers := j.Indexing.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	mem := newMemBudget(j.Indexing.Memory)
	defer mem.limitHeap()()
	results := make(chan indexed, workers)
	inflight := 0
	var fatal error
	for {
		for inflight < workers && r.next < len(r.todo) && fatal == nil {
			if r.ctx.Err() != nil {
				r.stopped = true
				break
			}
			if r.budget > 0 && r.usable > 0 && r.watch().Sub(r.start) >= r.budget {
				break
			}
			e := r.todo[r.next]
			r.next++
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
		if err := r.add(p); err != nil {
			return err
		}
	}
	if err := r.commit(); err != nil {
		return err
	}
	return fatal
}

// add takes one file a worker finished: a file gone from its path is held
// for followMoves, any other is recorded.
func (r *indexRun) add(p indexed) error {
	r.done++
	if r.j.Progress != nil {
		defer r.j.Progress(r.done, len(r.todo))
	}
	if p.vanished {
		r.vanished = append(r.vanished, p)
		return nil
	}
	return r.record(p)
}

// record counts one file's outcome and commits the batch when full.
func (r *indexRun) record(p indexed) error {
	if p.read {
		r.st.Read++
	}
	if p.f.Hash != "" {
		r.usable++
		if r.hashes == nil {
			r.hashes = map[string]bool{}
		}
		r.hashes[p.f.Hash] = true
	}
	if p.f.Err != "" {
		r.st.Reports = append(r.st.Reports, Skipped{File: r.j.display(p.e.rel), Reason: p.f.Err})
	}
	r.st.New++
	r.batch = append(r.batch, p)
	point("index-file")
	if len(r.batch) >= indexBatch {
		return r.commit()
	}
	return nil
}

// commit records the batch in one transaction: each file as seen, and the
// photo its contents are.
func (r *indexRun) commit() error {
	if len(r.batch) == 0 {
		return nil
	}
	err := r.j.Store.Update(func(tx *store.Tx) error {
		if err := tx.MarkIndexChanged(); err != nil {
			return err
		}
		for _, p := range r.batch {
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
				ph = store.Photo{Hash: p.f.Hash, Added: r.now}
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
	r.batch = r.batch[:0]
	point("index-commit")
	return err
}

// sayLeft logs what the budget or a signal left for the next runs; a
// signal's stop is the error wrapping ErrIndexStopped.
func (r *indexRun) sayLeft() error {
	st := r.st
	if st.Left == 0 {
		return nil
	}
	eta := "time unknown"
	if st.Rate > 0 {
		eta = fmt.Sprintf("about %s more at %.1f a second", roundETA(IndexProgress{Left: st.Left, Rate: st.Rate}.ETA()), st.Rate)
	}
	photos := fmt.Sprintf("%d photos", st.Photos)
	if st.Photos == 1 {
		photos = "1 photo"
	}
	if r.stopped {
		r.j.log().Warn(fmt.Sprintf("stopped indexing on a signal after %d of %d new photo files; %d left for the next run", r.done, len(r.todo), st.Left))
		return fmt.Errorf("%w after %d of %d new photo files (kept); the next run goes on: %w", ErrIndexStopped, r.done, len(r.todo), context.Cause(r.ctx))
	}
	r.j.log().Info(fmt.Sprintf("indexed %d of %d new photo files within the %s index budget; %d left (%s), the next runs go on; mailing from the %s indexed so far",
		r.done, len(r.todo), r.budget, st.Left, eta, photos))
	return nil
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
