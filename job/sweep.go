package job

import "cotd/store"

// The index's last steps: forget what left the folder, and keep the
// rendition cache to one file per photo.

// sweep forgets files that are gone and photos no file shows any more,
// counts what is left, and records the index's progress. A morning that
// found nothing new, changed or gone, after a run whose sweep completed,
// has nothing to forget: it takes the counts from the plan (issue 22 §4:
// a warm run costs what changed, not what the folder holds).
func (r *indexRun) sweep() error {
	j, st := r.j, &r.st
	return j.Store.Update(func(tx *store.Tx) error {
		progress := store.IndexProgress{At: r.now, Files: st.Files, Left: st.Left, Rate: st.Rate}
		if r.unchanged() && !tx.IndexChanged() {
			st.Unusable, st.Photos = r.unusable, tx.PhotoCount()
			r.pruned = r.intact || len(r.cached) == st.Photos && len(r.cached) == len(r.renditions)
			return tx.PutIndexProgress(progress)
		}
		live := map[string]bool{}
		var gone []string
		err := tx.EachFileKey(func(path string, f store.FileKey) error {
			switch {
			case !r.seen[path]:
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
		var dead []string
		err = tx.EachPhotoHash(func(hash string) error {
			if live[hash] {
				st.Photos++
			} else {
				dead = append(dead, hash)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, hash := range dead {
			if err := tx.DeletePhoto(hash); err != nil {
				return err
			}
			j.removeRendition(hash)
			st.Removed++
		}
		if err := tx.ClearIndexChanged(); err != nil {
			return err
		}
		return tx.PutIndexProgress(progress)
	})
}

// prune removes the renditions no photo uses (unless the sweep found the
// cache holds exactly one per photo), and records a cache that holds just
// that after a complete index, so the next morning need not list it.
func (r *indexRun) prune() {
	j := r.j
	if !r.pruned {
		names := r.renditions
		if r.intact {
			names = j.renditionNames() // not listed by the plan
		}
		j.pruneRenditions(names)
	}
	if r.st.Left == 0 && !(r.intact && r.pruned) {
		j.markRenditionsIntact()
	}
}

// unchanged reports whether this run found the folder as the last scan
// left it: nothing to read, nothing gone, nothing moved.
func (r *indexRun) unchanged() bool {
	return len(r.todo) == 0 && r.goneKeys == 0 && !r.walkGone && len(r.vanished) == 0 && r.st.Moved == 0
}
