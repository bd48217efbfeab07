package job

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"cotd/store"
)

// A rescan that finds nothing new takes its counts from the plan and does
// not sweep (issue 22 §4); the counts must be the ones a full sweep gives,
// and a run killed between a batch's commit and its sweep (records changed,
// sweep not done) must make the next run sweep in full even though its own
// walk finds nothing new.
func TestWarmRescanCountsAndKilledSweep(t *testing.T) {
	j, _ := newTestJob(t, 3, "a@example.test", &fakeSender{})
	must(t, os.WriteFile(filepath.Join(j.Photos, "broken.jpg"), []byte("not a photo"), 0o644))
	first, err := j.Index()
	if err != nil || first.Photos != 3 || first.Unusable != 1 || first.Read != 4 {
		t.Fatalf("first index: %+v, %v", first, err)
	}
	again, err := j.Index()
	if err != nil || again.Photos != 3 || again.Unusable != 1 || again.Read != 0 || again.Files != 4 || again.Removed != 0 {
		t.Fatalf("rescan: %+v, %v; want the first index's counts, nothing read", again, err)
	}

	// A photo no file shows any more, as a killed run leaves it when a
	// file's new contents were committed and the sweep never ran.
	must(t, j.Store.Update(func(tx *store.Tx) error {
		if err := tx.PutPhoto(store.Photo{Hash: "00000000000000000000000000000000", Path: "cat0.jpg"}); err != nil {
			return err
		}
		return tx.MarkIndexChanged()
	}))
	st, err := j.Index()
	if err != nil || st.Photos != 3 || st.Removed != 1 {
		t.Fatalf("after a killed sweep: %+v, %v; want the dead photo removed", st, err)
	}
	j.Store.View(func(tx *store.Tx) error {
		if tx.IndexChanged() {
			t.Error("the full sweep left the index marked changed")
		}
		return nil
	})

	// A cache the last complete index left as it is is not listed: its
	// folder's time says so (set an hour back, as a morning finds it).
	renditions := filepath.Join(j.CacheDir, "renditions")
	hourAgo := time.Now().Add(-time.Hour)
	must(t, os.Chtimes(renditions, hourAgo, hourAgo))
	if _, err := j.Index(); err != nil {
		t.Fatal(err)
	}
	if !j.renditionsIntact() {
		t.Fatal("a complete index of a cache last changed an hour ago did not record it intact")
	}

	// A lost rendition is made again by the rescan (removing it changes
	// the folder's time), and a stray one pruned.
	var hash string
	j.Store.View(func(tx *store.Tx) error {
		f, _, _ := tx.File("cat1.jpg")
		hash = f.Hash
		return nil
	})
	must(t, os.Remove(j.renditionPath(hash)))
	stray := filepath.Join(j.CacheDir, "renditions", "stray.jpg")
	must(t, os.WriteFile(stray, []byte("x"), 0o600))
	st, err = j.Index()
	if err != nil || st.Read != 1 || st.Photos != 3 {
		t.Fatalf("after losing a rendition: %+v, %v; want cat1.jpg read again", st, err)
	}
	if _, err := os.Stat(j.renditionPath(hash)); err != nil {
		t.Errorf("the lost rendition was not made again: %v", err)
	}
	if _, err := os.Stat(stray); err == nil {
		t.Error("the stray file in the rendition cache was not pruned")
	}
	if j.renditionsIntact() {
		t.Error("a cache changed just now is recorded intact")
	}
}
