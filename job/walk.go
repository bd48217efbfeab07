package job

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"cotd/images"
)

// The walk of the photo folder: which files it holds, what a scan can tell
// about each without reading it, and reading one within the memory budget.

// entry is one file as the walk saw it.
type entry struct {
	rel  string
	abs  string
	size int64
	mod  int64
	err  string // a reason the file cannot be used, known without reading it
	// id is the file the walk's stat saw (zero when it failed): after a
	// rename it is still the same file, at its new path.
	id fileID
	// gone means the file was not there when the walk looked at the name
	// it listed: renamed, moved or deleted while the walk ran.
	gone bool
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
	if err := j.walkDir(root, "", &out); err != nil {
		return nil, fmt.Errorf("scan photo folder %s: %w", root, err)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].rel < out[b].rel })
	return out, nil
}

// walkDir adds the image files of folder dir (rel under the photo folder,
// "" for the folder itself) and of its subfolders to out, in name order.
// A warm morning's cost is this listing, so it is made of the fewest
// system calls: the folder's names in a few getdents64 calls, then one
// fstatat a photo, relative to the folder and not following links
// (listDir), with nothing allocated per file but its name. Hidden files
// and folders (.thumbnails, .git) are skipped, and so are names that are
// not image files (notes, sidecars), unstatted where the listing gives
// their type.
func (j *Job) walkDir(dir, rel string, out *[]entry) error {
	folder := func(err error) error {
		if rel == "" {
			return err
		}
		*out = append(*out, entry{rel: rel, abs: dir, err: "cannot read: " + reason(err), gone: errors.Is(err, fs.ErrNotExist)})
		return nil
	}
	d, err := openDir(dir)
	if err != nil {
		return folder(err)
	}
	defer d.close()
	names, err := d.names()
	if err != nil {
		return folder(err)
	}
	slices.SortFunc(names, func(a, b dirName) int { return strings.Compare(a.name, b.name) })
	// The listing: the names, then a stat of each that may be a photo or
	// a folder. What the folder then does (testHookWalked) does not change
	// what the walk saw.
	type seen struct {
		dirName
		image bool
		why   string
		st    stated
		err   error
	}
	list := make([]seen, 0, len(names))
	for _, n := range names {
		ok, why := images.Supported(n.name)
		if !ok && why == "" && n.typ != typeDir && n.typ != typeUnknown {
			continue // not an image file name: notes, sidecars
		}
		st, err := d.stat(n.name)
		if (!ok && why == "") && (err != nil || !st.dir) {
			continue
		}
		list = append(list, seen{n, ok, why, st, err})
	}
	*out = slices.Grow(*out, len(list))
	for _, n := range list {
		path, relp := dir+string(filepath.Separator)+n.name, n.name // dir is clean, and names have no separator
		if rel != "" {
			relp = rel + string(filepath.Separator) + n.name
		}
		ok, why, st, serr := n.image, n.why, n.st, n.err
		if serr == nil && st.dir {
			if err := j.walkDir(path, relp, out); err != nil {
				return err
			}
			continue
		}
		if testHookWalked != nil {
			testHookWalked(path)
		}
		var e entry
		switch {
		case errors.Is(serr, fs.ErrNotExist):
			e = entry{abs: path, err: "cannot read: " + reason(serr), gone: true}
		case serr != nil:
			e = entry{abs: path, err: "cannot read: " + reason(serr)}
		case !st.regular: // a link, or something else: described by entryFor
			if e, err = j.entryFor(path); err != nil {
				return err
			}
		case st.size > images.MaxFileBytes:
			e = entry{abs: path, err: tooBig(st.size).Error(), size: st.size, mod: st.mod}
		default:
			e = entry{abs: path, size: st.size, mod: st.mod, id: st.id}
		}
		e.rel = relp
		if !ok && e.err == "" {
			e.err = why
		}
		*out = append(*out, e)
	}
	return nil
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
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		e.err, e.gone = "cannot read: "+reason(err), true // no file, not even a broken link
		return e, nil
	}
	if err == nil && li.Mode()&fs.ModeSymlink != 0 && !j.Indexing.FollowLinks {
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
		e.size, e.mod, e.id = info.Size(), info.ModTime().UnixNano(), fileIDOf(info)
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

// readError is a photo file that could not be opened; it words the
// failure for the owner and keeps the cause for errors.Is (a file that
// vanished may have moved).
type readError struct{ err error }

func (e readError) Error() string { return "cannot read: " + reason(e.err) }
func (e readError) Unwrap() error { return e.err }

// testHookWalked lets a test change the folder while the walk runs.
var testHookWalked func(path string)

// testHookBeforeRead lets a test change a file between the scan and the
// read (a file that vanishes mid-run).
var testHookBeforeRead func(path string)

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
		return release, nil, readError{err}
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
