package main

import (
	"fmt"

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
	// The tables are written from the flag set the command parses.
	s := config.New(c.name, c.flags)
	if own := s.OwnFlagTable(); own != "" {
		fmt.Fprint(e.stdout, "\nFlags of its own:\n"+own)
	}
	if c.settings {
		fmt.Fprint(e.stdout, "\nFlags (every one also read from its environment variable):\n"+s.FlagTable())
	}
	return nil
}
