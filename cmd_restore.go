package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"cotd/config"
	"cotd/internal/text"
	"cotd/store"
)

var restoreCommand = command{
	name:    "restore",
	args:    "FILE",
	summary: "put a snapshot of the database back (or --afresh: start a new one)",
	help: `Usage: cotd restore FILE [flags]
       cotd restore --afresh [flags]

Example, after the SD card died (the snapshots were on the photos' USB stick):
    sudo -u cotd cotd restore /media/cats/cotd-backups/cotd-2026-03-10.db

After each run that changed the state, cotd writes a snapshot of its
database into --backup-dir (default: backups/ beside --db), one per day,
the last 7 kept; 'cotd status' names the newest. restore reads FILE
through (every page and record) and refuses a damaged one, refuses while a
run holds the database, keeps the database it replaces beside it
(cotd.db.replaced-DATE), and says what the snapshot holds: the last day
delivered, the recipients, the photos. The next run sends nothing that was
delivered up to the snapshot and catches up the days after it within
--catch-up-max-days, one digest per recipient.

A run never starts afresh on its own: a database that is damaged, or
missing or empty while cotd's traces (the rendition cache, the snapshots,
the outbox) say it had a history, is refused with exit 3 and this command
in the hint. --afresh is the explicit way: it keeps the old file aside and
creates an empty database; the next run then mails only today.
`,
	settings: true,
	flags:    func(fs *pflag.FlagSet) { restoreFlags(fs) },
	run:      cmdRestore,
}

func restoreFlags(fs *pflag.FlagSet) (afresh *bool) {
	return fs.Bool("afresh", false, "start with an empty database instead of a snapshot (the old one is kept aside)")
}

func cmdRestore(args []string, e env) error {
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	var afresh *bool
	c, err := loadSettings("restore", args, e, func(fs *pflag.FlagSet) { afresh = restoreFlags(fs) })
	if c == nil {
		return err // a file the settings name being gone (the photo folder) does not matter here
	}
	switch {
	case file == "" && !*afresh:
		return config.Usagef("name the snapshot: cotd restore FILE ('cotd status' names the newest), or start afresh with cotd restore --afresh", "no snapshot given")
	case file != "" && *afresh:
		return config.Usagef("give either a snapshot or --afresh", "a snapshot and --afresh")
	}
	now := c.Now()
	if *afresh {
		aside, err := store.StartAfresh(c.DB, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "started afresh: %s is an empty database\n", c.DB)
		if aside != "" {
			fmt.Fprintf(e.stdout, "the replaced database is kept as %s\n", aside)
		}
		fmt.Fprintln(e.stdout, "the next run mails only today")
		return nil
	}
	aside, got, err := store.Restore(file, c.DB, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored %s into %s\n", file, c.DB)
	last := "none yet"
	if !got.LastDelivered.IsZero() {
		last = got.LastDelivered.String()
	}
	fmt.Fprintf(e.stdout, "  last delivered: %s\n", last)
	fmt.Fprintf(e.stdout, "  recipients:     %s\n", orNone(strings.Join(got.Recipients, ", ")))
	fmt.Fprintf(e.stdout, "  photos:         %d\n", got.Photos)
	if !got.LastRun.IsZero() {
		fmt.Fprintf(e.stdout, "  last run:       %s\n", got.LastRun.In(c.Job.Schedule.Loc).Format(text.Stamp))
	}
	if aside != "" {
		fmt.Fprintf(e.stdout, "the replaced database is kept as %s\n", aside)
	}
	fmt.Fprintf(e.stdout, "the next run sends nothing delivered up to %s and catches up the days after it (within --catch-up-max-days)\n", last)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
