package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	htmlpkg "html"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"cotd/internal/mailpit"
	"cotd/internal/photogen"
)

func TestMain(m *testing.M) {
	machine = scriptMachine // the tests never judge the machine they run on (machine_test.go)
	testscript.Main(m, map[string]func(){
		"cotd": func() { os.Exit(cli(os.Args[1:], env{os.Stdout, os.Stderr, os.LookupEnv})) },
	})
}

// TestScripts runs the CLI end to end, one script per feature, each in a
// fresh folder. A script that holds a mailpit.conf gets its own real
// Mailpit on loopback, configured by that file's lines:
//
//	starttls | tls | auth | chaos | allow REGEX | cert-days N
//
// and these variables: SMTP_PORT, SMTP_USER, PASSWORD_FILE, CA_FILE.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		Setup: func(e *testscript.Env) error {
			e.Setenv("COTD_TZ", "Europe/Berlin")
			e.Setenv("SHARED", sharedDir())
			for _, setup := range scriptSetups {
				if err := setup(t, e); err != nil {
					return err
				}
			}
			for i, name := range []string{"mailpit.conf", "mailpit2.conf"} {
				conf, err := os.ReadFile(filepath.Join(e.WorkDir, name))
				if os.IsNotExist(err) {
					continue
				}
				if err != nil {
					return err
				}
				o, err := parseMailpitConf(string(conf))
				if err != nil {
					return err
				}
				s := mailpit.Start(t, o)
				suffix := ""
				if i > 0 {
					suffix = strconv.Itoa(i + 1)
				}
				e.Values["mailpit"+suffix] = s
				e.Setenv("SMTP_PORT"+suffix, strconv.Itoa(s.Port))
				e.Setenv("SMTP_USER"+suffix, s.User)
				e.Setenv("PASSWORD_FILE"+suffix, s.PasswordFile)
				e.Setenv("CA_FILE"+suffix, s.CAFile)
			}
			return nil
		},
		Cmds: scriptCmds,
	})
}

// scriptCmds are the scripts' commands beyond testscript's own, all of
// them, each defined beside the tests that need it (the file is named
// above its group); the comment on each function says how to call it.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// main_test.go: Mailpit's messages and the photos.
	"mails":     cmdMails,
	"mailcheck": cmdMailcheck,
	"mkphoto":   cmdMkphoto,
	"mkphotos":  cmdMkphotos,
	"corpus":    cmdCorpus,
	"smtpdown":  func(ts *testscript.TestScript, neg bool, args []string) { server(ts, &args).Stop() },
	"mailclear": func(ts *testscript.TestScript, neg bool, args []string) { server(ts, &args).DeleteAll(tsTB{ts: ts}) },
	// faults_test.go: Mailpit's chaos, a message's parts, exact exit codes.
	"chaos":     cmdChaos,
	"mailparts": cmdMailparts,
	"exitcode":  cmdExitcode,
	// alerting_test.go: the owner's channels (pings, pushes, metrics,
	// certificates, the alert mail).
	"requests":  cmdRequests,
	"promcheck": cmdPromcheck,
	"mkcert":    cmdMkcert,
	"mailbody":  cmdMailbody,
	"emlgrep":   cmdEmlgrep,
	// perm_test.go: file modes.
	"mode": cmdMode,
	// postfix_test.go: the Postfix smarthost.
	"postfixdrain": cmdPostfixDrain,
	// received_test.go: the mail as the recipient's side receives it.
	"datecheck": cmdDatecheck,
	"spamcheck": cmdSpamcheck,
	"visible":   cmdVisible,
	"inreplyto": cmdInReplyTo,
}

// scriptSetups prepare every script, in this order, before its Mailpit
// starts; each says what it provides.
var scriptSetups = []func(t *testing.T, e *testscript.Env) error{
	setupClock, setupReceiver, // alerting_test.go
	setupPostfix, // postfix_test.go
	setupLate,    // received_test.go
	setupMachine, // machine_test.go
}

func parseMailpitConf(conf string) (mailpit.Options, error) {
	var o mailpit.Options
	for _, line := range strings.Split(conf, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "starttls":
			o.StartTLS = true
		case "tls":
			o.ImplicitTLS = true
		case "auth":
			o.Auth = true
		case "chaos":
			o.Chaos = true
		case "allow":
			o.AllowedRecipients = f[1]
		case "cert-days":
			n, _ := strconv.Atoi(f[1])
			o.CertNotAfter = time.Now().Add(time.Duration(n) * 24 * time.Hour)
		default:
			return o, fmt.Errorf("mailpit.conf: unknown line %q", line)
		}
	}
	return o, nil
}

// server returns the script's Mailpit, or the second one when args start
// with -2 (which is then removed from args).
func server(ts *testscript.TestScript, args *[]string) *mailpit.Server {
	key := "mailpit"
	if len(*args) > 0 && (*args)[0] == "-2" {
		key, *args = "mailpit2", (*args)[1:]
	}
	s, _ := ts.Value(key).(*mailpit.Server)
	if s == nil {
		ts.Fatalf("this script has no %s.conf", key)
	}
	return s
}

// sharedDir is ../shared beside the repository, or "" when absent.
func sharedDir() string {
	dir, _ := filepath.Abs(filepath.Join("..", "shared", "realworld-photos"))
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// corpus DIR: copies ../shared/realworld-photos into DIR (the script must
// [!exists] skip when $SHARED is empty).
func cmdCorpus(ts *testscript.TestScript, neg bool, args []string) {
	src := sharedDir()
	if src == "" {
		ts.Fatalf("../shared/realworld-photos is absent")
	}
	dst := ts.MkAbs(args[0])
	os.MkdirAll(dst, 0o755)
	ents, err := os.ReadDir(src)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	for _, e := range ents {
		if e.Name() == "README.md" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			ts.Fatalf("%v", err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			ts.Fatalf("%v", err)
		}
	}
}

// tsTB lets the Mailpit helper's API calls report through the script.
type tsTB struct {
	testing.TB
	ts *testscript.TestScript
}

func (t tsTB) Helper()                   {}
func (t tsTB) Fatalf(f string, a ...any) { t.ts.Fatalf(f, a...) }
func (t tsTB) Fatal(a ...any)            { t.ts.Fatalf("%s", fmt.Sprint(a...)) }
func (t tsTB) Errorf(f string, a ...any) { t.ts.Fatalf(f, a...) }
func (t tsTB) Logf(f string, a ...any)   { t.ts.Logf(f, a...) }
func (t tsTB) Cleanup(func())            {}
func (t tsTB) Skipf(f string, a ...any)  { t.ts.Fatalf(f, a...) }

// mails N [QUERY]: Mailpit holds exactly N messages (matching QUERY).
func cmdMails(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	if len(args) < 1 {
		ts.Fatalf("usage: mails N [QUERY]")
	}
	want, _ := strconv.Atoi(args[0])
	var got []mailpit.Summary
	if len(args) > 1 {
		got = s.Search(tsTB{ts: ts}, strings.Join(args[1:], " "))
	} else {
		got = s.Messages(tsTB{ts: ts})
	}
	if (len(got) == want) == neg {
		var to []string
		for _, m := range got {
			to = append(to, strings.Join(m.To, ",")+" "+strconv.Quote(m.Subject))
		}
		ts.Fatalf("mailpit holds %d messages, want %s%d: %s", len(got), map[bool]string{true: "not ", false: ""}[neg], want, strings.Join(to, "; "))
	}
}

// mailcheck [-landscape] [-cats N] [-to ADDR]: every message Mailpit holds (to ADDR) is
// well formed, parsed the way a mail client does: one recipient; text and
// HTML alternatives; the HTML's cats inline by Content-ID; each cat a JPEG
// no larger than 1280 px with no metadata; the quote in both parts.
func cmdMailcheck(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	landscape, cats, only := false, 1, ""
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-to":
			i++
			only = args[i]
		case "-landscape":
			landscape = true
		case "-cats":
			i++
			cats, _ = strconv.Atoi(args[i])
		default:
			ts.Fatalf("mailcheck: unknown flag %s", args[i])
		}
	}
	msgs := s.Messages(tsTB{ts: ts})
	if len(msgs) == 0 {
		ts.Fatalf("mailcheck: no messages")
	}
	if only != "" {
		msgs = s.Search(tsTB{ts: ts}, "to:"+only)
		if len(msgs) == 0 {
			ts.Fatalf("mailcheck: no messages to %s", only)
		}
	}
	ids := map[string]string{}
	for _, sum := range msgs {
		raw := s.Raw(tsTB{ts: ts}, sum.ID)
		if err := checkMessage(raw, landscape, cats); err != nil {
			ts.Fatalf("message to %v: %v", sum.To, err)
		}
		if prev, dup := ids[sum.MessageID]; dup {
			ts.Fatalf("Message-ID %s used for %v and %s", sum.MessageID, sum.To, prev)
		}
		ids[sum.MessageID] = strings.Join(sum.To, ",")
	}
	ts.Logf("mailcheck: %d messages well formed", len(msgs))
}

func checkMessage(raw []byte, landscape bool, wantCats int) error {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 1 {
		return fmt.Errorf("To = %q (%v), want exactly one recipient", m.Header.Get("To"), err)
	}
	if m.Header.Get("Cc") != "" || m.Header.Get("Bcc") != "" {
		return fmt.Errorf("message has Cc/Bcc")
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	if !strings.Contains(subject, "Cat of the Day") {
		return fmt.Errorf("subject %q lacks Cat of the Day", subject)
	}
	if m.Header.Get("Message-Id") == "" {
		return fmt.Errorf("no Message-ID")
	}
	parts := map[string][]byte{}
	var images [][]byte
	var cids []string
	err = eachPart(textproto.MIMEHeader(m.Header), m.Body, func(mt string, h textproto.MIMEHeader, data []byte) error {
		switch {
		case strings.HasPrefix(mt, "image/"):
			disp := h.Get("Content-Disposition")
			if !strings.HasPrefix(disp, "inline") {
				return fmt.Errorf("image disposition %q, want inline", disp)
			}
			cid := strings.Trim(h.Get("Content-Id"), "<>")
			if cid == "" {
				return fmt.Errorf("image without Content-ID")
			}
			cids = append(cids, cid)
			images = append(images, data)
		default: // a multipart one with nil data
			parts[mt] = data
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, need := range []string{"multipart/alternative", "multipart/related", "text/plain", "text/html"} {
		if _, ok := parts[need]; !ok {
			return fmt.Errorf("no %s part", need)
		}
	}
	html := string(parts["text/html"])
	if len(images) != wantCats {
		return fmt.Errorf("%d inline cats, want %d", len(images), wantCats)
	}
	seen := map[string]bool{}
	for i, img := range images {
		if !strings.Contains(html, "cid:"+cids[i]) {
			return fmt.Errorf("HTML does not reference cid:%s", cids[i])
		}
		if seen[string(img)] {
			return fmt.Errorf("the same cat twice in one message")
		}
		seen[string(img)] = true
		if err := checkJPEG(img, landscape); err != nil {
			return fmt.Errorf("cat %d: %v", i+1, err)
		}
	}
	if !strings.Contains(html, "alt=") {
		return fmt.Errorf("image without alt text")
	}
	text := string(parts["text/plain"])
	// The quote: the line the text part shows first in quotation marks.
	found := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if len(line) > 12 && strings.Contains(html, htmlpkg.EscapeString(strings.Trim(line, "“”\"")[:10])) {
			found = true
			break
		}
	}
	if !found {
		return fmt.Errorf("no line of the text part appears in the HTML part")
	}
	return nil
}

// eachPart calls fn for every part of a message, depth first: a multipart
// part with nil data before the parts it holds, every other part with its
// body decoded (base64, quoted-printable). It stops at fn's first error.
func eachPart(h textproto.MIMEHeader, body io.Reader, fn func(mt string, h textproto.MIMEHeader, data []byte) error) error {
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %v", ct, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		data, err := decodeBody(h.Get("Content-Transfer-Encoding"), body)
		if err != nil {
			return fmt.Errorf("%s part: %v", mt, err)
		}
		return fn(mt, h, data)
	}
	if err := fn(mt, h, nil); err != nil {
		return err
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := eachPart(textproto.MIMEHeader(p.Header), p, fn); err != nil {
			return err
		}
	}
}

func decodeBody(cte string, r io.Reader) ([]byte, error) {
	switch strings.ToLower(cte) {
	case "base64":
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, r)) // it skips the line breaks
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(r))
	}
	return io.ReadAll(r)
}

// checkJPEG: decodes, fits 1280, no APPn metadata or comments, and (for the
// made-up test photo) the red corner is top right, i.e. the photo stands
// the right way up.
func checkJPEG(b []byte, landscape bool) error {
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return err
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if w > 1280 || h > 1280 {
		return fmt.Errorf("%dx%d is larger than 1280 px", w, h)
	}
	for _, seg := range jpegSegments(b) {
		if (seg >= 0xE1 && seg <= 0xEF) || seg == 0xFE {
			return fmt.Errorf("metadata segment 0x%X in the mailed JPEG", seg)
		}
	}
	for _, marker := range []string{"Exif", "GPS", "http://ns.adobe.com/xap"} {
		if bytes.Contains(b, []byte(marker)) {
			return fmt.Errorf("mailed JPEG contains %q", marker)
		}
	}
	if landscape {
		if w <= h {
			return fmt.Errorf("%dx%d is not landscape", w, h)
		}
		r, g, bl, _ := img.At(w*7/8, h/8).RGBA()
		if !(r>>8 > 180 && g>>8 < 90 && bl>>8 < 90) {
			return fmt.Errorf("top-right corner is not red (%d,%d,%d): the photo is not upright", r>>8, g>>8, bl>>8)
		}
	}
	return nil
}

// jpegSegments lists the markers before the image data.
func jpegSegments(b []byte) []byte {
	var out []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		if m == 0xDA {
			break
		}
		out = append(out, m)
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	return out
}

// mkphoto FILE WxH [orientation=N] [gps]: writes a JPEG whose stored
// pixels have a red top-left quadrant, with an EXIF orientation and GPS
// position if asked.
func cmdMkphoto(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: mkphoto FILE WxH [orientation=N] [gps] [seed=N]")
	}
	var w, h int
	fmt.Sscanf(args[1], "%dx%d", &w, &h)
	orient, gps, seed := 0, false, 0
	for _, a := range args[2:] {
		switch {
		case strings.HasPrefix(a, "orientation="):
			orient, _ = strconv.Atoi(strings.TrimPrefix(a, "orientation="))
		case a == "gps":
			gps = true
		case strings.HasPrefix(a, "seed="):
			seed, _ = strconv.Atoi(strings.TrimPrefix(a, "seed="))
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(40 + seed*37%150), uint8(90 + x*100/w), uint8(120 + y*100/h), 255}
			if x < w/2 && y < h/2 {
				c = color.RGBA{230, 20, 20, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		ts.Fatalf("%v", err)
	}
	out := buf.Bytes()
	if orient != 0 || gps {
		app1 := exifSegment(orient, gps)
		out = append(append(append([]byte{}, out[:2]...), app1...), out[2:]...)
	}
	path := ts.MkAbs(args[0])
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		ts.Fatalf("%v", err)
	}
}

// exifSegment builds a minimal little-endian EXIF APP1 segment.
func exifSegment(orient int, gps bool) []byte {
	le := binary.LittleEndian
	var t bytes.Buffer
	t.WriteString("II*\x00")
	binary.Write(&t, le, uint32(8))
	n := 0
	if orient != 0 {
		n++
	}
	if gps {
		n++
	}
	binary.Write(&t, le, uint16(n))
	gpsIFD := uint32(8 + 2 + 12*n + 4)
	if orient != 0 {
		binary.Write(&t, le, []uint16{0x0112, 3})
		binary.Write(&t, le, uint32(1))
		binary.Write(&t, le, []uint16{uint16(orient), 0})
	}
	if gps {
		binary.Write(&t, le, []uint16{0x8825, 4})
		binary.Write(&t, le, uint32(1))
		binary.Write(&t, le, gpsIFD)
	}
	binary.Write(&t, le, uint32(0))
	if gps {
		// GPS IFD: LatitudeRef "N", Latitude 52/1 31/1 0/1.
		binary.Write(&t, le, uint16(2))
		binary.Write(&t, le, []uint16{0x0001, 2})
		binary.Write(&t, le, uint32(2))
		t.WriteString("N\x00\x00\x00")
		binary.Write(&t, le, []uint16{0x0002, 5})
		binary.Write(&t, le, uint32(3))
		binary.Write(&t, le, uint32(gpsIFD+2+2*12+4))
		binary.Write(&t, le, uint32(0))
		binary.Write(&t, le, []uint32{52, 1, 31, 1, 0, 1})
	}
	body := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	return append(seg, body...)
}

// mkphotos DIR N: writes N small distinct JPEGs into DIR, a folder big
// enough for indexing progress to show.
func cmdMkphotos(ts *testscript.TestScript, neg bool, args []string) {
	n, _ := strconv.Atoi(args[1])
	dir := ts.MkAbs(args[0])
	os.MkdirAll(dir, 0o755)
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cat%04d.jpg", i)), photogen.Distinct(i, 64, 48), 0o644); err != nil {
			ts.Fatalf("%v", err)
		}
	}
}
