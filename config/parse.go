package config

import (
	"strings"
	"time"

	"cotd/certs"
	"cotd/health"
	"cotd/mail"
	"cotd/schedule"
)

// The parsers of the text options with a syntax (times, zones, words,
// addresses, URLs, certificate specs). pflag calls them through
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
func (v *textValue) typed() any     { return v.parsed }
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

// parseRecipients: empty is no list (nil); Load decides what that means.
func parseRecipients(s string) (any, error) {
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
func addressParser(what, hint string) func(string) (any, error) {
	return func(s string) (any, error) {
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
func urlParser(name, example string) func(string) (any, error) {
	return func(s string) (any, error) {
		if s == "" {
			return nil, nil
		}
		if err := health.CheckURL(s); err != nil {
			return nil, Usagef("set --"+name+" to a URL such as "+example, "--%s %v", name, err)
		}
		return s, nil
	}
}

// parseWatch checks the spelling of --watch-certs (certs.ParseSpec); the
// files and endpoints are looked at by the checks, not here.
func parseWatch(s string) (any, error) {
	if _, errs := certs.ParseSpec(s); len(errs) > 0 {
		return nil, Usagef("--watch-certs takes PEM files, globs and host:port endpoints, comma-separated", "%v", errs[0])
	}
	return s, nil
}
