package job

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"cotd/schedule"
)

// TestPreviewAfterTheDaysCatLeftTheFolder: the owner replaces the photos
// after today's mail went out (or the first run mailed the built-in sample
// cat and the folder came later). send-test and preview of today must
// still work: today's cat is gone, so they show the rotation's next one.
func TestPreviewAfterTheDaysCatLeftTheFolder(t *testing.T) {
	fs := &fakeSender{}
	j, c := newTestJob(t, 1, "a@example.test", fs)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(j.Photos, "cat0.jpg")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(j.Photos, "new.jpg"), photo(t, 9), 0o644); err != nil {
		t.Fatal(err)
	}
	msgs, err := j.Preview(schedule.DayOf(c.t, j.Schedule.Loc))
	if err != nil {
		t.Fatalf("preview of today after its cat left the folder: %v", err)
	}
	if len(msgs) != 1 || len(msgs[0].Days) != 1 || len(msgs[0].Days[0].Photo) == 0 {
		t.Fatalf("preview %+v; want one message with a cat", msgs)
	}
}
