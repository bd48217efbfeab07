package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cotd/internal/smtppeer"
	"cotd/store"
)

// `cotd check` against a server that dribbles one byte at a time (each
// read resets a per-read timeout, so it once ran 381 s and said "all
// checks passed") ends at its step's deadline with a problem line, and
// all the while a run can open the database: check holds it only for the
// one read that copies it (issue 25 §7; it used to hold it read-write
// throughout, and the timer's run exited 3).
func TestCheckEndsAndNeverBlocksARun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cotd.db")
	vars := map[string]string{"COTD_DB": db, "COTD_NOW": "2026-03-02T08:00:00+01:00", "COTD_TZ": "Europe/Berlin",
		"COTD_OUTBOX": filepath.Join(dir, "outbox"), "COTD_PHOTOS": filepath.Join(dir, "photos"), "COTD_QUOTES": filepath.Join(dir, "quotes.txt")}
	if err := os.Mkdir(filepath.Join(dir, "photos"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "photos", "cat.jpg"), sampleCat, 0o644); err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	var out, errOut bytes.Buffer
	if code := cli([]string{"run"}, env{stdout: &out, stderr: &errOut, lookup: lookup}); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, errOut.String())
	}

	accepted := make(chan struct{}, 8)
	addr := smtppeer.Serve(t, func(c net.Conn) {
		accepted <- struct{}{}
		for _, b := range []byte("220 slow.example.test ESMTP\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(400 * time.Millisecond) // the server's pace, not the test's synchronisation
		}
	})
	saved := checkDeadlines
	t.Cleanup(func() { checkDeadlines = saved })
	checkDeadlines.smtp, checkDeadlines.certs, checkDeadlines.whole = 2*time.Second, 2*time.Second, time.Minute
	vars["COTD_SMTP_HOST"], vars["COTD_SMTP_PORT"], vars["COTD_SMTP_TLS"] = "127.0.0.1", strconv.Itoa(addr.Port), "none"
	vars["COTD_FROM"], vars["COTD_TO"] = "cotd@example.test", "a@example.test"

	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := cli([]string{"check"}, env{stdout: &out, stderr: &errOut, lookup: lookup})
		done <- result{code, out.String(), errOut.String()}
	}()
	<-accepted // check is in its SMTP step now
	st, err := store.Open(db, 200*time.Millisecond)
	if err != nil {
		t.Errorf("a run could not open the database while check talked to the server: %v", err)
	} else {
		st.Close()
	}
	r := <-done
	if r.code != exitFailed || !strings.Contains(r.out, "problem  smtp: not done within 2s") || strings.Contains(r.out, "all checks passed") {
		t.Errorf("check: exit %d, want 1 with the smtp step's deadline:\n%s%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.out, "ok       database: "+db+" opens") {
		t.Errorf("check did not read the database:\n%s", r.out)
	}
}
