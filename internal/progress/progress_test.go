package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestProgressLogLines(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &Reporter{w: &out, log: slog.New(slog.NewTextHandler(&out, nil)), clock: func() time.Time { return now }, every: 10 * time.Second}
	// 1,000 files at 20 per second: a line every 10 s, not one per file.
	p.Update(0, 1000)
	for i := 1; i <= 1000; i++ {
		now = now.Add(50 * time.Millisecond)
		p.Update(i, 1000)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5 (every 10 s of a 50 s index, plus the last):\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], "indexing photos: 200 of 1000, 20.0 per second") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(lines[len(lines)-1], "1000 of 1000") {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
}

func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &Reporter{w: &out, tty: true, clock: func() time.Time { return now }}
	p.Update(0, 4)
	for i := 1; i <= 4; i++ {
		now = now.Add(time.Second)
		p.Update(i, 4)
	}
	s := out.String()
	if !strings.Contains(s, "\rindexing photos [######..................] 1/4  1.0/s") || !strings.HasSuffix(s, "[########################] 4/4  1.0/s \n") {
		t.Errorf("bar output %q", s)
	}
}

func TestProgressQuietForSmallIndex(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &Reporter{w: &out, log: slog.New(slog.NewTextHandler(&out, nil)), clock: func() time.Time { return now }, every: 10 * time.Second}
	p.Update(0, 30)
	for i := 1; i <= 30; i++ {
		now = now.Add(10 * time.Millisecond)
		p.Update(i, 30)
	}
	if out.Len() != 0 {
		t.Errorf("a 0.3 s index printed %q", out.String())
	}
}

// The progress says when the index will be done (issue 13).
func TestProgressETA(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &Reporter{w: &out, log: slog.New(slog.NewTextHandler(&out, nil)), clock: func() time.Time { return now }, every: 10 * time.Second}
	p.Update(0, 1000)
	for i := 1; i <= 200; i++ {
		now = now.Add(50 * time.Millisecond)
		p.Update(i, 1000)
	}
	if !strings.Contains(out.String(), "indexing photos: 200 of 1000, 20.0 per second, about 40s left") {
		t.Errorf("log line %q lacks the ETA", out.String())
	}
	var bar bytes.Buffer
	b := &Reporter{w: &bar, tty: true, clock: func() time.Time { return now }}
	b.Update(0, 4)
	now = now.Add(time.Second)
	b.Update(1, 4)
	if !strings.Contains(bar.String(), "1/4  1.0/s 3s left ") {
		t.Errorf("bar %q lacks the ETA", bar.String())
	}
}
