package mail

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"time"
)

// buildAlternative writes the multipart/alternative body: the plain text
// first (quoted-printable UTF-8), then the multipart/related HTML and cats.
func buildAlternative(out io.Writer, text string, related func(io.Writer) error, relBoundary, boundary string) error {
	w := multipart.NewWriter(out)
	if err := w.SetBoundary(boundary); err != nil {
		return fmt.Errorf("compose: boundary: %w", err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := w.CreatePart(h)
	if err != nil {
		return fmt.Errorf("compose: text part: %w", err)
	}
	qp := quotedprintable.NewWriter(pw)
	if _, err := io.WriteString(qp, text); err != nil {
		return fmt.Errorf("compose: text part: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("compose: text part: %w", err)
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Type", `multipart/related; boundary="`+relBoundary+`"; type="text/html"`)
	pw, err = w.CreatePart(h)
	if err != nil {
		return fmt.Errorf("compose: related part: %w", err)
	}
	if err := related(pw); err != nil {
		return fmt.Errorf("compose: related part: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("compose: close alternative part: %w", err)
	}
	return nil
}

// buildRelated writes the multipart/related body: the HTML first (the root
// part), then each day's JPEG, inline, addressed by its Content-ID.
func buildRelated(out io.Writer, htmlBody []byte, days []Day, cids []string, boundary string) error {
	w := multipart.NewWriter(out)
	if err := w.SetBoundary(boundary); err != nil {
		return fmt.Errorf("compose: boundary: %w", err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	pw, err := w.CreatePart(h)
	if err != nil {
		return fmt.Errorf("compose: html part: %w", err)
	}
	qp := quotedprintable.NewWriter(pw)
	if _, err := qp.Write(htmlBody); err != nil {
		return fmt.Errorf("compose: html part: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("compose: html part: %w", err)
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
			return fmt.Errorf("compose: image part %s: %w", name, err)
		}
		if err := writeBase64Lines(pw, d.Photo); err != nil {
			return fmt.Errorf("compose: image part %s: %w", name, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("compose: close related part: %w", err)
	}
	return nil
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

// countingWriter counts what goes through it (go-mail's body writer
// reports its length).
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
