package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"cotd/clocksync"
	"cotd/config"
	"cotd/internal/text"
	"cotd/monitor"
	"cotd/store"
)

var statusCommand = command{
	name:    "status",
	summary: "last delivery, next due time, failures, cats left (--json)",
	help: `Usage: cotd status [--json] [flags]

Example, on the Pi:
    sudo -u cotd cotd status        # or: cotd status --json | jq .healthy

Shows the last run and its outcome, the last day every recipient got,
when the next day is due, days missed or skipped, recipients whose mail
keeps failing, how many cats and quotes are left before they repeat, and
when the certificates cotd watches expire. It reads the same settings as
'cotd run' (flags or COTD_* variables) and sends nothing.

Exit status 0 when healthy, 1 when not, so it works as a probe. One rule
decides, for what the last run recorded and what status finds now alike:
` + monitor.StatusRule(),
	settings: true,
	flags:    func(fs *pflag.FlagSet) { statusFlags(fs) },
	run:      cmdStatus,
}

// statusFlags declares status's own flag.
func statusFlags(fs *pflag.FlagSet) (asJSON *bool) {
	return fs.Bool("json", false, "print the status as JSON")
}

// errUnhealthy makes `cotd status` exit 1.
var errUnhealthy = errors.New("unhealthy")

func cmdStatus(args []string, e env) error {
	var asJSON *bool
	c, err := loadSettings("status", args, e, func(fs *pflag.FlagSet) { asJSON = statusFlags(fs) })
	if c == nil {
		return err
	}
	settingsErr := err // a file the settings name is gone: the runs fail on it
	rep, err := judgeState(c)
	if err != nil {
		return err
	}
	if settingsErr != nil {
		_, hint := classify(settingsErr)
		rep.Add(monitor.NewProblem(monitor.RunFailed, "runs cannot start: "+text.OneLine(settingsErr.Error())+"; "+hint, ""))
	}
	// The kernel's NTP state, last so that it never pushes the state's own
	// warnings down; a warning, not a problem: runs go on after the wait.
	// Unsynchronised for long since boot is the machine's care, said above.
	if l := clocksync.Describe(clocksync.Kernel{}, c.ClockWait); !l.OK && !rep.Found(monitor.ClockNeverSet) {
		rep.Add(monitor.NewProblem(monitor.ClockUnsynced, "the clock is "+l.Msg, l.Hint))
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printStatus(e, c, rep)
	}
	if !rep.Healthy {
		return &hinted{err: fmt.Errorf("%w: %s", errUnhealthy, rep.Problems[0]), hint: "the lines above say what is wrong; 'cotd check' tests the settings, journalctl -u cotd shows the runs"}
	}
	return nil
}

// judgeState is monitor.Status, with a database that is damaged, or lost
// while cotd's traces say it had a history, turned into the report's
// problem with the fix that names the newest good snapshot: a probe
// says unhealthy (exit 1), and why.
func judgeState(c *config.Config) (*monitor.Report, error) {
	mc := monitorConfig(c)
	err := lostHistory(c)
	var rep *monitor.Report
	if err == nil {
		rep, err = monitor.Status(mc, c.DB)
	}
	if err == nil || (!errors.Is(err, store.ErrDamaged) && !errors.Is(err, store.ErrHistoryLost)) {
		return rep, err
	}
	rep = monitor.NewReport(mc, c.DB)
	rep.Add(monitor.NewProblem(monitor.StateDamaged, text.OneLine(err.Error())+"; "+restoreHint(c), ""))
	return rep, nil
}

func stamp(t time.Time, loc *time.Location) string { return t.In(loc).Format(text.Stamp) }

func printStatus(e env, c *config.Config, r *monitor.Report) {
	loc := c.Job.Schedule.Loc
	verdict := "healthy"
	if !r.Healthy {
		verdict = "UNHEALTHY"
	}
	fmt.Fprintf(e.stdout, "cotd status at %s: %s\n\n", stamp(r.Now, loc), verdict)
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
	if r.LastRun == nil {
		row("last run:", "never")
	} else {
		outcome := "ok"
		if !r.LastRun.OK {
			outcome = fmt.Sprintf("FAILED (exit %d)", r.LastRun.ExitCode)
		}
		row("last run:", fmt.Sprintf("%s, %s: %s", stamp(r.LastRun.At, loc), outcome, r.LastRun.Summary))
		if r.LastRun.Error != "" {
			row("", r.LastRun.Error)
		}
	}
	if r.LastSuccess != nil {
		row("last success:", stamp(*r.LastSuccess, loc))
	}
	last := r.LastDelivered
	if last == "" {
		last = "none yet"
	} else {
		if len(c.Job.To) == 1 {
			last += " (to the one recipient)"
		} else {
			last += fmt.Sprintf(" (to all %d recipients)", len(c.Job.To))
		}
	}
	row("last delivered:", last)
	if len(r.DueNow) > 0 {
		row("due now:", strings.Join(r.DueNow, ", "))
	} else if !r.NextDue.At.IsZero() {
		row("next due:", stamp(r.NextDue.At, loc))
	}
	if len(r.Recipients) > 1 || (len(r.Recipients) == 1 && (r.Recipients[0].Zone != loc.String() || r.Recipients[0].PausedUntil != "")) {
		for _, rr := range r.Recipients {
			got := rr.LastDelivered
			if got == "" {
				got = "none yet"
			}
			next := fmt.Sprintf("next %s %s (%s UTC)", rr.NextSend.Format("2006-01-02 15:04"), rr.Zone, rr.NextSendUTC.Format("2006-01-02 15:04"))
			if rr.PausedUntil != "" {
				next = "PAUSED until " + rr.PausedUntil + ", " + next
			}
			row("recipient:", fmt.Sprintf("%s: %s, last got %s", rr.Address, next, got))
		}
	}
	for _, u := range r.Undelivered {
		row("undelivered:", u.Day+" to "+strings.Join(u.Missing, ", "))
	}
	for _, s := range r.Skipped {
		row("skipped:", s.Day+" ("+s.Why+")")
	}
	for _, f := range r.PendingFailures {
		row("failing:", fmt.Sprintf("%s since %s, %s: %s", f.Recipient, stamp(f.Since, loc), text.Plural(f.Attempts, "attempt", "attempts"), f.Error))
	}
	if r.Photos.Total > 0 {
		news := ""
		if r.Photos.New > 0 {
			news = fmt.Sprintf(" (%d new in the folder, not indexed yet)", r.Photos.New)
		}
		row("photos:", fmt.Sprintf("%d, %d unsent%s: cats run out in %s, then repeat", r.Photos.Total, r.Photos.Unsent, news, text.Plural(r.CatsRunOutIn, "day", "days")))
	} else {
		row("photos:", "none indexed yet")
	}
	if ix := r.Indexing; ix != nil {
		row("indexing:", fmt.Sprintf("%d of %d photo files left, about %s more at %.1f a second; each run goes on", ix.Left, ix.Files, time.Duration(ix.ETASeconds)*time.Second, ix.Rate))
	}
	row("quotes:", fmt.Sprintf("%d, %d unsent", r.Quotes.Total, r.Quotes.Unsent))
	if b := r.Backups; b.Newest != nil {
		row("backups:", fmt.Sprintf("%d in %s (the last %d kept), newest %s, written %s", b.Count, b.Dir, store.KeepSnapshots, filepath.Base(b.Newest.Path), stamp(b.Newest.Written, loc)))
	} else {
		row("backups:", "none yet in "+b.Dir+" (a run that changes the state writes one)")
	}
	for _, cr := range r.Certificates {
		row("certificate:", cr.Message)
	}
	w.Flush()
	if len(r.Problems) > 0 {
		fmt.Fprintln(e.stdout, "\nproblems:")
		for _, p := range r.Problems {
			fmt.Fprintf(e.stdout, "  - %s\n", p)
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(e.stdout, "\nwarnings:")
		for _, p := range r.Warnings {
			fmt.Fprintf(e.stdout, "  - %s\n", p)
		}
	}
}
