package config

import (
	netmail "net/mail"
	"strings"

	"github.com/spf13/pflag"

	"cotd/mail"
	"cotd/schedule"
)

// A command's flags of its own (status --json, preview --date, send-test
// --to) are declared on its flag set before the options, so pflag parses
// them with the rest. The helpers here give them what the options table
// gives a setting: a real type whose parser refuses a bad value with its
// fix, and a refusal when a required one is missing.

// Their Set returns a *UsageError, which Parse passes on as it is.

// AddressFlag declares a flag holding exactly one mail address, parsed by
// mail.ParseAddress when it is given: a malformed address, or two, is a
// usage error naming the command and flag (`send-test --to: address "x"
// is not valid ...`). The address stays zero while the flag is not given.
func AddressFlag(fs *pflag.FlagSet, name, usage string) *netmail.Address {
	v := &addressValue{cmd: command(fs), name: name, addr: new(netmail.Address)}
	fs.Var(v, name, usage)
	return v.addr
}

type addressValue struct {
	cmd, name string // "send-test", "to": for the error
	raw       string // as given: what Get returns, the recipients where it takes --to's place
	addr      *netmail.Address
}

func (v *addressValue) Set(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return &UsageError{Msg: v.cmd + " --" + v.name + ": " + err.Error(), Hint: "give exactly one address, e.g. --" + v.name + " me@example.test"}
	}
	v.raw, *v.addr = strings.TrimSpace(s), *a
	return nil
}

func (v *addressValue) String() string { return v.raw }

func (v *addressValue) Type() string { return "address" }

// DayFlag declares a flag holding a date, YYYY-MM-DD, parsed by
// schedule.ParseDay when it is given; the day stays zero while it is not.
func DayFlag(fs *pflag.FlagSet, name, usage string) *schedule.Day {
	v := &dayValue{example: "example: cotd " + command(fs) + " --" + name + " 2026-12-24", day: new(schedule.Day)}
	fs.Var(v, name, usage)
	return v.day
}

type dayValue struct {
	example string // the hint
	day     *schedule.Day
}

func (v *dayValue) Set(s string) error {
	d, err := schedule.ParseDay(strings.TrimSpace(s))
	if err != nil {
		return &UsageError{Msg: err.Error(), Hint: v.example}
	}
	*v.day = d
	return nil
}

func (v *dayValue) String() string {
	if v.day.IsZero() {
		return ""
	}
	return v.day.String()
}
func (v *dayValue) Type() string { return "date" }

// command is the command whose flags fs holds (New names it "cotd CMD").
func command(fs *pflag.FlagSet) string { return strings.TrimPrefix(fs.Name(), "cotd ") }

// requiredKey marks a required flag of its own (a pflag annotation): its
// values are the message and the hint Parse refuses with.
const requiredKey = "cotd-required"

// Require makes the flag name, one of the command's own, required: Parse
// refuses to go on without it, with msg and hint (exit 2). A flag of its
// own has no environment variable, so only the command line gives it.
func Require(fs *pflag.FlagSet, name, msg, hint string) {
	if err := fs.SetAnnotation(name, requiredKey, []string{msg, hint}); err != nil {
		panic(err) // a programming error: no such flag
	}
}

// missing is the refusal for the first required flag not given.
func (s *Settings) missing() error {
	var err error
	s.fs.VisitAll(func(f *pflag.Flag) {
		if r, ok := f.Annotations[requiredKey]; ok && !f.Changed && err == nil {
			err = Usagef(r[1], "%s", r[0])
		}
	})
	return err
}
