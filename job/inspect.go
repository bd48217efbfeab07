package job

import (
	"fmt"
	"path/filepath"
	"sort"

	"cotd/schedule"
	"cotd/store"
)

// Read-only views of the state for `cotd status`, `cotd check` and the run
// monitor. Nothing here writes, except Job.CheckQuotes, which records new
// quotes exactly as a run would.

// Inventory is how many photos and quotes cotd knows and how many of each
// can still go out before one repeats.
type Inventory struct {
	PhotosTotal, PhotosLeft int
	QuotesTotal, QuotesLeft int
}

// ReadInventory counts the stored photos and quotes. Quotes removed from
// the quotes file stay in the store, so QuotesTotal can be larger than the
// file; a run's Summary has the live counts.
func ReadInventory(tx *store.Tx) (Inventory, error) {
	var inv Inventory
	var photos []store.Photo
	var quotes []store.Quote
	if err := tx.EachPhoto(func(p store.Photo) error { photos = append(photos, p); return nil }); err != nil {
		return inv, err
	}
	if err := tx.EachQuote(func(q store.Quote) error { quotes = append(quotes, q); return nil }); err != nil {
		return inv, err
	}
	inv.PhotosTotal = len(photos)
	inv.QuotesTotal = len(quotes)
	inv.PhotosLeft = schedule.Left(photoCandidates(photos))
	inv.QuotesLeft = schedule.Left(quoteCandidates(quotes))
	return inv, nil
}

// UnusableFiles lists the files of the photo folder that the last scan
// could not use, as "photos/x.heic: reason" lines, sorted. folder is the
// --photos value the paths are shown under ("" for the built-in sample).
func UnusableFiles(tx *store.Tx, folder string) ([]string, error) {
	var out []string
	err := tx.EachFile(func(path string, f store.File) error {
		if f.Err != "" {
			name := path
			if folder != "" {
				name = filepath.Join(folder, path)
			}
			out = append(out, fmt.Sprintf("%s: %s", name, f.Err))
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// CheckQuotes reads the quotes file the way a run does and returns how
// many usable quotes it holds and what is wrong with them.
func (j *Job) CheckQuotes() (int, []QuotesProblem, error) {
	qs, problems, err := j.indexQuotes()
	return len(qs), problems, err
}

// NotIndexed counts the image files in the photo folder that no scan has
// read yet (new, or changed since): the next run indexes them and new
// photos go out first, so `cotd status` counts them as unsent now rather
// than showing only the last run's count. It reads the folder's entries
// (names, sizes, times), never a photo.
func NotIndexed(tx *store.Tx, photos string, followLinks bool) (int, error) {
	if photos == "" {
		return 0, nil
	}
	j := &Job{Config: Config{Photos: photos, Indexing: IndexOptions{FollowLinks: followLinks}}}
	entries, err := j.walk()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.err != "" {
			continue
		}
		f, ok, err := tx.File(e.rel)
		if err != nil {
			return n, err
		}
		if !ok || f.Size != e.size || f.ModTime != e.mod {
			n++
		}
	}
	return n, nil
}
