package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"cotd/config"
)

// command is one entry of the command table: dispatch, the usage text's
// command list, `cotd help NAME` and the flag handling all read it, so a
// new command is added in one place (its own cmd_*.go file and one line in
// commandTable).
type command struct {
	name    string
	args    string   // shown after the name in the command list, e.g. "CMD"
	aliases []string // other spellings dispatched here, e.g. "--version"
	summary string   // the command list's line
	help    string   // `cotd help NAME`; empty: no help of its own
	// settings: the command reads the settings (flags and COTD_*
	// variables); `cotd help NAME` lists them.
	settings bool
	// flags declares the command's flags of its own (beyond the settings),
	// typed, for parsing and for `cotd help NAME`'s "Flags of its own";
	// nil: none. One with a setting's name takes the setting's place for
	// this command (send-test --to); config.New says how.
	flags func(fs *pflag.FlagSet)
	run   func(args []string, e env) error
}

// commands is the table, in the order the usage text lists them; it is
// filled in init because the help command reads it.
var commands []*command

func init() {
	commands = []*command{&runCommand, &previewCommand, &renderCommand, &statusCommand,
		&checkCommand, &sendTestCommand, &clockResetCommand, &restoreCommand, &versionCommand, &helpCommand}
}

// lookupCommand finds a command by name or alias.
func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
		for _, a := range c.aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

const usageIntro = `cotd mails a cat photo and a quote to a few people every morning.

Try it (writes today's mail as .eml files into ./outbox, nothing is sent):
    cotd run

Send for real:
    cotd run --smtp-host mail.example.test --smtp-user cotd \
        --smtp-password-file ~/.cotd-password \
        --from 'Cat of the Day <cotd@example.test>' \
        --to 'Cee <c@example.test>, d@example.test'

Look before you send:
    cotd preview --out /tmp/preview      # the mail as .eml and .html
    cotd check                           # config, photos, quotes, SMTP login
    cotd send-test --to you@example.test

Commands:
`

const usageOutro = `
Every setting is a flag with an environment variable (COTD_...): the flag
wins over the variable, the variable over the default. 'cotd help run'
lists them; 'cotd help CMD' also lists the command's flags of its own,
which have no variable.

Exit codes: 0 done or nothing due, 1 something due was not delivered (the
next run retries it), 2 usage or configuration error, 3 refused to act on the
state (database locked, damaged or unreadable, or missing or empty while
cotd has run here before: 'cotd help restore'; the clock behind the last
run or before this cotd was built).
`

// usageText is what `cotd` and `cotd help` print: examples first, then the
// command table.
func usageText() string {
	var b strings.Builder
	b.WriteString(usageIntro)
	for _, c := range commands {
		fmt.Fprintf(&b, "    %-13s%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	b.WriteString(usageOutro)
	return b.String()
}

// parseSettings is the flag handling of every settings command: the
// flags its table entry declares (declare adds them, or is nil) and every
// option, parsed from the command line and the COTD_* variables. Only
// check, which shows a well-formed setting that cannot work (Load's
// error) as one of its lines, calls it directly; the others call
// loadSettings.
func parseSettings(cmd string, args []string, e env, declare func(*pflag.FlagSet)) (*config.Settings, error) {
	s := config.New(cmd, declare)
	if err := s.Parse(args, e.lookup); err != nil {
		return nil, err
	}
	return s, nil
}

// plainArgs is the flag handling of a command that reads no settings
// (render, version): it has no flags, but --help shows its help and any
// other flag is refused as by every other command; it returns the
// arguments.
func plainArgs(cmd string, args []string) ([]string, error) {
	fs := pflag.NewFlagSet("cotd "+cmd, pflag.ContinueOnError)
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		return nil, config.Usagef("run 'cotd help "+cmd+"' for the flags", "%v", err)
	}
	return fs.Args(), nil
}

// unknownVariables are the COTD_* variables no setting reads (a misspelt
// COTD_SMPT_HOST): check names them, run warns.
func (e env) unknownVariables() []config.Unknown {
	return config.UnknownVariables(environ())
}

// loadSettings parses the settings and validates them into a config.
func loadSettings(cmd string, args []string, e env, declare func(*pflag.FlagSet)) (*config.Config, error) {
	s, err := parseSettings(cmd, args, e, declare)
	if err != nil {
		return nil, err
	}
	return s.Load(e.lookup)
}
