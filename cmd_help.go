package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"cotd/config"
)

var helpCommand = command{
	name: "help", args: "CMD", aliases: []string{"-h", "--help"},
	summary: "show a command's examples and flags",
	help: `Usage: cotd help [CMD]

Example:
    cotd help run

Without CMD, prints the examples, the commands and the exit codes; with
one, that command's usage, an example and its flags.
`,
	run: runHelp,
}

func runHelp(args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stdout, usageText())
		return nil
	}
	c := lookupCommand(args[0])
	if c == nil || c.help == "" {
		return config.Usagef("run 'cotd help' to see the commands", "no help for %q", args[0])
	}
	fmt.Fprint(e.stdout, c.help)
	if c.flags != nil {
		fmt.Fprint(e.stdout, "\nFlags of its own:\n"+ownFlagTable(c.flags))
	}
	if c.settings {
		fmt.Fprint(e.stdout, "\nFlags (every one also read from its environment variable):\n"+config.FlagTable())
	}
	return nil
}

// ownFlagTable lists the flags declare adds, in config.FlagTable's layout
// (they have no environment variable).
func ownFlagTable(declare func(*pflag.FlagSet)) string {
	fs := pflag.NewFlagSet("help", pflag.ContinueOnError)
	declare(fs)
	var b strings.Builder
	fs.VisitAll(func(f *pflag.Flag) {
		fmt.Fprintf(&b, "  --%-20s %s\n", f.Name, f.Usage)
		if f.DefValue != "" { // an empty default is described in the usage
			fmt.Fprintf(&b, "  %-22s default %s\n", "", f.DefValue)
		}
	})
	return b.String()
}
