package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"cotd/schedule"
)

// The password stays in its file: no option would put it on the command
// line (the fault suite's testSecrets checks the commands' own flags).
func TestNoPasswordOption(t *testing.T) {
	New("run", nil).fs.VisitAll(func(o *pflag.Flag) {
		if strings.Contains(o.Name, "password") && o.Name != "smtp-password-file" {
			t.Errorf("option --%s would put a password on the command line", o.Name)
		}
	})
}

// A command's flag of its own with an option's name (send-test --to)
// takes the option's place: typed, required, never read from the option's
// variable, and left out of the settings' help table.
func TestOwnFlagTakesOptionsPlace(t *testing.T) {
	declare := func(fs *pflag.FlagSet) {
		AddressFlag(fs, "to", "the one address to mail")
		Require(fs, "to", "send-test needs --to ADDR, the one address to mail", "e.g. cotd send-test --to me@example.test")
	}
	recipients := env("COTD_TO", "a@example.test, b@example.test")
	for _, tc := range []struct {
		args     []string
		msg      string // "" means Parse and Load succeed
		hint, to string
	}{
		{nil, "send-test needs --to ADDR, the one address to mail", "e.g. cotd send-test --to me@example.test", ""},
		{[]string{"--to", "not an address"}, `send-test --to: address "not an address" is not valid`, "give exactly one address, e.g. --to me@example.test", ""},
		{[]string{"--to", "a@example.test, b@example.test"}, `send-test --to: address "a@example.test, b@example.test" holds more than one address`, "give exactly one address, e.g. --to me@example.test", ""},
		{[]string{"--to", "Me <me@example.test>"}, "", "", `"Me" <me@example.test>`},
	} {
		s := New("send-test", declare)
		err := s.Parse(tc.args, recipients)
		var c *Config
		if err == nil {
			c, err = s.Load(recipients)
		}
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.args, err)
			} else if len(c.Job.To) != 1 || c.Job.To[0].String() != tc.to {
				t.Errorf("%q: recipients %v, want only %s (COTD_TO is not read)", tc.args, c.Job.To, tc.to)
			}
			continue
		}
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.HasPrefix(ue.Msg, tc.msg) || ue.Hint != tc.hint {
			t.Errorf("%q: got %#v, want a usage error %q with hint %q", tc.args, err, tc.msg, tc.hint)
		}
	}
	s := New("send-test", declare)
	if own, table := s.OwnFlagTable(), s.FlagTable(); !strings.Contains(own, "--to ") || strings.Contains(table, "COTD_TO") || !strings.Contains(table, "COTD_FROM") {
		t.Errorf("help tables: own\n%s\nsettings\n%s\nwant --to only in the first", own, table)
	}
	if table := New("run", nil).FlagTable(); !strings.Contains(table, "env COTD_TO") {
		t.Errorf("run's table lacks COTD_TO:\n%s", table)
	}
}

// A date flag of its own is parsed by pflag with the rest, in the words
// and with the hint preview always gave.
func TestDayFlag(t *testing.T) {
	s := New("preview", func(fs *pflag.FlagSet) { DayFlag(fs, "date", "the date") })
	err := s.Parse([]string{"--date", "tomorrow"}, env())
	var ue *UsageError
	if !errors.As(err, &ue) || ue.Msg != `date "tomorrow" is not YYYY-MM-DD` || ue.Hint != "example: cotd preview --date 2026-12-24" {
		t.Errorf("--date tomorrow: %#v", err)
	}
	var day *schedule.Day
	s = New("preview", func(fs *pflag.FlagSet) { day = DayFlag(fs, "date", "the date") })
	if err := s.Parse([]string{"--date", "2026-12-24"}, env()); err != nil || *day != (schedule.Day{Year: 2026, Month: 12, Day: 24}) {
		t.Errorf("--date 2026-12-24: %v, %v", err, *day)
	}
}

// The text options with a syntax (times, zones, words, addresses, URLs,
// certificate specs) are parsed by pflag too, through their parsers: Parse
// refuses a malformed value from the flag or the variable with the words
// and the fix Load used to give, before anything is loaded.
func TestTextOptionsParsedByPflag(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		env       []string
		msg, hint string
	}{
		{[]string{"--at", "25:00"}, nil, `send time "25:00" is not a 24-hour HH:MM time such as 07:00`, "set --at or COTD_AT to a time such as 07:00"},
		{nil, []string{"COTD_AT", "7.30"}, `send time "7.30" is not a 24-hour HH:MM time such as 07:00`, "set --at or COTD_AT to a time such as 07:00"},
		{nil, []string{"COTD_TZ", "Mars/Olympus"}, `unknown time zone "Mars/Olympus" for --tz`, "use an IANA zone name such as Europe/Berlin or America/New_York (see timedatectl list-timezones)"},
		{[]string{"--now", "tomorrow"}, nil, `--now "tomorrow" is not an RFC 3339 time`, "use RFC 3339, e.g. --now 2026-03-02T08:00:00+01:00"},
		{nil, []string{"COTD_CATCH_UP", "weekly"}, `catch-up mode "weekly" is not one of digest, each, skip`, "set --catch-up to digest, each or skip"},
		{[]string{"--smtp-tls", "plain"}, nil, `unknown smtp tls mode "plain": use starttls (port 587), tls (port 465) or none (loopback only)`, "set --smtp-tls to starttls, tls or none"},
		{nil, []string{"COTD_FOLLOW_LINKS", "some"}, `--follow-links "some" is neither inside nor all`, "set --follow-links to inside or all"},
		{nil, []string{"COTD_TO", "a@example.test, a@example.test"}, "recipients: ", "fix --to/COTD_TO: comma-separated addresses, display names allowed"},
		{[]string{"--from", "Cat <c@example.test>\nBcc: evil@example.test"}, nil, `sender: address "Cat <c@example.test>\nBcc: evil@example.test" contains the control character U+000A`, "fix --from/COTD_FROM, e.g. 'Cat of the Day <cotd@example.test>'"},
		{nil, []string{"COTD_OWNER", "ana"}, `owner: address "ana" is not valid`, "fix --owner/COTD_OWNER, e.g. 'Ana Lima <ana@example.test>'"},
		{nil, []string{"COTD_ALERT_TO", "me@example.test, you@example.test"}, `alert address: address "me@example.test, you@example.test" holds more than one address`, "set --alert-to/COTD_ALERT_TO to the owner's address, e.g. 'Owner <me@example.test>'"},
		{nil, []string{"COTD_PING_URL", "ftp://example.test/x"}, "--ping-url must start with https:// or http://", "set --ping-url to a URL such as https://hc-ping.com/YOUR-CHECK-UUID"},
		{[]string{"--notify-url", "ntfy.sh/topic"}, nil, "--notify-url ", "set --notify-url to a URL such as https://ntfy.sh/YOUR-TOPIC or https://gotify.example/message?token=APPTOKEN"},
		{nil, []string{"COTD_WATCH_CERTS", "[bad"}, "", "--watch-certs takes PEM files, globs and host:port endpoints, comma-separated"},
	} {
		err := New("run", nil).Parse(tc.args, env(tc.env...))
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.HasPrefix(ue.Msg, tc.msg) || ue.Hint != tc.hint {
			t.Errorf("%q %q: Parse = %#v, want %q with hint %q", tc.args, tc.env, err, tc.msg, tc.hint)
		}
	}
	// Well-formed values arrive typed; the flag wins over the variable.
	s := New("run", nil)
	lookup := env("COTD_TZ", "Mars/Olympus", "COTD_CATCH_UP", "Each", "COTD_FOLLOW_LINKS", "all", "COTD_NOW", "2026-03-02T08:00:00+01:00")
	if err := s.Parse([]string{"--tz", "Europe/Berlin", "--at", "6:30"}, lookup); err != nil {
		t.Fatal(err)
	}
	c, err := s.Load(lookup)
	if err != nil {
		t.Fatal(err)
	}
	sch := c.Job.Schedule
	if sch.Loc.String() != "Europe/Berlin" || sch.At != (schedule.Clock{Hour: 6, Minute: 30}) || sch.CatchUp != schedule.Each ||
		!c.Job.Indexing.FollowLinks || c.Now().Format(time.RFC3339) != "2026-03-02T08:00:00+01:00" || c.ClockWait != 0 {
		t.Errorf("schedule %+v, follow links %v, now %v, clock wait %v", sch, c.Job.Indexing.FollowLinks, c.Now(), c.ClockWait)
	}
	// The defaults, typed.
	s = New("run", nil)
	if err := s.Parse(nil, env()); err != nil {
		t.Fatal(err)
	}
	if c, err = s.Load(env()); err != nil {
		t.Fatal(err)
	}
	if c.Job.Schedule.At != (schedule.Clock{Hour: 7}) || c.Job.Schedule.CatchUp != schedule.Digest || c.Job.Schedule.Loc != time.Local || c.Job.Indexing.FollowLinks {
		t.Errorf("defaults: %+v, follow links %v", c.Job.Schedule, c.Job.Indexing.FollowLinks)
	}
}
