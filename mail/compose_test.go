package mail

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cotd/internal/mailpit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testJPEG draws a small gradient picture: enough to be a real JPEG with
// known dimensions, different per colour so digest days are told apart.
func testJPEG(t testing.TB, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			k := uint8(255 * (x + y) / (w + h))
			img.Set(x, y, color.RGBA{c.R/2 + k/2, c.G/2 + k/3, c.B / 2, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("load zone (install tzdata): %v", err)
	}
	return loc
}

func day(loc *time.Location, y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// singleMessage is one ordinary morning, with a non-ASCII recipient name.
func singleMessage(t testing.TB) Message {
	loc := berlin(t)
	return Message{
		From:  "Cat of the Day <cotd@example.test>",
		To:    "Zoë Müller <zoe@example.test>",
		Owner: "Ana Lima <ana@example.test>",
		Days: []Day{{
			Date:        day(loc, 2025, time.March, 12),
			Quote:       "Time spent with cats is never wasted.",
			Author:      "Sigmund Freud",
			Photo:       testJPEG(t, 64, 48, color.RGBA{230, 140, 60, 255}),
			PhotoWidth:  64,
			PhotoHeight: 48,
		}},
		SentAt: time.Date(2025, time.March, 12, 7, 0, 0, 0, loc),
	}
}

// digestMessage is the morning after two missed days, with two older days
// beyond the cap recorded as skipped. One photo's size is left for Compose to
// read from the JPEG, one quote is Japanese and has no author.
func digestMessage(t testing.TB) Message {
	loc := berlin(t)
	return Message{
		From:  "Cat of the Day <cotd@example.test>",
		To:    "bo@example.test",
		Owner: "Ana Lima <ana@example.test>",
		Days: []Day{
			{
				Date: day(loc, 2025, time.March, 12), Quote: "Time spent with cats is never wasted.", Author: "Sigmund Freud",
				Photo: testJPEG(t, 64, 48, color.RGBA{230, 140, 60, 255}), PhotoWidth: 64, PhotoHeight: 48,
			},
			{
				Date: day(loc, 2025, time.March, 11), Quote: "猫は世界を救う",
				Photo: testJPEG(t, 48, 64, color.RGBA{90, 160, 220, 255}),
			},
			{
				Date: day(loc, 2025, time.March, 10), Quote: "A cat has absolute emotional honesty.", Author: "Ernest Hemingway",
				Photo: testJPEG(t, 80, 40, color.RGBA{120, 200, 110, 255}), PhotoWidth: 80, PhotoHeight: 40,
			},
		},
		SentAt:  time.Date(2025, time.March, 12, 7, 0, 0, 0, loc),
		Skipped: []time.Time{day(loc, 2025, time.March, 8), day(loc, 2025, time.March, 9)},
	}
}

// parsed is a message as a mail client sees it after decoding.
type parsed struct {
	header  netmail.Header
	rawHead string
	text    string
	html    string
	images  []image_
}

type image_ struct {
	cid         string
	disposition string
	filename    string
	data        []byte
}

func eml(t *testing.T, m Message) []byte {
	t.Helper()
	msg, err := Compose(m)
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	var b bytes.Buffer
	if err := WriteEML(&b, msg); err != nil {
		t.Fatalf("WriteEML: %v", err)
	}
	return b.Bytes()
}

// parseMail reads raw bytes the way a mail client does and insists on the
// structure alternative{plain, related{html, jpeg...}}.
func parseMail(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v", err)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	p := parsed{header: msg.Header, rawHead: string(head)}

	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("top-level Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	alt := multipart.NewReader(msg.Body, params["boundary"])
	var kinds []string
	for {
		part, err := alt.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read alternative part: %v", err)
		}
		ct, cparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("alternative part Content-Type %q: %v", part.Header.Get("Content-Type"), err)
		}
		kinds = append(kinds, ct)
		switch ct {
		case "text/plain":
			if !strings.EqualFold(cparams["charset"], "utf-8") {
				t.Errorf("text/plain charset = %q, want UTF-8", cparams["charset"])
			}
			b, _ := io.ReadAll(part)
			p.text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case "multipart/related":
			if cparams["type"] != "text/html" {
				t.Errorf("multipart/related type parameter = %q, want text/html", cparams["type"])
			}
			p.readRelated(t, part, cparams["boundary"])
		}
	}
	if strings.Join(kinds, ",") != "text/plain,multipart/related" {
		t.Fatalf("alternative parts = %v, want [text/plain multipart/related] (plain first, richest last)", kinds)
	}
	return p
}

func (p *parsed) readRelated(t *testing.T, r io.Reader, boundary string) {
	t.Helper()
	rel := multipart.NewReader(r, boundary)
	for i := 0; ; i++ {
		part, err := rel.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read related part: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatalf("read related part %d: %v", i, err)
		}
		if i == 0 {
			if ct != "text/html" {
				t.Fatalf("first related part is %q, want the text/html root", ct)
			}
			p.html = strings.ReplaceAll(string(body), "\r\n", "\n")
			continue
		}
		if ct != "image/jpeg" {
			t.Fatalf("related part %d is %q, want image/jpeg", i, ct)
		}
		if enc := part.Header.Get("Content-Transfer-Encoding"); enc != "base64" {
			t.Fatalf("image part encoding %q, want base64", enc)
		}
		data, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body)))
		if err != nil {
			t.Fatalf("image part is not base64: %v", err)
		}
		disp, dparams, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if err != nil {
			t.Fatalf("image Content-Disposition %q: %v", part.Header.Get("Content-Disposition"), err)
		}
		p.images = append(p.images, image_{
			cid:         strings.Trim(part.Header.Get("Content-Id"), "<>"),
			disposition: disp,
			filename:    dparams["filename"],
			data:        data,
		})
	}
}

func TestComposeStructure(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  func(testing.TB) Message
	}{
		{"single", singleMessage},
		{"digest", digestMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.msg(t)
			raw := eml(t, m)
			p := parseMail(t, raw)

			to, err := p.header.AddressList("To")
			if err != nil || len(to) != 1 {
				t.Fatalf("To = %v (%v), want exactly one recipient", to, err)
			}
			want, _ := ParseAddress(m.To)
			if to[0].Address != want.Address || to[0].Name != want.Name {
				t.Errorf("To decodes to %q <%s>, want %q <%s>", to[0].Name, to[0].Address, want.Name, want.Address)
			}
			for _, h := range []string{"Cc", "Bcc"} {
				if v := p.header.Get(h); v != "" {
					t.Errorf("%s header present: %q", h, v)
				}
			}
			from, err := p.header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Address != "cotd@example.test" || from[0].Name != "Cat of the Day" {
				t.Errorf("From = %v (%v)", from, err)
			}
			subj, err := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
			if err != nil || subj != Subject(m) {
				t.Errorf("Subject decodes to %q (%v), want %q", subj, err, Subject(m))
			}
			if !strings.Contains(subj, "Cat of the Day") || !strings.Contains(subj, "2025") {
				t.Errorf("Subject %q lacks the brand or the date", subj)
			}
			date, err := p.header.Date()
			if err != nil || !date.Equal(m.SentAt) {
				t.Errorf("Date = %v (%v), want %v", date, err, m.SentAt)
			}
			if got := p.header.Get("Message-Id"); got != MessageID(m) || !strings.HasSuffix(got, "@example.test>") {
				t.Errorf("Message-ID = %q, want %q at the From domain", got, MessageID(m))
			}
			if got := p.header.Get("List-Unsubscribe"); got != "<mailto:ana@example.test?subject=unsubscribe>" {
				t.Errorf("List-Unsubscribe = %q, want the owner's mailto", got)
			}
			if got := p.header.Get("Auto-Submitted"); got != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", got)
			}

			// One inline picture per day, each the day's own bytes, each
			// referenced from the HTML by cid: with alt text.
			if len(p.images) != len(m.Days) {
				t.Fatalf("%d images, want %d (one per day)", len(p.images), len(m.Days))
			}
			srcs := regexp.MustCompile(`<img [^>]*src="cid:([^"]+)"[^>]*>`).FindAllStringSubmatch(p.html, -1)
			if len(srcs) != len(m.Days) {
				t.Fatalf("HTML has %d cid images, want %d", len(srcs), len(m.Days))
			}
			seen := map[string]bool{}
			for i, img := range p.images {
				if img.disposition != "inline" {
					t.Errorf("image %d disposition %q, want inline", i, img.disposition)
				}
				if seen[img.cid] {
					t.Errorf("Content-ID %q used twice", img.cid)
				}
				seen[img.cid] = true
				if !bytes.Equal(img.data, m.Days[i].Photo) {
					t.Errorf("image %d is not day %d's photo", i, i)
				}
				if srcs[i][1] != img.cid {
					t.Errorf("HTML image %d points at cid:%s, part %d has Content-ID %s", i, srcs[i][1], i, img.cid)
				}
				if !regexp.MustCompile(`alt="[^"]+"`).MatchString(srcs[i][0]) {
					t.Errorf("image %d has no alt text: %s", i, srcs[i][0])
				}
				if _, err := jpeg.DecodeConfig(bytes.NewReader(img.data)); err != nil {
					t.Errorf("image %d does not decode: %v", i, err)
				}
			}

			// Both parts carry every quote, author and date, and no remote or
			// scripted content sneaks into the HTML.
			for _, d := range m.Days {
				for _, part := range []struct{ name, body string }{{"text", p.text}, {"html", p.html}} {
					if !strings.Contains(part.body, d.Quote) {
						t.Errorf("%s part lacks quote %q", part.name, d.Quote)
					}
					if d.Author != "" && !strings.Contains(part.body, d.Author) {
						t.Errorf("%s part lacks author %q", part.name, d.Author)
					}
					if !strings.Contains(part.body, d.Date.Format("2 January")) {
						t.Errorf("%s part lacks the date %s", part.name, d.Date.Format("2 January"))
					}
				}
			}
			for _, bad := range []string{"<script", "http://", "https://", "<link", "@import", "url("} {
				if strings.Contains(strings.ToLower(p.html), bad) {
					t.Errorf("HTML contains %q: mail must be self-contained and script-free", bad)
				}
			}
			for _, need := range []string{`<meta name="color-scheme" content="light dark">`, "prefers-color-scheme: dark", "max-width:600px", "width:100%", "height:auto"} {
				if !strings.Contains(p.html, need) {
					t.Errorf("HTML lacks %q", need)
				}
			}
			for _, img := range p.images {
				if !strings.Contains(p.text, "Picture attached: "+img.filename) {
					t.Errorf("text part does not name the picture %s:\n%s", img.filename, p.text)
				}
			}
			if !strings.Contains(p.text, "ana@example.test") || !strings.Contains(p.html, "mailto:ana@example.test?subject=unsubscribe") {
				t.Errorf("footer does not say how to stop getting the mail")
			}
		})
	}
}

func TestComposeDigestStory(t *testing.T) {
	m := digestMessage(t)
	p := parseMail(t, eml(t, m))
	for _, part := range []string{p.text, p.html} {
		if !strings.Contains(part, "Two mornings went by without a cat from Ana Lima") {
			t.Errorf("digest does not open the story:\n%s", part)
		}
		if !strings.Contains(part, "Two mornings before that were skipped (8–9 Mar 2025)") {
			t.Errorf("digest does not name the skipped days:\n%s", part)
		}
		// Newest first: today, then yesterday, then Monday.
		i0, i1, i2 := strings.Index(part, "Today, Wednesday 12 March"), strings.Index(part, "Yesterday, Tuesday 11 March"), strings.Index(part, "Monday 10 March")
		if i0 < 0 || i1 < 0 || i2 < 0 || !(i0 < i1 && i1 < i2) {
			t.Errorf("days not headed newest first (positions %d %d %d)", i0, i1, i2)
		}
	}
}

// TestComposeDeterministic: the same message composed twice is the same
// bytes, so the outbox copy, a preview and a resend all agree.
func TestComposeDeterministic(t *testing.T) {
	a, b := eml(t, digestMessage(t)), eml(t, digestMessage(t))
	if !bytes.Equal(a, b) {
		t.Fatal("composing the same message twice gave different bytes")
	}
}

// TestComposeSingleDayNotes: a day sent late (catch-up=each) and a day
// after skipped ones (catch-up=skip) each say so, in both parts.
func TestComposeSingleDayNotes(t *testing.T) {
	loc := berlin(t)
	for _, tc := range []struct {
		name   string
		change func(*Message)
		want   string
		note   string
	}{
		{"on time", func(*Message) {}, "", "Picture attached: cat-2025-03-12.jpg"},
		{"late", func(m *Message) { m.SentAt = m.SentAt.AddDate(0, 0, 2) }, "A late one: this cat missed its morning", "Picture attached: cat-2025-03-12.jpg"},
		{"after skipped days", func(m *Message) {
			m.Skipped = []time.Time{day(loc, 2025, 3, 11), day(loc, 2025, 3, 9), day(loc, 2025, 3, 10)}
		}, "Three mornings went by without a cat from Ana Lima (9–11 Mar 2025). Here is today’s.", "Picture attached"},
		{"one skipped day", func(m *Message) { m.Skipped = []time.Time{day(loc, 2025, 3, 11)} },
			"One morning went by without a cat from Ana Lima (11 Mar 2025)", "Picture attached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := singleMessage(t)
			tc.change(&m)
			p := parseMail(t, eml(t, m))
			if !strings.Contains(p.text, tc.note) {
				t.Errorf("text part lacks %q:\n%s", tc.note, p.text)
			}
			for _, part := range []string{p.text, html.UnescapeString(p.html)} {
				if tc.want == "" && (strings.Contains(part, "went by without") || strings.Contains(part, "late one")) {
					t.Errorf("an on-time mail talks about being away:\n%s", part)
				}
				if tc.want != "" && !strings.Contains(part, tc.want) {
					t.Errorf("part lacks %q:\n%s", tc.want, part)
				}
			}
		})
	}
}

// TestWriteEMLTwice: the outbox copy and the SMTP send write the same Msg;
// both must be the whole message.
func TestWriteEMLTwice(t *testing.T) {
	msg, err := Compose(digestMessage(t))
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := WriteEML(&a, msg); err != nil {
		t.Fatal(err)
	}
	if err := WriteEML(&b, msg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("writing the same message twice gave different bytes")
	}
	parseMail(t, b.Bytes())
}

func TestComposeHostileText(t *testing.T) {
	m := singleMessage(t)
	m.Days[0].Quote = "<script>alert('meow')</script>\r\nBcc: evil@example.test\r\n\r\nX-Injected: 1 & \"more\""
	m.Days[0].Author = "Eve\nX-Also: injected"
	raw := eml(t, m)
	p := parseMail(t, raw)

	for _, h := range []string{"Bcc", "X-Injected", "X-Also"} {
		if p.header.Get(h) != "" {
			t.Errorf("quote text became a %s header", h)
		}
	}
	if strings.Contains(p.rawHead, "evil") || strings.Contains(p.rawHead, "script") {
		t.Errorf("quote text leaked into the header section:\n%s", p.rawHead)
	}
	if strings.Contains(p.html, "<script") {
		t.Error("HTML contains a live <script> tag")
	}
	if !strings.Contains(p.html, "&lt;script&gt;alert(‘meow’)&lt;/script&gt;") {
		t.Errorf("HTML does not show the script as text:\n%s", p.html)
	}
	// A quote is one paragraph: its line breaks became spaces in both parts.
	if !strings.Contains(p.text, "“<script>alert(‘meow’)</script> Bcc: evil@example.test X-Injected: 1 & ‘more’”") {
		t.Errorf("text part does not carry the quote as one line:\n%s", p.text)
	}
	if !strings.Contains(p.text, "— Eve X-Also: injected") {
		t.Errorf("text part lost the author:\n%s", p.text)
	}
}

func TestComposeNonASCIISubject(t *testing.T) {
	raw := eml(t, digestMessage(t))
	p := parseMail(t, raw)
	rawSubj := p.header.Get("Subject")
	if !strings.Contains(rawSubj, "=?UTF-8?") {
		t.Errorf("non-ASCII subject %q is not RFC 2047 encoded", rawSubj)
	}
	for _, line := range strings.Split(p.rawHead, "\r\n") {
		for _, r := range line {
			if r > 127 {
				t.Fatalf("raw header line carries non-ASCII: %q", line)
			}
		}
	}
	single := parseMail(t, eml(t, singleMessage(t)))
	to, _ := single.header.AddressList("To")
	if len(to) != 1 || to[0].Name != "Zoë Müller" {
		t.Errorf("non-ASCII display name did not survive: %v", to)
	}
}

func TestComposeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Message)
		want   string
	}{
		{"no days", func(m *Message) { m.Days = nil }, "no day"},
		{"no photo", func(m *Message) { m.Days[1].Photo = nil }, "2025-03-11 has no photo"},
		{"oldest first", func(m *Message) { m.Days[0], m.Days[2] = m.Days[2], m.Days[0] }, "newest first"},
		{"same day twice", func(m *Message) { m.Days[1].Date = m.Days[0].Date }, "newest first"},
		{"not a jpeg", func(m *Message) { m.Days[1].Photo = []byte("GIF89a"); m.Days[1].PhotoWidth = 0 }, "not a JPEG"},
		{"bad from", func(m *Message) { m.From = "cotd@example.test\r\nBcc: x@example.test" }, "from: address"},
		{"bad to", func(m *Message) { m.To = "a@example.test, b@example.test" }, "more than one address"},
		{"bad owner", func(m *Message) { m.Owner = "not an address" }, "owner: address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := digestMessage(t)
			tc.change(&m)
			_, err := Compose(m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compose error = %v, want one containing %q", err, tc.want)
			}
			if _, err := HTML(m); err == nil {
				t.Errorf("HTML accepted what Compose refuses")
			}
		})
	}
}

func TestSubject(t *testing.T) {
	loc := berlin(t)
	days := func(ds ...time.Time) Message {
		var m Message
		for _, d := range ds {
			m.Days = append(m.Days, Day{Date: d})
		}
		return m
	}
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{days(day(loc, 2025, 3, 12)), "Cat of the Day: Wed 12 Mar 2025"},
		{days(day(loc, 2025, 3, 13)), "Cat of the Day: Thu 13 Mar 2025"},
		{days(day(loc, 2026, 3, 12)), "Cat of the Day: Thu 12 Mar 2026"},
		{days(day(loc, 2025, 3, 12), day(loc, 2025, 3, 11), day(loc, 2025, 3, 9)), "Cat of the Day: 9–12 Mar 2025 (3 cats)"},
		{days(day(loc, 2025, 3, 2), day(loc, 2025, 2, 28)), "Cat of the Day: 28 Feb – 2 Mar 2025 (2 cats)"},
		{days(day(loc, 2025, 1, 1), day(loc, 2024, 12, 30)), "Cat of the Day: 30 Dec 2024 – 1 Jan 2025 (2 cats)"},
		{Message{}, "Cat of the Day"},
	} {
		if got := Subject(tc.m); got != tc.want {
			t.Errorf("Subject = %q, want %q", got, tc.want)
		}
	}
}

func TestMessageID(t *testing.T) {
	base := singleMessage(t)
	id := MessageID(base)
	if !regexp.MustCompile(`^<cotd\.20250312\.[0-9a-f]{16}@example\.test>$`).MatchString(id) {
		t.Fatalf("MessageID = %q, not the expected shape", id)
	}
	if strings.Contains(id, "zoe") {
		t.Errorf("MessageID %q spells out the recipient", id)
	}
	same := base
	same.To = "ZOE@EXAMPLE.TEST" // another spelling of the same person
	same.Days = []Day{base.Days[0]}
	same.Days[0].Quote = "another quote does not make another day"
	same.SentAt = base.SentAt.Add(3 * time.Hour)
	if got := MessageID(same); got != id {
		t.Errorf("resend to the same person has Message-ID %q, want %q", got, id)
	}
	other := base
	other.To = "bo@example.test"
	if MessageID(other) == id {
		t.Error("two recipients share a Message-ID")
	}
	next := base
	next.Days = []Day{{Date: base.Days[0].Date.AddDate(0, 0, 1)}}
	if MessageID(next) == id {
		t.Error("two days share a Message-ID")
	}
	d := digestMessage(t)
	d.To = base.To
	if got := MessageID(d); got == id || !strings.HasPrefix(got, "<cotd.20250310-12.") {
		t.Errorf("digest Message-ID = %q", got)
	}
}

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in, name, addr string
		err            string // substring; empty means valid
	}{
		{in: "c@example.test", addr: "c@example.test"},
		{in: "  Cee <c@example.test> ", name: "Cee", addr: "c@example.test"},
		{in: `"Lee, Cee" <c@example.test>`, name: "Lee, Cee", addr: "c@example.test"},
		{in: "Zoë Müller <zoe@example.test>", name: "Zoë Müller", addr: "zoe@example.test"},
		{in: "=?utf-8?q?Zo=C3=AB?= <zoe@example.test>", name: "Zoë", addr: "zoe@example.test"},
		{in: "c@example.test\r\nBcc: evil@example.test", err: `"c@example.test\r\nBcc: evil@example.test" contains the control character U+000D`},
		{in: "Cee <c@example.test>\n", err: "U+000A"},
		{in: "c@exam\x00ple.test", err: "U+0000"},
		{in: "Cee\t<c@example.test>", err: "U+0009"},
		{in: "=?utf-8?q?a=0D=0Ab?= <c@example.test>", err: "decodes to the control character U+000D"},
		{in: "\u202egnp.test@c", err: "U+202E"},
		{in: "a@example.test, b@example.test", err: `"a@example.test, b@example.test" holds more than one address`},
		{in: "", err: "address is empty"},
		{in: "Cee", err: `address "Cee" is not valid`},
		{in: "c@", err: `address "c@" is not valid`},
		{in: "\xff@example.test", err: "not valid UTF-8"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			a, err := ParseAddress(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseAddress(%q) error = %v, want one containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAddress(%q): %v", tc.in, err)
			}
			if a.Name != tc.name || a.Address != tc.addr {
				t.Errorf("ParseAddress(%q) = %q <%s>, want %q <%s>", tc.in, a.Name, a.Address, tc.name, tc.addr)
			}
		})
	}
}

func TestParseAddressList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // addresses
		err  string
	}{
		{in: "a@example.test", want: []string{"a@example.test"}},
		{in: `Cee <c@example.test>, "Lee, Dee" <d@example.test>,e@example.test`, want: []string{"c@example.test", "d@example.test", "e@example.test"}},
		{in: `Cee (the, cat) <c@example.test>, a@example.test,`, want: []string{"c@example.test", "a@example.test"}},
		{in: `"Quote \" , comma" <q@example.test>, b@example.test`, want: []string{"q@example.test", "b@example.test"}},
		{in: "a@example.test, A@Example.test", err: `"A@Example.test" is listed twice`},
		{in: "a@example.test, b@example.test\r\nBcc: evil@example.test", err: "U+000D"},
		{in: "a@example.test, ,\n", err: "U+000A"},
		{in: " , ", err: "no address in"},
		{in: "", err: "no address in"},
		{in: "a@example.test, nonsense", err: `address " nonsense" is not valid`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAddressList(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseAddressList(%q) error = %v, want one containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAddressList(%q): %v", tc.in, err)
			}
			var addrs []string
			for _, a := range got {
				addrs = append(addrs, a.Address)
			}
			if fmt.Sprint(addrs) != fmt.Sprint(tc.want) {
				t.Errorf("ParseAddressList(%q) = %v, want %v", tc.in, addrs, tc.want)
			}
		})
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"c@example.test", "Cee <c@example.test>", `"Lee, Cee" <c@example.test>, d@example.test`,
		"=?utf-8?q?a=0D=0A?= <c@example.test>", "a@b\r\nBcc: c@d", "Zoë <z@example.test>", "(c) a@b, <x@y>",
		`"\"" <q@example.test>`, "=?utf-8?b?4oCu?= <x@example.test>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(a *netmail.Address) {
			for _, v := range []string{a.Name, a.Address, a.String()} {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("accepted %q gives %q with CR, LF or NUL", s, v)
				}
			}
		}
		if a, err := ParseAddress(s); err == nil {
			check(a)
		}
		if list, err := ParseAddressList(s); err == nil {
			if len(list) == 0 {
				t.Fatalf("ParseAddressList(%q) accepted an empty list", s)
			}
			for _, a := range list {
				check(a)
			}
		}
	})
}

// TestGolden pins the words and markup of both parts, decoded from the
// composed message, for a single day and a three-day digest.
// Run `go test ./mail -run TestGolden -update` after an intended change and
// read the diff.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  func(testing.TB) Message
	}{
		{"single", singleMessage},
		{"digest", digestMessage},
	} {
		p := parseMail(t, eml(t, tc.msg(t)))
		golden(t, filepath.Join("testdata", tc.name+".txt.golden"), p.text)
		golden(t, filepath.Join("testdata", tc.name+".html.golden"), p.html)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what Compose makes now; rerun with -update if intended.\n--- got ---\n%s", path, got)
	}
}

// TestHTMLPreview: the preview page is the mail's HTML with data: URIs in
// place of cid: references, nothing else changed.
func TestHTMLPreview(t *testing.T) {
	m := digestMessage(t)
	page, err := HTML(m)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMail(t, eml(t, m))
	srcs := regexp.MustCompile(`src="data:image/jpeg;base64,([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	if len(srcs) != len(m.Days) {
		t.Fatalf("preview has %d data: images, want %d", len(srcs), len(m.Days))
	}
	for i, s := range srcs {
		data, err := base64.StdEncoding.DecodeString(html.UnescapeString(s[1]))
		if err != nil || !bytes.Equal(data, m.Days[i].Photo) {
			t.Errorf("preview image %d is not day %d's photo (%v)", i, i, err)
		}
	}
	norm := regexp.MustCompile(`src="(cid|data):[^"]+"`)
	if a, b := norm.ReplaceAllString(string(page), "SRC"), norm.ReplaceAllString(p.html, "SRC"); a != b {
		t.Errorf("preview markup differs from the mail's HTML beyond the image sources")
	}
}

// TestComposeMailpitReadsIt hands the composed digest to a real Mailpit over
// SMTP and asks Mailpit's parser (the one its web UI uses) what it sees: the
// cats inline and no attachments, the decoded subject and text, and its
// caniemail-based HTML check of how well mail clients support the markup.
func TestComposeMailpitReadsIt(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{})
	m := digestMessage(t)
	msg, err := Compose(m)
	if err != nil {
		t.Fatal(err)
	}
	id := sendToMailpit(t, srv, msg)

	var got struct {
		Subject     string
		Text        string
		HTML        string
		To          []struct{ Address string }
		Attachments []struct{ FileName string }
		Inline      []struct{ ContentID, ContentType string }
	}
	mailpitJSON(t, srv.API+"/message/"+id, &got)
	if got.Subject != Subject(m) {
		t.Errorf("mailpit reads subject %q, want %q", got.Subject, Subject(m))
	}
	if len(got.To) != 1 || got.To[0].Address != "bo@example.test" {
		t.Errorf("mailpit reads To %v", got.To)
	}
	if len(got.Attachments) != 0 {
		t.Errorf("mailpit shows attachments %v: the cats must be inline", got.Attachments)
	}
	if len(got.Inline) != len(m.Days) {
		t.Fatalf("mailpit shows %d inline parts, want %d", len(got.Inline), len(m.Days))
	}
	for i, in := range got.Inline {
		if want := "cat-" + m.Days[i].Date.Format(time.DateOnly) + "@example.test"; in.ContentID != want || in.ContentType != "image/jpeg" {
			t.Errorf("inline part %d is %s %s, want image/jpeg %s", i, in.ContentType, in.ContentID, want)
		}
	}
	for _, d := range m.Days {
		if !strings.Contains(got.Text, d.Quote) || !strings.Contains(got.HTML, d.Quote) {
			t.Errorf("mailpit lost quote %q", d.Quote)
		}
	}

	var check struct {
		Total struct{ Supported, Partial, Unsupported float64 }
	}
	mailpitJSON(t, srv.API+"/message/"+id+"/html-check", &check)
	t.Logf("mailpit html-check: %.1f%% supported, %.1f%% partial, %.1f%% unsupported",
		check.Total.Supported, check.Total.Partial, check.Total.Unsupported)
	// Measured 92.5 / 5.6 / 2.0 for this digest (TestHTMLCheckSupported
	// holds every kind of mail to 90): the unsupported bits (<style>,
	// @media, border-radius) only add polish where they work.
	if check.Total.Supported < 90 || check.Total.Unsupported > 4 {
		t.Errorf("mail client support fell: %+v", check.Total)
	}
}

func mailpitJSON(t *testing.T, url string, out any) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("mailpit api: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit api %s: %s %v: %s", url, resp.Status, err, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("mailpit api %s: %v", url, err)
	}
}

// TestComposeEmptyQuote: with no quote at all (the caller found none) the
// mail still carries the cat and the date, without an empty pair of quotes.
func TestComposeEmptyQuote(t *testing.T) {
	m := singleMessage(t)
	m.Days[0].Quote, m.Days[0].Author = " \r\n ", ""
	p := parseMail(t, eml(t, m))
	for _, part := range []string{p.text, p.html} {
		if strings.Contains(part, "“”") || strings.Contains(part, `class="ink quote"`) || strings.Contains(part, "— ") {
			t.Errorf("empty quote still rendered:\n%s", part)
		}
		if !strings.Contains(part, "Wednesday, 12 March 2025") {
			t.Errorf("date missing:\n%s", part)
		}
	}
	if len(p.images) != 1 {
		t.Errorf("%d images, want the cat", len(p.images))
	}
}

// A long non-ASCII subject folds onto lines that each start with an
// encoded word, the first on the Subject: line itself (an empty first
// line shows as a blank subject in some clients), every line within RFC
// 5322's 78 characters, and it decodes to the subject, spaces and all.
func TestSubjectFolds(t *testing.T) {
	for _, caption := range []string{
		"Schnurrbärtige Kätzchen schläft gemütlich auf dem Sofa neben der Heizung",
		"猫が窓辺で日向ぼっこをしています、とても気持ちよさそうです",
		"Mochi 🐈 on the radiator — again, and again, and again, and again",
		"A plain ASCII caption that is long enough to fold somewhere in the header",
	} {
		m := singleMessage(t)
		m.Days[0].Caption = caption
		for _, test := range []string{"", "2026-12-07T08:00:00Z"} {
			m.Test = test
			p := parseMail(t, eml(t, m))
			var subj []string
			in := false
			for _, line := range strings.Split(p.rawHead, "\r\n") {
				switch {
				case strings.HasPrefix(line, "Subject:"):
					in = true
					if strings.TrimSpace(strings.TrimPrefix(line, "Subject:")) == "" {
						t.Errorf("%q: the subject folds right after Subject:", caption)
					}
				case in && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")):
				default:
					in = false
				}
				if in {
					subj = append(subj, line)
					if len(line) > 78 {
						t.Errorf("%q: subject line of %d characters: %q", caption, len(line), line)
					}
				}
			}
			got, err := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
			if err != nil || got != Subject(m) {
				t.Errorf("%q: subject %q decodes to %q (%v), want %q", caption, subj, got, err, Subject(m))
			}
			if test != "" && !strings.HasPrefix(got, "[test] Cat of the Day: ") {
				t.Errorf("a send-test's subject %q does not start with [test]", got)
			}
		}
	}
}
