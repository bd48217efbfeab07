package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// brand is the name recipients know the mail by.
const brand = "Cat of the Day"

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

// maxEncodedWord keeps each RFC 2047 encoded word of a subject short
// enough that go-mail's folding puts the first one on the Subject: line
// itself: a longer word makes it fold right after "Subject:", and some
// clients then show an empty subject or a leading space.
const maxEncodedWord = 60

// encodeSubject is s (cleaned) as the header carries it: plain ASCII as
// it is, anything else as Q-encoded UTF-8 words of at most maxEncodedWord
// bytes, split between characters, separated by spaces where the header
// may fold (RFC 2047 §2, §5: the spaces between encoded words vanish, so
// every piece is encoded, the ASCII ones too).
func encodeSubject(s string) string {
	s = cleanHeaderText(s)
	if !needsEncoding(s) {
		return s
	}
	const open, end = "=?UTF-8?q?", "?="
	var words []string
	var cur strings.Builder
	for _, r := range s {
		q := qEncode(string(r))
		if cur.Len() > 0 && len(open)+cur.Len()+len(q)+len(end) > maxEncodedWord {
			words = append(words, open+cur.String()+end)
			cur.Reset()
		}
		cur.WriteString(q)
	}
	words = append(words, open+cur.String()+end)
	return strings.Join(words, " ")
}

// qEncode is RFC 2047's Q encoding of s: letters, digits and !*+-/ as
// they are, a space as '_', every other byte as =XX.
func qEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("!*+-/", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('_')
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// needsEncoding reports whether s holds anything but printable ASCII.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return true
		}
	}
	return false
}

// Subject is the subject line: the brand and the date, short so phones show
// all of it, and distinct per day so days never thread into one conversation.
// A day whose photo has a caption names it first ("Cat of the Day: Mochi on
// the radiator, Wed 12 Mar 2025"); a digest names its date range, how many
// cats it carries and the newest one's caption. A send-test's starts with
// "[test]", so it is never taken for the real morning.
func Subject(m Message) string {
	if m.Test != "" {
		return "[test] " + subject(m)
	}
	return subject(m)
}

func subject(m Message) string {
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
	// Rendered once here so that a message that cannot be rendered is
	// refused now, not while it goes out; the body renders them again.
	if _, err := renderHTML(v); err != nil {
		return nil, err
	}
	if _, err := renderText(v); err != nil {
		return nil, err
	}

	seed := sha256.Sum256([]byte(id))
	tag := hex.EncodeToString(seed[:12])
	relBoundary := "cotd_rel_" + tag
	altBoundary := "cotd_alt_" + tag
	// The body (its HTML, its text and its base64 cats) is rendered and
	// written straight to wherever the message goes (the server, the
	// outbox, a size count) each time it is written, and never kept: a run
	// composes every recipient's message but holds only one message's bytes
	// at a time, so 1,000 recipients of an 8-day digest cost little more
	// than one (issue 25 §6). The days' photos are shared, not copied.
	days := slices.Clone(m.Days)
	body := func(w io.Writer) (int64, error) {
		htmlBody, err := renderHTML(v)
		if err != nil {
			return 0, err
		}
		textBody, err := renderText(v)
		if err != nil {
			return 0, err
		}
		cw := &countingWriter{w: w}
		err = buildAlternative(cw, textBody, func(pw io.Writer) error {
			return buildRelated(pw, htmlBody, days, cids, relBoundary)
		}, relBoundary, altBoundary)
		return cw.n, err
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	if !strings.EqualFold(owner.Address, from.Address) {
		// From is a service address (the SMTP account's); a reply, a
		// thank-you for the cat, should reach the person behind it.
		msg.SetAddrHeaderFromMailAddress(gomail.HeaderReplyTo, owner)
	}
	msg.Subject(encodeSubject(Subject(m)))
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
	msg.SetBodyWriter(gomail.ContentType(`multipart/alternative; boundary="`+altBoundary+`"`), body,
		gomail.WithPartEncoding(gomail.NoEncoding))
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
