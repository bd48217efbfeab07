package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/images"
	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"

	"cotd/internal/smtppeer"
	"cotd/internal/tmpfs"
)

// fakeSender answers each message with what answer says for its
// recipient, and remembers who was tried.
type fakeSender struct {
	noResend
	mu     sync.Mutex
	answer func(to string) cmail.Result
	tried  []string
}

func (f *fakeSender) SendEach(ctx context.Context, msgs []*gomail.Msg, before func(int) error, done func(int, cmail.Result)) error {
	for i, m := range msgs {
		to := m.GetToString()[0]
		if a, err := mail.ParseAddress(to); err == nil {
			to = a.Address
		}
		if before != nil {
			if err := before(i); err != nil {
				done(i, cmail.Result{Err: err})
				continue
			}
		}
		f.mu.Lock()
		f.tried = append(f.tried, to)
		f.mu.Unlock()
		r := cmail.Result{Delivered: true}
		if f.answer != nil {
			r = f.answer(to)
		}
		done(i, r)
	}
	return nil
}

func (f *fakeSender) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tried
	f.tried = nil
	return t
}

// smtpErr is a server's reply as an error.
// smtpErr is a refusal at RCPT TO, shaped as go-mail reports one.
func smtpErr(code int, text string) error {
	return fmt.Errorf("smtp: RCPT TO: %w", errors.Join(&gomail.SendError{Reason: gomail.ErrSMTPRcptTo}, &textproto.Error{Code: code, Msg: text}))
}

// clock is the injected time; tests move it.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var berlin, _ = time.LoadLocation("Europe/Berlin")

func at(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, berlin) }

func photo(t *testing.T, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for y := range 120 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{uint8(seed * 53), uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// newTestJob is a job over n photos in a fresh folder, with its own
// database and cache.
func newTestJob(t *testing.T, n int, to string, s Sender) (*Job, *clock) {
	t.Helper()
	dir := t.TempDir()
	photos := filepath.Join(dir, "photos")
	os.MkdirAll(photos, 0o755)
	for i := range n {
		if err := os.WriteFile(filepath.Join(photos, fmt.Sprintf("cat%d.jpg", i)), photo(t, i+1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addrs, err := cmail.ParseAddressList(to)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{at(2, 8)}
	return jobOver(t, photos, addrs, s, c.now), c
}

// jobOver is a job over the folder photos, with its own database and
// cache in a fresh folder (cotd.db beside cache), mailing to through s at
// the time now says: a 07:00 Berlin schedule with a two-day digest and one
// built-in quote. Tests and benchmarks change what they need after.
func jobOver(tb testing.TB, photos string, to []*mail.Address, s Sender, now func() time.Time) *Job {
	tb.Helper()
	dir := tb.TempDir()
	st, err := store.Open(filepath.Join(dir, "cotd.db"), time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return &Job{
		Config: Config{
			Photos: photos, DefaultQuotes: []byte("Built in. — Cotd\n"),
			From: "cotd@example.test", Owner: "cotd@example.test", To: to,
			Schedule: schedule.Settings{At: schedule.Clock{Hour: 7}, Loc: berlin, CatchUp: schedule.Digest, MaxDays: 2},
			CacheDir: filepath.Join(dir, "cache"), Render: images.Default,
		},
		Store: st, Sender: s, Now: now,
	}
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// A 451 for one recipient: only that recipient is tried again next run,
// and once it lands nothing more goes out that day.
func TestTemporaryFailureRetriedAlone(t *testing.T) {
	fs := &fakeSender{}
	fs.answer = func(to string) cmail.Result {
		if to == "b@example.test" {
			return cmail.Result{Err: smtpErr(451, "4.3.0 try later")}
		}
		return cmail.Result{Delivered: true}
	}
	j, c := newTestJob(t, 2, "a@example.test, b@example.test, c@example.test", fs)
	sum, err := j.Run(context.Background())
	if !errors.Is(err, ErrUndelivered) || !strings.Contains(err.Error(), "b@example.test") {
		t.Fatalf("first run: %v, want ErrUndelivered naming b", err)
	}
	if sum.Sent != 2 || len(sum.Failures) != 1 || sum.Failures[0].Class != cmail.Temporary {
		t.Errorf("first run: sent %d, failures %+v", sum.Sent, sum.Failures)
	}
	fs.take()
	c.t = at(2, 9)
	fs.answer = nil
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := fs.take(); !equal(got, []string{"b@example.test"}) {
		t.Errorf("retry tried %v, want only b", got)
	}
	c.t = at(2, 10)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fs.take(); len(got) != 0 {
		t.Errorf("third run tried %v, want nobody", got)
	}
}

// A 550 for one recipient: reported, tried once a day (not every run),
// then given up and named when the day leaves the catch-up window.
func TestPermanentFailureGivenUp(t *testing.T) {
	fs := &fakeSender{}
	fs.answer = func(to string) cmail.Result {
		if to == "c@example.test" {
			return cmail.Result{Err: smtpErr(550, "5.1.1 no such user")}
		}
		return cmail.Result{Delivered: true}
	}
	j, c := newTestJob(t, 3, "a@example.test, c@example.test", fs)
	triesForDay1 := 0
	var gaveUp []string
	for day := 2; day <= 7; day++ {
		for _, hour := range []int{8, 12} {
			c.t = at(day, hour)
			sum, err := j.Run(context.Background())
			if !errors.Is(err, ErrUndelivered) {
				t.Fatalf("%v: %v, want ErrUndelivered", c.t, err)
			}
			for _, to := range fs.take() {
				if to == "c@example.test" {
					if hour == 12 {
						t.Errorf("%v: the refused address was tried again the same day", c.t)
					}
					triesForDay1++
				}
			}
			gaveUp = append(gaveUp, undeliveredLines(sum.GaveUp)...)
		}
	}
	// Day 2 is in the window on days 2, 3 and 4 (MaxDays 2).
	if want := 6; triesForDay1 != want {
		t.Errorf("c tried %d times over six days, want %d (once a day)", triesForDay1, want)
	}
	if len(gaveUp) == 0 || gaveUp[0] != "2026-03-02 to c@example.test" {
		t.Fatalf("gave up %q, want 2026-03-02 to c@example.test first", gaveUp)
	}
	seen := map[string]bool{}
	for _, g := range gaveUp {
		if seen[g] {
			t.Errorf("gave up on %q twice", g)
		}
		seen[g] = true
	}
	err := j.Store.View(func(tx *store.Tx) error {
		f, ok, err := tx.Failure("c@example.test")
		if err != nil || !ok || !f.Permanent || !strings.Contains(f.Error, "550") {
			return fmt.Errorf("failure record %+v %v %v, want a permanent 550", f, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// silentServer accepts connections and never answers; it returns the port.
func silentServer(t *testing.T) int {
	addr, _ := smtppeer.Silent(t)
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return n
}

// A server that accepts and never answers: the run ends with a timeout
// error, records nothing, and the next run (server back) delivers.
func TestSlowServerTimesOut(t *testing.T) {
	port := silentServer(t)
	smtp := cmail.NewSMTP(cmail.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: cmail.TLSNone, Timeout: 300 * time.Millisecond})
	j, c := newTestJob(t, 1, "a@example.test, b@example.test", smtp)
	start := time.Now()
	sum, err := j.Run(context.Background())
	took := time.Since(start)
	if !errors.Is(err, ErrUndelivered) || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Fatalf("run against a silent server: %v, want a timeout", err)
	}
	if took > 5*time.Second {
		t.Errorf("the run took %s, want it bounded by the timeout", took)
	}
	if sum.Sent != 0 || sum.ConnErr == nil {
		t.Errorf("sent %d, ConnErr %v", sum.Sent, sum.ConnErr)
	}
	fs := &fakeSender{}
	j.Sender = fs
	c.t = at(2, 9)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fs.take(); !equal(got, []string{"a@example.test", "b@example.test"}) {
		t.Errorf("after the timeout the next run tried %v, want both", got)
	}
}

// A full disk under the rendition cache is the machine's problem, not the
// photos': the run fails with a clear error, no photo is marked unusable,
// and once there is room the same photos are used.
func TestCacheDiskFull(t *testing.T) {
	fs := &fakeSender{}
	j, c := newTestJob(t, 2, "a@example.test", fs)
	tmpfs.Mount(t, j.CacheDir, "8k")
	filler := filepath.Join(j.CacheDir, "filler")
	if err := os.WriteFile(filler, make([]byte, 64<<10), 0o600); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the 8k tmpfs: %v, want ENOSPC", err)
	}
	_, err := j.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), j.CacheDir) {
		t.Fatalf("run with a full cache disk: %v, want a no-space error naming the cache", err)
	}
	err = j.Store.View(func(tx *store.Tx) error {
		return tx.EachFile(func(path string, f store.File) error {
			if f.Err != "" {
				return fmt.Errorf("%s marked unusable because the cache disk was full: %s", path, f.Err)
			}
			return nil
		})
	})
	if err != nil {
		t.Error(err)
	}
	os.Remove(filler)
	c.t = at(2, 9)
	sum, err := j.Run(context.Background())
	if err != nil || sum.Sent != 1 || sum.Index.Photos != 2 {
		t.Errorf("run with room again: %v, sent %d, %d photos; want the cat out and both photos usable", err, sum.Sent, sum.Index.Photos)
	}
}

// A file that vanishes between the scan and the read is skipped with one
// line, the run still mails a cat, and the file is forgotten once gone.
func TestPhotoVanishesMidRun(t *testing.T) {
	fs := &fakeSender{}
	j, c := newTestJob(t, 2, "a@example.test", fs)
	gone := filepath.Join(j.Photos, "cat0.jpg")
	testHookBeforeRead = func(path string) {
		if path == gone {
			os.Remove(path)
		}
	}
	t.Cleanup(func() { testHookBeforeRead = nil })
	sum, err := j.Run(context.Background())
	if err != nil || sum.Sent != 1 {
		t.Fatalf("run: %v, sent %d", err, sum.Sent)
	}
	want := "skipped " + gone + ": cannot read: it vanished or is a broken link"
	if len(sum.Index.Reports) != 1 || sum.Index.Reports[0].String() != want {
		t.Errorf("reports %q, want [%q]", sum.Index.Reports, want)
	}
	c.t = at(3, 8)
	sum, err = j.Run(context.Background())
	if err != nil || sum.Sent != 1 || len(sum.Index.Reports) != 0 || sum.Index.Unusable != 0 {
		t.Errorf("next run: %v, sent %d, reports %q, unusable %d; want the vanished file forgotten", err, sum.Sent, sum.Index.Reports, sum.Index.Unusable)
	}
}

// loginFails fails the whole batch the way a wrong password does: every
// message gets the same 535, and SendEach returns it.
type loginFails struct {
	noResend
	tries int
}

func (l *loginFails) SendEach(ctx context.Context, msgs []*gomail.Msg, before func(int) error, done func(int, cmail.Result)) error {
	l.tries++
	err := fmt.Errorf("smtp login as cotd at 127.0.0.1 failed: %w", &textproto.Error{Code: 535, Msg: "5.7.8 Authentication credentials invalid"})
	for i := range msgs {
		done(i, cmail.Result{Err: err})
	}
	return err
}

// A wrong password is one connection error, not every recipient refusing
// their mail: once the owner fixes it, the next run the same day delivers.
func TestWrongPasswordFixedSameDay(t *testing.T) {
	lf := &loginFails{}
	j, c := newTestJob(t, 1, "a@example.test, b@example.test", lf)
	sum, err := j.Run(context.Background())
	if !errors.Is(err, ErrUndelivered) || sum.ConnErr == nil || !strings.Contains(err.Error(), "535") {
		t.Fatalf("run with a wrong password: %v (ConnErr %v)", err, sum.ConnErr)
	}
	if lf.tries != 1 {
		t.Errorf("logged in %d times in one run, want 1", lf.tries)
	}
	fs := &fakeSender{}
	j.Sender = fs
	c.t = at(2, 9)
	if _, err := j.Run(context.Background()); err != nil {
		t.Fatalf("run after the password was fixed: %v", err)
	}
	if got := fs.take(); !equal(got, []string{"a@example.test", "b@example.test"}) {
		t.Errorf("after the fix the same day, tried %v, want both", got)
	}
}
