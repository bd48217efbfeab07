package job

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"cotd/images"
)

// TestWalkSeesWhatAFolderHolds: the listing a warm morning is made of
// (getdents64 and fstatat, dir_linux.go) finds the photos of every
// subfolder in path order, with the size, time and identity os.Stat gives,
// skips hidden and non-image names, and says why the rest cannot be used.
func TestWalkSeesWhatAFolderHolds(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(body), 0o644))
	}
	write("cat.jpg", "a cat")
	write("Zebra.JPEG", "upper case")
	write(".hidden.jpg", "hidden")
	write(".thumbnails/t.jpg", "a thumbnail")
	write("notes.txt", "not a photo")
	write("sub/dog.PNG", "a dog")
	write("sub/deeper/x.heic", "deep")
	write("album.jpg/inside.jpg", "a folder with a photo's name")
	write("old.psd", "photoshop")
	write("empty.jpg", "")
	must(t, os.Symlink("cat.jpg", filepath.Join(root, "link.jpg")))
	must(t, syscall.Mkfifo(filepath.Join(root, "pipe.jpg"), 0o644))
	big := filepath.Join(root, "huge.jpg")
	must(t, os.WriteFile(big, nil, 0o644))
	must(t, os.Truncate(big, images.MaxFileBytes+1)) // sparse: no disk used

	j := &Job{Config: Config{Photos: root}}
	got, err := j.walk()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ rel, err string }{
		{"Zebra.JPEG", ""},
		{"album.jpg/inside.jpg", ""},
		{"cat.jpg", ""},
		{"empty.jpg", ""},
		{"huge.jpg", "MiB"},
		{"link.jpg", ""}, // a link inside the folder is followed to its file
		{"old.psd", "Photoshop"},
		{"pipe.jpg", "not a regular file"},
		{"sub/deeper/x.heic", ""},
		{"sub/dog.PNG", ""},
	}
	if len(got) != len(want) {
		var names []string
		for _, e := range got {
			names = append(names, e.rel)
		}
		t.Fatalf("walk found %q, want %d entries", names, len(want))
	}
	for i, w := range want {
		e := got[i]
		if e.rel != w.rel || (w.err == "") != (e.err == "") || !strings.Contains(e.err, w.err) {
			t.Errorf("entry %d: %q (err %q), want %q (err containing %q)", i, e.rel, e.err, w.rel, w.err)
			continue
		}
		if e.abs != filepath.Join(root, e.rel) {
			t.Errorf("%s: abs %q", e.rel, e.abs)
		}
		if w.err != "" && w.rel != "huge.jpg" {
			continue
		}
		fi, err := os.Stat(e.abs)
		must(t, err)
		if e.size != fi.Size() || e.mod != fi.ModTime().UnixNano() {
			t.Errorf("%s: size %d, time %d; os.Stat says %d, %d", e.rel, e.size, e.mod, fi.Size(), fi.ModTime().UnixNano())
		}
		if w.err == "" && e.id != fileIDOf(fi) {
			t.Errorf("%s: id %v, os.Stat's %v", e.rel, e.id, fileIDOf(fi))
		}
	}
}
