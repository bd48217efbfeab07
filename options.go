package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// option is one setting: a flag with its environment fallback and its
// line in `cotd help`. A number option is declared to pflag as an int, so
// pflag's parser refuses a malformed value (25zz, 3x) from the flag and
// from the environment alike, and load checks its range.
type option struct {
	name, env, def, help string
	number               *numberRule
}

// numberRule is what a number option accepts, and how to say it is wrong.
type numberRule struct {
	min, max int
	what     string // "a port number": `--smtp-port "25zz" is not a port number`
	hint     string
}

// options lists every setting once; the usage text and the README's
// configuration table are written from the same names.
var options = []option{
	{name: "photos", env: "COTD_PHOTOS", def: "./photos", help: "photo folder, scanned recursively (the built-in sample cat when the default folder is absent)"},
	{name: "quotes", env: "COTD_QUOTES", def: "./quotes.txt", help: "quotes file, one per line (the built-in quotes when the default file is absent)"},
	{name: "db", env: "COTD_DB", def: "./cotd.db", help: "state database"},
	{name: "outbox", env: "COTD_OUTBOX", def: "./outbox", help: "folder for .eml files when no --smtp-host is set"},
	{name: "to", env: "COTD_TO", help: "recipients, comma-separated: 'Cee <c@example.test>, d@example.test'"},
	{name: "from", env: "COTD_FROM", help: "sender, e.g. 'Ana Lima <ana@example.test>'; its display name is who the mail says it is from"},
	{name: "owner", env: "COTD_OWNER", help: "the person behind a service --from, e.g. 'Ana Lima <ana@example.test>': named in the mail, gets replies and unsubscribe requests (default: --from)"},
	{name: "smtp-host", env: "COTD_SMTP_HOST", help: "SMTP server; empty writes .eml files to --outbox instead"},
	{name: "smtp-port", env: "COTD_SMTP_PORT", def: "587", help: "SMTP port",
		number: &numberRule{1, 65535, "a port number", "set --smtp-port to the server's port: 587 (STARTTLS) or 465 (TLS)"}},
	{name: "smtp-user", env: "COTD_SMTP_USER", help: "SMTP login"},
	{name: "smtp-password-file", env: "COTD_SMTP_PASSWORD_FILE", help: "file holding the SMTP password (also read from $CREDENTIALS_DIRECTORY/smtp-password)"},
	{name: "smtp-tls", env: "COTD_SMTP_TLS", def: "starttls", help: "starttls (mandatory), tls (implicit, port 465) or none (loopback only)"},
	{name: "smtp-ca-file", env: "COTD_SMTP_CA_FILE", help: "extra trusted CA certificate (PEM) for a private SMTP server"},
	{name: "at", env: "COTD_AT", def: "07:00", help: "morning send time, 24-hour HH:MM"},
	{name: "tz", env: "COTD_TZ", help: "time zone, an IANA name such as Europe/Berlin (default: the machine's)"},
	{name: "clock-sync-wait", env: "COTD_CLOCK_SYNC_WAIT", def: "0s", help: "before a run, wait up to this long for NTP to synchronise the clock, then go on and say so in the log (pi-setup.sh's service: 3m)"},
	{name: "now", env: "COTD_NOW", help: "act as if it were this RFC 3339 time for the schedule (tests, dry runs); certificates are checked against the real clock"},
	{name: "catch-up", env: "COTD_CATCH_UP", def: "digest", help: "after downtime: digest (one mail with every missed day), each (one mail per day) or skip"},
	{name: "catch-up-max-days", env: "COTD_CATCH_UP_MAX_DAYS", def: "7", help: "deliver at most this many missed days; older ones are skipped",
		number: &numberRule{0, 366, "a number of days", "set --catch-up-max-days to a whole number from 0 to 366"}},
	{name: "alert-to", env: "COTD_ALERT_TO", help: "the owner's address: told by mail when something went wrong (once per problem per day)"},
	{name: "notify-url", env: "COTD_NOTIFY_URL", help: "ntfy or Gotify URL for a push notification when mail itself is broken"},
	{name: "ping-url", env: "COTD_PING_URL", help: "healthchecks.io-style URL pinged at start, success and failure (a dead man's switch)"},
	{name: "metrics-file", env: "COTD_METRICS_FILE", help: "Prometheus textfile for node_exporter, rewritten atomically after each run"},
	{name: "index-budget", env: "COTD_INDEX_BUDGET", def: "8m", help: "most time a run spends rendering new photos before it mails from those indexed (at most 1m when a day is due); the next runs go on; 0 for no limit"},
	{name: "index-workers", env: "COTD_INDEX_WORKERS", def: "0", help: "photos rendered at once; 0 means one per CPU core",
		number: &numberRule{0, 256, "a number of workers", "set --index-workers to a whole number of photos rendered at once, 0 for one per core"}},
	{name: "follow-links", env: "COTD_FOLLOW_LINKS", def: "inside", help: "symbolic links in the photo folder: inside (only those to files in the folder) or all"},
	{name: "cert-warn-days", env: "COTD_CERT_WARN_DAYS", def: "21", help: "warn this many days before a certificate expires",
		number: &numberRule{0, 365, "a number of days", "set --cert-warn-days to a whole number of days from 0 to 365, e.g. 21"}},
	{name: "watch-certs", env: "COTD_WATCH_CERTS", help: "more certificates to watch: PEM files, globs and host:port endpoints, comma-separated"},
}

func lookupOption(name string) *option {
	for i := range options {
		if options[i].name == name {
			return &options[i]
		}
	}
	return nil
}

// settings holds parsed option values and where they came from.
type settings struct {
	cmd      string
	fs       *pflag.FlagSet
	fromFlag map[string]bool // given on the command line (not the environment)
}

// newSettings declares every option, typed, for the command cmd.
func newSettings(cmd string) *settings {
	s := &settings{cmd: cmd, fs: pflag.NewFlagSet("cotd "+cmd, pflag.ContinueOnError), fromFlag: map[string]bool{}}
	s.fs.SortFlags = false
	s.fs.Usage = func() {}
	s.fs.SetOutput(io.Discard)
	for _, o := range options {
		usage := o.help + " [" + o.env + "]"
		if o.number != nil {
			n, err := strconv.Atoi(o.def)
			if err != nil {
				panic("option " + o.name + ": default " + o.def + " is not a number")
			}
			s.fs.Int(o.name, n, usage)
			continue
		}
		s.fs.String(o.name, o.def, usage)
	}
	return s
}

// parse reads flags, then fills what no flag set from the environment,
// through the same pflag parser: flag wins over env, env over default.
// The settings commands take no arguments besides flags.
func (s *settings) parse(args []string, lookup func(string) (string, bool)) error {
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return s.badValue(err, "")
	}
	for _, o := range options {
		if s.fs.Changed(o.name) {
			s.fromFlag[o.name] = true
			continue
		}
		if ev, ok := lookup(o.env); ok && strings.TrimSpace(ev) != "" {
			if err := s.fs.Set(o.name, strings.TrimSpace(ev)); err != nil {
				return s.badValue(err, o.env)
			}
		}
	}
	if s.fs.NArg() > 0 {
		return usagef("run 'cotd help "+s.cmd+"'", "cotd %s takes no arguments, got %q", s.cmd, strings.Join(s.fs.Args(), " "))
	}
	return nil
}

// badValue turns pflag's parse error into cotd's: a malformed number
// names the option, where the value came from and the fix.
func (s *settings) badValue(err error, env string) error {
	var iv *pflag.InvalidValueError
	if errors.As(err, &iv) {
		if o := lookupOption(iv.GetFlag().Name); o != nil && o.number != nil {
			from := ""
			if env != "" {
				from = " (from " + env + ")"
			}
			return usagef(o.number.hint, "--%s %q%s is not %s", o.name, iv.GetValue(), from, o.number.what)
		}
	}
	return usagef("run 'cotd help "+s.cmd+"' for the flags", "%v", err)
}

// set reports whether the user gave the option, by flag or environment.
func (s *settings) set(name string) bool { return s.fs.Changed(name) }

// get returns a text option's value.
func (s *settings) get(name string) string {
	v, err := s.fs.GetString(name)
	if err != nil {
		panic(err) // a programming error: not a text option
	}
	return strings.TrimSpace(v)
}

// number returns a number option's value, checked against its range.
func (s *settings) number(name string) (int, error) {
	o := lookupOption(name)
	n, err := s.fs.GetInt(name)
	if err != nil || o == nil || o.number == nil {
		panic(fmt.Sprintf("option %s is not a number option", name))
	}
	if n < o.number.min || n > o.number.max {
		return 0, usagef(o.number.hint, "--%s %q is not %s", name, strconv.Itoa(n), o.number.what)
	}
	return n, nil
}
