package job

import (
	"path/filepath"

	"cotd/store"
)

// maxMoveWalks bounds how often one run walks the folder again after files
// moved under it: a folder being reorganised all along still ends its run.
const maxMoveWalks = 3

// followMoves finds where the files that vanished during the run went. A
// photo renamed or moved into a subfolder while the index runs is not at
// the path the walk saw: walking again finds it at its new path, where it
// is indexed in this run, and its old path is a move, not a problem (issue
// 24: the owner reorganising the folder during the first index got "50
// unusable photo files: it vanished"). A file that is nowhere else under
// the folder was deleted or moved out, and is reported as before.
func (r *indexRun) followMoves() error {
	looked := 0 // r.vanished[:looked] vanished before the last walk
	for walks := 0; walks < maxMoveWalks && !r.stopped && r.ctx.Err() == nil && (r.walkGone || len(r.vanished) > looked); walks++ {
		entries, err := r.j.walk()
		if err != nil {
			return err
		}
		looked, r.walkGone = len(r.vanished), false
		var fresh []entry
		for _, e := range entries {
			if !r.seen[e.rel] {
				fresh = append(fresh, e)
			}
		}
		if err := r.plan(fresh); err != nil {
			return err
		}
		if err := r.work(); err != nil {
			return err
		}
	}
	return r.settle()
}

// settle decides, for each file that vanished before it was read, whether
// it moved: another file the walks found is the same file (a rename keeps
// it: os.SameFile), or has its name, size and modification time (mv to
// another file system keeps them), or holds the contents its path had when it was
// indexed before. A move is forgotten at its old path and counted in
// Moved; any other vanished file is recorded and reported as it is.
func (r *indexRun) settle() error {
	if len(r.vanished) == 0 {
		return nil
	}
	gone := map[string]bool{}
	for _, p := range r.vanished {
		gone[p.e.rel] = true
	}
	bySize := map[int64][]entry{}
	for _, e := range r.all {
		if !gone[e.rel] {
			bySize[e.size] = append(bySize[e.size], e)
		}
	}
	old := r.oldHashes(r.vanished)
	for _, p := range r.vanished {
		if !r.movedElsewhere(p.e, bySize[p.e.size], old[p.e.rel]) {
			if err := r.record(p); err != nil {
				return err
			}
			continue
		}
		delete(r.seen, p.e.rel) // the sweep forgets the old path
		r.st.Moved++
		r.st.Files--
	}
	if r.st.Moved > 0 {
		r.j.log().Info("photo files moved inside the folder while the index ran; indexed at their new paths", "moved", r.st.Moved)
	}
	return r.commit()
}

// movedElsewhere reports whether the vanished file v is one of others (the
// files of its size), or had the contents hash when last indexed. Size and
// time alone do not tell: photos copied in one go share a coarse mtime.
func (r *indexRun) movedElsewhere(v entry, others []entry, hash string) bool {
	for _, o := range others {
		if v.id != (fileID{}) && v.id == o.id || o.mod == v.mod && filepath.Base(o.rel) == filepath.Base(v.rel) {
			return true
		}
	}
	return hash != "" && r.hashes[hash]
}

// oldHashes returns the contents the paths of vs had when last indexed.
func (r *indexRun) oldHashes(vs []indexed) map[string]string {
	out := map[string]string{}
	_ = r.j.Store.View(func(tx *store.Tx) error {
		for _, p := range vs {
			if f, ok, err := tx.File(p.e.rel); err == nil && ok {
				out[p.e.rel] = f.Hash
			}
		}
		return nil
	})
	return out
}
