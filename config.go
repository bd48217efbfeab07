package main

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

	"github.com/spf13/pflag"

	"cotd/images"
	"cotd/mail"
	"cotd/schedule"
)

// option is one setting: a flag with its environment fallback.
type option struct {
	name, env, def, help string
}

// options lists every setting once; the usage text and the README's
// configuration table are written from the same names.
var options = []option{
	{"photos", "COTD_PHOTOS", "./photos", "photo folder, scanned recursively (the built-in sample cat when the default folder is absent)"},
	{"quotes", "COTD_QUOTES", "./quotes.txt", "quotes file, one per line (the built-in quotes when the default file is absent)"},
	{"db", "COTD_DB", "./cotd.db", "state database"},
	{"outbox", "COTD_OUTBOX", "./outbox", "folder for .eml files when no --smtp-host is set"},
	{"to", "COTD_TO", "", "recipients, comma-separated: 'Cee <c@example.test>, d@example.test'"},
	{"from", "COTD_FROM", "", "sender, e.g. 'Cat of the Day <cotd@example.test>'"},
	{"smtp-host", "COTD_SMTP_HOST", "", "SMTP server; empty writes .eml files to --outbox instead"},
	{"smtp-port", "COTD_SMTP_PORT", "587", "SMTP port"},
	{"smtp-user", "COTD_SMTP_USER", "", "SMTP login"},
	{"smtp-password-file", "COTD_SMTP_PASSWORD_FILE", "", "file holding the SMTP password (also read from $CREDENTIALS_DIRECTORY/smtp-password)"},
	{"smtp-tls", "COTD_SMTP_TLS", "starttls", "starttls (mandatory), tls (implicit, port 465) or none (loopback only)"},
	{"smtp-ca-file", "COTD_SMTP_CA_FILE", "", "extra trusted CA certificate (PEM) for a private SMTP server"},
	{"at", "COTD_AT", "07:00", "morning send time, 24-hour HH:MM"},
	{"tz", "COTD_TZ", "", "time zone, an IANA name such as Europe/Berlin (default: the machine's)"},
	{"clock-sync-wait", "COTD_CLOCK_SYNC_WAIT", "0s", "before a run, wait up to this long for NTP to synchronise the clock, then go on and say so (pi-setup.sh's service: 3m)"},
	{"now", "COTD_NOW", "", "act as if it were this RFC 3339 time for the schedule (tests, dry runs); certificates are checked against the real clock"},
	{"catch-up", "COTD_CATCH_UP", "digest", "after downtime: digest (one mail with every missed day), each (one mail per day) or skip"},
	{"catch-up-max-days", "COTD_CATCH_UP_MAX_DAYS", "7", "deliver at most this many missed days; older ones are skipped"},
	{"alert-to", "COTD_ALERT_TO", "", "the owner's address: told by mail when something went wrong (once per problem per day)"},
	{"notify-url", "COTD_NOTIFY_URL", "", "ntfy or Gotify URL for a push notification when mail itself is broken"},
	{"ping-url", "COTD_PING_URL", "", "healthchecks.io-style URL pinged at start, success and failure (a dead man's switch)"},
	{"metrics-file", "COTD_METRICS_FILE", "", "Prometheus textfile for node_exporter, rewritten atomically after each run"},
	{"cert-warn-days", "COTD_CERT_WARN_DAYS", "21", "warn this many days before a certificate expires"},
	{"watch-certs", "COTD_WATCH_CERTS", "", "more certificates to watch: PEM files, globs and host:port endpoints, comma-separated"},
}

// settings holds parsed option values and which of them the user set.
type settings struct {
	fs     *pflag.FlagSet
	values map[string]*string
	set    map[string]bool
}

func newSettings(cmd string, names ...string) *settings {
	s := &settings{fs: pflag.NewFlagSet("cotd "+cmd, pflag.ContinueOnError), values: map[string]*string{}, set: map[string]bool{}}
	s.fs.SortFlags = false
	s.fs.Usage = func() {}
	for _, o := range options {
		if len(names) > 0 && !contains(names, o.name) {
			continue
		}
		s.values[o.name] = s.fs.String(o.name, o.def, o.help+" ["+o.env+"]")
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parse reads flags, then fills what no flag set from the environment:
// flag wins over env, env over default.
func (s *settings) parse(args []string, lookup func(string) (string, bool)) error {
	s.fs.SetOutput(discard{})
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("run 'cotd help "+strings.TrimPrefix(s.fs.Name(), "cotd ")+"' for the flags", "%v", err)
	}
	for _, o := range options {
		v, ok := s.values[o.name]
		if !ok {
			continue
		}
		if s.fs.Changed(o.name) {
			s.set[o.name] = true
			continue
		}
		if ev, ok := lookup(o.env); ok && ev != "" {
			*v = ev
			s.set[o.name] = true
		}
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func (s *settings) get(name string) string { return strings.TrimSpace(*s.values[name]) }

// config is everything a run needs, validated.
type config struct {
	job        jobConfig
	db         string
	outbox     string
	smtp       *mail.SMTPConfig // nil: outbox mode
	now        func() time.Time
	passwordAt string        // where the password came from, for messages
	clockWait  time.Duration // how long a run waits for NTP; 0 with --now
	mon        monitorConfig
}

type jobConfig struct {
	photos, quotes string
	from, owner    string
	to             []*netmail.Address
	sched          schedule.Settings
	cache          string
	render         images.Options
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
	var maxDays int
	if _, err := fmt.Sscanf(s.get("catch-up-max-days"), "%d", &maxDays); err != nil || maxDays < 0 || maxDays > 366 {
		return nil, usagef("set --catch-up-max-days to a whole number from 0 to 366", "--catch-up-max-days %q is not a number of days", s.get("catch-up-max-days"))
	}
	c.job.sched = schedule.Settings{At: at, Loc: loc, CatchUp: mode, MaxDays: maxDays}

	// Photos: the default folder may be absent (then the sample cat); a
	// folder the user named must exist.
	c.job.photos = s.get("photos")
	if fi, err := os.Stat(c.job.photos); err != nil || !fi.IsDir() {
		if s.set["photos"] {
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
	c.job.quotes = s.get("quotes")
	if _, err := os.Stat(c.job.quotes); err != nil && !s.set["quotes"] {
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
	c.job.owner = fromAddr.Address
	if err := s.loadMonitor(c); err != nil {
		return nil, err
	}

	if host == "" {
		return c, nil
	}
	// SMTP.
	var port int
	if _, err := fmt.Sscanf(s.get("smtp-port"), "%d", &port); err != nil || port < 1 || port > 65535 {
		return nil, usagef("set --smtp-port to the server's port: 587 (STARTTLS) or 465 (TLS)", "--smtp-port %q is not a port number", s.get("smtp-port"))
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
