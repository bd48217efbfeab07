package main

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"cotd/internal/testcert"
)

// Script helpers for monitoring (issue 5):
//
//   - every script gets times for COTD_NOW derived from the real clock, for
//     scripts whose certificates are made relative to it (Mailpit's
//     cert-days, mkcert; Mailpit's certificate is valid from an hour ago
//     only): NOW0 is at or after the real time, 08:00 or later, and NOW1..
//     NOW4 follow hourly on the same day (RFC 3339, Europe/Berlin); NEXTDAY
//     is 08:00 the day after; TODAY and TOMORROW are those days (YYYY-MM-DD);
//   - a script with a receiver.conf gets a loopback HTTP server that records
//     every request, its URL in $RECEIVER; receiver.conf lines
//     "fail PATH-REGEX CODE" make it answer CODE to matching paths;
//   - requests, promcheck, mkcert, mailbody and emlgrep commands (see below).

func setupClock(t *testing.T, e *testscript.Env) error {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return err
	}
	now := time.Now().In(loc)
	// The next full hour, moved to 08:00 when that is before the send time
	// or too late for four more hours on the same day.
	base := now.Truncate(time.Hour).Add(time.Hour)
	if h := base.Hour(); h < 8 || h > 18 {
		day := base
		if h > 18 {
			day = base.AddDate(0, 0, 1)
		}
		base = time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, loc)
	}
	for i := 0; i <= 4; i++ {
		e.Setenv("NOW"+strconv.Itoa(i), base.Add(time.Duration(i)*time.Hour).Format(time.RFC3339))
	}
	next := time.Date(base.Year(), base.Month(), base.Day()+1, 8, 0, 0, 0, loc)
	e.Setenv("NEXTDAY", next.Format(time.RFC3339))
	e.Setenv("TODAY", base.Format(time.DateOnly))
	e.Setenv("TOMORROW", next.Format(time.DateOnly))
	return nil
}

// recorded is one request the receiver saw.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

type receiver struct {
	mu    sync.Mutex
	reqs  []recorded
	fails []receiverFail
}

type receiverFail struct {
	path *regexp.Regexp
	code int
}

func setupReceiver(t *testing.T, e *testscript.Env) error {
	conf, err := os.ReadFile(filepath.Join(e.WorkDir, "receiver.conf"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	r := &receiver{}
	for _, line := range strings.Split(string(conf), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if f[0] != "fail" || len(f) != 3 {
			return fmt.Errorf("receiver.conf: unknown line %q (want: fail PATH-REGEX CODE)", line)
		}
		code, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("receiver.conf: %q: %v", line, err)
		}
		r.fails = append(r.fails, receiverFail{regexp.MustCompile(f[1]), code})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), string(body)})
		code := http.StatusOK
		for _, f := range r.fails {
			if f.path.MatchString(req.URL.Path) {
				code = f.code
			}
		}
		r.mu.Unlock()
		w.WriteHeader(code)
		io.WriteString(w, "OK")
	}))
	e.Defer(srv.Close)
	e.Values["receiver"] = r
	e.Setenv("RECEIVER", srv.URL)
	return nil
}

// requests [-count N] [-header NAME=REGEX]... METHOD PATH-REGEX [BODY-REGEX]:
// the receiver got at least one (or exactly N) matching requests; with !,
// none. Regexps are anchored to the whole path and search the body.
func cmdRequests(ts *testscript.TestScript, neg bool, args []string) {
	r, _ := ts.Value("receiver").(*receiver)
	if r == nil {
		ts.Fatalf("this script has no receiver.conf")
	}
	count := -1
	headers := map[string]*regexp.Regexp{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-count":
			count, _ = strconv.Atoi(args[1])
		case "-header":
			name, re, _ := strings.Cut(args[1], "=")
			headers[name] = regexp.MustCompile(re)
		default:
			ts.Fatalf("requests: unknown flag %s", args[0])
		}
		args = args[2:]
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: requests [-count N] [-header NAME=REGEX] METHOD PATH-REGEX [BODY-REGEX]")
	}
	path := regexp.MustCompile("^(?:" + args[1] + ")$")
	var body *regexp.Regexp
	if len(args) == 3 {
		body = regexp.MustCompile(args[2])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	var all []string
	for _, q := range r.reqs {
		all = append(all, fmt.Sprintf("%s %s %q", q.Method, q.Path, q.Body))
		if q.Method != args[0] || !path.MatchString(q.Path) || (body != nil && !body.MatchString(q.Body)) {
			continue
		}
		ok := true
		for name, re := range headers {
			if !re.MatchString(q.Header.Get(name)) {
				ok = false
			}
		}
		if ok {
			n++
		}
	}
	switch {
	case neg && n > 0:
		ts.Fatalf("%d requests match, want none; got:\n%s", n, strings.Join(all, "\n"))
	case !neg && count < 0 && n == 0:
		ts.Fatalf("no request matches; got:\n%s", strings.Join(all, "\n"))
	case !neg && count >= 0 && n != count:
		ts.Fatalf("%d requests match, want %d; got:\n%s", n, count, strings.Join(all, "\n"))
	}
}

// promcheck FILE: promtool (Debian package prometheus) accepts the metrics
// file. When promtool is missing this check alone is skipped (logged, the
// rest of the script runs), unless $CI is set: then it fails.
func cmdPromcheck(ts *testscript.TestScript, neg bool, args []string) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			ts.Fatalf("promtool not found; install it: apt-get install prometheus")
		}
		ts.Logf("SKIP promcheck: promtool not found; install it: apt-get install prometheus")
		return
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("%v", err)
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if (err == nil) == neg {
		ts.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	ts.Logf("promtool: %s", out)
}

// mkcert FILE DAYS: writes a self-signed PEM certificate that expires DAYS
// days from the real clock (negative: already expired).
func cmdMkcert(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mkcert FILE DAYS")
	}
	days, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("mkcert: %v", err)
	}
	now := time.Now()
	c := (*testcert.CA)(nil).Issue(tsTB{ts: ts}, testcert.Server{CN: "watched.example.test", Hosts: []string{"watched.example.test"},
		NotBefore: now.Add(-30 * 24 * time.Hour), NotAfter: now.Add(time.Duration(days) * 24 * time.Hour)})
	path := ts.MkAbs(args[0])
	os.MkdirAll(filepath.Dir(path), 0o755)
	testcert.WriteCerts(tsTB{ts: ts}, path, c.Leaf)
}

// mailbody [-2] QUERY REGEX: some message in Mailpit matching the search
// QUERY has a subject or decoded text body matching REGEX; with !, none.
func cmdMailbody(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	if len(args) != 2 {
		ts.Fatalf("usage: mailbody [-2] QUERY REGEX")
	}
	re := regexp.MustCompile(args[1])
	var seen []string
	for _, sum := range s.Search(tsTB{ts: ts}, args[0]) {
		text, err := decodedText(s.Raw(tsTB{ts: ts}, sum.ID))
		if err != nil {
			ts.Fatalf("%v", err)
		}
		seen = append(seen, text)
		if re.MatchString(text) {
			if neg {
				ts.Fatalf("a message matches %q:\n%s", args[1], text)
			}
			return
		}
	}
	if !neg {
		ts.Fatalf("no message matching %q has %q; saw:\n%s", args[0], args[1], strings.Join(seen, "\n-----\n"))
	}
}

// decodedText is a single-part message as a person reads it: the decoded
// subject, a blank line, the decoded body with LF line ends.
func decodedText(raw []byte) (string, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	body, err := decodeBody(m.Header.Get("Content-Transfer-Encoding"), m.Body)
	if err != nil {
		return "", err
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	return "Subject: " + subject + "\n\n" + strings.ReplaceAll(string(body), "\r\n", "\n"), nil
}

// emlgrep FILE REGEX: the decoded subject and text of the .eml FILE match
// REGEX; with !, they do not.
func cmdEmlgrep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: emlgrep FILE REGEX")
	}
	raw, err := os.ReadFile(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("%v", err)
	}
	text, err := decodedText(raw)
	if err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	if regexp.MustCompile(args[1]).MatchString(text) == neg {
		ts.Fatalf("%s: match of %q is %v, want %v; text:\n%s", args[0], args[1], neg, !neg, text)
	}
}
