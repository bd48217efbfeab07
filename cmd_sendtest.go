package main

import (
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

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
	run:      cmdSendTest,
}

func cmdSendTest(args []string, e env) error {
	s := config.New("send-test")
	if err := s.Parse(args, e.lookup); err != nil {
		return err
	}
	// COTD_TO holds the recipient list; the test goes only where --to says.
	if !s.FromFlag("to") {
		return config.Usagef("e.g. cotd send-test --to me@example.test", "send-test needs --to ADDR, the one address to mail")
	}
	addr, err := mail.ParseAddress(s.Get("to"))
	if err != nil {
		return config.Usagef("give exactly one address, e.g. --to me@example.test", "send-test --to: %v", err)
	}
	c, err := s.Load(e.lookup)
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
	var res mail.Result
	if err := j.Sender.SendEach(ctx, []*gomail.Msg{msg}, func(_ int, r mail.Result) { res = r }); err != nil {
		return err
	}
	if !res.Delivered {
		return res.Err
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
