package config

import (
	"errors"
	"os"
	"strings"

	"cotd/recipients"
	"cotd/schedule"
)

// loadRecipients reads --recipients into c.Job: every usable line is a
// recipient with their own morning (the global --at and --tz where the
// line has none); lines it cannot use are kept as problems for the run
// to report, so their recipients are never dropped without a word. A
// file that cannot be read, a duplicate, or a file whose every line is
// wrong is refused like a bad --to; a file of comments lists nobody yet,
// like an unset --to.
func (s *Settings) loadRecipients(c *Config, file string) error {
	f, err := os.Open(file)
	if err != nil {
		what := err.Error()
		if errors.Is(err, os.ErrNotExist) {
			what = file + " does not exist"
		}
		return Usagef("create it with one recipient a line, e.g. 'Zoe Lima <zoe@example.test>  tz=Asia/Tokyo  at=07:30', or fix --recipients/COTD_RECIPIENTS",
			"recipients file: %s", what)
	}
	defer f.Close()
	list, problems, err := recipients.Parse(f)
	var dup *recipients.DuplicateError
	switch {
	case errors.As(err, &dup):
		return Usagef("give each recipient one line: delete one of them in "+file, "recipients file %s, %v", file, err)
	case err != nil:
		return Usagef("check that "+file+" is a readable text file", "recipients file %s: %v", file, err)
	case len(list) == 0 && len(problems) > 0:
		var ls []string
		for _, p := range problems {
			ls = append(ls, p.String())
		}
		return Usagef("fix the lines named above in "+file, "recipients file %s has no usable recipient: %s", file, strings.Join(ls, "; "))
	case len(list) == 0:
		return nil // nobody yet: as with no --to (Load says what to do)
	}
	c.Job.RecipientsFile = file
	c.Job.RecipientProblems = problems
	c.Job.Mornings = map[string]schedule.Morning{}
	for _, r := range list {
		m := c.Job.Schedule.Owner()
		if r.Zone != nil {
			m.Loc = r.Zone
		}
		if r.At != nil {
			m.At = *r.At
		}
		m.PausedUntil = r.PausedUntil
		c.Job.To = append(c.Job.To, r.Address)
		c.Job.Mornings[strings.ToLower(r.Address.Address)] = m
	}
	return nil
}
