package health

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"strings"
	"testing"
	"time"
)

func TestNotifyNtfy(t *testing.T) {
	dec := new(mime.WordDecoder)
	tests := []struct {
		name      string
		note      Notification
		title     string // decoded Title header; "" means absent
		rawTitle  string // exact header when set
		priority  string
		tags      string
		bodyCheck func(string) bool
	}{
		{
			name:     "plain",
			note:     Notification{Title: "cotd: mail is down", Message: "smtp mail.example.test:587: connection refused", Priority: 4, Tags: []string{"warning", "cat"}},
			title:    "cotd: mail is down",
			rawTitle: "cotd: mail is down",
			priority: "4", tags: "warning,cat",
			bodyCheck: func(b string) bool { return b == "smtp mail.example.test:587: connection refused" },
		},
		{
			name:     "non-ascii title survives",
			note:     Notification{Title: "Kätzchen fehlt – 猫", Message: "x", Priority: 3},
			title:    "Kätzchen fehlt – 猫",
			priority: "3",
		},
		{
			name:     "CR/LF cannot inject headers",
			note:     Notification{Title: "down\r\nX-Injected: 1", Message: "x", Tags: []string{"a,b", "c\nX-Evil: 2"}},
			title:    "down X-Injected: 1",
			rawTitle: "down X-Injected: 1",
			tags:     "a b,c X-Evil: 2",
		},
		{
			name:     "priority clamped, zero omitted",
			note:     Notification{Message: "x", Priority: 9},
			priority: "5",
		},
		{
			name:      "long message bounded",
			note:      Notification{Message: strings.Repeat("ä", 5000)},
			bodyCheck: func(b string) bool { return len(b) <= 4000 && strings.HasSuffix(b, "… (cut)") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			n := &Notifier{URL: rec.URL + "/cotd-alerts"}
			if err := n.Notify(context.Background(), tt.note); err != nil {
				t.Fatal(err)
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/cotd-alerts" {
				t.Errorf("%s %s", r.Method, r.Path)
			}
			raw := r.Header.Get("Title")
			got, err := dec.DecodeHeader(raw)
			if err != nil {
				t.Fatalf("Title %q does not decode: %v", raw, err)
			}
			if got != tt.title {
				t.Errorf("Title decodes to %q, want %q (raw %q)", got, tt.title, raw)
			}
			if tt.rawTitle != "" && raw != tt.rawTitle {
				t.Errorf("raw Title %q, want %q", raw, tt.rawTitle)
			}
			for _, v := range r.Header {
				for _, s := range v {
					if strings.ContainsAny(s, "\r\n") {
						t.Errorf("header value %q has CR/LF", s)
					}
				}
			}
			if r.Header.Get("X-Injected") != "" || r.Header.Get("X-Evil") != "" {
				t.Error("a header was injected")
			}
			if got := r.Header.Get("Priority"); got != tt.priority {
				t.Errorf("Priority %q, want %q", got, tt.priority)
			}
			if got := r.Header.Get("Tags"); got != tt.tags {
				t.Errorf("Tags %q, want %q", got, tt.tags)
			}
			if tt.bodyCheck != nil && !tt.bodyCheck(r.Body) {
				t.Errorf("body %q...", r.Body[:min(len(r.Body), 40)])
			}
		})
	}
}

func TestNotifyGotify(t *testing.T) {
	rec := newRecorder(t)
	rec.answer(200, `{"id":1}`)
	n := &Notifier{URL: rec.URL + "/message?token=AppTok"}
	err := n.Notify(context.Background(), Notification{Title: "Kätzchen: mail is down", Message: "connection refused", Priority: 4, Tags: []string{"warning"}})
	if err != nil {
		t.Fatal(err)
	}
	r := rec.requests()[0]
	if r.Method != "POST" || r.Path != "/message" || r.RawQuery != "token=AppTok" {
		t.Errorf("%s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var got struct {
		Title    string `json:"title"`
		Message  string `json:"message"`
		Priority int    `json:"priority"`
	}
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	if got.Title != "Kätzchen: mail is down" || got.Message != "connection refused" || got.Priority != 8 {
		t.Errorf("gotify body %+v", got)
	}
}

func TestNotifyBasicAuthAndErrors(t *testing.T) {
	rec := newRecorder(t)
	rec.answer(401, `{"code":40101,"http":401,"error":"unauthorized"}`)
	n := &Notifier{URL: strings.Replace(rec.URL, "http://", "http://owner:s3cret@", 1) + "/secret-topic"}
	err := n.Notify(context.Background(), Notification{Message: "x"})
	r := rec.requests()[0]
	if r.User != "owner" || r.Password != "s3cret" {
		t.Errorf("basic auth %q:%q", r.User, r.Password)
	}
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("error %v", err)
	}
	for _, secret := range []string{"s3cret", "secret-topic"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q leaks %q", err, secret)
		}
	}

	slow := &Notifier{URL: silentServer(t) + "/topic", Timeout: 200 * time.Millisecond}
	start := time.Now()
	err = slow.Notify(context.Background(), Notification{Message: "x"})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Errorf("hung server: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Notify took %v with a 200ms timeout", d)
	}
}
