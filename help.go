package main

import (
	"fmt"
	"strings"
)

const usageText = `cotd mails a cat photo and a quote to a few people every morning.

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
    run          mail what is due today (and days missed while cotd was off)
    preview      write what would go out for a date; sends nothing
    render       write the mailed version of one photo
    status       last delivery, next due time, failures, cats left (--json)
    check        check every setting and the SMTP login, one line each
    send-test    mail one message now to one address
    version      print the version
    help CMD     show a command's examples and flags

Every flag has an environment variable (COTD_...): the flag wins over the
variable, the variable over the default. 'cotd help run' lists them.

Exit codes: 0 done or nothing due, 1 something due was not delivered (the
next run retries it), 2 usage or configuration error, 3 refused to act on the
state (database locked or unreadable, clock went backwards).
`

var commandHelp = map[string]string{
	"run": `Usage: cotd run [flags]

Example, on a Raspberry Pi with the settings in /etc/cotd/cotd.env:
    sudo systemctl start cotd.service && journalctl -u cotd -n 5

Indexes the photo folder and the quotes, then mails each recipient the days
that are due and that they have not had: today once it is past --at, plus
days missed while cotd was not running (see --catch-up). Running it again
the same day sends nothing.
`,
	"version": "Usage: cotd version\n\nPrints the version, the commit and the Go version.\n",
}

func cmdHelp(args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stdout, usageText)
		return exitOK
	}
	text, ok := commandHelp[args[0]]
	if !ok {
		return report(usagef("run 'cotd help' to see the commands", "no help for %q", args[0]), e.stderr)
	}
	fmt.Fprint(e.stdout, text)
	switch args[0] {
	case "run", "preview", "status", "check", "send-test":
		fmt.Fprint(e.stdout, "\nFlags (every one also read from its environment variable):\n"+flagTable())
	}
	return exitOK
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
