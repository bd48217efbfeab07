package config

import (
	"strconv"
	"strings"
	"time"

	netmail "net/mail"

	"github.com/spf13/pflag"

	"cotd/certs"
	"cotd/health"
	"cotd/mail"
	"cotd/schedule"
)

// The flag values the options table binds to the fields of values, and
// the parsers of the text options with a syntax (times, zones, words,
// addresses, URLs, certificate specs). pflag calls them for a value from
// the flag or the environment alike, so a malformed one is refused by
// Parse, before Load or anything else runs, with the words and the fix
// each error has always had.

// optionValue is an option's flag value: Set parses the text into the
// option's field.
type optionValue interface {
	pflag.Value
	// setDefault parses the option's default into its field; unlike Set,
	// it leaves the option not given.
	setDefault(string) error
}

// field is the flag value of an option of type T, kept in *p.
type field[T any] struct {
	p     *T
	given *bool // set by Set (the flag or the variable); nil when nobody asks
	raw   string
	typ   string // pflag's Type
	parse func(string) (T, error)
	r     *rule // a number's or duration's range; nil for text
}

func (f *field[T]) Set(s string) error {
	if err := f.setDefault(s); err != nil {
		return err
	}
	if f.given != nil {
		*f.given = true
	}
	return nil
}

func (f *field[T]) setDefault(s string) error {
	s = strings.TrimSpace(s)
	v, err := f.parse(s)
	if err != nil {
		return err
	}
	*f.p, f.raw = v, s
	return nil
}

func (f *field[T]) String() string { return f.raw }
func (f *field[T]) Type() string   { return f.typ }

// text is a plain text option.
func text(p *string) *field[string] {
	return &field[string]{p: p, typ: "string", parse: func(s string) (string, error) { return s, nil }}
}

// givenText is a text option whose default Load treats differently from
// the same text given by the user (a missing default folder is the
// sample cat; a missing named one an error).
func givenText(p *string, given *bool) *field[string] {
	f := text(p)
	f.given = given
	return f
}

// parsed is a text option with a syntax, read by parse.
func parsed[T any](p *T, parse func(string) (T, error)) *field[T] {
	return &field[T]{p: p, typ: "string", parse: parse}
}

// rule is what a number or duration option accepts, and how to say it is
// wrong.
type rule struct {
	min, max int    // numbers only
	what     string // "a port number": `--smtp-port "25zz" is not a port number`
	hint     string
}

// ruled is a number or duration option: badValue words a malformed one
// with its rule, and Load checks its range.
type ruled interface {
	rule() *rule
	inRange(name string) error
}

type numberField struct{ *field[int] }

// number is a whole-number option within r's range.
func number(p *int, r rule) numberField {
	return numberField{&field[int]{p: p, typ: "int", parse: strconv.Atoi, r: &r}}
}

func (f numberField) rule() *rule { return f.r }
func (f numberField) inRange(name string) error {
	if n := *f.p; n < f.r.min || n > f.r.max {
		return Usagef(f.r.hint, "--%s %q is not %s", name, strconv.Itoa(n), f.r.what)
	}
	return nil
}

type durationField struct{ *field[time.Duration] }

// duration is a time.Duration option, never negative.
func duration(p *time.Duration, r rule) durationField {
	return durationField{&field[time.Duration]{p: p, typ: "duration", parse: time.ParseDuration, r: &r}}
}

func (f durationField) rule() *rule { return f.r }
func (f durationField) inRange(name string) error {
	if d := *f.p; d < 0 {
		return Usagef(f.r.hint, "--%s %q is not %s", name, d.String(), f.r.what)
	}
	return nil
}

// parser makes an option's parser of a package's own, whose errors say
// what is wrong in that package's words; hint says the fix.
func parser[T any](parse func(string) (T, error), hint string) func(string) (T, error) {
	return func(s string) (T, error) {
		v, err := parse(s)
		if err != nil {
			return v, Usagef(hint, "%v", err)
		}
		return v, nil
	}
}

var (
	parseClock   = parser(schedule.ParseClock, "set --at or COTD_AT to a time such as 07:00")
	parseCatchUp = parser(schedule.ParseMode, "set --catch-up to digest, each or skip")
	parseTLS     = parser(mail.ParseTLSMode, "set --smtp-tls to starttls, tls or none")
)

// parseZone: empty is the machine's zone (nil).
func parseZone(s string) (*time.Location, error) {
	if s == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, Usagef("use an IANA zone name such as Europe/Berlin or America/New_York (see timedatectl list-timezones)", "unknown time zone %q for --tz", s)
	}
	return loc, nil
}

// parseNow: empty is the real clock (nil).
func parseNow(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, Usagef("use RFC 3339, e.g. --now 2026-03-02T08:00:00+01:00", "--now %q is not an RFC 3339 time", s)
	}
	return &t, nil
}

// parseLinks: true for all, false for inside.
func parseLinks(s string) (bool, error) {
	if s != "inside" && s != "all" {
		return false, Usagef("set --follow-links to inside or all", "--follow-links %q is neither inside nor all", s)
	}
	return s == "all", nil
}

// parseRecipients: empty is no list (nil); Load decides what that means.
func parseRecipients(s string) ([]*netmail.Address, error) {
	if s == "" {
		return nil, nil
	}
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return nil, Usagef("fix --to/COTD_TO: comma-separated addresses, display names allowed", "recipients: %v", err)
	}
	return list, nil
}

// addressParser parses exactly one address, what it is for named in the
// error; empty is none (nil).
func addressParser(what, hint string) func(string) (*netmail.Address, error) {
	return func(s string) (*netmail.Address, error) {
		if s == "" {
			return nil, nil
		}
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, Usagef(hint, "%s: %v", what, err)
		}
		return a, nil
	}
}

var (
	parseFrom    = addressParser("sender", "fix --from/COTD_FROM, e.g. 'Cat of the Day <cotd@example.test>'")
	parseOwner   = addressParser("owner", "fix --owner/COTD_OWNER, e.g. 'Ana Lima <ana@example.test>'")
	parseAlertTo = addressParser("alert address", "set --alert-to/COTD_ALERT_TO to the owner's address, e.g. 'Owner <me@example.test>'")
)

// urlParser checks a ping or notification URL (health.CheckURL); empty is
// none.
func urlParser(name, example string) func(string) (string, error) {
	return func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		if err := health.CheckURL(s); err != nil {
			return "", Usagef("set --"+name+" to a URL such as "+example, "--%s %v", name, err)
		}
		return s, nil
	}
}

// parseWatch parses --watch-certs (certs.ParseSpec), once: the monitor
// gets the targets. The files and endpoints are looked at by the checks,
// not here.
func parseWatch(s string) ([]certs.Target, error) {
	targets, errs := certs.ParseSpec(s)
	if len(errs) > 0 {
		return nil, Usagef("--watch-certs takes PEM files, globs and host:port endpoints, comma-separated", "%v", errs[0])
	}
	return targets, nil
}
