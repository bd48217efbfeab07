package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/atomicfile"
)

// Outbox "delivers" by writing each message as an .eml file into Dir,
// named <YYYY-MM-DD>-<recipient>.eml after the message's Date header and
// its To address. A message counts as delivered only once its file is
// complete on disk (written, fsynced, renamed into place, directory
// fsynced), so a power cut leaves either the whole file or none.
type Outbox struct {
	Dir string
	// Now dates messages that carry no Date header; nil means time.Now.
	Now func() time.Time

	// createTemp is os.CreateTemp unless a test injects a failing disk.
	createTemp func(dir, pattern string) (outFile, error)
}

// outFile is the part of *os.File the outbox uses.
type outFile = atomicfile.File

// SendEach writes msgs into the outbox, reporting each result through
// done as soon as its file is safely on disk; done is called once per
// message, in order. The error is non-nil only when the directory cannot
// be made, and then every result carries it.
func (o Outbox) SendEach(ctx context.Context, msgs []*gomail.Msg, before func(i int) error, done func(i int, r Result)) error {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		err = fmt.Errorf("create outbox %s: %w; check --outbox and its permissions", o.Dir, hintSpace(err))
		for i := range msgs {
			done(i, Result{Err: err})
		}
		return err
	}
	for i, m := range msgs {
		if err := ctx.Err(); err != nil {
			done(i, Result{Err: fmt.Errorf("outbox %s: not written: %w", o.Dir, context.Cause(ctx))})
			continue
		}
		if m == nil {
			done(i, Result{Err: errors.New("no message")})
			continue
		}
		if before != nil {
			if err := before(i); err != nil {
				done(i, Result{Err: fmt.Errorf("outbox %s: not written: %w", o.Dir, err)})
				continue
			}
		}
		if err := o.write(m); err != nil {
			done(i, Result{Err: err})
			continue
		}
		done(i, Result{Delivered: true})
	}
	return nil
}

func (o Outbox) write(m *gomail.Msg) error {
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return fmt.Errorf("render message to %s: %w", strings.Join(m.GetToString(), ", "), err)
	}
	data := buf.Bytes()
	base := o.fileBase(m)

	// A file with the same Message-ID (stable per day and recipient) is
	// the same message written again, e.g. by a rerun after a crash: it is
	// replaced. A different message gets a numbered name beside it.
	path := filepath.Join(o.Dir, base+".eml")
	for n := 2; ; n++ {
		old, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if bytes.Equal(old, data) {
			return nil
		}
		if id := messageID(data); id != "" && id == messageID(old) {
			break
		}
		path = filepath.Join(o.Dir, base+"-"+strconv.Itoa(n)+".eml")
	}

	// The file is 0600 (CreateTemp's), like the outbox.
	if err := atomicfile.Write(path, data, atomicfile.Options{Pattern: ".tmp-*.eml", CreateTemp: o.createTemp}); err != nil {
		return fmt.Errorf("write %s: %w", path, hintSpace(err))
	}
	return nil
}

// fileBase is "<YYYY-MM-DD>-<recipient>" from the Date and To headers.
func (o Outbox) fileBase(m *gomail.Msg) string {
	var day time.Time
	if h := m.GetGenHeader(gomail.HeaderDate); len(h) > 0 {
		if t, err := netmail.ParseDate(h[0]); err == nil {
			day = t // in the zone it was written with: the owner's day
		}
	}
	if day.IsZero() {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		day = now()
	}
	rcpt := "no-recipient"
	if to := m.GetTo(); len(to) > 0 {
		rcpt = sanitiseAddress(to[0].Address)
	}
	return day.Format(time.DateOnly) + "-" + rcpt
}

// sanitiseAddress keeps an address readable as a file name on any
// filesystem: lower case, letters, digits and . _ + - @ only.
func sanitiseAddress(a string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(a) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("._+-@", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if s == "" {
		return "no-recipient"
	}
	return s
}

// messageID returns the Message-ID header of a raw message, or "".
func messageID(raw []byte) string {
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(m.Header.Get("Message-Id"))
}

// hintSpace adds what to do when the disk is full.
func hintSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w; free some space on that disk", err)
	}
	return err
}
