// Package progress reports a long first index of the photo folder: a
// redrawn bar on a terminal, and otherwise a plain line every few seconds,
// which reads well in journald. It reports; it does not index.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// Reporter reports an index as it goes.
type Reporter struct {
	w       io.Writer
	tty     bool
	log     *slog.Logger
	clock   func() time.Time // a stopwatch; never the schedule's clock
	start   time.Time
	last    time.Time
	every   time.Duration
	started bool
	width   int // of the last bar drawn
}

// New reports to w: a bar when w is a terminal, else lines through log.
func New(w io.Writer, log *slog.Logger) *Reporter {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &Reporter{w: w, tty: tty, log: log, clock: time.Now, every: 10 * time.Second}
}

// Update is the job's Progress callback.
func (p *Reporter) Update(done, total int) {
	now := p.clock()
	if !p.started {
		p.start, p.last, p.started = now, now, true
	}
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	finished := done == total
	eta := ""
	if rate > 0 && !finished {
		eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
	}
	if p.tty {
		if now.Sub(p.last) < 100*time.Millisecond && !finished && done > 1 {
			return
		}
		p.last = now
		line := fmt.Sprintf("indexing photos %s %d/%d  %.1f/s ", bar(done, total, 24), done, total, rate)
		if eta != "" {
			line += eta + " left "
		}
		if finished && p.width > len(line) {
			fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.width)) // clear the longer line before
		}
		p.width = len(line)
		fmt.Fprint(p.w, "\r"+line)
		if finished {
			fmt.Fprintln(p.w)
		}
		return
	}
	if (now.Sub(p.last) >= p.every && !finished) || (finished && elapsed >= p.every) {
		p.last = now
		msg := fmt.Sprintf("indexing photos: %d of %d, %.1f per second", done, total, rate)
		if eta != "" {
			msg += ", about " + eta + " left"
		}
		p.log.Info(msg)
	}
}

func bar(done, total, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat(" ", width) + "]"
	}
	n := done * width / total
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
