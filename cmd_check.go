package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cotd/certs"
	"cotd/clocksync"
	"cotd/config"
	"cotd/internal/atomicfile"
	"cotd/internal/text"
	"cotd/monitor"
	"cotd/store"
)

var checkCommand = command{
	name:    "check",
	summary: "check every setting and the SMTP login, one line each",
	help: `Usage: cotd check [flags]

Example, right after pi-setup.sh:
    sudo -u cotd cotd check

A doctor: checks the settings, opens the database, reads the quotes, scans
the photos (indexing new ones for at most 30 s: the runs index the rest),
connects to the SMTP server with TLS and logs in without
sending anything, and checks the certificates (the server's and
--watch-certs). One line per check:

    ok       it works
    warn     it works, but needs care soon (photos skipped, certificate
             within --cert-warn-days)
    problem  it does not work; the next line says how to fix it

Exit status 1 when any line says problem. It reads the same settings as
'cotd run' (flags or COTD_* variables); ping and notification URLs are not
contacted, so checking does not look like a run to Healthchecks.
`,
	settings: true,
	run:      cmdCheck,
}

// checkTimeout bounds the SMTP check and each watched endpoint.
const checkTimeout = 20 * time.Second

// checkIndexBudget bounds check's look at the photo folder (a shorter
// --index-budget wins): on a big new folder it indexes what it can and
// leaves the rest to the runs.
const checkIndexBudget = 30 * time.Second

type checker struct {
	w        io.Writer
	problems int
}

func (k *checker) line(status, what, msg, fix string) {
	fmt.Fprintf(k.w, "%-8s %s: %s\n", status, what, msg)
	if fix != "" {
		fmt.Fprintf(k.w, "%-8s fix: %s\n", "", fix)
	}
	if status == "problem" {
		k.problems++
	}
}

func (k *checker) ok(what, msg string)           { k.line("ok", what, msg, "") }
func (k *checker) warn(what, msg, fix string)    { k.line("warn", what, msg, fix) }
func (k *checker) problem(what, msg, fix string) { k.line("problem", what, msg, fix) }

func cmdCheck(args []string, e env) error {
	s, err := parseSettings("check", args, e, nil)
	if err != nil {
		return err // a malformed flag or variable: nothing to check with
	}
	k := &checker{w: e.stdout}
	skip := map[string]bool{} // steps whose problem the config line said
	c, err := s.Load(e.lookup)
	if err != nil {
		var ue *config.UsageError
		hint := ""
		if errors.As(err, &ue) {
			hint = ue.Hint
		}
		k.problem("config", text.OneLine(err.Error()), hint)
		if c == nil {
			return &hinted{err: errors.New("the settings have a problem, and the other checks need them"), hint: "fix the line marked problem above and run 'cotd check' again"}
		}
		// A file or folder the settings name is missing now (a USB stick
		// unplugged, a password file not written yet): the settings are
		// whole, so the other checks still say what they can, all but the
		// one that would say the same again.
		if c.Missing != "" {
			skip[c.Missing] = true
		}
	} else {
		k.ok("config", describeConfig(c))
	}
	if msg, fix := c.PasswordExposed(); msg != "" {
		k.warn("smtp password", msg, fix)
	}
	for _, u := range e.unknownVariables() {
		k.warn("config", u.Line(), config.UnknownHint)
	}
	for _, f := range monitor.CheckRecipients(c.Job, c.Now()) {
		k.line(string(f.Level), f.What, f.Msg, f.Fix)
	}
	now := c.Now().In(c.Job.Schedule.Loc)
	// One line about the clock's sync: NTP silent past the minutes it
	// takes is the machine's care problem (with its fix), said here
	// instead of a warning and then the problem again.
	var neverSynced *monitor.Finding
	for _, f := range monitorConfig(c).CheckCare(nil, now) {
		if f.What == "clock" {
			neverSynced = &f
		}
	}
	switch l := clocksync.Describe(clocksync.Kernel{}, c.ClockWait); {
	case neverSynced != nil:
		k.line(string(neverSynced.Level), "time sync", neverSynced.Msg, neverSynced.Fix)
	case l.OK:
		k.ok("time sync", l.Msg)
	default:
		k.warn("time sync", l.Msg, l.Hint)
	}
	sig, stop := signalContext()
	defer stop()
	ctx, cancel := context.WithTimeout(sig, checkDeadlines.whole)
	defer cancel()

	// The content, read from a private copy of the database: check never
	// holds the database longer than one read (issue 25 §7), so a run the
	// timer starts meanwhile is never refused, and never writes it.
	tmp, err := os.MkdirTemp("", "cotd-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	st, scratch := k.database(c, filepath.Join(tmp, "cotd.db"))
	// The machine: reboot, disks, clock, power, backups.
	machineLines := func(tx *store.Tx) error {
		for _, f := range monitorConfig(c).CheckCare(tx, now) {
			if f.What == "clock" {
				continue // said on the time sync line
			}
			k.line(string(f.Level), f.What, f.Msg, f.Fix)
		}
		return nil
	}
	if st == nil {
		machineLines(nil)
	} else if err := st.View(machineLines); err != nil {
		return err
	}
	if st != nil {
		defer st.Close()
	}
	if st != nil {
		budget := min(c.Job.Indexing.Budget, checkIndexBudget)
		if budget == 0 {
			budget = checkIndexBudget
		}
		cc := *c
		if scratch || cc.Job.Photos == "" {
			cc.Job.CacheDir = filepath.Join(tmp, "cotd-cache") // nothing of the runs' to reuse
		}
		j := newJob(&cc, st, newLogger(io.Discard))
		j.KeepCache = true // the copy may be older than a run's renditions
		k.step(ctx, "photos", checkDeadlines.content, func(ctx context.Context) []monitor.Finding {
			var out []monitor.Finding
			for _, f := range monitorConfig(c).CheckContent(ctx, j, c.Job.Quotes, c.Job.Photos, now, budget) {
				if !skip[f.What] {
					out = append(out, f)
				}
			}
			return out
		})
	}

	// Sending, the certificates, and the monitoring settings.
	mc := monitorConfig(c)
	// The server's chain reaches the certificate step only from an smtp
	// step that ended: one left behind past its deadline must not write
	// what the next step reads (go test -race found it).
	read := make(chan []certs.Expiry, 1)
	if skip["smtp"] {
		read <- nil
	} else {
		k.step(ctx, "smtp", checkDeadlines.smtp, func(ctx context.Context) []monitor.Finding {
			out, ex := mc.CheckSending(ctx, checkTimeout)
			read <- ex
			return out
		})
	}
	var expiries []certs.Expiry
	select {
	case expiries = <-read:
	default: // the step did not end in time
	}
	k.step(ctx, "certificate", checkDeadlines.certs, func(ctx context.Context) []monitor.Finding {
		return mc.CheckCerts(ctx, expiries, checkTimeout, now)
	})
	for _, f := range mc.CheckChannels() {
		k.line(string(f.Level), f.What, f.Msg, f.Fix)
	}
	if sig.Err() != nil {
		return errors.New("check interrupted: the lines above are what it checked before")
	}
	if k.problems > 0 {
		return &hinted{err: fmt.Errorf("%s found", text.Plural(k.problems, "problem", "problems")), hint: "fix the lines marked problem above and run 'cotd check' again"}
	}
	fmt.Fprintln(e.stdout, "all checks passed")
	return nil
}

// checkDeadlines bound each step of check and the whole of it (issue 25
// §7): a server that answers a byte every few seconds never resets a
// deadline, and check ends. A variable so tests can shorten them.
var checkDeadlines = struct{ content, smtp, certs, whole time.Duration }{
	content: checkIndexBudget + 30*time.Second,
	smtp:    45 * time.Second,
	certs:   30 * time.Second,
	whole:   2*time.Minute + 30*time.Second,
}

// step runs one step of check within its deadline (and the whole
// check's) and prints its lines. A step that does not end in time is a
// problem line and check goes on; its goroutine is left behind, cut off
// with its context, and ends with the process.
func (k *checker) step(ctx context.Context, what string, d time.Duration, fn func(ctx context.Context) []monitor.Finding) {
	if ctx.Err() != nil {
		return // interrupted, or the whole check's deadline passed: said once
	}
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	done := make(chan []monitor.Finding, 1)
	go func() { done <- fn(sctx) }()
	select {
	case fs := <-done:
		for _, f := range fs {
			k.line(string(f.Level), f.What, f.Msg, f.Fix)
		}
		return
	case <-sctx.Done():
	}
	switch {
	case errors.Is(context.Cause(ctx), context.Canceled):
		k.problem(what, "interrupted", "")
	case ctx.Err() != nil:
		k.problem(what, fmt.Sprintf("not done when the whole check's %s were up", checkDeadlines.whole), "")
	default:
		k.problem(what, fmt.Sprintf("not done within %s (a server that answers slowly, a byte at a time, or not at all?)", d),
			"check the host and port, and try again later; the runs have their own deadlines")
	}
}

// database says how the database opens, read-only, and returns a private
// copy of it at tmp for the content checks (nil when there is nothing to
// check against): the database itself, the newest snapshot while a run
// holds it, or a new empty one (scratch) before the first run.
func (k *checker) database(c *config.Config, tmp string) (st *store.Store, scratch bool) {
	src := c.DB
	switch err := lostHistory(c); {
	case err != nil:
		k.problem("database", text.OneLine(err.Error()), restoreHint(c))
		return nil, false
	}
	if _, err := os.Stat(c.DB); errors.Is(err, fs.ErrNotExist) {
		if err := atomicfile.Writable(filepath.Dir(c.DB)); err != nil {
			k.problem("database", fmt.Sprintf("%s does not exist and cannot be created: %v", c.DB, err), "create the folder and let the user cotd runs as write to it, or point --db elsewhere")
		} else {
			k.ok("database", fmt.Sprintf("%s does not exist yet; the first run creates it", c.DB))
		}
		src = ""
	}
	if src != "" {
		ro, err := store.OpenReadOnly(c.DB, 300*time.Millisecond)
		if errors.Is(err, store.ErrLocked) {
			snap, _, ok := store.NewestGood(c.BackupDir, c.DB)
			if !ok {
				k.ok("database", c.DB+" is in use by a run now; no snapshot yet to check the photos against, so they are checked from scratch")
				src = ""
			} else {
				k.ok("database", fmt.Sprintf("%s is in use by a run now; checked against its snapshot of %s", c.DB, snap.Day))
				ro, err = store.OpenReadOnly(snap.Path, time.Second)
			}
		} else if err == nil {
			k.ok("database", c.DB+" opens")
		}
		if err != nil {
			code, hint := classify(err)
			if errors.Is(err, store.ErrDamaged) {
				hint = restoreHint(c)
			} else if code == exitFailed && hint == "" {
				hint = "check the path and permissions of --db"
			}
			k.problem("database", text.OneLine(err.Error()), hint)
			return nil, false
		}
		if ro != nil {
			err = ro.Snapshot(tmp)
			ro.Close()
			if err != nil {
				k.problem("database", "cannot copy it to check against: "+text.OneLine(err.Error()), "")
				return nil, false
			}
		}
	}
	st, err := store.Open(tmp, time.Second)
	if err != nil {
		k.problem("database", "cannot check against a copy: "+text.OneLine(err.Error()), "")
		return nil, false
	}
	return st, src == ""
}

func describeConfig(c *config.Config) string {
	where := "outbox " + c.Outbox
	if c.SMTP != nil {
		where = fmt.Sprintf("smtp %s (%s)", strings.TrimPrefix(monitor.SMTPSource(c.SMTP), "smtp "), c.SMTP.TLS)
	}
	zone := c.Job.Schedule.Loc.String()
	if zone == "Local" { // name the machine's zone, not Go's word for it
		zone, _ = c.Now().In(c.Job.Schedule.Loc).Zone()
	}
	return fmt.Sprintf("%s, %s, sending at %s %s", text.Plural(len(c.Job.To), "recipient", "recipients"), where, c.Job.Schedule.At, zone)
}
