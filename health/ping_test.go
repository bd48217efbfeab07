package health

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const checkUUID = "5d6f3c3e-8d3a-4b5e-9f0c-1234567890ab"

func TestPingerHealthchecks(t *testing.T) {
	rec := newRecorder(t)
	p := &Pinger{URL: rec.URL + "/" + checkUUID, Timeout: 5 * time.Second}
	ctx := context.Background()

	steps := []struct {
		name string
		call func() error
		path string
		body string
	}{
		{"start", func() error { return p.Start(ctx) }, "/" + checkUUID + "/start", ""},
		{"success", func() error { return p.Success(ctx, "sent 10 of 10\nnext: tomorrow 07:00") }, "/" + checkUUID, "sent 10 of 10\nnext: tomorrow 07:00"},
		{"fail exit 1", func() error { return p.Fail(ctx, 1, "smtp down") }, "/" + checkUUID + "/fail", "smtp down"},
		{"fail exit 3", func() error { return p.Fail(ctx, 3, "database locked") }, "/" + checkUUID + "/3", "database locked"},
		// 0 would read as success to Healthchecks, 256 is not an exit code.
		{"fail exit 0", func() error { return p.Fail(ctx, 0, "x") }, "/" + checkUUID + "/fail", "x"},
		{"fail exit 256", func() error { return p.Fail(ctx, 256, "x") }, "/" + checkUUID + "/fail", "x"},
	}
	for i, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		reqs := rec.requests()
		if len(reqs) != i+1 {
			t.Fatalf("%s: %d requests, want %d", s.name, len(reqs), i+1)
		}
		r := reqs[i]
		if r.Method != "POST" || r.Path != s.path || r.Body != s.body {
			t.Errorf("%s: got %s %s %q, want POST %s %q", s.name, r.Method, r.Path, r.Body, s.path, s.body)
		}
		if got := r.Header.Get("User-Agent"); got != "cotd" {
			t.Errorf("%s: User-Agent %q", s.name, got)
		}
		if got := r.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", s.name, got)
		}
	}
}

func TestPingerKeepsQueryAndSlug(t *testing.T) {
	rec := newRecorder(t)
	p := &Pinger{URL: rec.URL + "/ping/PINGKEY/cotd/?create=1"}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Fail(context.Background(), 2, "bad config"); err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, want := range []string{"/ping/PINGKEY/cotd/start", "/ping/PINGKEY/cotd/2"} {
		if reqs[i].Path != want || reqs[i].RawQuery != "create=1" {
			t.Errorf("request %d: %s?%s, want %s?create=1", i, reqs[i].Path, reqs[i].RawQuery, want)
		}
	}
}

func TestPingerUptimeKuma(t *testing.T) {
	rec := newRecorder(t)
	rec.answer(200, `{"ok":true}`)
	p := &Pinger{URL: rec.URL + "/api/push/Tok3n?status=up&msg=OK&ping="}
	ctx := context.Background()

	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.requests()); n != 0 {
		t.Fatalf("Start sent %d requests to Kuma, want none", n)
	}
	if err := p.Success(ctx, "sent 10 of 10\n\n  next: tomorrow 07:00\n"); err != nil {
		t.Fatal(err)
	}
	if err := p.Fail(ctx, 1, "smtp mail.example.test:587: connection refused"); err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	want := []url.Values{
		{"status": {"up"}, "msg": {"sent 10 of 10 / next: tomorrow 07:00"}, "ping": {""}},
		{"status": {"down"}, "msg": {"smtp mail.example.test:587: connection refused"}, "ping": {""}},
	}
	for i, r := range reqs {
		if r.Method != "GET" || r.Path != "/api/push/Tok3n" || r.Body != "" {
			t.Errorf("request %d: %s %s body %q", i, r.Method, r.Path, r.Body)
		}
		q, err := url.ParseQuery(r.RawQuery)
		if err != nil {
			t.Fatal(err)
		}
		if q.Encode() != want[i].Encode() {
			t.Errorf("request %d query %v, want %v", i, q, want[i])
		}
	}

	// A long summary stays bounded in the URL.
	if err := p.Fail(ctx, 1, strings.Repeat("ü", 2000)); err != nil {
		t.Fatal(err)
	}
	last := rec.requests()[2]
	q, _ := url.ParseQuery(last.RawQuery)
	if msg := q.Get("msg"); len(msg) > maxKumaMsg || !strings.HasSuffix(msg, "… (cut)") || !utf8.ValidString(msg) {
		t.Errorf("long msg: %d bytes, %q...", len(msg), msg[:min(len(msg), 20)])
	}

	rec.answer(404, `{"ok":false,"msg":"Monitor not found or not active."}`)
	err := p.Success(ctx, "x")
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "Monitor not found") {
		t.Errorf("404 from Kuma: %v", err)
	}
	rec.answer(200, `{"ok":false,"msg":"Monitor not found or not active."}`)
	err = p.Success(ctx, "x")
	if err == nil || !strings.Contains(err.Error(), `uptime kuma says "Monitor not found or not active."`) {
		t.Errorf("ok:false from Kuma: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "Tok3n") {
		t.Errorf("error leaks the push token: %v", err)
	}
}

func TestPingerBodyBounded(t *testing.T) {
	rec := newRecorder(t)
	p := &Pinger{URL: rec.URL + "/" + checkUUID}
	long := strings.Repeat("Katze 🐈 ", 5000) // 4-byte runes land on every cut position sooner or later
	if err := p.Fail(context.Background(), 1, long); err != nil {
		t.Fatal(err)
	}
	got := rec.requests()[0].Body
	if len(got) > MaxPingBody || len(got) < MaxPingBody-4 {
		t.Errorf("body is %d bytes, want just under %d", len(got), MaxPingBody)
	}
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "… (cut)") || !strings.HasPrefix(got, "Katze 🐈") {
		t.Errorf("body not cut cleanly: ...%q", got[len(got)-30:])
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijklmnop", 14, "abcde… (cut)"}, // marker is 9 bytes
		{"ääääääää", 14, "ää… (cut)"},            // 5 bytes for text: 2 runes, not a split one
		{"abcdef", 3, "abc"},                     // no room for the marker
		{"äbc", 1, ""},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		got := Truncate(tt.in, tt.limit)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
		if len(got) > max(tt.limit, 0) || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q breaks the bound or UTF-8", tt.in, tt.limit, got)
		}
	}
}

func TestPingerNoURL(t *testing.T) {
	p := &Pinger{}
	ctx := context.Background()
	for name, err := range map[string]error{
		"start":   p.Start(ctx),
		"success": p.Success(ctx, "x"),
		"fail":    p.Fail(ctx, 1, "x"),
	} {
		if err != nil {
			t.Errorf("%s with no URL: %v", name, err)
		}
	}
	n := &Notifier{}
	if err := n.Notify(ctx, Notification{Title: "x"}); err != nil {
		t.Errorf("notify with no URL: %v", err)
	}
}

func TestPingerErrors(t *testing.T) {
	t.Run("http error", func(t *testing.T) {
		rec := newRecorder(t)
		rec.answer(404, "not found")
		p := &Pinger{URL: rec.URL + "/" + checkUUID}
		err := p.Success(context.Background(), "x")
		if err == nil {
			t.Fatal("no error for 404")
		}
		msg := err.Error()
		if !strings.Contains(msg, "404 Not Found: not found") || !strings.Contains(msg, strings.TrimPrefix(rec.URL, "http://")) {
			t.Errorf("error %q should name the host and the status", msg)
		}
		if strings.Contains(msg, checkUUID) {
			t.Errorf("error %q leaks the check UUID", msg)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		p := &Pinger{URL: closedURL(t) + "/" + checkUUID}
		err := p.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), checkUUID) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("server never answers", func(t *testing.T) {
		p := &Pinger{URL: silentServer(t) + "/" + checkUUID, Timeout: 200 * time.Millisecond}
		start := time.Now()
		err := p.Fail(context.Background(), 1, "x")
		elapsed := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v", err)
		}
		if elapsed > 5*time.Second {
			t.Errorf("Fail took %v with a 200ms timeout", elapsed)
		}
	})
	t.Run("bad url", func(t *testing.T) {
		p := &Pinger{URL: "http://[::1"}
		if err := p.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "--ping-url") {
			t.Errorf("error %v", err)
		}
	})
}
