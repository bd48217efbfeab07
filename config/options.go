package config

import (
	"errors"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"cotd/certs"
	"cotd/mail"
	"cotd/schedule"
)

// values holds every setting, typed: each row of the options table binds
// one field, so a setting is one row and one field and Load reads fields,
// never names.
type values struct {
	Photos, Quotes, DB, Outbox string
	BackupDir                  string // "": backups/ beside the database
	PhotosGiven, QuotesGiven   bool   // named by the user (flag or variable), not the default

	To          []*netmail.Address // nil: not set
	Recipients  string             // the recipients file; "": --to
	From, Owner *netmail.Address   // nil: not set

	SMTPHost, SMTPUser, SMTPPasswordFile, SMTPCAFile string
	SMTPPort                                         int
	SMTPTLS                                          mail.TLSMode

	At            schedule.Clock
	TZ            *time.Location // nil: the machine's zone
	ClockSyncWait time.Duration
	Now           *time.Time // nil: the real clock
	CatchUp       schedule.Mode
	MaxDays       int

	AlertTo                         *netmail.Address // nil: no alert mail
	NotifyURL, PingURL, MetricsFile string
	CertWarnDays                    int
	WatchCerts                      []certs.Target

	IndexBudget  time.Duration
	IndexWorkers int
	FollowLinks  bool
}

// option is one setting: a flag with its environment fallback, its line
// in `cotd help`, and its field in values. bind makes the flag value that
// parses the option's text, from the flag or the variable alike, into the
// field: a malformed value (25zz, 3x, 8 minutes, 25:00) is refused by
// Parse, before Load or anything else runs. A number's range and a
// duration's sign are checked by Load (check shows them as a config line);
// Load checks too what needs the world or other settings (files, folders,
// what SMTP requires).
type option struct {
	name, env, def, help string
	// shownDef is what help shows as the default when def is empty and
	// the real default depends on other settings (e.g. --to without an
	// SMTP host); empty shows "none".
	shownDef string
	bind     func(v *values) optionValue
}

// options lists every setting once; the usage text and the README's
// configuration table are written from the same names.
var options = []option{
	{name: "photos", env: "COTD_PHOTOS", def: "./photos", help: "photo folder, scanned recursively (the built-in sample cat when the default folder is absent)",
		bind: func(v *values) optionValue { return givenText(&v.Photos, &v.PhotosGiven) }},
	{name: "quotes", env: "COTD_QUOTES", def: "./quotes.txt", help: "quotes file, one per line (the built-in quotes when the default file is absent)",
		bind: func(v *values) optionValue { return givenText(&v.Quotes, &v.QuotesGiven) }},
	{name: "db", env: "COTD_DB", def: "./cotd.db", help: "state database",
		bind: func(v *values) optionValue { return text(&v.DB) }},
	{name: "backup-dir", env: "COTD_BACKUP_DIR", shownDef: "backups/ beside --db", help: "folder for the daily snapshots of the database (the last 7 kept; 'cotd restore' puts one back); another disk, such as the photos' USB stick, survives the SD card",
		bind: func(v *values) optionValue { return text(&v.BackupDir) }},
	{name: "outbox", env: "COTD_OUTBOX", def: "./outbox", help: "folder for .eml files when no --smtp-host is set",
		bind: func(v *values) optionValue { return text(&v.Outbox) }},
	{name: "to", env: "COTD_TO", shownDef: "you@example.invalid without --smtp-host (the outbox demo), required with it", help: "recipients, comma-separated: 'Cee <c@example.test>, d@example.test'",
		bind: func(v *values) optionValue { return parsed(&v.To, parseRecipients) }},
	{name: "recipients", env: "COTD_RECIPIENTS", help: "recipients file instead of --to: one a line, each with an optional tz=, at= and paused-until=, e.g. 'Zoe Lima <zoe@example.test>  tz=Asia/Tokyo  at=07:30'; re-read at every run",
		bind: func(v *values) optionValue { return text(&v.Recipients) }},
	{name: "from", env: "COTD_FROM", shownDef: "'Cat of the Day <cotd@example.invalid>' without --smtp-host, required with it", help: "sender, e.g. 'Ana Lima <ana@example.test>'; its display name is who the mail says it is from",
		bind: func(v *values) optionValue { return parsed(&v.From, parseFrom) }},
	{name: "owner", env: "COTD_OWNER", help: "the person behind a service --from, e.g. 'Ana Lima <ana@example.test>': named in the mail, gets replies and unsubscribe requests (default: --from)",
		bind: func(v *values) optionValue { return parsed(&v.Owner, parseOwner) }},
	{name: "smtp-host", env: "COTD_SMTP_HOST", help: "SMTP server; empty writes .eml files to --outbox instead",
		bind: func(v *values) optionValue { return text(&v.SMTPHost) }},
	{name: "smtp-port", env: "COTD_SMTP_PORT", def: "587", help: "SMTP port",
		bind: func(v *values) optionValue {
			return number(&v.SMTPPort, rule{1, 65535, "a port number", "set --smtp-port to the server's port: 587 (STARTTLS) or 465 (TLS)"})
		}},
	{name: "smtp-user", env: "COTD_SMTP_USER", help: "SMTP login",
		bind: func(v *values) optionValue { return text(&v.SMTPUser) }},
	{name: "smtp-password-file", env: "COTD_SMTP_PASSWORD_FILE", help: "file holding the SMTP password (also read from $CREDENTIALS_DIRECTORY/smtp-password)",
		bind: func(v *values) optionValue { return text(&v.SMTPPasswordFile) }},
	{name: "smtp-tls", env: "COTD_SMTP_TLS", def: "starttls", help: "starttls (mandatory), tls (implicit, port 465) or none (loopback only)",
		bind: func(v *values) optionValue { return parsed(&v.SMTPTLS, parseTLS) }},
	{name: "smtp-ca-file", env: "COTD_SMTP_CA_FILE", help: "extra trusted CA certificate (PEM) for a private SMTP server",
		bind: func(v *values) optionValue { return text(&v.SMTPCAFile) }},
	{name: "at", env: "COTD_AT", def: "07:00", help: "morning send time, 24-hour HH:MM",
		bind: func(v *values) optionValue { return parsed(&v.At, parseClock) }},
	{name: "tz", env: "COTD_TZ", help: "time zone, an IANA name such as Europe/Berlin (default: the machine's)",
		bind: func(v *values) optionValue { return parsed(&v.TZ, parseZone) }},
	{name: "clock-sync-wait", env: "COTD_CLOCK_SYNC_WAIT", def: "0s", help: "before a run, wait up to this long for NTP to synchronise the clock, then go on and say so in the log (pi-setup.sh's service: 3m)",
		bind: func(v *values) optionValue {
			return duration(&v.ClockSyncWait, rule{0, 0, "a duration", "set --clock-sync-wait to a duration such as 3m or 90s (0 does not wait)"})
		}},
	{name: "now", env: "COTD_NOW", help: "act as if it were this RFC 3339 time for the schedule (tests, dry runs); certificates are checked against the real clock",
		bind: func(v *values) optionValue { return parsed(&v.Now, parseNow) }},
	{name: "catch-up", env: "COTD_CATCH_UP", def: "digest", help: "after downtime: digest (one mail with every missed day), each (one mail per day) or skip",
		bind: func(v *values) optionValue { return parsed(&v.CatchUp, parseCatchUp) }},
	{name: "catch-up-max-days", env: "COTD_CATCH_UP_MAX_DAYS", def: "7", help: "deliver at most this many missed days; older ones are skipped",
		bind: func(v *values) optionValue {
			return number(&v.MaxDays, rule{0, 366, "a number of days", "set --catch-up-max-days to a whole number from 0 to 366"})
		}},
	{name: "alert-to", env: "COTD_ALERT_TO", help: "the owner's address: told by mail when something went wrong (once per problem per day)",
		bind: func(v *values) optionValue { return parsed(&v.AlertTo, parseAlertTo) }},
	{name: "notify-url", env: "COTD_NOTIFY_URL", help: "ntfy or Gotify URL for a push notification when mail itself is broken",
		bind: func(v *values) optionValue {
			return parsed(&v.NotifyURL, urlParser("notify-url", "https://ntfy.sh/YOUR-TOPIC or https://gotify.example/message?token=APPTOKEN"))
		}},
	{name: "ping-url", env: "COTD_PING_URL", help: "healthchecks.io-style URL pinged at start, success and failure (a dead man's switch)",
		bind: func(v *values) optionValue {
			return parsed(&v.PingURL, urlParser("ping-url", "https://hc-ping.com/YOUR-CHECK-UUID"))
		}},
	{name: "metrics-file", env: "COTD_METRICS_FILE", help: "Prometheus textfile for node_exporter, rewritten atomically after each run",
		bind: func(v *values) optionValue { return text(&v.MetricsFile) }},
	{name: "index-budget", env: "COTD_INDEX_BUDGET", def: "8m", help: "most time a run spends rendering new photos before it mails from those indexed (at most 1m when a day is due); the next runs go on; 0 for no limit",
		bind: func(v *values) optionValue {
			return duration(&v.IndexBudget, rule{0, 0, "a duration", "set --index-budget to a duration such as 8m or 90s (0 for no limit)"})
		}},
	{name: "index-workers", env: "COTD_INDEX_WORKERS", def: "0", help: "photos rendered at once; 0 means one per CPU core",
		bind: func(v *values) optionValue {
			return number(&v.IndexWorkers, rule{0, 256, "a number of workers", "set --index-workers to a whole number of photos rendered at once, 0 for one per core"})
		}},
	{name: "follow-links", env: "COTD_FOLLOW_LINKS", def: "inside", help: "symbolic links in the photo folder: inside (only those to files in the folder) or all",
		bind: func(v *values) optionValue { return parsed(&v.FollowLinks, parseLinks) }},
	{name: "cert-warn-days", env: "COTD_CERT_WARN_DAYS", def: "21", help: "warn this many days before a certificate expires",
		bind: func(v *values) optionValue {
			return number(&v.CertWarnDays, rule{0, 365, "a number of days", "set --cert-warn-days to a whole number of days from 0 to 365, e.g. 21"})
		}},
	{name: "watch-certs", env: "COTD_WATCH_CERTS", help: "more certificates to watch: PEM files, globs and host:port endpoints, comma-separated",
		bind: func(v *values) optionValue { return parsed(&v.WatchCerts, parseWatch) }},
}

// UsageError is a usage or configuration mistake: the CLI exits 2 and
// prints Hint, the fix.
type UsageError struct {
	Msg, Hint string
}

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError with the fix hint.
func Usagef(hint, format string, a ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, a...), Hint: hint}
}

// Settings holds a command's parsed flags: its flags of its own and every
// option it does not replace with one of them.
type Settings struct {
	cmd string
	fs  *pflag.FlagSet
	v   values
	// own holds the names of the command's flags of its own. One that
	// has an option's name takes that option's place (send-test's --to,
	// the one test address, stands for the recipients): the setting is
	// then read from that flag only, never from the option's variable.
	own map[string]bool
	// replaced maps such a flag of its own to the option's value, which
	// Parse fills from the flag's text.
	replaced map[*pflag.Flag]optionValue
}

// New declares the flags of the command cmd: its own (declare adds them,
// or is nil), then every option it does not replace, typed.
func New(cmd string, declare func(*pflag.FlagSet)) *Settings {
	s := &Settings{cmd: cmd, fs: pflag.NewFlagSet("cotd "+cmd, pflag.ContinueOnError), own: map[string]bool{}, replaced: map[*pflag.Flag]optionValue{}}
	s.fs.SortFlags = false
	s.fs.Usage = func() {}
	s.fs.SetOutput(io.Discard)
	if declare != nil {
		declare(s.fs)
		s.fs.VisitAll(func(f *pflag.Flag) { s.own[f.Name] = true })
	}
	for _, o := range options {
		v := o.bind(&s.v)
		if o.def != "" {
			if err := v.setDefault(o.def); err != nil {
				panic("option " + o.name + ": default " + o.def + ": " + err.Error()) // a programming error
			}
		}
		if s.own[o.name] {
			s.replaced[s.fs.Lookup(o.name)] = v
			continue
		}
		s.fs.Var(v, o.name, o.help+" ["+o.env+"]")
	}
	return s
}

// options are the options the command reads from their flag or variable:
// all but those a flag of its own replaces.
func (s *Settings) options() []option {
	var out []option
	for _, o := range options {
		if !s.own[o.name] {
			out = append(out, o)
		}
	}
	return out
}

// FlagTable lists the command's options with their environment variables
// and defaults, for `cotd help CMD`.
func (s *Settings) FlagTable() string {
	var b strings.Builder
	for _, o := range s.options() {
		def := o.def
		if def == "" {
			def = o.shownDef
		}
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(&b, "  --%-20s %s\n  %-22s env %s, default %s\n", o.name, o.help, "", o.env, def)
	}
	return b.String()
}

// OwnFlagTable lists the command's flags of its own in FlagTable's layout
// (they have no environment variable); "" when it has none.
func (s *Settings) OwnFlagTable() string {
	var b strings.Builder
	s.fs.VisitAll(func(f *pflag.Flag) {
		if !s.own[f.Name] {
			return
		}
		fmt.Fprintf(&b, "  --%-20s %s\n", f.Name, f.Usage)
		if f.DefValue != "" { // an empty default is described in the usage
			fmt.Fprintf(&b, "  %-22s default %s\n", "", f.DefValue)
		}
	})
	return b.String()
}

// Parse reads flags, then fills what no flag set from the environment,
// through the same parser: flag wins over env, env over default. The
// settings commands take no arguments besides flags; a required flag of
// its own (Require) must be given.
func (s *Settings) Parse(args []string, lookup func(string) (string, bool)) error {
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return s.badValue(err, "")
	}
	for _, o := range s.options() {
		if s.fs.Changed(o.name) {
			continue
		}
		if ev, ok := lookup(o.env); ok && strings.TrimSpace(ev) != "" {
			if err := s.fs.Set(o.name, strings.TrimSpace(ev)); err != nil {
				return s.badValue(err, o.env)
			}
		}
	}
	for f, v := range s.replaced {
		if f.Changed {
			if err := v.Set(f.Value.String()); err != nil {
				return err // the flag's own parser accepted it; the option's words it
			}
		}
	}
	if s.fs.NArg() > 0 {
		return Usagef("run 'cotd help "+s.cmd+"'", "cotd %s takes no arguments, got %q", s.cmd, strings.Join(s.fs.Args(), " "))
	}
	return s.missing()
}

// badValue turns pflag's parse error into cotd's: a malformed number or
// duration names the option, where the value came from and the fix; a
// text option's parser and a flag of its own (an address, a date) say it
// in their own words.
func (s *Settings) badValue(err error, env string) error {
	var iv *pflag.InvalidValueError
	if errors.As(err, &iv) {
		if r, ok := iv.GetFlag().Value.(ruled); ok {
			from := ""
			if env != "" {
				from = " (from " + env + ")"
			}
			return Usagef(r.rule().hint, "--%s %q%s is not %s", iv.GetFlag().Name, iv.GetValue(), from, r.rule().what)
		}
		var ue *UsageError
		if errors.As(err, &ue) {
			return ue
		}
	}
	return Usagef("run 'cotd help "+s.cmd+"' for the flags", "%v", err)
}

// checkRanges refuses a number outside its range or a negative duration,
// the first in the table's order, in the words of a malformed one.
func (s *Settings) checkRanges() error {
	var err error
	s.fs.VisitAll(func(f *pflag.Flag) {
		if r, ok := f.Value.(ruled); ok && err == nil {
			err = r.inRange(f.Name)
		}
	})
	return err
}
