// Package config turns cotd's settings (flags, then COTD_* variables,
// then defaults, all declared once in the options table) into a validated
// Config. It parses and checks; it does not open the database, touch the
// network or decide anything about a run.
package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cotd/images"
	"cotd/job"
	"cotd/mail"
	"cotd/monitor"
	"cotd/schedule"
)

// Config is everything a command needs, validated.
type Config struct {
	// Job is the run's configuration; Sample and DefaultQuotes, the
	// built-in cat and quotes, are the CLI's to fill in.
	Job       job.Config
	DB        string
	BackupDir string // the database's daily snapshots
	// Service: run by the installed systemd service (it hands cotd the
	// SMTP password as a credential), as cotd.service and cotd-service do;
	// its fixes name cotd-service, and the demo defaults never apply.
	Service bool
	// PhotosAbsent is the default photo folder when it is absent (the
	// built-in sample cat stands in); "" otherwise.
	PhotosAbsent string
	// Missing names what Load's error about a file missing now is about:
	// "photos" (the photo folder) or "smtp" (the password file); "" when
	// nothing is.
	Missing    string
	Outbox     string
	SMTP       *mail.SMTPConfig // nil: outbox mode
	Now        func() time.Time
	PasswordAt string        // where the password came from, for messages
	ClockWait  time.Duration // how long a run waits for NTP; 0 with --now
	Monitor    monitor.Settings
}

// BuiltAfter is a moment every cotd binary was built after: this rule was
// written after it, so no binary holding the rule is older. A clock (or a
// --now) before it is wrong, and runs refuse it (schedule.NotBefore): a Pi
// that boots without network says 1970-01-01. It trails the real build
// date and never leads it (the VCS time would lead it for a test's fixed
// --now); moving it forward only makes the check stricter.
var BuiltAfter = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Load validates the settings into a Config. Every error is a
// *UsageError that says what to fix. When the settings are well-formed
// but a file or folder they name is missing now (the photo folder, the
// password file: a USB stick unplugged, a credential gone), Load returns
// the Config along with the error, so that a run can still tell the
// owner through the channels that work (the run's one outcome path).
func (s *Settings) Load(lookup func(string) (string, bool)) (*Config, error) {
	var missing error // the first named file that is missing now
	v := &s.v
	if err := s.checkRanges(); err != nil {
		return nil, err
	}
	c := &Config{DB: v.DB, Outbox: v.Outbox}
	if dir, ok := lookup("CREDENTIALS_DIRECTORY"); ok && dir != "" {
		c.Service = true
	}
	c.Job.Render = images.Default
	c.Job.CacheDir = filepath.Join(filepath.Dir(c.DB), "cotd-cache")
	c.BackupDir = v.BackupDir
	if c.BackupDir == "" {
		c.BackupDir = filepath.Join(filepath.Dir(c.DB), "backups")
	}

	// The clock.
	c.Now = time.Now
	if v.Now != nil {
		t := *v.Now
		c.Now = func() time.Time { return t }
	} else { // a given --now needs no real clock
		c.ClockWait = v.ClockSyncWait
	}

	// The schedule.
	loc := time.Local
	if v.TZ != nil {
		loc = v.TZ
	}
	c.Job.Schedule = schedule.Settings{At: v.At, Loc: loc, CatchUp: v.CatchUp, MaxDays: v.MaxDays, NotBefore: BuiltAfter}

	// Photos: the default folder may be absent (then the sample cat); a
	// folder the user named must exist.
	c.Job.Photos = v.Photos
	if fi, err := os.Stat(c.Job.Photos); err != nil || !fi.IsDir() {
		if v.PhotosGiven {
			what := "does not exist"
			if err == nil {
				what = "is not a folder"
			} else if !errors.Is(err, fs.ErrNotExist) {
				what = "cannot be read: " + err.Error()
			}
			missing = Usagef("create it and put JPEG or PNG photos in it, or fix --photos/COTD_PHOTOS", "photo folder %s %s", c.Job.Photos, what)
			c.Missing = "photos"
		} else {
			c.Job.Photos = ""
			c.PhotosAbsent = v.Photos
		}
	}
	c.Job.Indexing = job.IndexOptions{Budget: v.IndexBudget, DueBudget: min(v.IndexBudget, job.DueIndexBudget), Workers: v.IndexWorkers, FollowLinks: v.FollowLinks}
	if v.IndexBudget == 0 {
		c.Job.Indexing.DueBudget = 0
	}
	c.Job.Quotes = v.Quotes
	if _, err := os.Stat(c.Job.Quotes); err != nil && !v.QuotesGiven {
		c.Job.Quotes = ""
	}

	// Addresses.
	host := v.SMTPHost
	to := v.To
	if v.Recipients != "" && !s.own["to"] {
		if to != nil {
			return nil, Usagef("keep the recipients in one place: the file (--recipients/COTD_RECIPIENTS) or --to/COTD_TO, not both", "both --to and --recipients are set")
		}
		if err := s.loadRecipients(c, v.Recipients); err != nil {
			return nil, err
		}
		to = c.Job.To
	}
	if to == nil {
		if host != "" && v.Recipients != "" {
			return nil, Usagef("add one recipient a line to "+v.Recipients+", e.g. 'Zoe Lima <zoe@example.test>  tz=Asia/Tokyo  at=07:30'", "no recipients: %s lists nobody", v.Recipients)
		}
		if host != "" {
			return nil, Usagef("set --to or COTD_TO to the recipients, e.g. --to 'Cee <c@example.test>, d@example.test'", "no recipients")
		}
		// An installed service (systemd hands it the SMTP password as a
		// credential: cotd.service and cotd-service) is never the
		// fresh-clone demo: its settings are still pi-setup.sh's template,
		// and writing "today's" mail for the demo address would mark today
		// delivered before the owner has set the real recipients.
		if c.Service && v.Recipients != "" {
			return nil, Usagef("add one recipient a line to "+v.Recipients+" (pi-setup.sh: nano /etc/cotd/recipients.txt), set COTD_FROM and COTD_SMTP_HOST (sudo nano /etc/cotd/cotd.env), then run: sudo cotd-service check",
				"no recipients: the settings are still the template's (%s lists nobody yet), so this service mails nobody", v.Recipients)
		}
		if c.Service {
			return nil, Usagef("set COTD_TO, COTD_FROM and COTD_SMTP_HOST in the service's settings (pi-setup.sh: sudo nano /etc/cotd/cotd.env), then run: sudo cotd-service check",
				"no recipients: the settings are still the template's (COTD_TO is not set), so this service mails nobody")
		}
		to = []*netmail.Address{{Address: "you@example.invalid"}}
	}
	// Recipients without an SMTP server: an installed service would write
	// their mail into the outbox and mark the days delivered, so the real
	// mail never goes (pi-setup.sh's --recipient answers fill the file
	// before the owner sets the server; found by the VM test).
	if c.Service && host == "" {
		return nil, Usagef("set COTD_SMTP_HOST and COTD_FROM in the service's settings (pi-setup.sh: sudo nano /etc/cotd/cotd.env), then run: sudo cotd-service check",
			"no SMTP server: the settings are still the template's (COTD_SMTP_HOST is not set), so this service mails nobody")
	}
	c.Job.To = to
	from := v.From
	if from == nil {
		if host != "" {
			return nil, Usagef("set --from or COTD_FROM, e.g. --from 'Cat of the Day <cotd@example.test>'", "no sender address")
		}
		from = &netmail.Address{Name: "Cat of the Day", Address: "cotd@example.invalid"}
	}
	c.Job.From = from.String()
	c.Job.Owner = from.String()
	if v.Owner != nil {
		c.Job.Owner = v.Owner.String()
	}
	if err := loadMonitor(v, c); err != nil {
		return nil, err
	}

	if host == "" {
		return c, missing
	}
	// SMTP.
	sc := &mail.SMTPConfig{Host: host, Port: v.SMTPPort, User: v.SMTPUser, TLS: v.SMTPTLS}
	var pwErr error
	if sc.User != "" {
		pw, where, err := readPassword(v.SMTPPasswordFile, lookup)
		if creds, _ := lookup("CREDENTIALS_DIRECTORY"); err != nil && v.SMTPPasswordFile == "" && creds == "" {
			return nil, err // no password file named at all: a usage error
		}
		if err != nil {
			pwErr = err
		}
		sc.Password, c.PasswordAt = pw, where
	}
	if ca := v.SMTPCAFile; ca != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, Usagef("point --smtp-ca-file at the PEM file of the CA that signed the server's certificate", "smtp CA file: %v", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, Usagef("the file must hold a PEM certificate (-----BEGIN CERTIFICATE-----)", "smtp CA file %s holds no PEM certificate", ca)
		}
		sc.RootCAs = pool
	}
	if err := sc.Validate(); err != nil && pwErr == nil {
		return nil, Usagef("", "%v", err)
	}
	sc.Now = c.Now
	c.SMTP = sc
	if missing == nil && pwErr != nil {
		missing, c.Missing = pwErr, "smtp" // the alert mail then fails its login, and the push says so
	}
	return c, missing
}

// readPassword reads the SMTP password from the named file, or from the
// credential systemd passes with LoadCredential=. It never comes from argv
// or the environment, where other users and crash reports can see it.
func readPassword(file string, lookup func(string) (string, bool)) (pw, where string, err error) {
	if file == "" {
		if dir, ok := lookup("CREDENTIALS_DIRECTORY"); ok && dir != "" {
			file = filepath.Join(dir, "smtp-password")
		}
	}
	if file == "" {
		return "", "", Usagef("put the password in a file readable only by you (chmod 600) and pass --smtp-password-file FILE", "--smtp-user is set but there is no --smtp-password-file")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", Usagef("check the path and that the cotd user may read it (chmod 600, owned by that user)", "smtp password file: %v", err)
	}
	pw = strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		hint := "write the SMTP password into " + file
		if dir, ok := lookup("CREDENTIALS_DIRECTORY"); ok && dir != "" && filepath.Dir(file) == filepath.Clean(dir) {
			// systemd's read-only per-run copy; the owner edits the source.
			hint = "write the SMTP password into the file the service's LoadCredential= names (pi-setup.sh: sudo nano /etc/cotd/smtp-password)"
		}
		return "", "", Usagef(hint, "smtp password file %s is empty", file)
	}
	return pw, file, nil
}

// loadMonitor validates the monitoring settings into c.Monitor.
func loadMonitor(v *values, c *Config) error {
	m := &c.Monitor
	if v.AlertTo != nil {
		m.AlertTo = v.AlertTo.String()
	}
	m.NotifyURL, m.PingURL = v.NotifyURL, v.PingURL // checked by Parse
	m.MetricsFile = v.MetricsFile
	if m.MetricsFile != "" {
		if fi, err := os.Stat(m.MetricsFile); err == nil && fi.IsDir() {
			return Usagef("name a file such as /var/lib/node_exporter/textfile_collector/cotd.prom", "--metrics-file %s is a folder", m.MetricsFile)
		}
	}
	m.WarnDays = v.CertWarnDays
	m.Watch = v.WatchCerts // parsed by Parse
	return nil
}

// PasswordExposed says, with the fix, when other users of the machine
// can read or change the SMTP password file (mode 0644 or 0666, what an
// editor or `echo > file` leaves behind): the login then works, so
// nothing else would ever say so. Both are "" when the file is private,
// or when there is no password file.
func (c *Config) PasswordExposed() (msg, fix string) {
	if c.PasswordAt == "" {
		return "", ""
	}
	fi, err := os.Stat(c.PasswordAt)
	if err != nil || fi.Mode().Perm()&0o006 == 0 {
		return "", "" // unreadable is Load's to say; group access is the owner's choice (root:cotd 0640)
	}
	what := "read"
	if fi.Mode().Perm()&0o002 != 0 {
		what = "read and change"
	}
	return fmt.Sprintf("every user of this machine can %s the password file %s (mode %04o)", what, c.PasswordAt, fi.Mode().Perm()),
		"chmod 600 " + shellQuote(c.PasswordAt)
}

// shellQuote quotes a path for a command the owner pastes, when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
