package store

import "time"

// keyIndex is in bMeta.
const keyIndex = "x:index"

// IndexProgress is what the last run left of the photo index, for `cotd
// status`: a big folder is indexed over several runs.
type IndexProgress struct {
	At    time.Time `json:"at"`    // the run's schedule time
	Files int       `json:"files"` // image files in the folder
	Left  int       `json:"left"`  // files still to index
	Rate  float64   `json:"rate"`  // files per second the last run indexed
}

// IndexProgress returns the last run's index progress; ok is false before
// the first index.
func (t *Tx) IndexProgress() (IndexProgress, bool, error) {
	return getJSON[IndexProgress](t, bMeta, keyIndex)
}

// PutIndexProgress replaces the index progress.
func (t *Tx) PutIndexProgress(p IndexProgress) error { return putJSON(t, bMeta, keyIndex, p) }
