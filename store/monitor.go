package store

import (
	"time"
)

// The monitor's records: what the last run did and what the owner has
// been told. Their layout is part of SchemaVersion like every other
// record here (a change to it needs a migration), so they are typed here
// rather than kept as blobs whose layout another package owns.
var (
	keyLastRun   = "x:monitor" // in bMeta
	keyAlertBook = "state"     // in bAlerts
)

// Run is the record of the last run, for `cotd status` and for the next
// run (the last success, certificates not seen this time).
type Run struct {
	At          time.Time `json:"at"`
	OK          bool      `json:"ok"`
	ExitCode    int       `json:"exit_code"`
	Error       string    `json:"error,omitempty"`
	Summary     string    `json:"summary"`
	Sent        int       `json:"sent"`
	Pending     int       `json:"pending"`
	Failed      int       `json:"failed"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	PhotosTotal int       `json:"photos_total"`
	PhotosLeft  int       `json:"photos_left"`
	QuotesTotal int       `json:"quotes_total"`
	QuotesLeft  int       `json:"quotes_left"`
	Certs       []Cert    `json:"certs,omitempty"`
	WatchErrors []string  `json:"watch_errors,omitempty"`
	Problems    []Problem `json:"problems,omitempty"`
	// Disks are the free space of the filesystems cotd uses, for the
	// next run's growth (package care).
	Disks []DiskUsage `json:"disks,omitempty"`
}

// DiskUsage is one filesystem's free space at a run.
type DiskUsage struct {
	Path string    `json:"path"`
	Free uint64    `json:"free"`
	At   time.Time `json:"at"`
}

// Cert is one certificate cotd depends on or watches.
type Cert struct {
	Source    string    `json:"source"`
	Subject   string    `json:"subject,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Seen      time.Time `json:"seen"` // when cotd last read it
}

// Problem is one problem a run found; the monitor owns the meaning of
// Key and Severity.
type Problem struct {
	Key      string `json:"key"`
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	// Recipients are those the problem is about (mail given up to them):
	// it lasts while one of them still refuses mail. Added without a
	// schema change: older records decode without it.
	Recipients []string `json:"recipients,omitempty"`
}

// AlertBook is what the owner has been told, one list per channel, so a
// push that failed is retried without mailing again.
type AlertBook struct {
	Mail []Alert `json:"mail,omitempty"`
	Push []Alert `json:"push,omitempty"`
}

// Alert is one open problem the owner has heard about (or not yet).
type Alert struct {
	Key         string    `json:"key"`
	Since       time.Time `json:"since"`        // first run that saw it
	LastAlerted time.Time `json:"last_alerted"` // zero: never alerted
	Summary     string    `json:"summary"`
	// Cleared and Thread were added without a schema change: records
	// without them decode as before (no news text, no thread yet).
	Cleared string `json:"cleared,omitempty"` // the news when it clears
	Thread  string `json:"thread,omitempty"`  // Message-ID of its first alert
}

// LastRun returns the record of the last run; ok is false when there is
// none. A damaged record is an error the caller may choose to ignore.
func (t *Tx) LastRun() (Run, bool, error) { return getJSON[Run](t, bMeta, keyLastRun) }

// PutLastRun replaces the record of the last run.
func (t *Tx) PutLastRun(r Run) error { return putJSON(t, bMeta, keyLastRun, r) }

// AlertBook returns the alert bookkeeping; ok is false when there is none.
func (t *Tx) AlertBook() (AlertBook, bool, error) {
	return getJSON[AlertBook](t, bAlerts, keyAlertBook)
}

// PutAlertBook replaces the alert bookkeeping.
func (t *Tx) PutAlertBook(b AlertBook) error { return putJSON(t, bAlerts, keyAlertBook, b) }
