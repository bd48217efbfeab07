package health

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"cotd/internal/smtppeer"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// request is what the recording server saw.
type request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     string
	User     string // basic auth user, if any
	Password string
}

// recorder is an httptest server on loopback that keeps every request and
// answers with a configurable status and body.
type recorder struct {
	URL string

	mu       sync.Mutex
	reqs     []request
	status   int
	respBody string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{status: http.StatusOK, respBody: "OK"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		user, pass, _ := req.BasicAuth()
		r.mu.Lock()
		r.reqs = append(r.reqs, request{
			Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery,
			Header: req.Header.Clone(), Body: string(body), User: user, Password: pass,
		})
		status, resp := r.status, r.respBody
		r.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, resp)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *recorder) answer(status int, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.respBody = status, body
}

func (r *recorder) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// silentServer accepts TCP connections and never answers: a hung service.
func silentServer(t *testing.T) string {
	addr, _ := smtppeer.Silent(t)
	return "http://" + addr
}

// closedURL is an http URL on a loopback port nobody listens on.
func closedURL(t *testing.T) string { return "http://" + smtppeer.Closed(t) }

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
