package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"cotd/config"
	"cotd/mail"
	"cotd/schedule"
)

var previewCommand = command{
	name:    "preview",
	summary: "write what would go out for a date; sends nothing",
	help: `Usage: cotd preview [--date YYYY-MM-DD] [--out DIR] [flags]

Example:
    cotd preview --out /tmp/preview && chromium /tmp/preview/*.html

Writes the message each recipient would get for that date (default today),
as .eml and as a standalone .html with the cat embedded, and prints the
paths. It sends nothing and records no delivery. Takes the same flags as
'cotd run' (see 'cotd help run').
`,
	settings: true,
	flags:    func(fs *pflag.FlagSet) { previewFlags(fs) },
	run:      cmdPreview,
}

// previewFlags declares preview's own flags; --date is parsed as a date
// by pflag, with the rest.
func previewFlags(fs *pflag.FlagSet) (date *schedule.Day, outDir *string) {
	date = config.DayFlag(fs, "date", "the date to preview, YYYY-MM-DD (default today)")
	outDir = fs.String("out", "./preview", "folder for the .eml and .html files")
	return date, outDir
}

func cmdPreview(args []string, e env) error {
	var date *schedule.Day
	var outDir *string
	c, err := loadSettings("preview", args, e, func(fs *pflag.FlagSet) { date, outDir = previewFlags(fs) })
	if err != nil {
		return err
	}
	day := *date
	if day.IsZero() {
		day = schedule.DayOf(c.Now(), c.Job.Schedule.Loc)
	}
	j, _, err := openJob(c, e)
	if err != nil {
		return err
	}
	defer j.Store.Close()
	msgs, err := j.Preview(day)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o700); err != nil {
		return fmt.Errorf("preview folder %s: %w", *outDir, err)
	}
	for _, m := range msgs {
		base := filepath.Join(*outDir, day.String()+"-"+fileSafe(m.To))
		msg, err := mail.Compose(m)
		if err != nil {
			return err
		}
		var eml bytes.Buffer
		if err := mail.WriteEML(&eml, msg); err != nil {
			return err
		}
		html, err := mail.HTML(m)
		if err != nil {
			return err
		}
		for ext, data := range map[string][]byte{".eml": eml.Bytes(), ".html": html} {
			if err := os.WriteFile(base+ext, data, 0o600); err != nil {
				return fmt.Errorf("write %s: %w", base+ext, err)
			}
		}
		fmt.Fprintf(e.stdout, "%s.eml\n%s.html\n", base, base)
	}
	return nil
}

// fileSafe turns an address into a file name part.
func fileSafe(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@._+-", r) {
			return r
		}
		return '_'
	}, strings.ToLower(addr))
}
