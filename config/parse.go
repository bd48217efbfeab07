package config

import (
	"strings"
	"time"

	"cotd/mail"
	"cotd/schedule"
)

// The parsers of the text options with a syntax. pflag calls them through
// textValue for a value from the flag or the environment alike, so a
// malformed one is refused by Parse, before Load or anything else runs,
// with the words and the fix each error has always had.

// textValue is a text option whose Set runs the option's parser.
type textValue struct {
	raw    string // trimmed, as given: what Get returns
	parsed any    // nil while raw is empty and the parser allows that
	parse  func(string) (any, error)
}

func (v *textValue) Set(s string) error {
	s = strings.TrimSpace(s)
	p, err := v.parse(s)
	if err != nil {
		return err
	}
	v.raw, v.parsed = s, p
	return nil
}

func (v *textValue) String() string { return v.raw }
func (v *textValue) Type() string   { return "string" }

// parser makes an option's parser of a package's own, whose errors say
// what is wrong in that package's words; hint says the fix.
func parser[T any](parse func(string) (T, error), hint string) func(string) (any, error) {
	return func(s string) (any, error) {
		v, err := parse(s)
		if err != nil {
			return nil, Usagef(hint, "%v", err)
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
func parseZone(s string) (any, error) {
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
func parseNow(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, Usagef("use RFC 3339, e.g. --now 2026-03-02T08:00:00+01:00", "--now %q is not an RFC 3339 time", s)
	}
	return t, nil
}

// parseLinks: true for all, false for inside.
func parseLinks(s string) (any, error) {
	if s != "inside" && s != "all" {
		return nil, Usagef("set --follow-links to inside or all", "--follow-links %q is neither inside nor all", s)
	}
	return s == "all", nil
}
