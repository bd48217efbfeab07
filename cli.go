package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"cotd/config"
	"cotd/internal/text"
	"cotd/job"
	"cotd/schedule"
	"cotd/store"
)

// The output convention, the one every command follows (written down
// here, as age's tui.go writes down its own):
//
//   - stdout carries what the command was asked for (the status report,
//     check's lines, preview's files, the usage text) and nothing else, so
//     it can be piped;
//   - stderr carries what went wrong, written only by report: one line
//     "cotd: error: WHAT", lower case, no trailing period, kept to one line
//     whatever the cause held (text.OneLine), then at most one line
//     "cotd: hint: FIX" saying what to do, in the imperative, naming the
//     flag, the file or the command;
//   - a run's progress and findings are log/slog lines on stderr
//     (newLogger), without timestamps, since the journal adds them;
//   - check's lines are "ok|warn|problem  WHAT: MSG", a problem or a
//     warning followed by "fix: ..." (checker.line);
//   - the exit code says how it ended, one of the four below, documented
//     in the usage text (usageOutro) and the README; classify is the one
//     place that maps an error to it:
const (
	exitOK      = 0 // done, nothing due, healthy, all checks passed
	exitFailed  = 1 // something due was not delivered (the next run retries it), unhealthy, a check found a problem
	exitUsage   = 2 // usage or configuration error: nothing was done
	exitRefused = 3 // refused to act on the state (database locked or unreadable, the clock wrong)
)

// env is the process's outside world, passed in so tests can run cli().
type env struct {
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
}

// environ lists the process's variables (NAME=value) for the one question
// lookup cannot answer: which COTD_* variables no setting reads. It is
// the real environment in the binary and in the scripts' cotd.
var environ = os.Environ

// hinted carries a fix for an error that is not a usage error.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }

func cli(args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stdout, usageText())
		return exitOK
	}
	c := lookupCommand(args[0])
	if c == nil {
		return report(config.Usagef("run 'cotd help' to see the commands", "unknown command %q", args[0]), e.stderr)
	}
	err := c.run(args[1:], e)
	if errors.Is(err, pflag.ErrHelp) { // cotd run --help
		err = runHelp([]string{c.name}, e)
	}
	return report(err, e.stderr)
}

// report prints err in the one CLI convention and returns its exit code.
func report(err error, w io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	code, hint := classify(err)
	fmt.Fprintf(w, "cotd: error: %s\n", text.OneLine(err.Error()))
	if hint != "" {
		fmt.Fprintf(w, "cotd: hint: %s\n", hint)
	}
	return code
}

func classify(err error) (int, string) {
	code, hint := classifyKind(err)
	// A hint given where the error was met knows more (a damaged
	// database's newest snapshot) than the kind's general one.
	var h *hinted
	if errors.As(err, &h) && h.hint != "" {
		hint = h.hint
	}
	return code, hint
}

func classifyKind(err error) (int, string) {
	var ue *config.UsageError
	hint := ""
	switch {
	case errors.As(err, &ue):
		return exitUsage, ue.Hint
	case store.Hint(err) != "": // locked, newer, read-only, permission, damaged, foreign
		return exitRefused, store.Hint(err)
	case errors.Is(err, schedule.ErrClockBackwards): // or too early
		return exitRefused, job.ClockFix(err)
	case errors.Is(err, job.ErrNoPhotos):
		return exitFailed, "copy photos into the folder (JPEG, PNG, GIF, WebP, TIFF or BMP); 'cotd status' lists any files cotd could not use"
	case errors.Is(err, job.ErrUndelivered):
		return exitFailed, "the next run retries it; the lines above say why each delivery failed"
	case errors.Is(err, syscall.ENOSPC):
		return exitFailed, "free space on that disk (df -h, then delete or move files); what was recorded before is intact and the next run carries on"
	}
	return exitFailed, hint
}

// newLogger logs to stderr without timestamps: the journal adds them.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// signalContext stops the run politely on SIGTERM (systemd stop) or ^C:
// the message in flight finishes or fails, and is recorded either way.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
