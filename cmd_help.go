package main

import (
	"fmt"
	"strings"
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
		return usagef("run 'cotd help' to see the commands", "no help for %q", args[0])
	}
	fmt.Fprint(e.stdout, c.help)
	if c.settings {
		fmt.Fprint(e.stdout, "\nFlags (every one also read from its environment variable):\n"+flagTable())
	}
	return nil
}

// flagTable lists every option with its environment variable and default.
func flagTable() string {
	var b strings.Builder
	for _, o := range options {
		def := o.def
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(&b, "  --%-20s %s\n  %-22s env %s, default %s\n", o.name, o.help, "", o.env, def)
	}
	return b.String()
}
