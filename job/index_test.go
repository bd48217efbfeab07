package job

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cotd/images"
	"cotd/schedule"
	"cotd/store"
)

// logTo makes the job log into a buffer the test reads.
func logTo(j *Job) *syncBuffer {
	var b syncBuffer
	j.Log = slog.New(slog.NewTextHandler(&b, nil))
	return &b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func storedFiles(t *testing.T, j *Job) map[string]store.File {
	t.Helper()
	out := map[string]store.File{}
	j.Store.View(func(tx *store.Tx) error {
		return tx.EachFile(func(p string, f store.File) error { out[p] = f; return nil })
	})
	return out
}

// A run with a day due and a folder too big for the budget mails from
// what it indexed, says what is left, and the next runs finish without a
// repeat (issue 13). The budget is a fake stopwatch, not a slow folder.
func TestIndexBudgetMailsBeforeTheIndexIsComplete(t *testing.T) {
	fs := &fakeSender{}
	j, c := newTestJob(t, 6, "a@example.test", fs)
	log := logTo(j)
	var tick time.Time
	j.Stopwatch = func() time.Time { tick = tick.Add(time.Second); return tick } // every look costs a second
	j.Indexing = IndexOptions{Budget: time.Hour, DueBudget: 2 * time.Second, Workers: 1}

	sum, err := j.Run(context.Background())
	if err != nil || sum.Sent != 1 {
		t.Fatalf("first run: %v, sent %d; want today's cat mailed from a partial index", err, sum.Sent)
	}
	if sum.Index.Left == 0 || sum.Index.Photos == 0 || sum.Index.Photos+sum.Index.Left != 6 {
		t.Fatalf("first run indexed %d photos and left %d; want a partial index of the 6", sum.Index.Photos, sum.Index.Left)
	}
	if !strings.Contains(log.String(), "left (about") {
		t.Errorf("the log does not say how much is left and when it will be done:\n%s", log)
	}
	var prog IndexProgress
	j.Store.View(func(tx *store.Tx) error { prog, _ = ReadIndexProgress(tx); return nil })
	if prog.Left != sum.Index.Left || prog.Files != 6 || prog.ETA() <= 0 {
		t.Errorf("recorded progress %+v; want %d left of 6 with an ETA", prog, sum.Index.Left)
	}

	// Later runs (nothing due) use the full budget and finish; each day
	// then gets a cat nobody has had.
	c.t = at(2, 9)
	if sum, err = j.Run(context.Background()); err != nil || sum.Index.Left != 0 || sum.Index.Photos != 6 {
		t.Fatalf("second run: %v, %d left, %d photos; want the index finished", err, sum.Index.Left, sum.Index.Photos)
	}
	seen := map[string]bool{}
	for day := 2; day <= 7; day++ {
		if day > 2 {
			c.t = at(day, 8)
			if _, err := j.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		var d store.Day
		j.Store.View(func(tx *store.Tx) error { d, _, _ = tx.Day(schedule.Day{Year: 2026, Month: 3, Day: day}); return nil })
		if seen[d.Photo] {
			t.Fatalf("day %d repeats photo %s before all 6 have gone", day, d.Photo)
		}
		seen[d.Photo] = true
	}
}

// SIGTERM during a first index: the index stops within one render,
// commits what it did, and the next run goes on from there (issue 11
// item 6). The signal comes from the progress callback, at a known file.
func TestIndexStopsOnSignalAndKeepsWhatItDid(t *testing.T) {
	j, _ := newTestJob(t, 8, "a@example.test", &fakeSender{})
	j.Indexing.Workers = 1
	ctx, cancel := context.WithCancelCause(context.Background())
	j.Progress = func(done, total int) {
		if done == 3 {
			cancel(errors.New("got SIGTERM"))
		}
	}
	st, err := j.IndexWithin(ctx, 0)
	if !errors.Is(err, ErrIndexStopped) || !strings.Contains(err.Error(), "got SIGTERM") {
		t.Fatalf("index on a signal: %v; want ErrIndexStopped naming the cause", err)
	}
	if st.New != 3 || st.Left != 5 {
		t.Fatalf("indexed %d, left %d; want it to stop after the file in flight (3, 5 left)", st.New, st.Left)
	}
	if n := len(storedFiles(t, j)); n != 3 {
		t.Fatalf("%d files committed; want the 3 indexed kept", n)
	}
	j.Progress = nil
	st, err = j.IndexWithin(context.Background(), 0)
	if err != nil || st.New != 5 || st.Photos != 8 {
		t.Fatalf("next index: %v, %d new, %d photos; want the 5 left read and all 8 usable", err, st.New, st.Photos)
	}
}

// Every core: four workers index the same photos to the same renditions
// as one.
func TestIndexWorkersAgree(t *testing.T) {
	digests := func(workers int) map[string]string {
		j, _ := newTestJob(t, 12, "a@example.test", &fakeSender{})
		j.Indexing.Workers = workers
		st, err := j.Index()
		if err != nil || st.Photos != 12 || st.New != 12 {
			t.Fatalf("%d workers: %v, %d photos", workers, err, st.Photos)
		}
		out := map[string]string{}
		j.Store.View(func(tx *store.Tx) error {
			return tx.EachPhoto(func(p store.Photo) error { out[p.Path] = p.Digest; return nil })
		})
		return out
	}
	one, four := digests(1), digests(4)
	for path, d := range one {
		if d == "" || four[path] != d {
			t.Errorf("%s: digest %q with 1 worker, %q with 4", path, d, four[path])
		}
	}
}

// The memory budget holds a render back while others hold the budget, and
// lets one costlier than the whole budget run alone.
func TestMemBudget(t *testing.T) {
	m := newMemBudget(200 << 20)
	total := m.total
	r1 := m.acquire(total / 2)
	r2 := m.acquire(total / 2)
	got := make(chan func())
	go func() { got <- m.acquire(total * 4) }() // a 16 MP PNG on a small budget
	select {
	case <-got:
		t.Fatal("a render was admitted over the budget")
	default:
	}
	r1()
	select {
	case <-got:
		t.Fatal("a render was admitted over the budget after one release")
	default:
	}
	r2()
	r3 := <-got // admitted alone
	if m.used != total {
		t.Errorf("used %d of %d; want the big render to hold the whole budget", m.used, total)
	}
	r3()
	if m.used != 0 {
		t.Errorf("used %d after every release", m.used)
	}
}

// A file larger than memory (a video renamed .jpg, a link to a disk image)
// is refused by its size and never read (issue 11 item 7).
func TestHugeFileRefusedBySize(t *testing.T) {
	j, _ := newTestJob(t, 1, "a@example.test", &fakeSender{})
	huge := filepath.Join(j.Photos, "video.jpg")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 << 30); err != nil { // sparse: 3 GiB claimed, no disk used
		t.Fatal(err)
	}
	f.Close()
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, images.MaxFileBytes+1); err != nil {
		t.Fatal(err)
	}
	os.Symlink(img, filepath.Join(j.Photos, "disk.jpg"))
	j.Indexing.FollowLinks = true // the size check holds even for followed links

	var read []string
	testHookBeforeRead = func(p string) { read = append(read, filepath.Base(p)) }
	t.Cleanup(func() { testHookBeforeRead = nil })
	sum, err := j.Run(context.Background())
	if err != nil || sum.Sent != 1 {
		t.Fatalf("run: %v, sent %d; want the real cat mailed", err, sum.Sent)
	}
	if strings.Join(read, ",") != "cat0.jpg" {
		t.Errorf("read %v; want only the real photo read", read)
	}
	all := strings.Join(sum.Index.ReportLines(), "\n")
	for _, want := range []string{"video.jpg: file is 3072 MiB, larger than the 64 MiB limit", "disk.jpg: file is 64 MiB, larger than the 64 MiB limit"} {
		if !strings.Contains(all, want) {
			t.Errorf("reports %q lack %q", sum.Index.Reports, want)
		}
	}
}

// A cached rendition with flipped bytes is not mailed: it is checked
// against the digest recorded when it was made and rendered again; when
// the photo is gone too, another cat goes out, and the log says why
// (issue 11 item 9).
func TestDamagedRenditionNotMailed(t *testing.T) {
	j, c := newTestJob(t, 2, "a@example.test", &fakeSender{})
	log := logTo(j)
	if _, err := j.Index(); err != nil {
		t.Fatal(err)
	}
	var photos []store.Photo
	j.Store.View(func(tx *store.Tx) error {
		return tx.EachPhoto(func(p store.Photo) error { photos = append(photos, p); return nil })
	})
	damage := func(p store.Photo) []byte {
		path := j.renditionPath(p.Hash)
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(good)
		for i := len(bad) / 2; i < len(bad)/2+64; i++ {
			bad[i] ^= 0xff // still starts and ends like a JPEG
		}
		os.WriteFile(path, bad, 0o600)
		return good
	}
	good0, good1 := damage(photos[0]), damage(photos[1])
	// The first photo is gone from the folder as well: it cannot be made again.
	first := photos[schedule.Pick(photoCandidates(photos))]
	good := good1
	if first.Hash == photos[1].Hash {
		good = good0
	}
	os.Remove(filepath.Join(j.Photos, first.Path))

	// Open the day straight from the stored photos: a run's index would
	// notice the file is gone and drop it before choosing.
	sum := Summary{Now: c.t}
	plan := schedule.Plan{Today: schedule.Day{Year: 2026, Month: 3, Day: 2}, Open: []schedule.Day{{Year: 2026, Month: 3, Day: 2}}}
	qs, _, err := j.indexQuotes()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.openDays(plan, qs, &sum); err != nil {
		t.Fatalf("open the day: %v", err)
	}
	var mailed []byte
	var d store.Day
	j.Store.View(func(tx *store.Tx) error {
		d, _, _ = tx.Day(plan.Today)
		mailed = tx.DayPhoto(plan.Today)
		return nil
	})
	if d.Photo == first.Hash {
		t.Fatalf("the day got the photo whose rendition is damaged and whose file is gone")
	}
	if !bytes.Equal(mailed, good) {
		t.Errorf("the mailed JPEG is not a fresh render of the photo (%d bytes, want %d)", len(mailed), len(good))
	}
	for _, want := range []string{"is damaged (it does not match the digest recorded when it was made); rendering the photo again", "picking another cat"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
}

// A symbolic link out of the photo folder is not followed unless the owner
// opts in, and is named once; a link inside the folder is followed (issue
// 11 item 11).
func TestSymlinkOutOfFolderNotFollowed(t *testing.T) {
	j, c := newTestJob(t, 1, "a@example.test", &fakeSender{})
	private := filepath.Join(t.TempDir(), "private.jpg")
	os.WriteFile(private, photo(t, 99), 0o644)
	os.Symlink(private, filepath.Join(j.Photos, "outside.jpg"))
	os.Mkdir(filepath.Join(j.Photos, "album"), 0o755)
	os.Symlink("../cat0.jpg", filepath.Join(j.Photos, "album", "inside.jpg"))
	rel, _ := filepath.Rel(filepath.Join(j.Photos, "album"), private)
	os.Symlink(rel, filepath.Join(j.Photos, "album", "relative.jpg")) // ../../../002/private.jpg

	st, err := j.Index()
	if err != nil {
		t.Fatal(err)
	}
	if st.Photos != 1 {
		t.Errorf("%d photos; want only the one in the folder (the inside link is the same cat)", st.Photos)
	}
	all := strings.Join(st.ReportLines(), "\n")
	for _, name := range []string{"outside.jpg", "relative.jpg"} {
		if !strings.Contains(all, name+": a symbolic link to "+private+", outside the photo folder; not followed") {
			t.Errorf("reports %q do not name %s", st.Reports, name)
		}
	}
	if strings.Contains(all, "inside.jpg") {
		t.Errorf("the link inside the folder was refused: %q", st.Reports)
	}
	if st, _ := j.Index(); len(st.Reports) != 0 {
		t.Errorf("named again on the next scan: %q", st.Reports)
	}

	// Opted in: the private photo is a cat like any other; opted out
	// again, it is not mailed any more.
	j.Indexing.FollowLinks = true
	if st, err := j.Index(); err != nil || st.Photos != 2 || st.New != 2 {
		t.Errorf("with FollowLinks: %v, %d photos, %d new; want the linked photo indexed", err, st.Photos, st.New)
	}
	j.Indexing.FollowLinks = false
	if st, err := j.Index(); err != nil || st.Photos != 1 || st.Removed != 1 {
		t.Errorf("without FollowLinks again: %v, %d photos, %d removed; want the linked photo dropped", err, st.Photos, st.Removed)
	}
	_ = c
}
