package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"cotd/clocksync"
	"cotd/config"
	"cotd/internal/progress"
	"cotd/internal/text"
	"cotd/job"
	"cotd/monitor"
	"cotd/schedule"
	"cotd/store"
)

var runCommand = command{
	name:    "run",
	summary: "mail what is due today (and days missed while cotd was off)",
	help: `Usage: cotd run [flags]

Example, on a Raspberry Pi with the settings in /etc/cotd/cotd.env:
    sudo systemctl start cotd.service && journalctl -u cotd -n 5

Indexes the photo folder and the quotes, then mails each recipient the days
that are due and that they have not had: today once it is past --at, plus
days missed while cotd was not running (see --catch-up). Running it again
the same day sends nothing.
`,
	settings: true,
	run:      cmdRun,
}

func cmdRun(args []string, e env) error {
	c, err := loadSettings("run", args, e, nil)
	if c == nil {
		return err // settings that do not parse: nobody to tell but the journal
	}
	for _, u := range e.unknownVariables() {
		newLogger(e.stderr).Warn(u.Line())
	}
	ctx, stop := runContext()
	defer stop()
	r := &runOutcome{c: c, log: newLogger(e.stderr)}
	sum, runErr := r.attempt(ctx, e, err)
	return r.report(ctx, sum, runErr)
}

// runOutcome is the one place that decides how a run ended and tells the
// owner (issue 25 §4), whatever ended it: settings naming a file that is
// gone now (the photo folder on an unplugged USB stick, the password
// file), a database that is damaged or lost, a panic anywhere in the run,
// a signal (the job returns the cancelled context's error), or the job's
// own outcome. Every one reaches the journal, the ping (/fail with the
// exit code), the push and the alert mail, each as far as it still
// works; only a database held by another run is left to that run to
// report.
type runOutcome struct {
	c   *config.Config
	log *slog.Logger
	st  *store.Store // nil until opened
	gen uint64       // the database's generation when the run began
}

// The seams the outcome test uses (TestEveryRunEndingIsHeard): the run's
// context, which a signal cancels, and the job once built (a sender that
// panics). Production code never changes them.
var (
	runContext = signalContext
	jobHook    = func(*job.Job) {}
)

// errPanic marks a run that panicked: a bug, reported like any failure.
var errPanic = errors.New("cotd crashed (a bug; please report it with the journal's lines)")

// attempt runs the job; loadErr is a setting whose file is gone now.
func (r *runOutcome) attempt(ctx context.Context, e env, loadErr error) (sum job.Summary, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic", "value", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	if loadErr != nil {
		return sum, loadErr
	}
	c := r.c
	// Before the database is opened, so that waiting holds no lock.
	if c.ClockWait > 0 {
		if w := clocksync.Wait(ctx, clocksync.Kernel{}, c.ClockWait, clocksync.Interval, clocksync.Sleep); !w.Synced {
			r.log.Warn(clocksync.Unsynced(w))
		}
	}
	j, _, err := openJob(c, e)
	if err != nil {
		return sum, err
	}
	r.st = j.Store
	if r.gen, err = r.st.Generation(); err != nil {
		return sum, err
	}
	if err := sampleRefused(c, r.st); err != nil {
		return sum, err
	}
	j.Progress = progress.New(e.stderr, r.log).Update
	jobHook(j)
	monitor.New(monitorConfig(c), r.st, r.log).Start(ctx)
	return j.Run(ctx)
}

// report words the outcome once and sends it down every channel, then
// snapshots a database the run changed.
func (r *runOutcome) report(ctx context.Context, sum job.Summary, runErr error) error {
	if r.st != nil {
		defer r.st.Close()
	}
	if errors.Is(runErr, store.ErrLocked) {
		return runErr // another run holds the database; that run reports
	}
	runErr = r.withSnapshotHint(runErr)
	logSummary(r.log, r.c, sum, runErr)
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("panic while reporting the run", "value", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		monitor.New(monitorConfig(r.c), r.st, r.log).Finish(ctx, sum, runErr)
	}()
	r.backup(sum)
	return runErr
}

// backup writes today's snapshot when the run changed the state: it
// delivered, failed or gave up mail, decided days, or indexed photos (or
// today has no snapshot yet). A run that only recorded itself (the timer
// every 15 minutes with nothing due) writes none: an SD card wears out.
func (r *runOutcome) backup(sum job.Summary) {
	if r.st == nil || r.st.Damage() != nil {
		return
	}
	gen, err := r.st.Generation()
	if err != nil || gen == r.gen {
		return
	}
	today := schedule.DayOf(r.c.Now(), r.c.Job.Schedule.Loc)
	changed := sum.Sent > 0 || len(sum.Failures) > 0 || len(sum.GaveUp)+len(sum.Dropped) > 0 || len(sum.Plan.Skipped) > 0 ||
		sum.Index.New+sum.Index.Removed+sum.Index.Moved > 0
	if _, err := os.Stat(filepath.Join(r.c.BackupDir, store.SnapshotName(r.c.DB, today))); !changed && err == nil {
		return
	}
	path, err := r.st.Backup(r.c.BackupDir, today)
	if err != nil {
		r.log.Warn("snapshot of the database failed; the run itself is recorded", "dir", r.c.BackupDir, "err", err)
		return
	}
	r.log.Info("snapshot written", "file", path)
}

// withSnapshotHint gives a damaged or lost database's error the fix that
// names the newest good snapshot and the one command that restores it.
func (r *runOutcome) withSnapshotHint(err error) error {
	if err == nil || (!errors.Is(err, store.ErrDamaged) && !errors.Is(err, store.ErrHistoryLost)) {
		return err
	}
	return &hinted{err: err, hint: restoreHint(r.c)}
}

// restoreHint is the fix for a damaged or lost database.
func restoreHint(c *config.Config) string {
	cotd := "cotd" // as the owner types it: the service's sandbox and user
	if c.Service {
		cotd = "sudo cotd-service"
	}
	snap, contents, ok := store.NewestGood(c.BackupDir, c.DB)
	if !ok {
		return fmt.Sprintf("no good snapshot in %s: restore the database from a copy of your own with '%s restore FILE', or start afresh with '%s restore --afresh' (the next run then mails only today)", c.BackupDir, cotd, cotd)
	}
	last := "nothing delivered yet"
	if !contents.LastDelivered.IsZero() {
		last = "delivered up to " + contents.LastDelivered.String()
	}
	return fmt.Sprintf("restore the newest good snapshot (%s, %s): %s restore %s", snap.Day, last, cotd, shellQuote(snap.Path))
}

// sampleRefused refuses the built-in sample cat in place of a default
// photo folder that has gone (a USB stick unplugged) after real photos
// were indexed from it (issue 25 §5: the sample went out, and the
// owner's only mail said "resolved").
func sampleRefused(c *config.Config, st *store.Store) error {
	if c.PhotosAbsent == "" {
		return nil
	}
	real := 0
	err := st.View(func(tx *store.Tx) error {
		return tx.EachPhoto(func(p store.Photo) error {
			if p.Path != job.SamplePath {
				real++
			}
			return nil
		})
	})
	if err != nil || real == 0 {
		return err
	}
	return config.Usagef(fmt.Sprintf("put the photo folder back at %s (the USB stick?), or set --photos to where it is now", c.PhotosAbsent),
		"the photo folder %s is gone, but %s were indexed from it: the built-in sample cat is not mailed instead", c.PhotosAbsent, text.Plural(real, "photo", "photos"))
}

// lostHistory refuses a database that is missing or empty while cotd's
// own traces say it had a history (issue 25 §5): an SD card after a power
// cut must not become a new database that mails the days again. It is
// nil for a first run, and for a database that exists (store.Open judges
// that one).
func lostHistory(c *config.Config) error {
	fi, err := os.Stat(c.DB)
	if err == nil && (fi.Size() > 0 || fi.IsDir()) || err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var traces []string
	// The rendition cache beside the database is shared by every database
	// in that folder: it is this one's trace only when it is alone there.
	if n := countFiles(c.Job.CacheDir, ""); n > 0 && !otherDatabases(c.DB) {
		traces = append(traces, fmt.Sprintf("%s holds %s", c.Job.CacheDir, text.Plural(n, "rendered photo", "rendered photos")))
	}
	if snaps, _ := store.Snapshots(c.BackupDir, c.DB); len(snaps) > 0 {
		traces = append(traces, fmt.Sprintf("%s holds %s", c.BackupDir, text.Plural(len(snaps), "snapshot", "snapshots")))
	}
	if c.SMTP == nil {
		if n := countFiles(c.Outbox, ".eml"); n > 0 {
			traces = append(traces, fmt.Sprintf("%s holds %s", c.Outbox, text.Plural(n, "mail", "mails")))
		}
	}
	if len(traces) == 0 {
		return nil
	}
	what := "does not exist"
	if err == nil {
		what = "is empty (0 bytes)"
	}
	return fmt.Errorf("database %s %s, but cotd has run here before (%s): %w", c.DB, what, strings.Join(traces, "; "), store.ErrHistoryLost)
}

// otherDatabases reports another non-empty .db file beside db.
func otherDatabases(db string) bool {
	ents, _ := os.ReadDir(filepath.Dir(db))
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && strings.HasSuffix(e.Name(), ".db") && e.Name() != filepath.Base(db) {
			return true
		}
	}
	return false
}

// countFiles counts the regular files directly in dir ending in suffix.
func countFiles(dir, suffix string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), suffix) && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// shellQuote quotes a path for a command line the owner copies.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// logSummary writes the run's one summary line, after one line per
// problem, so `journalctl -u cotd` reads at a glance.
func logSummary(log *slog.Logger, c *config.Config, sum job.Summary, runErr error) {
	for _, r := range sum.Index.ReportLines() {
		log.Warn(r)
	}
	for _, p := range sum.RecipientProblems {
		log.Error(monitor.RecipientProblemLine(sum.RecipientsFile, p)+": this recipient gets no mail until the line is fixed", "fix", p.Fix)
	}
	for _, p := range sum.Problems {
		log.Warn(monitor.QuotesProblemLine(p))
	}
	for _, f := range sum.Failures {
		if sum.ConnErr != nil && errors.Is(f.Err, sum.ConnErr) {
			continue // said once, as the run's error
		}
		log.Error("not delivered", "to", f.To, "days", schedule.List(f.Days), "err", f.Err)
	}
	for _, g := range sum.GaveUp {
		log.Error("gave up: " + monitor.UndeliveredLine(g) + " (older than --catch-up-max-days)")
	}
	if errors.Is(runErr, schedule.ErrClockBackwards) || sum.Plan.Today.IsZero() {
		return
	}
	level := slog.LevelInfo
	if runErr != nil {
		level = slog.LevelError
	}
	log.Log(context.Background(), level, monitor.SummaryLine(monitorConfig(c), sum, runErr),
		"sent", sum.Sent, "failed", len(sum.Failures), "skipped_photos", sum.Index.Unusable)
	if sum.BeforeFirstMorning && runErr == nil {
		// A fresh install run at night: say why nothing came, and how to
		// see the first mail without waiting for it.
		cotd := "cotd"
		if c.Service {
			cotd = "sudo cotd-service"
		}
		log.Info("the first morning has not come yet: '" + cotd + " preview' writes today's mail now, without sending it")
	}
}
