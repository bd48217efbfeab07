package monitor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"cotd/certs"
	"cotd/internal/text"
	"cotd/job"
	"cotd/schedule"
	"cotd/store"
)

// overdueGrace is how long after --at a day may stay undecided before
// status says cotd is not running: the timer runs every 15 minutes, and a
// slow first index of a big photo folder takes a while.
const overdueGrace = time.Hour

// Report is the state judged for `cotd status`, and its --json form: the
// field names are an interface.
type Report struct {
	Healthy         bool            `json:"healthy"`
	Now             time.Time       `json:"now"`
	Problems        []string        `json:"problems"` // the findings of severity error (see Add)
	Warnings        []string        `json:"warnings"` // the findings of severity warning
	Findings        []ReportFinding `json:"findings"` // all of them, with their kind and severity
	LastRun         *ReportRun      `json:"last_run"`
	LastSuccess     *time.Time      `json:"last_success"`
	LastDelivered   string          `json:"last_delivered_day"`
	NextDue         ReportNext      `json:"next_due"`
	DueNow          []string        `json:"due_now"`
	Undelivered     []ReportDay     `json:"undelivered"`
	Skipped         []ReportSkipped `json:"skipped_days"`
	PendingFailures []ReportFailure `json:"pending_failures"`
	Photos          ReportCount     `json:"photos"`
	Quotes          ReportCount     `json:"quotes"`
	CatsRunOutIn    int             `json:"cats_run_out_in_days"`
	Indexing        *ReportIndexing `json:"indexing,omitempty"`
	Certificates    []ReportCert    `json:"certificates"`
	Backups         ReportBackups   `json:"backups"`
	// FromSnapshot is the snapshot shown while a run holds the database;
	// "" when the database itself was read.
	FromSnapshot string `json:"from_snapshot,omitempty"`
	// Recipients are each recipient's own morning: the next send in
	// their zone and in UTC, the last day they got, their pause.
	Recipients []ReportRecipient `json:"recipients"`
}

// ReportRecipient is one recipient's morning for `cotd status`.
type ReportRecipient struct {
	Address       string    `json:"address"`
	Zone          string    `json:"zone"`
	At            string    `json:"at"`
	NextSend      time.Time `json:"next_send"` // in their zone
	NextSendUTC   time.Time `json:"next_send_utc"`
	LastDelivered string    `json:"last_delivered_day"` // "" if none yet
	PausedUntil   string    `json:"paused_until,omitempty"`
}

type ReportRun struct {
	At       time.Time `json:"at"`
	OK       bool      `json:"ok"`
	ExitCode int       `json:"exit_code"`
	Summary  string    `json:"summary"`
	Error    string    `json:"error,omitempty"`
}

type ReportNext struct {
	Day string    `json:"day"`
	At  time.Time `json:"at"`
}

type ReportDay struct {
	Day     string   `json:"day"`
	Missing []string `json:"missing"`
}

type ReportSkipped struct {
	Day string `json:"day"`
	Why string `json:"why"`
}

type ReportFailure struct {
	Recipient string    `json:"recipient"`
	Since     time.Time `json:"since"`
	Last      time.Time `json:"last"`
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error"`
	Permanent bool      `json:"permanent"`
}

// ReportIndexing is a photo folder not yet fully indexed.
type ReportIndexing struct {
	Files      int     `json:"files"`
	Left       int     `json:"left"`
	Rate       float64 `json:"rate_per_second"`
	ETASeconds int     `json:"eta_seconds"`
}

type ReportCount struct {
	Total  int `json:"total"`
	Unsent int `json:"unsent"`
	// New are photo files in the folder no scan has read yet: counted in
	// Total and Unsent (new photos go out first).
	New int `json:"new,omitempty"`
}

type ReportCert struct {
	Source   string    `json:"source"`
	Subject  string    `json:"subject,omitempty"`
	NotAfter time.Time `json:"not_after"`
	DaysLeft int       `json:"days_left"`
	Level    string    `json:"level"`
	Message  string    `json:"message"`
	Seen     time.Time `json:"seen"`
}

// NewReport is a report with nothing judged yet: healthy, at c.Now, with
// the snapshots of the database at db in the backup folder.
func NewReport(c Config, db string) *Report {
	return &Report{Backups: backups(c.Backups, db), Now: c.Now().In(c.Schedule.Loc), Healthy: true, Problems: []string{}, Warnings: []string{}, Findings: []ReportFinding{}, DueNow: []string{}, Undelivered: []ReportDay{},
		Skipped: []ReportSkipped{}, PendingFailures: []ReportFailure{}, Certificates: []ReportCert{}, Recipients: []ReportRecipient{}}
}

// readWait is how long status waits for bbolt's shared lock before it
// takes the run's newest snapshot instead: a run holds the database for
// the whole run (a first index can take many minutes), and a probe must
// never wait on it (issue 25 §7).
const readWait = 300 * time.Millisecond

// Status judges the state for `cotd status`: the database at db, opened
// read-only (it never creates, migrates or writes it, as `bbolt info`),
// or, while a run holds it, the newest snapshot in c.Backups, said as a
// warning. It never waits on a run and never blocks one: bbolt's shared
// lock is held for the few milliseconds of one read. A damaged database
// is an error (store.ErrDamaged), for the CLI to word with its fix.
func Status(c Config, db string) (*Report, error) {
	r := NewReport(c, db)
	now := r.Now
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		r.Add(NewProblem(NeverRun, fmt.Sprintf("cotd has never run here: there is no database at %s", db), ""))
		return r, nil
	}
	st, err := store.OpenReadOnly(db, readWait)
	if errors.Is(err, store.ErrLocked) {
		snap, _, ok := store.NewestGood(c.Backups, db)
		if !ok {
			r.Add(NewProblem(RunInProgress, "a run is using the database now, and there is no snapshot yet to show: run 'cotd status' again when it is done", ""))
			return r, nil
		}
		r.Add(NewProblem(RunInProgress, fmt.Sprintf("a run is using the database now: this is the state of its snapshot of %s (written %s)", snap.Day, snap.Written.In(c.Schedule.Loc).Format(text.Stamp)), ""))
		r.FromSnapshot = snap.Path
		st, err = store.OpenReadOnly(snap.Path, readWait)
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := st.View(func(tx *store.Tx) error { return r.fill(c, tx, now) }); err != nil {
		return nil, fmt.Errorf("read %s: %w", st.Path(), err)
	}
	if r.FromSnapshot == "" {
		if err := writable(db); err != nil {
			r.Add(NewProblem(StateUnwritable, fmt.Sprintf("runs cannot write the database: %v", err), ""))
		}
	}
	return r, nil
}

// writable says why a run could not write the database at db, or nil: a
// read-only file system (an SD card failing, or remounted after errors),
// or permissions that keep the file's owner (the user runs are) out.
// Another user's status (the owner's own login, reading a database it may
// read) cannot judge the service's permissions and says nothing of them.
func writable(db string) error {
	var st unix.Stat_t
	owner := unix.Stat(db, &st) == nil && int(st.Uid) == os.Geteuid()
	for _, p := range []string{db, filepath.Dir(db)} {
		if err := unix.Access(p, unix.W_OK); err != nil {
			var sfs unix.Statfs_t
			if unix.Statfs(p, &sfs) == nil && sfs.Flags&unix.ST_RDONLY != 0 {
				return fmt.Errorf("%s %w (remount it read-write: mount -o remount,rw)", p, store.ErrReadOnly)
			}
			if owner {
				return fmt.Errorf("%s: %w for this user (uid %d): %v", p, store.ErrPermission, os.Geteuid(), err)
			}
		}
	}
	return nil
}

// ReportBackups is the backup folder as status shows it.
type ReportBackups struct {
	Dir    string              `json:"dir"`
	Count  int                 `json:"count"`
	Newest *store.SnapshotFile `json:"newest,omitempty"`
}

func backups(dir, db string) ReportBackups {
	b := ReportBackups{Dir: dir}
	snaps, _ := store.Snapshots(dir, db)
	b.Count = len(snaps)
	if len(snaps) > 0 {
		b.Newest = &snaps[0]
	}
	return b
}

// fill reads the state and judges it at now.
func (r *Report) fill(c Config, tx *store.Tx, now time.Time) error {
	sched := c.Schedule
	loc := sched.Loc
	state, err := tx.State()
	if err != nil {
		return err
	}
	rec, haveRec, err := tx.LastRun()
	if err != nil {
		rec, haveRec = store.Run{}, false // a damaged record: as if none
	}
	if state.LastRun.IsZero() && !haveRec {
		// A first run that failed did run: its record says how, below.
		r.Add(NewProblem(NeverRun, "cotd has never run with this database", ""))
	}
	if haveRec {
		r.LastRun = &ReportRun{At: rec.At.In(loc), OK: rec.OK, ExitCode: rec.ExitCode, Summary: rec.Summary, Error: rec.Error}
		if !rec.LastSuccess.IsZero() {
			t := rec.LastSuccess.In(loc)
			r.LastSuccess = &t
		}
		if !rec.OK {
			r.Add(NewProblem(RunFailed, fmt.Sprintf("the last run (%s) failed: %s", rec.At.In(loc).Format(text.Stamp), rec.Error), ""))
		}
	} else if !state.LastRun.IsZero() {
		r.LastRun = &ReportRun{At: state.LastRun.In(loc), OK: true, Summary: "run before monitoring was recorded"}
	}

	// What is due.
	jc := c.jobConfig()
	plan, err := schedule.DecideFor(state, now, sched, jc.MorningsOf())
	switch {
	case errors.Is(err, schedule.ErrClockBackwards):
		r.Add(NewProblem(ClockBackwards, text.OneLine(err.Error())+"; "+job.ClockFix(err), ""))
	case err != nil:
		return err
	default:
		for _, d := range plan.Open {
			r.DueNow = append(r.DueNow, d.String())
			due := jc.FirstDue(d)
			if !state.LastRun.IsZero() && now.Sub(due) > overdueGrace {
				r.Add(NewProblem(Overdue, fmt.Sprintf("%s was due at %s and no run has handled it; is the timer running? (systemctl status cotd.timer)", d, due.Format("15:04")), ""))
			}
		}
		if len(plan.Open) > 0 {
			r.NextDue = ReportNext{Day: plan.Open[0].String(), At: jc.FirstDue(plan.Open[0]).In(loc)}
		} else {
			r.NextDue = ReportNext{Day: schedule.DayOf(plan.Next, loc).String(), At: plan.Next.In(loc)}
		}
	}

	// Days decided so far.
	today := schedule.DayOf(now, loc)
	recent := today.AddDays(-30)
	err = tx.EachDay(schedule.Day{}, func(d store.Day) error {
		switch d.Status {
		case store.StatusSkipped:
			if !d.Day.Before(recent) {
				r.Skipped = append(r.Skipped, ReportSkipped{Day: d.Day.String(), Why: d.Why})
			}
		case store.StatusOpen:
			owed, err := job.Owed(tx, c.Recipients, d)
			if err != nil {
				return err
			}
			if len(owed) == 0 {
				r.LastDelivered = d.Day.String()
			}
			// Undelivered is what is due by now in each recipient's own
			// morning and window: a day Tokyo has had is not late for
			// New York before 07:00 there.
			due, err := jc.OwedNow(tx, d, now)
			if err != nil {
				return err
			}
			var missing []string
			for _, to := range due {
				missing = append(missing, to.Address)
			}
			if len(missing) > 0 {
				r.Undelivered = append(r.Undelivered, ReportDay{Day: d.Day.String(), Missing: missing})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.fillRecipients(jc, tx, now); err != nil {
		return err
	}
	for _, u := range r.Undelivered {
		r.Add(NewProblem(Undelivered, fmt.Sprintf("%s not delivered to %s", u.Day, strings.Join(u.Missing, ", ")), ""))
	}
	err = tx.EachFailure(func(addr string, f store.Failure) error {
		r.PendingFailures = append(r.PendingFailures, ReportFailure{Recipient: addr, Since: f.Since.In(loc), Last: f.Last.In(loc),
			Attempts: f.Attempts, Error: f.Error, Permanent: f.Permanent})
		return nil
	})
	if err != nil {
		return err
	}

	// Cats as of now: those indexed, and the files in the folder no scan
	// has read yet (new photos go out first); quotes as the last run read
	// the file (the store keeps removed ones).
	inv, err := job.ReadInventory(tx)
	if err != nil {
		return err
	}
	r.Photos = ReportCount{Total: inv.PhotosTotal, Unsent: inv.PhotosLeft}
	if n, err := job.NotIndexed(tx, c.Photos, c.FollowLinks); err == nil {
		r.Photos.Total += n
		r.Photos.Unsent += n
		r.Photos.New = n
	}
	r.Quotes = ReportCount{Total: inv.QuotesTotal, Unsent: inv.QuotesLeft}
	if haveRec && rec.QuotesTotal > 0 {
		r.Quotes = ReportCount{Total: rec.QuotesTotal, Unsent: rec.QuotesLeft}
	}
	r.CatsRunOutIn = r.Photos.Unsent
	if p, ok := job.ReadIndexProgress(tx); ok && p.Left > 0 {
		r.Indexing = &ReportIndexing{Files: p.Files, Left: p.Left, Rate: p.Rate, ETASeconds: int(p.ETA().Seconds())}
	}

	// What the last run found, by the same rule as what is found now, and
	// certificates judged now.
	for _, p := range rec.Problems {
		switch {
		case Key(p.Key) == Undelivered || Key(p.Key) == RunFailed || Key(p.Key).IsCert() || Key(p.Key).IsCare():
			// said above from the state, or judged again below
		default:
			r.Add(Problem{Key: Key(p.Key), Severity: storedSeverity(p.Key, p.Severity), Summary: p.Summary})
		}
	}
	// The machine as it is now.
	found, _ := c.machineCare(state.FirstRun, state.LastRun, now, rec.Disks)
	for _, f := range found {
		r.Add(careProblem(f))
	}
	for _, cr := range rec.Certs {
		v := certs.Classify(expiry(cr), now, c.WarnDays)
		r.Certificates = append(r.Certificates, ReportCert{Source: cr.Source, Subject: cr.Subject, NotAfter: cr.NotAfter.In(loc),
			DaysLeft: v.DaysLeft, Level: v.Level.String(), Message: v.Message, Seen: cr.Seen.In(loc)})
		if sev, ok := CertSeverity(v); ok {
			r.Add(Problem{Key: CertKey(cr.Source), Severity: sev, Summary: v.Message})
		}
	}
	return nil
}

// fillRecipients adds each recipient's own morning to the report.
func (r *Report) fillRecipients(jc job.Config, tx *store.Tx, now time.Time) error {
	last := map[string]schedule.Day{}
	err := tx.EachDay(schedule.Day{}, func(d store.Day) error {
		if d.Status != store.StatusOpen {
			return nil
		}
		for _, a := range jc.To {
			k := strings.ToLower(a.Address)
			if dl, ok, err := tx.Delivery(d.Day, k); err != nil {
				return err
			} else if ok && dl.GaveUp == "" {
				last[k] = d.Day // days come oldest first
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, a := range jc.To {
		m := jc.Morning(a)
		next := m.NextSend(now)
		rr := ReportRecipient{Address: a.Address, Zone: zoneName(m.Loc, now), At: m.At.String()}
		if m.Paused(now) {
			rr.PausedUntil = m.PausedUntil.String()
		}
		rr.NextSend, rr.NextSendUTC = next.In(m.Loc), next.UTC()
		if d, ok := last[strings.ToLower(a.Address)]; ok {
			rr.LastDelivered = d.String()
		}
		r.Recipients = append(r.Recipients, rr)
	}
	return nil
}
