package monitor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cotd/images"
	"cotd/internal/photogen"
	"cotd/job"
	"cotd/schedule"
	"cotd/store"
)

// ^C during check's look at the photos says it was interrupted, with no
// fix for the folder (issue 24: it said "check --photos and that the user
// cotd runs as can read it", about a folder that was fine).
func TestCheckContentInterrupted(t *testing.T) {
	dir := t.TempDir()
	photos := filepath.Join(dir, "photos")
	if err := os.Mkdir(photos, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(photos, fmt.Sprintf("p%d.jpg", i)), photogen.Distinct(i, 320, 240), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(filepath.Join(dir, "cotd.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	sched := schedule.Settings{At: schedule.Clock{Hour: 7}, Loc: time.UTC, CatchUp: schedule.Digest, MaxDays: 2}
	j := &job.Job{Config: job.Config{Photos: photos, DefaultQuotes: []byte("Built in. — Cotd\n"), Schedule: sched,
		CacheDir: filepath.Join(dir, "cache"), Render: images.Default}, Store: st, Now: func() time.Time { return now }, Stopwatch: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the signal came before the first photo was read
	var got *Finding
	for _, f := range (Config{Schedule: sched}).CheckContent(ctx, j, "", photos, now, 30*time.Second) {
		if f.What == "photos" {
			got = &f
		}
	}
	if got == nil {
		t.Fatal("no photos line")
	}
	if got.Level != Trouble || !strings.HasPrefix(got.Msg, "interrupted while reading "+photos) || got.Fix != "" {
		t.Errorf("photos line %+v, want 'interrupted' and no fix", *got)
	}
}
