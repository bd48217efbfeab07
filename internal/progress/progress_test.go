package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// stopwatch is the time a Reporter under test reads; feed moves it.
type stopwatch struct{ now time.Time }

func newStopwatch() *stopwatch {
	return &stopwatch{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// logReporter logs to out, at most every 10 s of w's time.
func logReporter(out *bytes.Buffer, w *stopwatch) *Reporter {
	return &Reporter{w: out, log: slog.New(slog.NewTextHandler(out, nil)), clock: func() time.Time { return w.now }, every: 10 * time.Second}
}

// barReporter draws its bar on out as on a terminal.
func barReporter(out *bytes.Buffer, w *stopwatch) *Reporter {
	return &Reporter{w: out, tty: true, clock: func() time.Time { return w.now }}
}

// feed reports 0 of total files done, then 1 to done, one every step of
// w's time.
func feed(p *Reporter, w *stopwatch, step time.Duration, done, total int) {
	p.Update(0, total)
	for i := 1; i <= done; i++ {
		w.now = w.now.Add(step)
		p.Update(i, total)
	}
}

func TestProgressLogLines(t *testing.T) {
	var out bytes.Buffer
	w := newStopwatch()
	// 1,000 files at 20 per second: a line every 10 s, not one per file.
	feed(logReporter(&out, w), w, 50*time.Millisecond, 1000, 1000)
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
	w := newStopwatch()
	feed(barReporter(&out, w), w, time.Second, 4, 4)
	s := out.String()
	if !strings.Contains(s, "\rindexing photos [######..................] 1/4  1.0/s") || !strings.HasSuffix(s, "[########################] 4/4  1.0/s \n") {
		t.Errorf("bar output %q", s)
	}
}

func TestProgressQuietForSmallIndex(t *testing.T) {
	var out bytes.Buffer
	w := newStopwatch()
	feed(logReporter(&out, w), w, 10*time.Millisecond, 30, 30)
	if out.Len() != 0 {
		t.Errorf("a 0.3 s index printed %q", out.String())
	}
}

// The progress says when the index will be done (issue 13).
func TestProgressETA(t *testing.T) {
	var out bytes.Buffer
	w := newStopwatch()
	feed(logReporter(&out, w), w, 50*time.Millisecond, 200, 1000)
	if !strings.Contains(out.String(), "indexing photos: 200 of 1000, 20.0 per second, about 40s left") {
		t.Errorf("log line %q lacks the ETA", out.String())
	}
	var bar bytes.Buffer
	feed(barReporter(&bar, w), w, time.Second, 1, 4)
	if !strings.Contains(bar.String(), "1/4  1.0/s 3s left ") {
		t.Errorf("bar %q lacks the ETA", bar.String())
	}
}
