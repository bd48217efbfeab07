package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	c, err := s.Load(e.lookup)
	if err != nil {
		var ue *config.UsageError
		hint := ""
		if errors.As(err, &ue) {
			hint = ue.Hint
		}
		k.problem("config", text.OneLine(err.Error()), hint)
		return &hinted{err: errors.New("the settings have a problem, and the other checks need them"), hint: "fix the line marked problem above and run 'cotd check' again"}
	}
	k.ok("config", describeConfig(c))
	if msg, fix := c.PasswordExposed(); msg != "" {
		k.warn("smtp password", msg, fix)
	}
	for _, u := range e.unknownVariables() {
		k.warn("config", u.Line(), config.UnknownHint)
	}
	for _, f := range monitor.CheckRecipients(c.Job, c.Now()) {
		k.line(string(f.Level), f.What, f.Msg, f.Fix)
	}
	if l := clocksync.Describe(clocksync.Kernel{}, c.ClockWait); l.OK {
		k.ok("time sync", l.Msg)
	} else {
		k.warn("time sync", l.Msg, l.Hint)
	}
	ctx, stop := signalContext()
	defer stop()
	now := c.Now().In(c.Job.Schedule.Loc)

	// The database; a database that does not exist yet is not created here
	// (check may run as another user than the service): the photos and
	// quotes are then read into a throwaway one.
	db, cache := c.DB, c.Job.CacheDir
	if _, err := os.Stat(c.DB); errors.Is(err, fs.ErrNotExist) {
		tmp, err := os.MkdirTemp("", "cotd-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		db, cache = filepath.Join(tmp, "cotd.db"), filepath.Join(tmp, "cotd-cache")
		if err := atomicfile.Writable(filepath.Dir(c.DB)); err != nil {
			k.problem("database", fmt.Sprintf("%s does not exist and cannot be created: %v", c.DB, err), "create the folder and let the user cotd runs as write to it, or point --db elsewhere")
		} else {
			k.ok("database", fmt.Sprintf("%s does not exist yet; the first run creates it", c.DB))
		}
	}
	st, err := store.Open(db, lockWait)
	if err != nil {
		code, hint := classify(err)
		if code == exitFailed && hint == "" {
			hint = "check the path and permissions of --db"
		}
		k.problem("database", text.OneLine(err.Error()), hint)
	} else {
		defer st.Close()
		if db == c.DB {
			k.ok("database", c.DB+" opens")
		}
		cc := *c
		cc.Job.CacheDir = cache
		budget := min(c.Job.Indexing.Budget, checkIndexBudget)
		if budget == 0 {
			budget = checkIndexBudget
		}
		for _, f := range monitorConfig(c).CheckContent(ctx, newJob(&cc, st, newLogger(io.Discard)), c.Job.Quotes, c.Job.Photos, now, budget) {
			k.line(string(f.Level), f.What, f.Msg, f.Fix)
		}
	}

	// Sending, the certificates, and the monitoring settings.
	mc := monitorConfig(c)
	sending, expiries := mc.CheckSending(ctx, checkTimeout)
	for _, f := range append(append(sending, mc.CheckCerts(ctx, expiries, checkTimeout, now)...), mc.CheckChannels()...) {
		k.line(string(f.Level), f.What, f.Msg, f.Fix)
	}
	if k.problems > 0 {
		return &hinted{err: fmt.Errorf("%s found", text.Plural(k.problems, "problem", "problems")), hint: "fix the lines marked problem above and run 'cotd check' again"}
	}
	fmt.Fprintln(e.stdout, "all checks passed")
	return nil
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
