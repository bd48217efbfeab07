package health

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cotd/internal/text"
)

// maxNotifyMessage keeps a message under ntfy's 4096-byte limit, above which
// ntfy turns the text into an attachment.
const maxNotifyMessage = 4000

// Notifier pushes a short notification to the owner's phone: the channel
// for when mail itself is broken. An empty URL makes Notify a no-op.
//
// The service is recognised from the URL:
//   - Gotify: the path ends in "/message" (https://gotify.example/message?token=APPTOKEN).
//     A JSON body {"title","message","priority"} is POSTed; ntfy's priority
//     1..5 becomes Gotify's 2..10.
//   - Anything else is treated as ntfy (https://ntfy.sh/TOPIC or self-hosted):
//     the message text is POSTed with Title, Priority and Tags headers.
//     Credentials in the URL (https://user:pass@host/topic) are sent as
//     HTTP basic auth by net/http.
type Notifier struct {
	URL     string
	Client  *http.Client  // nil: a plain http.Client
	Timeout time.Duration // zero: DefaultTimeout
}

// Notification is one push message.
type Notification struct {
	Title   string
	Message string
	// Priority is ntfy's scale: 1 min, 2 low, 3 default, 4 high, 5 urgent;
	// 0 leaves it to the service.
	Priority int
	// Tags are ntfy tags; names of emoji ("warning", "rotating_light")
	// show as icons. Gotify ignores them.
	Tags []string
}

// Notify sends note.
func (n *Notifier) Notify(ctx context.Context, note Notification) error {
	if n.URL == "" {
		return nil
	}
	u, err := url.Parse(n.URL)
	if err != nil {
		return fmt.Errorf("notify: parse --notify-url: %w; give a URL like https://ntfy.sh/TOPIC", err)
	}
	prio := min(note.Priority, 5)
	if prio < 0 {
		prio = 0
	}
	msg := Truncate(note.Message, maxNotifyMessage)
	var req *http.Request
	if isGotify(u) {
		body, err := json.Marshal(struct {
			Title    string `json:"title,omitempty"`
			Message  string `json:"message"`
			Priority int    `json:"priority,omitempty"`
		}{note.Title, msg, prio * 2})
		if err != nil {
			return fmt.Errorf("notify %s: %w", redact(u), err)
		}
		req, err = http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("notify %s: %w", redact(u), err)
		}
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, err = http.NewRequest(http.MethodPost, u.String(), strings.NewReader(msg))
		if err != nil {
			return fmt.Errorf("notify %s: %w", redact(u), err)
		}
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		if t := headerValue(note.Title); t != "" {
			req.Header.Set("Title", t)
		}
		if prio > 0 {
			req.Header.Set("Priority", strconv.Itoa(prio))
		}
		var tags []string
		for _, tag := range note.Tags {
			if tag = strings.TrimSpace(strings.ReplaceAll(tag, ",", " ")); tag != "" {
				tags = append(tags, tag)
			}
		}
		if t := headerValue(strings.Join(tags, ",")); t != "" {
			req.Header.Set("Tags", t)
		}
	}
	return do(ctx, n.Client, n.Timeout, req, "notify", nil)
}

func isGotify(u *url.URL) bool {
	return strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/message")
}

// headerValue makes s safe as an HTTP header value: control characters
// (CR/LF would split the header) become spaces, and non-ASCII text is
// RFC 2047 encoded, which ntfy decodes, so "Kätzchen" survives.
func headerValue(s string) string {
	return mime.QEncoding.Encode("utf-8", text.OneLine(strings.ToValidUTF8(s, "?")))
}
