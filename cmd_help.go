package main

import (
	"fmt"

	"cotd/config"
)

var helpCommand = command{
	name: "help", args: "CMD", aliases: []string{"-h", "--help"},
	summary: "show a command's examples and flags",
	run:     runHelp,
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
	if c.settings {
		fmt.Fprint(e.stdout, "\nFlags (every one also read from its environment variable):\n"+config.FlagTable())
	}
	return nil
}
