package config

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// option is one setting: a flag with its environment fallback and its
// line in `cotd help`. A number or duration option is declared to pflag
// as an int or a time.Duration, so pflag's parser refuses a malformed
// value (25zz, 3x, 8 minutes) from the flag and from the environment
// alike; Load checks a number's range. A text option with a syntax (a
// time, a zone, one of a few words, addresses, a URL) has its parser,
// which pflag calls the same way (textValue); Load checks only what needs
// the world or other settings (files, folders, what SMTP requires).
type option struct {
	name, env, def, help string
	// shownDef is what help shows as the default when def is empty and
	// the real default depends on other settings (e.g. --to without an
	// SMTP host); empty shows "none".
	shownDef string
	number   *rule // an int option
	duration *rule // a time.Duration option, never negative
	// parse reads a text option's value into its type, or returns a
	// *UsageError with the fix; "" is parsed too, except as the default.
	parse func(string) (any, error)
}

// rule is what a number or duration option accepts, and how to say it is
// wrong.
type rule struct {
	min, max int    // numbers only
	what     string // "a port number": `--smtp-port "25zz" is not a port number`
	hint     string
}

func (o option) rule() *rule {
	if o.number != nil {
		return o.number
	}
	return o.duration
}

// options lists every setting once; the usage text and the README's
// configuration table are written from the same names.
var options = []option{
	{name: "photos", env: "COTD_PHOTOS", def: "./photos", help: "photo folder, scanned recursively (the built-in sample cat when the default folder is absent)"},
	{name: "quotes", env: "COTD_QUOTES", def: "./quotes.txt", help: "quotes file, one per line (the built-in quotes when the default file is absent)"},
	{name: "db", env: "COTD_DB", def: "./cotd.db", help: "state database"},
	{name: "outbox", env: "COTD_OUTBOX", def: "./outbox", help: "folder for .eml files when no --smtp-host is set"},
	{name: "to", env: "COTD_TO", shownDef: "you@example.invalid without --smtp-host (the outbox demo), required with it", help: "recipients, comma-separated: 'Cee <c@example.test>, d@example.test'", parse: parseRecipients},
	{name: "recipients", env: "COTD_RECIPIENTS", help: "recipients file instead of --to: one a line, each with an optional tz=, at= and paused-until=, e.g. 'Zoe Lima <zoe@example.test>  tz=Asia/Tokyo  at=07:30'; re-read at every run"},
	{name: "from", env: "COTD_FROM", shownDef: "'Cat of the Day <cotd@example.invalid>' without --smtp-host, required with it", help: "sender, e.g. 'Ana Lima <ana@example.test>'; its display name is who the mail says it is from", parse: parseFrom},
	{name: "owner", env: "COTD_OWNER", help: "the person behind a service --from, e.g. 'Ana Lima <ana@example.test>': named in the mail, gets replies and unsubscribe requests (default: --from)", parse: parseOwner},
	{name: "smtp-host", env: "COTD_SMTP_HOST", help: "SMTP server; empty writes .eml files to --outbox instead"},
	{name: "smtp-port", env: "COTD_SMTP_PORT", def: "587", help: "SMTP port",
		number: &rule{1, 65535, "a port number", "set --smtp-port to the server's port: 587 (STARTTLS) or 465 (TLS)"}},
	{name: "smtp-user", env: "COTD_SMTP_USER", help: "SMTP login"},
	{name: "smtp-password-file", env: "COTD_SMTP_PASSWORD_FILE", help: "file holding the SMTP password (also read from $CREDENTIALS_DIRECTORY/smtp-password)"},
	{name: "smtp-tls", env: "COTD_SMTP_TLS", def: "starttls", help: "starttls (mandatory), tls (implicit, port 465) or none (loopback only)", parse: parseTLS},
	{name: "smtp-ca-file", env: "COTD_SMTP_CA_FILE", help: "extra trusted CA certificate (PEM) for a private SMTP server"},
	{name: "at", env: "COTD_AT", def: "07:00", help: "morning send time, 24-hour HH:MM", parse: parseClock},
	{name: "tz", env: "COTD_TZ", help: "time zone, an IANA name such as Europe/Berlin (default: the machine's)", parse: parseZone},
	{name: "clock-sync-wait", env: "COTD_CLOCK_SYNC_WAIT", def: "0s", help: "before a run, wait up to this long for NTP to synchronise the clock, then go on and say so in the log (pi-setup.sh's service: 3m)",
		duration: &rule{0, 0, "a duration", "set --clock-sync-wait to a duration such as 3m or 90s (0 does not wait)"}},
	{name: "now", env: "COTD_NOW", help: "act as if it were this RFC 3339 time for the schedule (tests, dry runs); certificates are checked against the real clock", parse: parseNow},
	{name: "catch-up", env: "COTD_CATCH_UP", def: "digest", help: "after downtime: digest (one mail with every missed day), each (one mail per day) or skip", parse: parseCatchUp},
	{name: "catch-up-max-days", env: "COTD_CATCH_UP_MAX_DAYS", def: "7", help: "deliver at most this many missed days; older ones are skipped",
		number: &rule{0, 366, "a number of days", "set --catch-up-max-days to a whole number from 0 to 366"}},
	{name: "alert-to", env: "COTD_ALERT_TO", help: "the owner's address: told by mail when something went wrong (once per problem per day)", parse: parseAlertTo},
	{name: "notify-url", env: "COTD_NOTIFY_URL", help: "ntfy or Gotify URL for a push notification when mail itself is broken", parse: urlParser("notify-url", "https://ntfy.sh/YOUR-TOPIC or https://gotify.example/message?token=APPTOKEN")},
	{name: "ping-url", env: "COTD_PING_URL", help: "healthchecks.io-style URL pinged at start, success and failure (a dead man's switch)", parse: urlParser("ping-url", "https://hc-ping.com/YOUR-CHECK-UUID")},
	{name: "metrics-file", env: "COTD_METRICS_FILE", help: "Prometheus textfile for node_exporter, rewritten atomically after each run"},
	{name: "index-budget", env: "COTD_INDEX_BUDGET", def: "8m", help: "most time a run spends rendering new photos before it mails from those indexed (at most 1m when a day is due); the next runs go on; 0 for no limit",
		duration: &rule{0, 0, "a duration", "set --index-budget to a duration such as 8m or 90s (0 for no limit)"}},
	{name: "index-workers", env: "COTD_INDEX_WORKERS", def: "0", help: "photos rendered at once; 0 means one per CPU core",
		number: &rule{0, 256, "a number of workers", "set --index-workers to a whole number of photos rendered at once, 0 for one per core"}},
	{name: "follow-links", env: "COTD_FOLLOW_LINKS", def: "inside", help: "symbolic links in the photo folder: inside (only those to files in the folder) or all", parse: parseLinks},
	{name: "cert-warn-days", env: "COTD_CERT_WARN_DAYS", def: "21", help: "warn this many days before a certificate expires",
		number: &rule{0, 365, "a number of days", "set --cert-warn-days to a whole number of days from 0 to 365, e.g. 21"}},
	{name: "watch-certs", env: "COTD_WATCH_CERTS", help: "more certificates to watch: PEM files, globs and host:port endpoints, comma-separated", parse: parseWatch},
}

func lookupOption(name string) *option {
	for i := range options {
		if options[i].name == name {
			return &options[i]
		}
	}
	return nil
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
	// own holds the names of the command's flags of its own. One that
	// has an option's name takes that option's place (send-test's --to,
	// the one test address, stands for the recipients): the setting is
	// then read from that flag only, never from the option's variable.
	own map[string]bool
}

// New declares the flags of the command cmd: its own (declare adds them,
// or is nil), then every option it does not replace, typed.
func New(cmd string, declare func(*pflag.FlagSet)) *Settings {
	s := &Settings{cmd: cmd, fs: pflag.NewFlagSet("cotd "+cmd, pflag.ContinueOnError), own: map[string]bool{}}
	s.fs.SortFlags = false
	s.fs.Usage = func() {}
	s.fs.SetOutput(io.Discard)
	if declare != nil {
		declare(s.fs)
		s.fs.VisitAll(func(f *pflag.Flag) { s.own[f.Name] = true })
	}
	for _, o := range s.options() {
		usage := o.help + " [" + o.env + "]"
		switch {
		case o.number != nil:
			n, err := strconv.Atoi(o.def)
			if err != nil {
				panic("option " + o.name + ": default " + o.def + " is not a number")
			}
			s.fs.Int(o.name, n, usage)
		case o.duration != nil:
			d, err := time.ParseDuration(o.def)
			if err != nil {
				panic("option " + o.name + ": default " + o.def + " is not a duration")
			}
			s.fs.Duration(o.name, d, usage)
		case o.parse != nil:
			v := &textValue{parse: o.parse}
			if o.def != "" {
				if err := v.Set(o.def); err != nil {
					panic("option " + o.name + ": default " + o.def + ": " + err.Error())
				}
			}
			s.fs.Var(v, o.name, usage)
		default:
			s.fs.String(o.name, o.def, usage)
		}
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
// through the same pflag parser: flag wins over env, env over default.
// The settings commands take no arguments besides flags; a required flag
// of its own (Require) must be given.
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
	if s.fs.NArg() > 0 {
		return Usagef("run 'cotd help "+s.cmd+"'", "cotd %s takes no arguments, got %q", s.cmd, strings.Join(s.fs.Args(), " "))
	}
	return s.missing()
}

// badValue turns pflag's parse error into cotd's: a malformed number or
// duration names the option, where the value came from and the fix; a
// flag of its own (an address, a date) says it in its own words.
func (s *Settings) badValue(err error, env string) error {
	var iv *pflag.InvalidValueError
	if errors.As(err, &iv) {
		name := iv.GetFlag().Name
		if o := lookupOption(name); o != nil && !s.own[name] && o.rule() != nil {
			from := ""
			if env != "" {
				from = " (from " + env + ")"
			}
			return Usagef(o.rule().hint, "--%s %q%s is not %s", o.name, iv.GetValue(), from, o.rule().what)
		}
		var ue *UsageError
		if errors.As(err, &ue) { // a flag of its own, whose parser words it
			return ue
		}
	}
	return Usagef("run 'cotd help "+s.cmd+"' for the flags", "%v", err)
}

// Set reports whether the user gave the option, by flag or environment.
func (s *Settings) Set(name string) bool { return s.fs.Changed(name) }

// Get returns a text option's value, or the text of the flag of its own
// that takes the option's place.
func (s *Settings) Get(name string) string {
	f := s.fs.Lookup(name)
	if f == nil || (!s.own[name] && f.Value.Type() != "string") {
		panic("option " + name + " is not a text option") // a programming error
	}
	return strings.TrimSpace(f.Value.String())
}

// typed is a flag value that holds its parsed form: a text option's
// (textValue), or that of a flag of its own taking an option's place.
type typed interface{ typed() any }

// parsed returns a text option's value as its parser typed it; nil while
// the option is empty and has no default (--tz, --now, --to).
func (s *Settings) parsed(name string) any {
	v, ok := s.fs.Lookup(name).Value.(typed)
	if !ok {
		panic("option " + name + " has no parser") // a programming error
	}
	return v.typed()
}

// number returns a number option's value, checked against its range.
func (s *Settings) number(name string) (int, error) {
	o := lookupOption(name)
	n, err := s.fs.GetInt(name)
	if err != nil || o == nil || o.number == nil {
		panic(fmt.Sprintf("option %s is not a number option", name))
	}
	if n < o.number.min || n > o.number.max {
		return 0, Usagef(o.number.hint, "--%s %q is not %s", name, strconv.Itoa(n), o.number.what)
	}
	return n, nil
}

// duration returns a duration option's value, never negative.
func (s *Settings) duration(name string) (time.Duration, error) {
	o := lookupOption(name)
	d, err := s.fs.GetDuration(name)
	if err != nil || o == nil || o.duration == nil {
		panic(fmt.Sprintf("option %s is not a duration option", name))
	}
	if d < 0 {
		return 0, Usagef(o.duration.hint, "--%s %q is not %s", name, d.String(), o.duration.what)
	}
	return d, nil
}
