package job

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cotd/images"
	"cotd/internal/needs"
	"cotd/store"
)

// TestHEICReadAgainOnceHelperInstalled: a HEIC skipped because
// heif-convert is missing is reported once with how to install it and
// counted unusable on every run, like a broken file, without being read
// again (a folder of HEICs on a Pi whose apt could not install the helper
// was read in full every 15 minutes); the first run after the helper is
// installed reads it, and it becomes a cat.
func TestHEICReadAgainOnceHelperInstalled(t *testing.T) {
	enc, err := exec.LookPath("heif-enc")
	if _, err2 := exec.LookPath(images.HEIFHelper); err != nil || err2 != nil {
		needs.Missing(t, "heif-enc or heif-convert is missing", "apt install libheif-examples")
	}
	j, _ := newTestJob(t, 1, "a@example.test", &fakeSender{})
	src := filepath.Join(t.TempDir(), "src.jpg")
	os.WriteFile(src, photo(t, 7), 0o644)
	if b, err := exec.Command(enc, "-q", "60", src, "-o", filepath.Join(j.Photos, "IMG_0001.HEIC")).CombinedOutput(); err != nil {
		t.Fatalf("heif-enc: %v\n%s", err, b)
	}
	helper := images.HEIFHelper
	t.Cleanup(func() { images.HEIFHelper = helper })
	images.HEIFHelper = "cotd-no-such-heif-convert"
	for run := 1; run <= 3; run++ {
		st, err := j.Index()
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(st.ReportLines(), "\n")
		reported := strings.Contains(all, "IMG_0001.HEIC: HEIC photos need the heif-convert program") && strings.Contains(all, "sudo apt-get install libheif-examples")
		if st.Photos != 1 || st.Unusable != 1 || reported != (run == 1) || st.Read != map[bool]int{true: 2, false: 0}[run == 1] {
			t.Errorf("run %d without the helper: %d photos, %d unusable, %d read, reports %q; want it reported and read on the first run only", run, st.Photos, st.Unusable, st.Read, all)
		}
	}
	var unusable []string
	j.Store.View(func(tx *store.Tx) (err error) { unusable, err = UnusableFiles(tx, j.Photos); return })
	if len(unusable) != 1 || !strings.Contains(unusable[0], "heif-convert") {
		t.Errorf("the alert's list of unusable files: %q, want the HEIC with its fix", unusable)
	}
	images.HEIFHelper = helper
	st, err := j.Index()
	if err != nil {
		t.Fatal(err)
	}
	if st.Photos != 2 || len(st.Reports) != 0 || st.Read != 1 {
		t.Errorf("with the helper: %d photos, %d read, reports %q; want the HEIC indexed", st.Photos, st.Read, st.ReportLines())
	}
	if st, _ := j.Index(); st.Read != 0 || len(st.Reports) != 0 {
		t.Errorf("the run after: %d read, reports %q; want nothing read again", st.Read, st.ReportLines())
	}
}
