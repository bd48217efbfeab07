package main

import (
	"bytes"
	"fmt"
	"html"
	"mime"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Script support for how the mail looks on the wire and to spam filters
// (issue 14), run on the real clock rather than --now:
//   - LATE_TZ is a fixed-offset zone in which it is now about noon, so
//     `--at 09:00` there makes today's send about three hours late;
//     EARLIER is the real time three days ago (RFC 3339), for a first run
//     that leaves three mornings to catch up on;
//   - datecheck, visible, spamcheck and inreplyto (see below).

// inreplyto ADDR I J: of the messages to ADDR, oldest first, message I
// replies to message J: its In-Reply-To is J's Message-ID and its
// References include it. With !, I does not reply to J (and J = 0 means
// I replies to nothing).
func cmdInReplyTo(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	if len(args) != 3 {
		ts.Fatalf("usage: inreplyto ADDR I J")
	}
	i, _ := strconv.Atoi(args[1])
	j, _ := strconv.Atoi(args[2])
	type msg struct {
		date                time.Time
		id, inReplyTo, refs string
		subject             string
	}
	var msgs []msg
	for _, sum := range s.Search(tsTB{ts: ts}, "to:"+args[0]) {
		m, err := mail.ReadMessage(bytes.NewReader(s.Raw(tsTB{ts: ts}, sum.ID)))
		if err != nil {
			ts.Fatalf("%v", err)
		}
		d, _ := m.Header.Date()
		msgs = append(msgs, msg{d, m.Header.Get("Message-Id"), m.Header.Get("In-Reply-To"), strings.Join(strings.Fields(m.Header.Get("References")), " "), sum.Subject})
	}
	sort.SliceStable(msgs, func(a, b int) bool { return msgs[a].date.Before(msgs[b].date) })
	if i < 1 || i > len(msgs) || j < 0 || j > len(msgs) {
		ts.Fatalf("inreplyto: %d messages to %s, asked for %d and %d", len(msgs), args[0], i, j)
	}
	mi := msgs[i-1]
	ts.Logf("message %d %q: In-Reply-To %q, References %q", i, mi.subject, mi.inReplyTo, mi.refs)
	var ok bool
	if j == 0 {
		ok = mi.inReplyTo == "" && mi.refs == ""
	} else {
		mj := msgs[j-1]
		ok = mj.id != "" && mi.inReplyTo == mj.id && strings.Contains(" "+mi.refs+" ", " "+mj.id+" ")
	}
	if ok == neg {
		ts.Fatalf("message %d %q: In-Reply-To %q, References %q; want %sa reply to message %d", i, mi.subject, mi.inReplyTo, mi.refs, map[bool]string{true: "not ", false: ""}[neg], j)
	}
}

// visible QUERY: writes to stdout what a recipient can read of each
// message matching QUERY: the decoded subject, the plain text, and the
// HTML's text and alt attributes (not its markup, class names or cid:
// addresses), so a script can check words never shown to recipients.
func cmdVisible(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	if len(args) != 1 {
		ts.Fatalf("usage: visible QUERY")
	}
	for _, sum := range s.Search(tsTB{ts: ts}, args[0]) {
		m, err := mail.ReadMessage(bytes.NewReader(s.Raw(tsTB{ts: ts}, sum.ID)))
		if err != nil {
			ts.Fatalf("message to %v: %v", sum.To, err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		fmt.Fprintf(ts.Stdout(), "subject: %s\n", subject)
		err = eachPart(textproto.MIMEHeader(m.Header), m.Body, func(mt string, _ textproto.MIMEHeader, data []byte) error {
			switch mt {
			case "text/plain":
				fmt.Fprintf(ts.Stdout(), "%s\n", bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")))
			case "text/html":
				page := regexp.MustCompile(`(?s)<head>.*</head>`).ReplaceAllString(string(data), "")
				for _, a := range regexp.MustCompile(`alt="([^"]*)"`).FindAllStringSubmatch(page, -1) {
					fmt.Fprintf(ts.Stdout(), "alt: %s\n", html.UnescapeString(a[1]))
				}
				text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " "))
				fmt.Fprintf(ts.Stdout(), "html: %s\n", strings.Join(strings.Fields(text), " "))
			}
			return nil
		})
		if err != nil {
			ts.Fatalf("message to %v: %v", sum.To, err)
		}
	}
}

func setupLate(t *testing.T, e *testscript.Env) error {
	now := time.Now().UTC()
	off := 12 - now.Hour() // hours east of UTC at which it is noon now
	// Etc/GMT-N is N hours east of UTC (POSIX signs).
	zone := "Etc/GMT"
	switch {
	case off > 0:
		zone += "-" + strconv.Itoa(off)
	case off < 0:
		zone += "+" + strconv.Itoa(-off)
	}
	e.Setenv("LATE_TZ", zone)
	e.Setenv("EARLIER", now.AddDate(0, 0, -3).Format(time.RFC3339))
	return nil
}

// datecheck [-late D] MAXAGE: every message in Mailpit has a Date header
// within MAXAGE of now (this command runs right after the submission), and
// with -late D, one at least D after today's 09:00 in $LATE_TZ: proof that
// the scheduled time did not leak into the header on a late send.
func cmdDatecheck(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	var late time.Duration
	if len(args) > 1 && args[0] == "-late" {
		d, err := time.ParseDuration(args[1])
		if err != nil {
			ts.Fatalf("datecheck: %v", err)
		}
		late, args = d, args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: datecheck [-late D] MAXAGE")
	}
	maxAge, err := time.ParseDuration(args[0])
	if err != nil {
		ts.Fatalf("datecheck: %v", err)
	}
	now := time.Now()
	msgs := s.Messages(tsTB{ts: ts})
	if len(msgs) == 0 {
		ts.Fatalf("datecheck: no messages")
	}
	for _, sum := range msgs {
		m, err := mail.ReadMessage(bytes.NewReader(s.Raw(tsTB{ts: ts}, sum.ID)))
		if err != nil {
			ts.Fatalf("message to %v: %v", sum.To, err)
		}
		date, err := m.Header.Date()
		if err != nil {
			ts.Fatalf("message to %v: Date %q: %v", sum.To, m.Header.Get("Date"), err)
		}
		if d := now.Sub(date); d < -maxAge || d > maxAge {
			ts.Fatalf("message to %v %q: Date %s is %s from the submission (now %s), want within %s",
				sum.To, sum.Subject, date.Format(time.RFC3339), d.Round(time.Second), now.Format(time.RFC3339), maxAge)
		}
		if late > 0 {
			loc, err := time.LoadLocation(ts.Getenv("LATE_TZ"))
			if err != nil {
				ts.Fatalf("datecheck: %v", err)
			}
			l := now.In(loc)
			sched := time.Date(l.Year(), l.Month(), l.Day(), 9, 0, 0, 0, loc)
			if date.Sub(sched) < late {
				ts.Fatalf("message to %v: Date %s is less than %s after the scheduled %s", sum.To, date, late, sched)
			}
		}
		ts.Logf("%v: Date %s (%s before the check)", sum.To, m.Header.Get("Date"), now.Sub(date).Round(time.Second))
	}
}

// spamcheck MAX: every message in Mailpit, with the Received line its
// relay would add a few minutes after the submission (the Date header's
// time plus 3 minutes: a late send delivered promptly), scores below MAX
// in SpamAssassin with local tests only. The report of each message is
// written to spam-N.txt in the work folder for the log.
func cmdSpamcheck(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	if len(args) != 1 {
		ts.Fatalf("usage: spamcheck MAX")
	}
	limit, err := strconv.ParseFloat(args[0], 64)
	if err != nil {
		ts.Fatalf("spamcheck: %v", err)
	}
	bin, err := exec.LookPath("spamassassin")
	if err != nil {
		if os.Getenv("CI") != "" {
			ts.Fatalf("spamassassin is not installed (apt install spamassassin)")
		}
		ts.Logf("spamassassin is not installed (apt install spamassassin): not scored")
		return
	}
	msgs := s.Messages(tsTB{ts: ts})
	if len(msgs) == 0 {
		ts.Fatalf("spamcheck: no messages")
	}
	score := regexp.MustCompile(`(?m)^X-Spam-Status: \w+, score=(-?[0-9.]+)[^\n]*(?:\n\s[^\n]*)*`)
	for i, sum := range msgs {
		raw := s.Raw(tsTB{ts: ts}, sum.ID)
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			ts.Fatalf("message to %v: %v", sum.To, err)
		}
		date, err := m.Header.Date()
		if err != nil {
			ts.Fatalf("message to %v: Date: %v", sum.To, err)
		}
		// Mailpit's own Received line (if any) carries the real clock;
		// the relay's line is what a spam filter compares Date with.
		// The recipient's MX took it from the owner's smarthost (an
		// untrusted hop: an authenticated or documentation-range IPv4
		// relay would be trusted or flagged, hiding what the Date costs).
		received := fmt.Sprintf("Received: from smtp.provider.example (smtp.provider.example [IPv6:2001:db8::25])\r\n"+
			"\tby mx.example.test (Postfix) with ESMTPS id 4B2F1C0A12\r\n"+
			"\tfor <%s>; %s\r\n", sum.To[0], date.Add(3*time.Minute).Format(time.RFC1123Z))
		// Trust no hop, so ALL_TRUSTED (-1.0) cannot hide a bad score.
		cmd := exec.Command(bin, "-L", "-t", "--cf", "trusted_networks 203.0.113.254/32", "--cf", "internal_networks 203.0.113.254/32")
		cmd.Stdin = strings.NewReader(received + string(raw))
		out, err := cmd.Output()
		if err != nil {
			ts.Fatalf("spamassassin on the message to %v: %v", sum.To, err)
		}
		report := filepath.Join(ts.Getenv("WORK"), fmt.Sprintf("spam-%d.txt", i+1))
		os.WriteFile(report, out, 0o644)
		sm := score.FindSubmatch(out)
		if sm == nil {
			ts.Fatalf("spamassassin printed no X-Spam-Status for %v", sum.To)
		}
		got, _ := strconv.ParseFloat(string(sm[1]), 64)
		status := strings.Join(strings.Fields(string(sm[0])), " ")
		ts.Logf("%v %q: %s", sum.To, sum.Subject, status)
		if (got < limit) == neg {
			ts.Fatalf("message to %v %q scores %.1f, want below %.1f: %s", sum.To, sum.Subject, got, limit, status)
		}
	}
}
