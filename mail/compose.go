package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// brand is the name recipients know the mail by.
const brand = "Cat of the Day"

// ParseAddress validates one address such as `Cee <c@example.test>` or
// `c@example.test`. It refuses control characters (CR and LF above all, the
// stuff of header injection), bidi overrides, several addresses at once and
// display names whose RFC 2047 encoded words decode to control characters.
// The error quotes the offending value so the owner can find it.
func ParseAddress(s string) (*netmail.Address, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("address %q is not valid UTF-8: retype it", s)
	}
	if r, bad := firstForbidden(s); bad {
		return nil, fmt.Errorf("address %q contains the control character %U: remove it (line breaks in an address are refused)", s, r)
	}
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return nil, errors.New(`address is empty: write it like "Cee <c@example.test>" or c@example.test`)
	}
	a, err := netmail.ParseAddress(trimmed)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), "mail: ")
		if strings.Contains(reason, "single address") {
			return nil, fmt.Errorf("address %q holds more than one address: give exactly one here", s)
		}
		return nil, fmt.Errorf("address %q is not valid (%s): write it like \"Cee <c@example.test>\" or c@example.test", s, reason)
	}
	// net/mail decodes =?utf-8?q?...?= display names, so check what came out too.
	if r, bad := firstForbidden(a.Name + a.Address); bad {
		return nil, fmt.Errorf("address %q decodes to the control character %U: remove it", s, r)
	}
	if !utf8.ValidString(a.Name) {
		return nil, fmt.Errorf("address %q has a display name that is not valid UTF-8: retype it", s)
	}
	if _, err := asciiDomain(a.Address); err != nil {
		return nil, fmt.Errorf("address %q is not valid: %v", s, err)
	}
	return a, nil
}

// ParseAddressList splits a comma-separated list such as the --to value and
// parses each entry with ParseAddress. Commas inside quoted display names,
// angle brackets and comments do not split. Blank entries (a trailing comma)
// are ignored; an empty list and an address listed twice are errors.
func ParseAddressList(s string) ([]*netmail.Address, error) {
	var out []*netmail.Address
	seen := map[string]bool{}
	for _, item := range splitAddressList(s) {
		if strings.TrimSpace(item) == "" && !strings.ContainsFunc(item, isForbidden) {
			continue
		}
		a, err := ParseAddress(item)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(a.Address)
		if seen[key] {
			return nil, fmt.Errorf("address %q is listed twice: give each recipient once", a.Address)
		}
		seen[key] = true
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address in %q: give at least one, e.g. \"Cee <c@example.test>, d@example.test\"", s)
	}
	return out, nil
}

// splitAddressList splits at commas that are outside "quoted strings",
// <angle brackets> and (comments). Backslash escapes a character inside quotes
// and comments, as in RFC 5322.
func splitAddressList(s string) []string {
	var (
		items   []string
		start   int
		quoted  bool
		escaped bool
		angle   int
		comment int
	)
	for i, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && (quoted || comment > 0):
			escaped = true
		case quoted:
			if r == '"' {
				quoted = false
			}
		case r == '"':
			quoted = true
		case r == '(':
			comment++
		case r == ')' && comment > 0:
			comment--
		case comment > 0:
		case r == '<':
			angle++
		case r == '>' && angle > 0:
			angle--
		case r == ',' && angle == 0:
			items = append(items, s[start:i])
			start = i + 1
		}
	}
	return append(items, s[start:])
}

// isForbidden reports characters that never belong in a header: C0 and C1
// controls (CR, LF, NUL, TAB...), DEL, the Unicode line and paragraph
// separators and the bidi overrides that can make an address read as another.
func isForbidden(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

func firstForbidden(s string) (rune, bool) {
	for _, r := range s {
		if isForbidden(r) {
			return r, true
		}
	}
	return 0, false
}

// cleanHeaderText turns anything forbidden in a header into a space and
// collapses runs of white space, so text from the quotes file or the config
// can never start a new header line.
func cleanHeaderText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if isForbidden(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Subject is the subject line: the brand and the date, short so phones show
// all of it, and distinct per day so days never thread into one conversation.
// A day whose photo has a caption names it first ("Cat of the Day: Mochi on
// the radiator, Wed 12 Mar 2025"); a digest names its date range, how many
// cats it carries and the newest one's caption.
func Subject(m Message) string {
	if len(m.Days) == 0 {
		return brand
	}
	newest := m.Days[0].Date
	caption := shorten(typeset(cleanText(m.Days[0].Caption), false), subjectCaptionMax)
	if !m.Digest() {
		if caption != "" {
			return brand + ": " + caption + ", " + newest.Format("Mon 2 Jan 2006")
		}
		return brand + ": " + newest.Format("Mon 2 Jan 2006")
	}
	oldest := m.Days[len(m.Days)-1].Date
	if caption != "" {
		return fmt.Sprintf("%s: %s (%d cats, newest %s)", brand, dateRange(oldest, newest), len(m.Days), caption)
	}
	return fmt.Sprintf("%s: %s (%d cats)", brand, dateRange(oldest, newest), len(m.Days))
}

// subjectCaptionMax keeps a long caption from pushing the date out of a
// phone's one-line subject.
const subjectCaptionMax = 48

// shorten cuts s to at most max characters at a word boundary, with an
// ellipsis when anything was cut.
func shorten(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.–—-") + "…"
}

// dateRange writes "9–12 Mar 2025", "28 Feb – 2 Mar 2025" or
// "30 Dec 2024 – 2 Jan 2025", naming each part only once.
func dateRange(from, to time.Time) string {
	switch {
	case from.Year() != to.Year():
		return from.Format("2 Jan 2006") + " – " + to.Format("2 Jan 2006")
	case from.Month() != to.Month():
		return from.Format("2 Jan") + " – " + to.Format("2 Jan 2006")
	default:
		return from.Format("2") + "–" + to.Format("2 Jan 2006")
	}
}

// MessageID returns the Message-ID, angle brackets included, as it appears
// in the header. It depends only on the days' dates and the recipient's
// address, so a resend of the same day to the same person carries the same
// ID and clients can recognise it. The recipient is hashed, not spelled out,
// because Message-IDs travel in References headers of forwarded mail.
//
// It is kept short (the newest date, a 64-bit hash, the domain): go-mail
// folds any header value longer than about 60 characters onto a line of
// its own, and a folded Message-ID trips up threading in some clients.
func MessageID(m Message) string {
	rcpt := strings.ToLower(strings.TrimSpace(m.To))
	if a, err := ParseAddress(m.To); err == nil {
		rcpt = strings.ToLower(a.Address)
	}
	h := sha256.New()
	fmt.Fprintf(h, "cotd message-id v1\n%s\n", rcpt)
	for _, d := range m.Days {
		fmt.Fprintf(h, "%s\n", d.Date.Format(time.DateOnly))
	}
	prefix := "<cotd."
	if m.Test != "" {
		// "cotd-test." never starts a real delivery's ID.
		prefix = "<cotd-test."
		fmt.Fprintf(h, "test %s\n", m.Test)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]

	var dates string
	switch n := len(m.Days); {
	case n == 0:
		dates = "none"
	case !m.Digest():
		dates = m.Days[0].Date.Format("20060102")
	default:
		// The oldest day, then the newest one's day of the month: the
		// hash tells digests apart, the dates are for people reading logs.
		dates = m.Days[n-1].Date.Format("20060102") + "-" + m.Days[0].Date.Format("02")
	}
	return prefix + dates + "." + sum + "@" + senderDomain(m.From) + ">"
}

// senderDomain is the domain of From, the right-hand side of Message-IDs and
// Content-IDs; a From that does not parse (Compose refuses it anyway) gives
// a reserved name rather than a panic.
func senderDomain(from string) string {
	a, err := ParseAddress(from)
	if err != nil {
		return "cotd.invalid"
	}
	at := strings.LastIndexByte(a.Address, '@')
	domain := strings.ToLower(a.Address[at+1:])
	if domain == "" || strings.ContainsAny(domain, "<>\"\\ ") {
		return "cotd.invalid"
	}
	return domain
}

// Compose builds the message one recipient gets: one day, or a catch-up
// digest when m.Days holds several (newest first).
//
// The MIME structure is what mail clients expect from a photo newsletter:
//
//	multipart/alternative
//	├── text/plain                  (quoted-printable, reads well alone)
//	└── multipart/related
//	    ├── text/html               (references each cat as cid:...)
//	    └── image/jpeg ...          (one per day, inline, own Content-ID)
//
// Boundaries are derived from the Message-ID, so composing the same message
// twice gives the same bytes.
func Compose(m Message) (*gomail.Msg, error) {
	if err := validate(m); err != nil {
		return nil, err
	}
	from, err := ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	to, err := ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	// The domains go out in their ASCII (IDNA) form, which servers without
	// SMTPUTF8 take; ParseAddress has checked that they have one.
	for _, a := range []*netmail.Address{from, to} {
		a.Address, _ = asciiDomain(a.Address)
	}
	owner := from
	if strings.TrimSpace(m.Owner) != "" {
		if owner, err = ParseAddress(m.Owner); err != nil {
			return nil, fmt.Errorf("owner: %w", err)
		}
	}

	id := MessageID(m)
	domain := senderDomain(m.From)
	cids := make([]string, len(m.Days))
	srcs := make([]string, len(m.Days))
	for i, d := range m.Days {
		cids[i] = "cat-" + d.Date.Format(time.DateOnly) + "@" + domain
		srcs[i] = "cid:" + cids[i]
	}
	v, err := newView(m, owner, srcs)
	if err != nil {
		return nil, err
	}
	htmlBody, err := renderHTML(v)
	if err != nil {
		return nil, err
	}
	textBody, err := renderText(v)
	if err != nil {
		return nil, err
	}

	seed := sha256.Sum256([]byte(id))
	tag := hex.EncodeToString(seed[:12])
	relBoundary := "cotd_rel_" + tag
	related, err := buildRelated(htmlBody, m.Days, cids, relBoundary)
	if err != nil {
		return nil, err
	}

	altBoundary := "cotd_alt_" + tag
	body, err := buildAlternative(textBody, related, relBoundary, altBoundary)
	if err != nil {
		return nil, err
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	if !strings.EqualFold(owner.Address, from.Address) {
		// From is a service address (the SMTP account's); a reply, a
		// thank-you for the cat, should reach the person behind it.
		msg.SetAddrHeaderFromMailAddress(gomail.HeaderReplyTo, owner)
	}
	msg.Subject(cleanHeaderText(Subject(m)))
	msg.SetDateWithValue(dateHeader(m))
	msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">"))
	// RFC 2919: a tiny private list; filters and "mute" buttons key on it.
	msg.SetGenHeader(gomail.Header("List-Id"), listID(owner, domain))
	msg.SetListUnsubscribe(unsubscribeURL(owner.Address))
	// RFC 3834: this is machine-sent mail; holiday auto-replies should not
	// answer it, and Exchange honours its own header for the same thing.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetGenHeader(gomail.HeaderUserAgent, "cotd") // one of User-Agent/X-Mailer is enough

	// go-mail gives every part it writes a charset and a transfer
	// encoding, which a multipart/related holding JPEGs has no use for. So
	// the whole multipart/alternative body is written here, each part with
	// exactly the headers it needs, and handed to go-mail as the message's
	// only part (go-mail still labels that top level 8bit; it is 7-bit).
	msg.SetBodyWriter(gomail.ContentType(`multipart/alternative; boundary="`+altBoundary+`"`), func(w io.Writer) (int64, error) {
		n, err := w.Write(body)
		return int64(n), err
	}, gomail.WithPartEncoding(gomail.NoEncoding))
	return msg, nil
}

// listID is the List-Id value: "Ana Lima's cats <cat-of-the-day.example.test>".
func listID(owner *netmail.Address, domain string) string {
	label := brand
	if name := personName(owner); name != "" {
		label = brand + " from " + name
	}
	label = strings.NewReplacer(`"`, "", `\`, "", "(", "", ")", "", "<", "", ">", "").Replace(cleanHeaderText(label))
	return mime.QEncoding.Encode("utf-8", label) + " <cat-of-the-day." + domain + ">"
}

// buildAlternative writes the multipart/alternative body: the plain text
// first (quoted-printable UTF-8), then the multipart/related HTML and cats.
func buildAlternative(text string, related []byte, relBoundary, boundary string) ([]byte, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, fmt.Errorf("compose: boundary: %w", err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := w.CreatePart(h)
	if err != nil {
		return nil, fmt.Errorf("compose: text part: %w", err)
	}
	qp := quotedprintable.NewWriter(pw)
	if _, err := io.WriteString(qp, text); err != nil {
		return nil, fmt.Errorf("compose: text part: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("compose: text part: %w", err)
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Type", `multipart/related; boundary="`+relBoundary+`"; type="text/html"`)
	pw, err = w.CreatePart(h)
	if err != nil {
		return nil, fmt.Errorf("compose: related part: %w", err)
	}
	if _, err := pw.Write(related); err != nil {
		return nil, fmt.Errorf("compose: related part: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compose: close alternative part: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteEML writes msg as RFC 5322 bytes with CRLF line endings: what an
// SMTP server would receive, and what the outbox and `cotd preview` store.
func WriteEML(w io.Writer, msg *gomail.Msg) error {
	if _, err := msg.WriteTo(w); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

func validate(m Message) error {
	if len(m.Days) == 0 {
		return errors.New("compose: the message holds no day")
	}
	for i, d := range m.Days {
		if len(d.Photo) == 0 {
			return fmt.Errorf("compose: day %s has no photo", d.Date.Format(time.DateOnly))
		}
		if i > 0 && !d.Date.Before(m.Days[i-1].Date) {
			return fmt.Errorf("compose: days must be newest first and distinct, got %s after %s",
				d.Date.Format(time.DateOnly), m.Days[i-1].Date.Format(time.DateOnly))
		}
	}
	return nil
}

// dateHeader is the Date header: the submission time when the caller gave
// one, else the scheduled time (previews, which are never submitted).
func dateHeader(m Message) time.Time {
	if !m.Date.IsZero() {
		return m.Date
	}
	return sentAt(m)
}

func sentAt(m Message) time.Time {
	if !m.SentAt.IsZero() {
		return m.SentAt
	}
	return m.Days[0].Date
}

// unsubscribeURL is the mailto: URI of List-Unsubscribe and of the footer's
// link. Characters outside a conservative set are percent-encoded so an odd
// but valid local part cannot break the URI.
func unsubscribeURL(addr string) string {
	var b strings.Builder
	b.WriteString("mailto:")
	for _, c := range []byte(addr) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("@.-_+!$'*=~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	b.WriteString("?subject=unsubscribe")
	return b.String()
}

// buildRelated writes the multipart/related body: the HTML first (the root
// part), then each day's JPEG, inline, addressed by its Content-ID.
func buildRelated(htmlBody []byte, days []Day, cids []string, boundary string) ([]byte, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, fmt.Errorf("compose: boundary: %w", err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := w.CreatePart(h)
	if err != nil {
		return nil, fmt.Errorf("compose: html part: %w", err)
	}
	qp := quotedprintable.NewWriter(pw)
	if _, err := qp.Write(htmlBody); err != nil {
		return nil, fmt.Errorf("compose: html part: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("compose: html part: %w", err)
	}
	for i, d := range days {
		name := "cat-" + d.Date.Format(time.DateOnly) + ".jpg"
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", `image/jpeg; name="`+name+`"`)
		h.Set("Content-Transfer-Encoding", "base64")
		h.Set("Content-Disposition", `inline; filename="`+name+`"`)
		h.Set("Content-Id", "<"+cids[i]+">")
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, fmt.Errorf("compose: image part %s: %w", name, err)
		}
		if err := writeBase64Lines(pw, d.Photo); err != nil {
			return nil, fmt.Errorf("compose: image part %s: %w", name, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compose: close related part: %w", err)
	}
	return buf.Bytes(), nil
}

// writeBase64Lines writes data as base64 in 76-character lines (RFC 2045).
func writeBase64Lines(w io.Writer, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		if _, err := io.WriteString(w, enc[:n]+"\r\n"); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
}
