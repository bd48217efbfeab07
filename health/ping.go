// Package health tells the owner, and the machines watching for the owner,
// how cotd's runs go: dead man's switch pings (healthchecks.io, Uptime
// Kuma), push notifications (ntfy, Gotify), a Prometheus textfile for
// node_exporter, and the bookkeeping that keeps alert mails to one per
// problem per day.
//
// It is not where problems are detected or alert mails are sent: the run
// decides what went wrong and hands Problems here; the mail package sends
// the text AlertText makes. Every network call has a short timeout and
// returns an error for the caller to log; none of them may hold up the
// cat mail.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultTimeout bounds each ping or notification when none is set.
const DefaultTimeout = 10 * time.Second

// MaxPingBody bounds the run summary sent with a ping. Healthchecks keeps
// 100 kB per ping; a summary that long is a log, not a summary.
const MaxPingBody = 10 << 10

// maxKumaMsg bounds the msg query parameter of an Uptime Kuma push: it
// travels in the URL, and Kuma shows it on one line.
const maxKumaMsg = 400

const cutMarker = "… (cut)"

const userAgent = "cotd"

// Pinger reports run start, success and failure to a dead man's switch.
// An empty URL makes every call a no-op, so callers need no conditionals.
//
// The service is recognised from the URL:
//   - Uptime Kuma push monitors: the path contains "/api/push/"
//     (https://kuma.example/api/push/TOKEN?status=up&msg=OK&ping=).
//     Kuma has no start or exit-code endpoints; a run is one GET with
//     status=up or status=down and msg set to the summary's first part,
//     replacing those parameters in the URL and keeping any others. Start
//     sends nothing, so a run that hangs after starting still goes quiet.
//   - Anything else is treated as healthchecks.io or self-hosted
//     Healthchecks (https://hc-ping.com/UUID, .../PING_KEY/slug?create=1):
//     POST to URL/start, URL, URL/fail or URL/<exit code>, the suffix added
//     to the path with the query string kept, the summary as the body.
type Pinger struct {
	URL     string
	Client  *http.Client  // nil: a plain http.Client
	Timeout time.Duration // per call; zero: DefaultTimeout
}

// Start reports that a run began, so the service can measure run time and
// alert on a run that starts but never finishes.
func (p *Pinger) Start(ctx context.Context) error {
	if p.URL == "" {
		return nil
	}
	if isKuma(p.URL) {
		return nil
	}
	return p.post(ctx, "start", "")
}

// Success reports a run that did its job, with body as the summary.
func (p *Pinger) Success(ctx context.Context, body string) error {
	if p.URL == "" {
		return nil
	}
	if isKuma(p.URL) {
		return p.kuma(ctx, "up", body)
	}
	return p.post(ctx, "", body)
}

// Fail reports a failed run: URL/fail for exit code 1 (or any code outside
// 1..255, which Healthchecks would not read as a failure), URL/<code>
// otherwise, so the service shows the exit code.
func (p *Pinger) Fail(ctx context.Context, exitCode int, body string) error {
	if p.URL == "" {
		return nil
	}
	if isKuma(p.URL) {
		return p.kuma(ctx, "down", body)
	}
	suffix := "fail"
	if exitCode > 1 && exitCode <= 255 {
		suffix = strconv.Itoa(exitCode)
	}
	return p.post(ctx, suffix, body)
}

func isKuma(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return strings.Contains(u.Path, "/api/push/")
}

func (p *Pinger) post(ctx context.Context, suffix, body string) error {
	u, err := url.Parse(p.URL)
	if err != nil {
		return fmt.Errorf("ping: parse --ping-url: %w; give a URL like https://hc-ping.com/UUID", err)
	}
	if suffix != "" {
		u = u.JoinPath(suffix)
	}
	req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(Truncate(body, MaxPingBody)))
	if err != nil {
		return fmt.Errorf("ping %s: %w", redact(u), err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	return do(ctx, p.Client, p.Timeout, req, "ping", nil)
}

func (p *Pinger) kuma(ctx context.Context, status, body string) error {
	u, err := url.Parse(p.URL)
	if err != nil {
		return fmt.Errorf("ping: parse --ping-url: %w; give the push URL Uptime Kuma shows for the monitor", err)
	}
	q := u.Query()
	q.Set("status", status)
	q.Set("msg", Truncate(oneLine(body), maxKumaMsg))
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("ping %s: %w", redact(u), err)
	}
	return do(ctx, p.Client, p.Timeout, req, "ping", kumaCheck)
}

// kumaCheck reads Kuma's answer: it says {"ok":false,"msg":"..."} when the
// monitor is missing or paused.
func kumaCheck(body []byte) error {
	var r struct {
		OK  *bool  `json:"ok"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(body, &r) != nil || r.OK == nil || *r.OK {
		return nil
	}
	return fmt.Errorf("uptime kuma says %q; check that the push monitor exists and is active", r.Msg)
}

// oneLine folds a multi-line summary into one line for places that show
// only one.
func oneLine(s string) string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " / ")
}

// Truncate returns s cut to at most limit bytes at a rune boundary, ending in
// "… (cut)" when anything was dropped.
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	marker := cutMarker
	keep := limit - len(marker)
	if keep < 0 {
		// No room for the marker: cut bare.
		keep, marker = max(limit, 0), ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + marker
}

// redact names a URL by scheme and host only: ping and notification URLs
// carry their secret in the path or query (a check UUID, a topic, a token),
// and these errors end up in logs and alert mails.
func redact(u *url.URL) string {
	return u.Scheme + "://" + u.Host + "/…"
}

// do sends req with the timeout and turns a non-2xx answer into an error
// that names the service's host and status, plus the first words of its
// answer. check, when set, inspects a 2xx body too.
func do(ctx context.Context, client *http.Client, timeout time.Duration, req *http.Request, what string, check func([]byte) error) error {
	if client == nil {
		client = &http.Client{}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req = req.WithContext(ctx)
	req.Header.Set("User-Agent", userAgent)
	name := redact(req.URL)
	resp, err := client.Do(req)
	if err != nil {
		// url.Error repeats the full URL, secret included: keep only its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s %s: no answer within %s: %w", what, name, timeout, err)
		}
		return fmt.Errorf("%s %s: %w", what, name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		text := Truncate(oneLine(strings.ToValidUTF8(string(body), "?")), 200)
		if text != "" {
			text = ": " + text
		}
		return fmt.Errorf("%s %s: %s%s; check the URL", what, name, resp.Status, text)
	}
	if check != nil {
		if err := check(body); err != nil {
			return fmt.Errorf("%s %s: %w", what, name, err)
		}
	}
	return nil
}
