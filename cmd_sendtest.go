package main

import (
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"cotd/config"
	"cotd/mail"
	"cotd/monitor"
	"cotd/schedule"
)

var sendTestCommand = command{
	name:    "send-test",
	summary: "mail one message now to one address",
	help: `Usage: cotd send-test --to ADDR [flags]

Example, after 'cotd check' says ok:
    sudo -u cotd cotd send-test --to me@example.test

Mails ADDR one message now: today's cat and quote (or the ones the
rotation would pick next, if today has none yet), through the configured
SMTP server, or into the outbox without --smtp-host. Nothing is recorded:
the recipients still get today's mail from the next 'cotd run'. --to here
is the one test address, not the recipient list.
`,
	settings: true,
	flags:    func(fs *pflag.FlagSet) { sendTestFlags(fs) },
	run:      cmdSendTest,
}

// sendTestFlags declares send-test's --to: exactly one address, parsed
// by pflag, required. It takes the place of the recipients' --to, so it
// has no environment variable: COTD_TO holds the recipient list, and the
// test goes only where --to says.
func sendTestFlags(fs *pflag.FlagSet) (to *netmail.Address) {
	to = config.AddressFlag(fs, "to", "the one address to mail (not the recipients; never read from COTD_TO)")
	config.Require(fs, "to", "send-test needs --to ADDR, the one address to mail", "e.g. cotd send-test --to me@example.test")
	return to
}

func cmdSendTest(args []string, e env) error {
	var addr *netmail.Address
	c, err := loadSettings("send-test", args, e, func(fs *pflag.FlagSet) { addr = sendTestFlags(fs) })
	if err != nil {
		return err
	}
	j, _, err := openJob(c, e)
	if err != nil {
		return err
	}
	defer j.Store.Close()
	ctx, stop := signalContext()
	defer stop()

	day := schedule.DayOf(c.Now(), c.Job.Schedule.Loc)
	msgs, err := j.Preview(day)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return fmt.Errorf("send-test: nothing to send for %s", day)
	}
	m := msgs[0]
	m.To = addr.String()
	m.Date = c.Now().In(c.Job.Schedule.Loc)            // sent now, whatever day it shows
	m.Test = time.Now().UTC().Format(time.RFC3339Nano) // its Message-ID is never a real delivery's
	msg, err := mail.Compose(m)
	if err != nil {
		return fmt.Errorf("compose test mail to %s: %w", addr, err)
	}
	if err := mail.SendOne(ctx, j.Sender, msg); err != nil {
		return err
	}
	where := "sent through " + strings.TrimPrefix(smtpSourceOr(c), "smtp ")
	if c.SMTP == nil {
		where = "written to " + c.Outbox
	}
	fmt.Fprintf(e.stdout, "test mail for %s %s to %s (nothing recorded; the next run mails the recipients as usual)\n", day, where, addr)
	return nil
}

func smtpSourceOr(c *config.Config) string {
	if c.SMTP == nil {
		return ""
	}
	return monitor.SMTPSource(c.SMTP)
}
