package health

import (
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{"https://hc-ping.com/0f1e2d3c", ""},
		{"http://127.0.0.1:8080/ping/x?create=1", ""},
		{"https://user:pass@ntfy.example/topic", ""},
		{"ftp://example.test/x", `must start with https:// or http://, not "ftp:"`},
		{"hc-ping.com/uuid", "must start with https:// or http://"},
		{"https:///path-only", "has no host name"},
		{"https://exa mple.test/%zz", "is not a URL"},
	} {
		err := CheckURL(tc.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("CheckURL(%q) = %q, want %q", tc.in, got, tc.err)
		}
		if strings.Contains(got, "uuid") || strings.Contains(got, "path-only") {
			t.Errorf("CheckURL(%q) error %q shows the secret part", tc.in, got)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hc-ping.com/0f1e2d3c":             "https://hc-ping.com/…",
		"https://user:pass@ntfy.example/topic":     "https://ntfy.example/…",
		"https://gotify.example/message?token=abc": "https://gotify.example/…",
		"http://127.0.0.1:8080":                    "http://127.0.0.1:8080/…",
		"no-scheme":                                "(URL)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
