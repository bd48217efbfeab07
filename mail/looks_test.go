package mail

import (
	"html"
	"mime"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Issue 14: the mail as mail software and readers judge it.

// TestWireHeaders: List-Id; Reply-To the owner when From is a service
// address (and none when the owner is the sender); one of User-Agent and
// X-Mailer; a Message-ID on one line even for a digest to a longer domain;
// no charset or 8bit label on the parts that hold pictures.
func TestWireHeaders(t *testing.T) {
	m := digestMessage(t)
	m.From = "Cat of the Day <cats@mail.lima-family.example>"
	p := parseMail(t, eml(t, m))

	if got := p.header.Get("List-Id"); got != "Cat of the Day from Ana Lima <cat-of-the-day.mail.lima-family.example>" {
		t.Errorf("List-Id = %q", got)
	}
	rt, err := p.header.AddressList("Reply-To")
	if err != nil || len(rt) != 1 || rt[0].Address != "ana@example.test" || rt[0].Name != "Ana Lima" {
		t.Errorf("Reply-To = %v (%v), want the owner Ana Lima <ana@example.test>", rt, err)
	}
	ua, xm := p.header.Get("User-Agent"), p.header.Get("X-Mailer")
	if (ua == "") == (xm == "") {
		t.Errorf("User-Agent %q and X-Mailer %q: want exactly one", ua, xm)
	}
	if !regexp.MustCompile(`(?m)^Message-I[Dd]: <[^\r\n]+>\r$`).MatchString(p.rawHead) {
		t.Errorf("Message-ID is folded or missing:\n%s", p.rawHead)
	}
	raw := string(eml(t, m))
	for _, part := range regexp.MustCompile(`(?s)Content-Type: (image/jpeg|multipart/related)[^\r\n]*\r\n(?:[A-Za-z-]+: [^\r\n]*\r\n)*`).FindAllString(raw, -1) {
		if strings.Contains(strings.ToLower(part), "charset") || strings.Contains(part, "8bit") {
			t.Errorf("a picture part carries a charset or 8bit:\n%s", part)
		}
	}
	for _, part := range regexp.MustCompile(`(?s)--cotd_rel_[0-9a-f]+\r\n((?:[A-Za-z-]+: [^\r\n]*\r\n)+)`).FindAllStringSubmatch(raw, -1) {
		if strings.Contains(part[1], "image/jpeg") && !strings.Contains(part[1], "Content-Transfer-Encoding: base64") {
			t.Errorf("image part without base64:\n%s", part[1])
		}
	}

	own := singleMessage(t)
	own.From, own.Owner = "Ana Lima <ana@example.test>", ""
	if got := parseMail(t, eml(t, own)).header.Get("Reply-To"); got != "" {
		t.Errorf("Reply-To %q when the owner sends it herself", got)
	}
}

// visibleText is what a recipient can see of a message: the subject, the
// plain text, and the HTML's text and alt attributes (not its markup, class
// names or cid: addresses).
func visibleText(t *testing.T, p parsed) string {
	t.Helper()
	subj, _ := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
	body := regexp.MustCompile(`(?s)<head>.*</head>`).ReplaceAllString(p.html, "")
	var alts []string
	for _, a := range regexp.MustCompile(`alt="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		alts = append(alts, html.UnescapeString(a[1]))
	}
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " "))
	return subj + "\n" + p.text + "\n" + text + "\n" + strings.Join(alts, "\n")
}

// TestNeverSaysCotd: whatever the sender is called, recipients never read
// the program's name: not with a service address as From and no owner,
// not in a digest, a late day or a day after skipped ones.
func TestNeverSaysCotd(t *testing.T) {
	loc := berlin(t)
	for _, tc := range []struct {
		name   string
		change func(*Message)
	}{
		{"single", func(*Message) {}},
		{"digest", func(m *Message) { *m = digestMessage(t) }},
		{"late", func(m *Message) { m.SentAt = m.SentAt.AddDate(0, 0, 2) }},
		{"after skipped", func(m *Message) { m.Skipped = []time.Time{day(loc, 2025, 3, 11)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := singleMessage(t)
			tc.change(&m)
			m.From, m.Owner = "cotd <cotd@example.test>", ""
			p := parseMail(t, eml(t, m))
			vis := visibleText(t, p)
			if i := strings.Index(strings.ToLower(vis), "cotd"); i >= 0 {
				t.Errorf("recipients read %q:\n%s", vis[max(0, i-40):min(len(vis), i+40)], vis)
			}
			if !strings.Contains(p.text, "reply with the subject “unsubscribe”") {
				t.Errorf("without an address to show, the footer does not say to reply:\n%s", p.text)
			}
			if p.header.Get("List-Unsubscribe") == "" {
				t.Error("no List-Unsubscribe")
			}
		})
	}
}

// TestDisplayNameInMail: the display name of From is who the mail says it
// is from, in the digest's intro and in the footer of both parts.
func TestDisplayNameInMail(t *testing.T) {
	m := digestMessage(t)
	m.From, m.Owner = "Ana O'Brien <ana@example.test>", ""
	p := parseMail(t, eml(t, m))
	for name, part := range map[string]string{"text": p.text, "html": html.UnescapeString(p.html)} {
		if !strings.Contains(part, "Two mornings went by without a cat from Ana O’Brien.") {
			t.Errorf("%s intro does not name the sender:\n%s", name, part)
		}
		if !strings.Contains(part, "Cat of the Day comes every morning from Ana O’Brien.") {
			t.Errorf("%s footer does not name the sender:\n%s", name, part)
		}
	}
}

// TestCaptions: a caption is shown under the photo, is its alt text and
// names the day in the subject; without one the alt text differs per day
// instead of repeating the date above it.
func TestCaptions(t *testing.T) {
	m := singleMessage(t)
	m.Days[0].Caption = "Mochi on the radiator"
	p := parseMail(t, eml(t, m))
	if s := Subject(m); s != "Cat of the Day: Mochi on the radiator, Wed 12 Mar 2025" {
		t.Errorf("Subject = %q", s)
	}
	// With images off the alt text shows, right above the caption: it is
	// not the caption again.
	if !regexp.MustCompile(`<img [^>]*alt="Today’s cat"`).MatchString(p.html) || strings.Count(p.html[strings.Index(p.html, "<body"):], "Mochi on the radiator") != 1 {
		t.Errorf("the caption is said more than once (alt text and caption):\n%s", p.html)
	}
	if !regexp.MustCompile(`(?s)<img [^>]*>.*class="soft caption"[^>]*>Mochi on the radiator</div>.*class="ink quote"`).MatchString(p.html) {
		t.Errorf("caption is not under the photo, above the quote:\n%s", p.html)
	}
	if !strings.Contains(p.text, "Picture attached: cat-2025-03-12.jpg (Mochi on the radiator)") {
		t.Errorf("text part does not caption the picture:\n%s", p.text)
	}

	d := digestMessage(t)
	d.Days[0].Caption = `Mochi's "radiator" nap, which went on and on all afternoon long until dinner`
	if s := Subject(d); s != "Cat of the Day: 10–12 Mar 2025 (3 cats, newest Mochi’s “radiator” nap, which went on and on…)" {
		t.Errorf("digest Subject = %q", s)
	}
	alts := regexp.MustCompile(`<img [^>]*alt="([^"]*)"`).FindAllStringSubmatch(parseMail(t, eml(t, d)).html, -1)
	var got []string
	for _, a := range alts {
		got = append(got, html.UnescapeString(a[1]))
	}
	want := "Today’s cat|Yesterday’s cat|Monday’s cat"
	if strings.Join(got, "|") != want {
		t.Errorf("alt texts = %q, want %q", strings.Join(got, "|"), want)
	}
}

func TestTypeset(t *testing.T) {
	for _, tc := range []struct {
		in     string
		nested bool
		want   string
	}{
		{"It's a cat's world.", true, "It’s a cat’s world."},
		{`He said "meow" twice.`, true, "He said ‘meow’ twice."},
		{`He said “meow” twice.`, true, "He said ‘meow’ twice."},
		{`"Purr," said the cat.`, false, "“Purr,” said the cat."},
		{"the 'good' chair", false, "the ‘good’ chair"},
		{"cats' toys", false, "cats’ toys"},
		{"Mochi (‘the boss’)", true, "Mochi (‘the boss’)"},
		{"", true, ""},
	} {
		if got := typeset(tc.in, tc.nested); got != tc.want {
			t.Errorf("typeset(%q, %v) = %q, want %q", tc.in, tc.nested, got, tc.want)
		}
	}
}

// TestHTMLStructure: the details a screen reader, Apple Mail, Outlook on
// Windows and a dark inbox need (the browser test checks them rendered).
func TestHTMLStructure(t *testing.T) {
	p := parseMail(t, eml(t, digestMessage(t)))
	if n := strings.Count(p.html, "<h2 "); n != 3 {
		t.Errorf("%d day headings (h2), want 3", n)
	}
	for _, need := range []string{
		"a[x-apple-data-detectors]",
		"mso-line-height-rule:exactly",
		"<!--[if mso]><style>",
		"'Segoe UI', Arial, sans-serif",
		".cat { background-color: #3d322b !important;",
	} {
		if !strings.Contains(p.html, need) {
			t.Errorf("HTML lacks %q", need)
		}
	}
	// No hidden text: it would show where the HTML is read as text.
	if regexp.MustCompile(`display:\s*none|&#847;|&zwnj;|\x{034f}|\x{200c}`).MatchString(p.html) {
		t.Error("the HTML carries hidden text or spacer characters")
	}
}
