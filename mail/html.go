package mail

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	htmltemplate "html/template"
	"image/jpeg"
	netmail "net/mail"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates/mail.html.tmpl templates/mail.txt.tmpl
var templateFS embed.FS

var (
	htmlTmpl = htmltemplate.Must(htmltemplate.New("mail.html.tmpl").ParseFS(templateFS, "templates/mail.html.tmpl"))
	textTmpl = texttemplate.Must(texttemplate.New("mail.txt.tmpl").ParseFS(templateFS, "templates/mail.txt.tmpl"))
)

// contentWidth is the width of the mail's single column in CSS pixels: the
// cat fills it, phones shrink it to the screen.
const contentWidth = 600

// HTML renders m as one standalone HTML page for `cotd preview` and the
// browser test: the markup the mail carries, with each cid: image replaced
// by a data: URI so the file opens anywhere without its message.
func HTML(m Message) ([]byte, error) {
	if err := validate(m); err != nil {
		return nil, err
	}
	from, err := ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if m.To != "" {
		if _, err := ParseAddress(m.To); err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
	}
	owner := from
	if strings.TrimSpace(m.Owner) != "" {
		if owner, err = ParseAddress(m.Owner); err != nil {
			return nil, fmt.Errorf("owner: %w", err)
		}
	}
	srcs := make([]string, len(m.Days))
	for i, d := range m.Days {
		srcs[i] = "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(d.Photo)
	}
	v, err := newView(m, owner, srcs)
	if err != nil {
		return nil, err
	}
	return renderHTML(v)
}

// view is what both templates see. Every string in it is plain text; the
// HTML template escapes it, so a quote holding <script> stays words.
type view struct {
	Subject string
	Digest  bool
	// Intro opens a digest ("Two mornings went by without a cat ...") or a
	// late single day.
	Intro string
	Days  []dayView
	// From is the person the mail comes from ("Ana Lima"), empty when the
	// sender has no personal name: the footer then names nobody rather
	// than a program or a service address.
	From string
	// OwnerAddr is where unsubscribe requests go; Unsub is its mailto: URI.
	// OwnerAddr is empty when it would show the program's name to
	// recipients (cotd@...): the footer then says to reply instead.
	OwnerAddr string
	Unsub     htmltemplate.URL
	// MSO wraps the column in a fixed-width table for Outlook on Windows,
	// which ignores max-width, and gives Outlook a Windows font stack
	// (it drops a whole stack whose first font it lacks and falls back to
	// Times New Roman). html/template drops comments from templates, so
	// these conditional comments come in as trusted constants.
	MSOOpen, MSOClose, MSOHead htmltemplate.HTML
}

type dayView struct {
	Heading string // "Today, Wednesday 12 March" in a digest
	Date    string // "Wednesday, 12 March 2025"
	Caption string // "Mochi on the radiator", or empty
	Quote   string
	Author  string
	Src     htmltemplate.URL
	Alt     string
	Width   int
	Height  int
	File    string // the picture's file name in the message: cat-2025-03-12.jpg
}

const (
	msoOpen  = `<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->`
	msoClose = `<!--[if mso]></td></tr></table><![endif]-->`
	msoHead  = `<!--[if mso]><style>body, table, td, div, h1, h2, a { font-family: 'Segoe UI', Arial, sans-serif !important; mso-line-height-rule: exactly; } .quote { font-family: Georgia, 'Times New Roman', serif !important; }</style><![endif]-->`
)

// There is no hidden preheader: a hidden line and the spacer characters
// after it show in every client that reads the HTML as text (w3m, a reply
// quoted as plain text), and the inbox preview reads the visible header,
// the caption and the quote well enough.

// pictureName is the inline picture's file name, the one the plain-text
// part names and text-only clients show as an attachment.
func pictureName(d Day) string { return "cat-" + d.Date.Format(time.DateOnly) + ".jpg" }

// personName is the owner's display name when it names a person: not
// empty, not the brand, not the program.
func personName(a *netmail.Address) string {
	name := cleanText(a.Name)
	if name == "" || strings.EqualFold(name, brand) || mentionsProgram(name) {
		return ""
	}
	return name
}

// mentionsProgram reports text that would show recipients the program's
// name, which they have no reason to know.
func mentionsProgram(s string) bool { return strings.Contains(strings.ToLower(s), "cotd") }

func newView(m Message, owner *netmail.Address, srcs []string) (view, error) {
	v := view{
		Subject:  cleanHeaderText(Subject(m)),
		Digest:   m.Digest(),
		Unsub:    htmltemplate.URL(unsubscribeURL(owner.Address)),
		MSOOpen:  msoOpen,
		MSOClose: msoClose,
		MSOHead:  msoHead,
	}
	v.From = typeset(personName(owner), false)
	if !mentionsProgram(owner.Address) {
		v.OwnerAddr = owner.Address
	}

	ref := sentAt(m)
	for i, d := range m.Days {
		w, h := d.PhotoWidth, d.PhotoHeight
		if w <= 0 || h <= 0 {
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(d.Photo))
			if err != nil {
				return view{}, fmt.Errorf("compose: photo of %s is not a JPEG: %w", d.Date.Format(time.DateOnly), err)
			}
			w, h = cfg.Width, cfg.Height
		}
		dv := dayView{
			Date:    d.Date.Format("Monday, 2 January 2006"),
			Caption: typeset(cleanText(d.Caption), false),
			Quote:   typeset(cleanText(d.Quote), true),
			Author:  typeset(cleanText(d.Author), false),
			Src:     htmltemplate.URL(srcs[i]),
			Width:   contentWidth,
			Height:  (contentWidth*h + w/2) / w,
			File:    pictureName(d),
		}
		if v.Digest {
			dv.Heading = dayHeading(d.Date, ref)
		}
		// The alt text stands in for the picture when images are blocked:
		// a short line that differs per day (the date is already right
		// above it). Not the caption: that is right below it, and would
		// be said twice.
		dv.Alt = whose(d.Date, ref) + " cat"
		v.Days = append(v.Days, dv)
	}

	fromWhom := ""
	if v.From != "" {
		fromWhom = " from " + v.From
	}
	today := sameDate(m.Days[0].Date, ref)
	switch {
	case v.Digest:
		missed := len(m.Days)
		if today {
			missed--
		}
		v.Intro = fmt.Sprintf("%s went by without a cat%s. Here they all are, newest first.",
			upperFirst(countNoun(missed, "morning", "mornings")), fromWhom)
		if missed == 0 { // only possible if the caller sends several future days
			v.Intro = "Here are your cats, newest first."
		}
		v.Intro += skippedNote(m.Skipped)
	case today:
		if len(m.Skipped) > 0 { // catch-up=skip: say why yesterday had no cat
			v.Intro = fmt.Sprintf("%s went by without a cat%s (%s). Here is today’s.",
				upperFirst(countNoun(len(m.Skipped), "morning", "mornings")), fromWhom, spanOf(m.Skipped))
		}
	default:
		v.Intro = "A late one: this cat missed its morning, so it comes now." + skippedNote(m.Skipped)
	}
	return v, nil
}

// whose names a day for the alt text: "Today’s", "Yesterday’s", "Monday’s".
func whose(day, ref time.Time) string {
	switch {
	case sameDate(day, ref):
		return "Today’s"
	case sameDate(day.AddDate(0, 0, 1), ref):
		return "Yesterday’s"
	}
	return day.Format("Monday") + "’s"
}

func renderHTML(v view) ([]byte, error) {
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("compose: render html: %w", err)
	}
	return b.Bytes(), nil
}

func renderText(v view) (string, error) {
	var b strings.Builder
	if err := textTmpl.Execute(&b, v); err != nil {
		return "", fmt.Errorf("compose: render text: %w", err)
	}
	return b.String(), nil
}

// cleanText makes a quote or a name safe to lay out: control characters
// (CR, LF, tabs) become spaces and runs of spaces collapse, since a quote is
// one paragraph however the file wrote it.
func cleanText(s string) string { return cleanHeaderText(s) }

func sameDate(a, b time.Time) bool {
	b = b.In(a.Location())
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// dayHeading names a day the way a person would in a story: "Today, ...",
// "Yesterday, ...", then the plain date.
func dayHeading(day, ref time.Time) string {
	date := day.Format("Monday 2 January")
	switch {
	case sameDate(day, ref):
		return "Today, " + date
	case sameDate(day.AddDate(0, 0, 1), ref):
		return "Yesterday, " + date
	}
	return date
}

func skippedNote(skipped []time.Time) string {
	if len(skipped) == 0 {
		return ""
	}
	verb := "was"
	if len(skipped) > 1 {
		verb = "were"
	}
	return fmt.Sprintf(" %s before that %s skipped (%s).",
		upperFirst(countNoun(len(skipped), "morning", "mornings")), verb, spanOf(skipped))
}

// spanOf names the dates from the oldest to the newest of days.
func spanOf(days []time.Time) string {
	oldest, newest := days[0], days[0]
	for _, d := range days {
		if d.Before(oldest) {
			oldest = d
		}
		if d.After(newest) {
			newest = d
		}
	}
	if sameDate(oldest, newest) {
		return oldest.Format("2 Jan 2006")
	}
	return dateRange(oldest, newest)
}

var numberWords = []string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}

func countNoun(n int, one, many string) string {
	word := strconv.Itoa(n)
	if n >= 0 && n < len(numberWords) {
		word = numberWords[n]
	}
	if n == 1 {
		return word + " " + one
	}
	return word + " " + many
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
