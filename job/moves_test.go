package job

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Photos renamed or moved into a subfolder while the first index runs are
// moves, not unusable files (issue 24): each case changes the folder at one
// point of the run (while the walk lists it, or before a worker reads a
// file) and the run must index every photo at the path it has now, report
// nothing, and keep no record of the old paths. A file deleted or moved
// out of the folder is still reported (TestPhotoVanishesMidRun).
func TestMovesDuringTheIndex(t *testing.T) {
	const n = 6
	type change struct {
		walked bool // during the walk, at the first file it looks at; else before the first read
		do     func(t *testing.T, photos string)
	}
	moveAll := func(t *testing.T, photos string) {
		for i := range n {
			name := "cat" + string(rune('0'+i)) + ".jpg"
			must(t, os.Rename(filepath.Join(photos, name), filepath.Join(photos, "sub", name)))
		}
	}
	cases := []struct {
		name   string
		change change
		want   []string // the files indexed after the run
		moved  int      // how many the run proves moved (one its walk missed is simply found)
	}{
		{
			name:   "all moved into a subfolder before they are read",
			change: change{do: moveAll},
			want:   []string{"sub/cat0.jpg", "sub/cat1.jpg", "sub/cat2.jpg", "sub/cat3.jpg", "sub/cat4.jpg", "sub/cat5.jpg"},
			moved:  n,
		},
		{
			// The walk listed (and stat-ed) the top folder before the move
			// and lists sub/ after it: it sees every file twice.
			name:   "all moved into a subfolder while the walk runs",
			change: change{walked: true, do: moveAll},
			want:   []string{"sub/cat0.jpg", "sub/cat1.jpg", "sub/cat2.jpg", "sub/cat3.jpg", "sub/cat4.jpg", "sub/cat5.jpg"},
			moved:  n,
		},
		{
			name: "renamed in place before it is read",
			change: change{do: func(t *testing.T, photos string) {
				must(t, os.Rename(filepath.Join(photos, "cat2.jpg"), filepath.Join(photos, "renamed.jpg")))
			}},
			want:  []string{"cat0.jpg", "cat1.jpg", "cat3.jpg", "cat4.jpg", "cat5.jpg", "renamed.jpg"},
			moved: 1,
		},
		{
			// The walk lists cat0.jpg, then finds it again in sub/ (visited
			// after the top-level files): the same walk saw the rename.
			name: "moved to a folder the walk has not reached yet",
			change: change{walked: true, do: func(t *testing.T, photos string) {
				must(t, os.Rename(filepath.Join(photos, "cat0.jpg"), filepath.Join(photos, "sub", "cat0.jpg")))
			}},
			want:  []string{"cat1.jpg", "cat2.jpg", "cat3.jpg", "cat4.jpg", "cat5.jpg", "sub/cat0.jpg"},
			moved: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j, _ := newTestJob(t, n, "a@example.test", &fakeSender{})
			j.Indexing.Workers = 1
			must(t, os.Mkdir(filepath.Join(j.Photos, "sub"), 0o755))
			var once sync.Once
			hook := func(string) { once.Do(func() { tc.change.do(t, j.Photos) }) }
			if tc.change.walked {
				testHookWalked = hook
			} else {
				testHookBeforeRead = hook
			}
			t.Cleanup(func() { testHookWalked, testHookBeforeRead = nil, nil })

			sum, err := j.Run(context.Background())
			if err != nil || sum.Sent != 1 {
				t.Fatalf("run: %v, sent %d", err, sum.Sent)
			}
			st := sum.Index
			if len(st.Reports) != 0 || st.Unusable != 0 || st.Photos != n || st.Files != n || st.Moved != tc.moved {
				t.Errorf("reports %q, %d unusable, %d photos, %d files, %d moved; want none, 0, %d, %d, %d",
					st.ReportLines(), st.Unusable, st.Photos, st.Files, st.Moved, n, n, tc.moved)
			}
			var got []string
			for p, f := range storedFiles(t, j) {
				if f.Err != "" || f.Hash == "" {
					t.Errorf("%s recorded as unusable: %q", p, f.Err)
				}
				got = append(got, filepath.ToSlash(p))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("indexed files %q, want %q", got, tc.want)
			}
		})
	}
}

// A file moved out of the folder during the index is not a move: it is
// reported as vanished, like a deleted one.
func TestMovedOutOfTheFolderIsReported(t *testing.T) {
	j, _ := newTestJob(t, 3, "a@example.test", &fakeSender{})
	j.Indexing.Workers = 1
	out := t.TempDir()
	var once sync.Once
	testHookBeforeRead = func(string) {
		once.Do(func() { must(t, os.Rename(filepath.Join(j.Photos, "cat1.jpg"), filepath.Join(out, "cat1.jpg"))) })
	}
	t.Cleanup(func() { testHookBeforeRead = nil })
	sum, err := j.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lines := sum.Index.ReportLines()
	if len(lines) != 1 || !strings.Contains(lines[0], "cat1.jpg: cannot read: it vanished") || sum.Index.Moved != 0 {
		t.Errorf("reports %q, %d moved; want cat1.jpg reported as vanished, none moved", lines, sum.Index.Moved)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
