package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/smtppeer"
	"cotd/job"
	cmail "cotd/mail"
)

// The channels a run's end can be heard on.
type channel string

const (
	chPing  channel = "ping /fail" // the dead man's switch, with the exit code
	chPush  channel = "push"       // ntfy/Gotify: when mail itself is broken
	chAlert channel = "alert mail" // to --alert-to, through the run's way out
	chJourn channel = "journal"    // stderr: the error line and its hint
)

// panicSender is a sender with a bug.
type panicSender struct{ cmail.Sender }

func (panicSender) SendEach(context.Context, []*gomail.Msg, func(int) error, func(int, cmail.Result)) error {
	panic("index out of range [3] with length 3")
}

// cancelSender is the run's sender when SIGTERM arrives as the first
// message goes: it cancels the run's context (as the signal does) and
// the message is not sent.
type cancelSender struct {
	cmail.Sender
	cancel context.CancelFunc
}

func (s cancelSender) SendEach(ctx context.Context, _ []*gomail.Msg, _ func(int) error, _ func(int, cmail.Result)) error {
	s.cancel()
	<-ctx.Done()
	return ctx.Err()
}

// Every way a run can end is heard (issue 25 §4): each ending, made to
// happen for real, against every channel, asserting that each channel
// that still works heard it, naming the cause. A panic, a damaged
// database, a photo folder or password file gone at run time used to
// end with a stack trace or exit 2 and no ping, push or alert at all.
//
// The rule per channel: the journal and the /fail ping always (except a
// database held by another run: that run reports); the alert mail
// whenever mail works (not when the SMTP server itself is the failure);
// the push exactly when mail is broken (it is the channel for that).
func TestEveryRunEndingIsHeard(t *testing.T) {
	endings := []struct {
		name   string
		smtp   bool   // send through SMTP (to a closed port) instead of the outbox
		code   int    // the exit code
		says   string // what every channel names
		setup  func(t *testing.T, dir string, vars map[string]string)
		hook   func(j *job.Job, cancel context.CancelFunc)
		expect []channel
	}{
		{name: "photo folder gone at run time", code: exitUsage, says: "photo folder",
			setup:  func(t *testing.T, dir string, vars map[string]string) { os.RemoveAll(vars["COTD_PHOTOS"]) },
			expect: []channel{chJourn, chPing, chAlert}},
		{name: "password file gone at run time", smtp: true, code: exitUsage, says: "smtp password file",
			setup: func(t *testing.T, dir string, vars map[string]string) {
				vars["COTD_SMTP_USER"], vars["COTD_SMTP_PASSWORD_FILE"] = "cotd", filepath.Join(dir, "gone")
			},
			expect: []channel{chJourn, chPing, chPush}},
		{name: "panic", code: exitFailed, says: "cotd crashed",
			hook:   func(j *job.Job, _ context.CancelFunc) { j.Sender = panicSender{j.Sender} },
			expect: []channel{chJourn, chPing, chAlert}},
		{name: "signal", code: exitFailed, says: "context canceled",
			hook:   func(j *job.Job, cancel context.CancelFunc) { j.Sender = cancelSender{j.Sender, cancel} },
			expect: []channel{chJourn, chPing, chAlert}},
		{name: "damaged page", code: exitRefused, says: "damaged",
			setup:  func(t *testing.T, dir string, vars map[string]string) { damagePages(t, vars["COTD_DB"]) },
			expect: []channel{chJourn, chPing, chAlert}},
		{name: "damaged record", code: exitRefused, says: "damaged",
			setup:  func(t *testing.T, dir string, vars map[string]string) { damageRecord(t, vars["COTD_DB"]) },
			expect: []channel{chJourn, chPing, chAlert}},
		{name: "zero-length database with a history", code: exitRefused, says: "cotd has run here before",
			setup: func(t *testing.T, dir string, vars map[string]string) {
				if err := os.Truncate(vars["COTD_DB"], 0); err != nil {
					t.Fatal(err)
				}
			},
			expect: []channel{chJourn, chPing, chAlert}},
		{name: "database gone with a history", code: exitRefused, says: "cotd has run here before",
			setup:  func(t *testing.T, dir string, vars map[string]string) { os.Remove(vars["COTD_DB"]) },
			expect: []channel{chJourn, chPing, chAlert}},
		{name: "mail server down", smtp: true, code: exitFailed, says: "connect",
			expect: []channel{chJourn, chPing, chPush}},
		{name: "no photos", code: exitFailed, says: "no usable photo",
			setup: func(t *testing.T, dir string, vars map[string]string) {
				// A new database over an empty folder: nothing to mail today.
				os.RemoveAll(filepath.Join(dir, "cotd-cache"))
				os.RemoveAll(filepath.Join(dir, "backups"))
				os.RemoveAll(vars["COTD_OUTBOX"])
				os.Remove(vars["COTD_DB"])
				os.RemoveAll(vars["COTD_PHOTOS"])
				os.Mkdir(vars["COTD_PHOTOS"], 0o755)
			},
			expect: []channel{chJourn, chPing, chAlert}},
	}
	closed := smtppeer.Closed(t)
	for _, en := range endings {
		t.Run(en.name, func(t *testing.T) {
			rec := &requests{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			dir := t.TempDir()
			vars := map[string]string{"COTD_DB": filepath.Join(dir, "cotd.db"), "COTD_TZ": "Europe/Berlin",
				"COTD_OUTBOX": filepath.Join(dir, "outbox"), "COTD_PHOTOS": filepath.Join(dir, "photos"), "COTD_QUOTES": filepath.Join(dir, "quotes.txt"),
				"COTD_TO": "a@example.test", "COTD_FROM": "cotd@example.test", "COTD_ALERT_TO": "owner@example.test",
				"COTD_PING_URL": srv.URL + "/ping/uuid", "COTD_NOTIFY_URL": srv.URL + "/ntfy/cotd"}
			os.Mkdir(vars["COTD_PHOTOS"], 0o755)
			if err := os.WriteFile(filepath.Join(vars["COTD_PHOTOS"], "cat.jpg"), sampleCat, 0o644); err != nil {
				t.Fatal(err)
			}
			lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
			// A good first day, in outbox mode: the history every ending has.
			vars["COTD_NOW"] = "2026-03-02T08:00:00+01:00"
			var out, errOut bytes.Buffer
			if code := cli([]string{"run"}, env{&out, &errOut, lookup}); code != 0 {
				t.Fatalf("first run: exit %d\n%s", code, errOut.String())
			}
			rec.reset()
			alertsBefore := alertMails(t, vars["COTD_OUTBOX"])
			if en.smtp {
				vars["COTD_SMTP_HOST"], vars["COTD_SMTP_PORT"], vars["COTD_SMTP_TLS"] = "127.0.0.1", strings.TrimPrefix(closed[strings.LastIndex(closed, ":"):], ":"), "none"
			}
			if en.setup != nil {
				en.setup(t, dir, vars)
			}
			ctx, cancel := context.WithCancel(context.Background())
			savedCtx, savedHook := runContext, jobHook
			t.Cleanup(func() { runContext, jobHook = savedCtx, savedHook })
			runContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
			jobHook = func(j *job.Job) {
				if en.hook != nil {
					en.hook(j, cancel)
				}
			}
			vars["COTD_NOW"] = "2026-03-03T08:00:00+01:00"
			out.Reset()
			errOut.Reset()
			code := cli([]string{"run"}, env{&out, &errOut, lookup})
			if code != en.code {
				t.Errorf("exit %d, want %d\n%s", code, en.code, errOut.String())
			}
			heard := map[channel]string{}
			if strings.Contains(errOut.String(), "cotd: error: ") {
				heard[chJourn] = errOut.String()
			}
			for _, r := range rec.all() {
				switch {
				case strings.HasPrefix(r.path, "/ping/uuid/") && r.path != "/ping/uuid/start":
					if suffix := strings.TrimPrefix(r.path, "/ping/uuid/"); suffix == "fail" || suffix == strconv.Itoa(code) {
						heard[chPing] = r.body
					}
				case r.path == "/ntfy/cotd":
					heard[chPush] = r.body
				}
			}
			for name, body := range alertMails(t, vars["COTD_OUTBOX"]) {
				if alertsBefore[name] != body {
					heard[chAlert] = body
				}
			}
			for _, ch := range []channel{chJourn, chPing, chPush, chAlert} {
				want := false
				for _, e := range en.expect {
					want = want || e == ch
				}
				body, got := heard[ch]
				switch {
				case want && !got:
					ents, _ := os.ReadDir(vars["COTD_OUTBOX"])
					var names []string
					for _, e := range ents {
						names = append(names, e.Name())
					}
					t.Errorf("%s did not hear it (outbox: %v)\njournal:\n%s", ch, names, errOut.String())
				case !want && got:
					t.Errorf("%s heard it, but should not (the rule above):\n%s", ch, body)
				case got && ch != chPush && !strings.Contains(strings.ToLower(unfold(body)), strings.ToLower(en.says)):
					t.Errorf("%s does not name the cause %q:\n%s", ch, en.says, body)
				}
			}
		})
	}
}

// unfold joins a mail's folded header and quoted-printable soft breaks,
// so a phrase is found wherever the encoder broke it.
func unfold(s string) string {
	s = strings.ReplaceAll(s, "=\r\n", "")
	s = strings.ReplaceAll(s, "\r\n ", " ")
	return strings.ReplaceAll(s, "\n ", " ")
}

// alertMails are the alert mails in the outbox (to the owner), by file.
func alertMails(t *testing.T, outbox string) map[string]string {
	t.Helper()
	ents, _ := os.ReadDir(outbox)
	out := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(outbox, e.Name()))
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte("To: <owner@example.test>")) {
			out[e.Name()] = string(b)
		}
	}
	return out
}

type request struct{ path, body string }

// requests records what the ping and push endpoints received.
type requests struct {
	mu  sync.Mutex
	got []request
}

func (r *requests) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, request{req.URL.Path, string(b)})
	r.mu.Unlock()
}

func (r *requests) reset() { r.mu.Lock(); r.got = nil; r.mu.Unlock() }
func (r *requests) all() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// damagePages gives every leaf and branch page of the database an
// impossible page type, as a bad SD card block would.
func damagePages(t *testing.T, db string) {
	t.Helper()
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	ps := int(binary.LittleEndian.Uint32(b[16+8:]))
	for id := 2; (id+1)*ps <= len(b); id++ {
		if f := binary.LittleEndian.Uint16(b[id*ps+8:]); f == 0x01 || f == 0x02 {
			binary.LittleEndian.PutUint16(b[id*ps+8:], 0x40)
		}
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// damageRecord overwrites the JSON of a photo's record (which every run
// reads) in place with bytes that do not decode, leaving every page
// intact.
func damageRecord(t *testing.T, db string) {
	t.Helper()
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := bytes.Index(b, []byte(`{"hash":"`)); i >= 0; i = bytes.Index(b, []byte(`{"hash":"`)) {
		copy(b[i:], "\x00\xff\x00\xff") // every copy: old ones sit in pages bbolt no longer uses
		n++
	}
	if n == 0 {
		t.Fatal("no photo record found")
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
