package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cotd/certs"
	"cotd/images"
	"cotd/job"
	"cotd/mail"
	"cotd/monitor"
	"cotd/schedule"
	"cotd/store"
)

// config is everything a run needs, validated.
type config struct {
	job        jobConfig
	db         string
	outbox     string
	smtp       *mail.SMTPConfig // nil: outbox mode
	now        func() time.Time
	passwordAt string        // where the password came from, for messages
	clockWait  time.Duration // how long a run waits for NTP; 0 with --now
	mon        monitor.Settings
}

type jobConfig struct {
	photos, quotes string
	from, owner    string
	to             []*netmail.Address
	sched          schedule.Settings
	cache          string
	render         images.Options
	indexing       job.IndexOptions
}

// load validates the settings into a config. Every error says what to fix.
func (s *settings) load(lookup func(string) (string, bool)) (*config, error) {
	c := &config{db: s.get("db"), outbox: s.get("outbox")}
	c.job.render = images.Default
	c.job.cache = filepath.Join(filepath.Dir(c.db), "cotd-cache")

	// The clock.
	c.now = time.Now
	if v := s.get("now"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, usagef("use RFC 3339, e.g. --now 2026-03-02T08:00:00+01:00", "--now %q is not an RFC 3339 time", v)
		}
		c.now = func() time.Time { return t }
	}
	if v := s.get("clock-sync-wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, usagef("use a duration such as 3m or 90s; 0 does not wait", "--clock-sync-wait %q is not a duration", v)
		}
		if s.get("now") == "" { // a given --now needs no real clock
			c.clockWait = d
		}
	}

	// The schedule.
	at, err := schedule.ParseClock(s.get("at"))
	if err != nil {
		return nil, usagef("set --at or COTD_AT to a time such as 07:00", "%v", err)
	}
	loc := time.Local
	if v := s.get("tz"); v != "" {
		loc, err = time.LoadLocation(v)
		if err != nil {
			return nil, usagef("use an IANA zone name such as Europe/Berlin or America/New_York (see timedatectl list-timezones)", "unknown time zone %q for --tz", v)
		}
	}
	mode, err := schedule.ParseMode(s.get("catch-up"))
	if err != nil {
		return nil, usagef("set --catch-up to digest, each or skip", "%v", err)
	}
	maxDays, err := s.number("catch-up-max-days")
	if err != nil {
		return nil, err
	}
	c.job.sched = schedule.Settings{At: at, Loc: loc, CatchUp: mode, MaxDays: maxDays}

	// Photos: the default folder may be absent (then the sample cat); a
	// folder the user named must exist.
	c.job.photos = s.get("photos")
	if fi, err := os.Stat(c.job.photos); err != nil || !fi.IsDir() {
		if s.set("photos") {
			what := "does not exist"
			if err == nil {
				what = "is not a folder"
			} else if !errors.Is(err, fs.ErrNotExist) {
				what = "cannot be read: " + err.Error()
			}
			return nil, usagef("create it and put JPEG or PNG photos in it, or fix --photos/COTD_PHOTOS", "photo folder %s %s", c.job.photos, what)
		}
		c.job.photos = ""
	}
	if err := s.loadIndexing(c); err != nil {
		return nil, err
	}
	c.job.quotes = s.get("quotes")
	if _, err := os.Stat(c.job.quotes); err != nil && !s.set("quotes") {
		c.job.quotes = ""
	}

	// Addresses.
	host := s.get("smtp-host")
	to := s.get("to")
	if to == "" {
		if host != "" {
			return nil, usagef("set --to or COTD_TO to the recipients, e.g. --to 'Cee <c@example.test>, d@example.test'", "no recipients")
		}
		// An installed service (systemd hands it the SMTP password as a
		// credential: cotd.service and cotd-service) is never the
		// fresh-clone demo: its settings are still pi-setup.sh's template,
		// and writing "today's" mail for the demo address would mark today
		// delivered before the owner has set the real recipients.
		if dir, ok := lookup("CREDENTIALS_DIRECTORY"); ok && dir != "" {
			return nil, usagef("set COTD_TO, COTD_FROM and COTD_SMTP_HOST in the service's settings (pi-setup.sh: sudo nano /etc/cotd/cotd.env), then run: sudo cotd-service check",
				"no recipients: the settings are still the template's (COTD_TO is not set), so this service mails nobody")
		}
		to = "you@example.invalid"
	}
	c.job.to, err = mail.ParseAddressList(to)
	if err != nil {
		return nil, usagef("fix --to/COTD_TO: comma-separated addresses, display names allowed", "recipients: %v", err)
	}
	from := s.get("from")
	if from == "" {
		if host != "" {
			return nil, usagef("set --from or COTD_FROM, e.g. --from 'Cat of the Day <cotd@example.test>'", "no sender address")
		}
		from = "Cat of the Day <cotd@example.invalid>"
	}
	fromAddr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, usagef("fix --from/COTD_FROM, e.g. 'Cat of the Day <cotd@example.test>'", "sender: %v", err)
	}
	c.job.from = fromAddr.String()
	c.job.owner = fromAddr.String()
	if v := s.get("owner"); v != "" {
		ownerAddr, err := mail.ParseAddress(v)
		if err != nil {
			return nil, usagef("fix --owner/COTD_OWNER, e.g. 'Ana Lima <ana@example.test>'", "owner: %v", err)
		}
		c.job.owner = ownerAddr.String()
	}
	if err := s.loadMonitor(c); err != nil {
		return nil, err
	}

	if host == "" {
		return c, nil
	}
	// SMTP.
	port, err := s.number("smtp-port")
	if err != nil {
		return nil, err
	}
	tlsMode, err := mail.ParseTLSMode(s.get("smtp-tls"))
	if err != nil {
		return nil, usagef("set --smtp-tls to starttls, tls or none", "%v", err)
	}
	sc := &mail.SMTPConfig{Host: host, Port: port, User: s.get("smtp-user"), TLS: tlsMode}
	if sc.User != "" {
		pw, where, err := readPassword(s.get("smtp-password-file"), lookup)
		if err != nil {
			return nil, err
		}
		sc.Password, c.passwordAt = pw, where
	}
	if ca := s.get("smtp-ca-file"); ca != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, usagef("point --smtp-ca-file at the PEM file of the CA that signed the server's certificate", "smtp CA file: %v", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("the file must hold a PEM certificate (-----BEGIN CERTIFICATE-----)", "smtp CA file %s holds no PEM certificate", ca)
		}
		sc.RootCAs = pool
	}
	if err := sc.Validate(); err != nil {
		return nil, usagef("", "%v", err)
	}
	sc.Now = c.now
	c.smtp = sc
	return c, nil
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
		return "", "", usagef("put the password in a file readable only by you (chmod 600) and pass --smtp-password-file FILE", "--smtp-user is set but there is no --smtp-password-file")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", usagef("check the path and that the cotd user may read it (chmod 600, owned by that user)", "smtp password file: %v", err)
	}
	pw = strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		hint := "write the SMTP password into " + file
		if dir, ok := lookup("CREDENTIALS_DIRECTORY"); ok && dir != "" && filepath.Dir(file) == filepath.Clean(dir) {
			// systemd's read-only per-run copy; the owner edits the source.
			hint = "write the SMTP password into the file the service's LoadCredential= names (pi-setup.sh: sudo nano /etc/cotd/smtp-password)"
		}
		return "", "", usagef(hint, "smtp password file %s is empty", file)
	}
	return pw, file, nil
}

// loadMonitor validates the monitoring settings into c.mon.
func (s *settings) loadMonitor(c *config) error {
	m := &c.mon
	if v := s.get("alert-to"); v != "" {
		a, err := mail.ParseAddress(v)
		if err != nil {
			return usagef("set --alert-to/COTD_ALERT_TO to the owner's address, e.g. 'Owner <me@example.test>'", "alert address: %v", err)
		}
		m.AlertTo = a.String()
	}
	urls := []struct {
		name    string
		dst     *string
		example string
	}{
		{"notify-url", &m.NotifyURL, "https://ntfy.sh/YOUR-TOPIC or https://gotify.example/message?token=APPTOKEN"},
		{"ping-url", &m.PingURL, "https://hc-ping.com/YOUR-CHECK-UUID"},
	}
	for _, u := range urls {
		v := s.get(u.name)
		if v == "" {
			continue
		}
		if err := checkURL(v); err != nil {
			return usagef("set --"+u.name+" to a URL such as "+u.example, "--%s %v", u.name, err)
		}
		*u.dst = v
	}
	m.MetricsFile = s.get("metrics-file")
	if m.MetricsFile != "" {
		if fi, err := os.Stat(m.MetricsFile); err == nil && fi.IsDir() {
			return usagef("name a file such as /var/lib/node_exporter/textfile_collector/cotd.prom", "--metrics-file %s is a folder", m.MetricsFile)
		}
	}
	n, err := s.number("cert-warn-days")
	if err != nil {
		return err
	}
	m.WarnDays = n
	m.Watch = s.get("watch-certs")
	if _, errs := certs.ParseSpec(m.Watch); len(errs) > 0 {
		return usagef("--watch-certs takes PEM files, globs and host:port endpoints, comma-separated", "%v", errs[0])
	}
	return nil
}

// checkURL accepts absolute http and https URLs. Its errors name only the
// scheme and host: the rest of a ping or topic URL is the secret.
func checkURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme == "" {
		return errors.New("must start with https:// or http://")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must start with https:// or http://, not %q", u.Scheme+":")
	}
	if u.Host == "" {
		return errors.New("has no host name")
	}
	return nil
}

// monitor is what the monitor needs to know of the runs it watches.
func (c *config) monitor() monitor.Config {
	return monitor.Config{Settings: c.mon, From: c.job.from, Recipients: c.job.to, Photos: c.job.photos,
		Schedule: c.job.sched, SMTP: c.smtp, Outbox: c.outbox, Now: c.now, Classify: classify}
}

// lockWait is how long a command waits for a run to release the database.
const lockWait = 5 * time.Second

// openJob opens the database and builds the job: the first steps of every
// command that reads or changes the state. The caller closes j.Store.
func (c *config) openJob(e env) (*job.Job, *slog.Logger, error) {
	log := newLogger(e.stderr)
	st, err := store.Open(c.db, lockWait)
	if err != nil {
		return nil, nil, err
	}
	return c.newJob(st, log), log, nil
}

func (c *config) newJob(st *store.Store, log *slog.Logger) *job.Job {
	var sender job.Sender
	if c.smtp != nil {
		sender = mail.NewSMTP(*c.smtp) // the monitor reads its certificate after the run
	} else {
		sender = mail.Outbox{Dir: c.outbox, Now: c.now}
	}
	return &job.Job{
		Config: job.Config{
			Photos: c.job.photos, Sample: sampleCat,
			Quotes: c.job.quotes, DefaultQuotes: defaultQuotes,
			From: c.job.from, Owner: c.job.owner, To: c.job.to,
			Schedule: c.job.sched, CacheDir: c.job.cache, Render: c.job.render, Indexing: c.job.indexing,
		},
		Store: st, Sender: sender, Now: c.now, Log: log, Stopwatch: time.Now,
	}
}

// loadIndexing reads the settings of the photo index.
func (s *settings) loadIndexing(c *config) error {
	budget, err := time.ParseDuration(s.get("index-budget"))
	if err != nil || budget < 0 {
		return usagef("set --index-budget to a duration such as 8m or 90s (0 for no limit)", "--index-budget %q is not a duration", s.get("index-budget"))
	}
	workers, err := s.number("index-workers")
	if err != nil {
		return err
	}
	links := s.get("follow-links")
	if links != "inside" && links != "all" {
		return usagef("set --follow-links to inside or all", "--follow-links %q is neither inside nor all", links)
	}
	c.job.indexing = job.IndexOptions{Budget: budget, DueBudget: min(budget, job.DueIndexBudget), Workers: workers, FollowLinks: links == "all"}
	if budget == 0 {
		c.job.indexing.DueBudget = 0
	}
	return nil
}
