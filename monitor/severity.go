package monitor

import (
	"fmt"
	"strings"
)

// The one rule for "unhealthy" (issue 20 §2): every kind of problem has
// one severity, given here and nowhere else. The run's alerts, the
// records they leave, `cotd status` (for what the last run stored and for
// what it judges afresh), its exit code and `cotd help status` all read
// it. A new kind of problem is one row in kinds.

// Keys that only `cotd status` finds, from the state as it is now.
const (
	NeverRun        Key = "never-run"        // no run has recorded anything yet
	Overdue         Key = "overdue"          // a due day that no run has handled: the timer is not running
	ClockBackwards  Key = "clock-backwards"  // the clock is behind the last run
	ClockUnsynced   Key = "clock-unsynced"   // the kernel says the clock is not synchronised
	RunInProgress   Key = "run-in-progress"  // a run holds the database; status shows the newest snapshot
	StateDamaged    Key = "state-damaged"    // the database is damaged, empty or gone while cotd's traces say it had a history
	StateUnwritable Key = "state-unwritable" // runs cannot write the database (read-only file system, permissions)
)

// Kind is one row of the rule: a kind of problem, its severity, and how
// `cotd help status` names it.
type Kind struct {
	Key      Key
	Severity Severity
	Says     string
}

// kinds is the rule. Errors are what keeps a cat from reaching someone,
// or will soon: mail not delivered, runs failing or not running, mail
// given up while its cause lasts, a clock that moves days, a damaged
// database, a certificate about to expire. Everything the cats still go
// out with is a warning.
var kinds = []Kind{
	{Undelivered, Error, "a due day not delivered to a recipient"},
	{RunFailed, Error, "the last run failed"},
	{NeverRun, Error, "cotd has never run with this database"},
	{Overdue, Error, "a day was due over an hour ago and no run handled it (the timer is not running)"},
	{GaveUp, Error, "mail given up (older than --catch-up-max-days) while the recipient still refuses mail"},
	{Dropped, Error, "mail the server will never take, given up, while the recipient still refuses mail"},
	{ClockJump, Error, "the clock jumped far ahead"},
	{BadRecipient, Error, "a line of the recipients file cannot be used: that recipient gets no mail"},
	{ClockBackwards, Error, "the clock is behind the last run"},
	{StateDamaged, Error, "the database is damaged, or empty while cotd's traces say it had a history"},
	{StateUnwritable, Error, "runs cannot write the database (a read-only file system, permissions)"},
	{PhotosSkipped, Warning, "photo files cotd cannot use"},
	{QuotesProblem, Warning, "lines of the quotes file skipped"},
	{CatsLow, Warning, "few unsent cats left before they repeat"},
	{WatchCerts, Warning, "a watched certificate could not be read"},
	{ClockUnsynced, Warning, "the clock is not synchronised"},
	{RunInProgress, Warning, "a run is using the database: the state shown is its newest snapshot"},
	// The machine's care (care/, care.go).
	{ClockNeverSet, Error, "the clock has not been synchronised in over an hour since boot"},
	{RebootPending, Warning, "a reboot is pending (/run/reboot-required)"},
	{DiskLow, Warning, "a filesystem of the database, the backups or the photos is nearly full"},
	{ReadOnlyFS, Warning, "a filesystem of the database, the backups or the photos is mounted read-only"},
	{UnderVoltage, Warning, "the Pi saw under-voltage or throttling since boot"},
	{BackupsStale, Warning, "no snapshot of the database for two days of runs"},
}

// certKinds are the certificates' rows, whose severity depends on the
// days left (CertSeverity), for the help text.
var certKinds = []Kind{
	{CertKey(""), Error, "a certificate expired, not valid yet, or expiring within 3 days"},
	{CertKey(""), Warning, "a certificate expiring within --cert-warn-days"},
}

// Severity is the kind's severity by the rule. A certificate's depends
// on its days left (CertSeverity), so it is never asked here; an unknown
// key (a record written by a newer cotd) is a warning here and
// storedSeverity keeps its recorded one.
func (k Key) Severity() Severity {
	for _, kd := range kinds {
		if kd.Key == k {
			return kd.Severity
		}
	}
	return Warning
}

// known reports whether the rule has a row for k.
func (k Key) known() bool {
	for _, kd := range kinds {
		if kd.Key == k {
			return true
		}
	}
	return false
}

// Kinds is the rule, for the help text and tests.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// NewProblem is a problem of kind k with the rule's severity.
func NewProblem(k Key, summary, detail string) Problem {
	return Problem{Key: k, Severity: k.Severity(), Summary: summary, Detail: detail}
}

// storedSeverity is the severity of a problem a run recorded: the rule's
// for a kind it knows (so changing the rule changes old records too), the
// record's own for one it does not.
func storedSeverity(key, recorded string) Severity {
	k := Key(key)
	if k.known() {
		return k.Severity()
	}
	if Severity(recorded) == Error {
		return Error
	}
	return Warning
}

// Add files a finding into the report by its severity: errors are its
// problems and make it unhealthy, warnings are shown and keep it
// healthy. Everything `cotd status` says goes through here.
func (r *Report) Add(p Problem) {
	r.Findings = append(r.Findings, ReportFinding{Key: string(p.Key), Severity: string(p.Severity), Summary: p.Summary})
	if p.Severity == Error {
		r.Problems = append(r.Problems, p.Summary)
	} else {
		r.Warnings = append(r.Warnings, p.Summary)
	}
	r.Healthy = len(r.Problems) == 0
}

// ReportFinding is one line of the report with its kind and severity.
type ReportFinding struct {
	Key      string `json:"key"`
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
}

// StatusRule words the rule for `cotd help status`.
func StatusRule() string {
	var errs, warns []string
	for _, kd := range append(Kinds(), certKinds...) {
		if kd.Severity == Error {
			errs = append(errs, "  - "+kd.Says)
		} else {
			warns = append(warns, "  - "+kd.Says)
		}
	}
	return fmt.Sprintf("It is unhealthy (exit 1) when any of these holds:\n%s\nThese are warnings, shown with exit status 0:\n%s\n",
		strings.Join(errs, "\n"), strings.Join(warns, "\n"))
}
