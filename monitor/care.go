package monitor

import (
	"time"

	"cotd/care"
	"cotd/schedule"
	"cotd/store"
)

// The machine's care (package care) in the monitor's terms: each finding
// is a problem of its kind, with its row in severity.go, said once a day
// by the run's alert mail, and in the ping body, `cotd status` and `cotd
// check`, one line with its fix.
const (
	RebootPending Key = Key(care.Reboot)   // upgrades wait for a reboot
	DiskLow       Key = Key(care.DiskLow)  // a filesystem cotd uses is nearly full
	ReadOnlyFS    Key = Key(care.ReadOnly) // a filesystem cotd uses is mounted read-only
	ClockNeverSet Key = Key(care.Clock)    // NTP has not set the clock since boot, for long
	UnderVoltage  Key = Key(care.Power)    // the Pi's firmware saw under-voltage or throttling
	BackupsStale  Key = Key(care.Backups)  // the snapshots are missing or old while runs go on
)

// IsCare reports whether k is one of the machine's care: judged afresh
// by status and check rather than read from the last run's record.
func (k Key) IsCare() bool {
	switch k {
	case RebootPending, DiskLow, ReadOnlyFS, ClockNeverSet, UnderVoltage, BackupsStale:
		return true
	}
	return false
}

// places is where the machine's care looks: cotd's folders, the newest
// snapshot, and the runs (first and latest) the snapshots are owed for.
func (c Config) places(first, last time.Time) care.Places {
	p := care.Places{DB: c.DB, Backups: c.Backups, Photos: c.Photos, FirstRun: first, LastRun: last}
	if snaps, _ := store.Snapshots(c.Backups, c.DB); len(snaps) > 0 {
		p.NewestBackup = snaps[0].Written
	}
	return p
}

// machineCare judges the machine at now, for a run or status: its
// findings, and the filesystems' free space for the next run's growth.
// prev is the space the last run recorded; lastRun the latest run before
// now (the snapshots are owed while runs go on).
func (c Config) machineCare(first, lastRun, now time.Time, prev []store.DiskUsage) ([]care.Finding, []store.DiskUsage) {
	var was []care.Usage
	for _, d := range prev {
		was = append(was, care.Usage{Path: d.Path, Free: d.Free, At: d.At})
	}
	fs, usage := c.Care.Check(c.places(first, lastRun), now, was)
	var rec []store.DiskUsage
	for _, u := range usage {
		rec = append(rec, store.DiskUsage{Path: u.Path, Free: u.Free, At: u.At})
	}
	return fs, rec
}

// careProblem is a finding as a problem of its kind: one line with its
// fix, for the alert mail, the ping body and the status report.
func careProblem(f care.Finding) Problem { return NewProblem(Key(f.Kind), f.Line(), "") }

// careWhat names a finding's line in `cotd check`.
var careWhat = map[care.Kind]string{
	care.Reboot: "reboot", care.DiskLow: "disk", care.ReadOnly: "disk", care.Clock: "clock",
	care.Power: "power", care.Backups: "backups",
}

// CheckCare is the machine's care for `cotd check`, from the state in
// tx (nil when the database could not be read): each finding a line, a
// problem when the rule makes its kind an error; and whether the
// snapshots sit beside the database (a setting to change once, so check
// says it and the runs do not mail it every day).
func (c Config) CheckCare(tx *store.Tx, now time.Time) []Finding {
	var state schedule.State
	var rec store.Run
	if tx != nil {
		state, _ = tx.State()
		rec, _, _ = tx.LastRun()
	}
	fs, _ := c.machineCare(state.FirstRun, state.LastRun, now, rec.Disks)
	if f := c.Care.BesideDB(c.places(state.FirstRun, state.LastRun)); f != nil {
		fs = append(fs, *f)
	}
	var out []Finding
	for _, f := range fs {
		level := Warn
		if Key(f.Kind).Severity() == Error {
			level = Trouble
		}
		out = append(out, Finding{level, careWhat[f.Kind], f.Msg, f.Fix})
	}
	return out
}

// Found reports whether the report holds a finding of kind k.
func (r *Report) Found(k Key) bool {
	for _, f := range r.Findings {
		if f.Key == string(k) {
			return true
		}
	}
	return false
}
