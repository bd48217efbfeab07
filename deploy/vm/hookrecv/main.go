// Command hookrecv stands in for the owner's outside monitors inside the VM
// test's guest, which has no network: a healthchecks.io-style ping endpoint
// (cotd's --ping-url) and an ntfy topic (--notify-url) on one loopback HTTP
// listener. It answers every request 200 OK and appends it to a JSON Lines
// file, one object a request, so the stage scripts can read with jq what
// cotd sent: when, the method, the path (/ping/cotd/start, /ping/cotd/fail,
// /ntfy/cotd, ...), ntfy's Title, Priority and Tags headers, and the body.
//
//	hookrecv -listen 127.0.0.1:8090 -log /var/lib/hookrecv/requests.jsonl
//
// It is linked statically (CGO_ENABLED=0) so it runs in any guest.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// request is one line of the log.
type request struct {
	Time     string `json:"time"` // the guest's clock, RFC 3339 UTC
	Method   string `json:"method"`
	Path     string `json:"path"`
	Title    string `json:"title,omitempty"`
	Priority string `json:"priority,omitempty"`
	Tags     string `json:"tags,omitempty"`
	Body     string `json:"body"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on")
	logFile := flag.String("log", "requests.jsonl", "JSON Lines file the requests are appended to")
	flag.Parse()
	f, err := os.OpenFile(*logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookrecv: error:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// ntfy's limit is 4096 bytes; a little more shows a body cotd
		// failed to shorten.
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		line, err := json.Marshal(request{
			Time: time.Now().UTC().Format(time.RFC3339), Method: r.Method, Path: r.URL.Path,
			Title: r.Header.Get("Title"), Priority: r.Header.Get("Priority"), Tags: r.Header.Get("Tags"),
			Body: string(body),
		})
		if err == nil {
			mu.Lock()
			// One write a line (O_APPEND), then fsync: a stage that reads
			// the file right after cotd's run sees every request.
			_, err = f.Write(append(line, '\n'))
			if err == nil {
				err = f.Sync()
			}
			mu.Unlock()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "hookrecv: error:", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "OK")
	})
	fmt.Printf("hookrecv: listening on %s, logging to %s\n", *listen, *logFile)
	if err := http.ListenAndServe(*listen, nil); err != nil {
		fmt.Fprintln(os.Stderr, "hookrecv: error:", err)
		os.Exit(1)
	}
}
