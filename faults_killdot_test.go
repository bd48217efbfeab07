package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cotd/internal/mailpit"
	"cotd/internal/photogen"
	"cotd/internal/smtppeer"
)

// testKillAtFinalDot (issue 25): SIGKILL (a power cut, systemd's
// SIGKILL after TimeoutStopSec) arrives while the server, which has a@'s
// whole message and its final dot, has not answered. The next run is the
// next morning: a@'s cut-off message goes out again byte for byte (its
// Message-ID and its Date of the first morning) and the new day alone
// after it, instead of one new digest that folds the first day in under a
// new Message-ID; b@, whose message never started, gets both days
// composed afresh. A third run sends nothing.
func testKillAtFinalDot(t *testing.T, bin string) {
	dot := make(chan struct{}, 1)
	hung := smtppeer.Scripted(t, smtppeer.Script{Step: smtppeer.AtDot, Victim: 0, Hang: true,
		OnDot: func(int, []string) {
			select {
			case dot <- struct{}{}:
			default:
			}
		}})
	_, port, _ := net.SplitHostPort(hung.Addr)
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "photos"), 0o755)
	for i := range 3 {
		writeFile(t, filepath.Join(dir, "photos", "cat"+string(rune('a'+i))+".jpg"), photogen.Distinct(i, 64, 48))
	}
	to := "COTD_TO=a@example.test, b@example.test"
	env := []string{"COTD_SMTP_HOST=127.0.0.1", "COTD_SMTP_PORT=" + port, "COTD_SMTP_TLS=none",
		"COTD_FROM=cotd@example.test", to, "COTD_PHOTOS=photos", "COTD_NOW=2026-03-02T08:00:00+01:00"}

	cmd, _, stderr := cotdCommand(bin, dir, env, "run")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-dot: // the server has a@'s message and says nothing
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no message reached the server:\n%s", stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	srv := mailpit.Start(t, mailpit.Options{})
	next := append(smtpEnv(srv, "a@example.test, b@example.test"), "COTD_NOW=2026-03-03T08:00:00+01:00")
	r := runCotd(t, bin, dir, next, "run")
	if r.code != 0 {
		t.Fatalf("the next morning's run: %v", r)
	}
	if !strings.Contains(r.stderr, "the last run was cut off with 1 message on its way, its answer unrecorded: sending it again as it was") {
		t.Errorf("the next run does not say it sends the cut-off message again:\n%s", r.stderr)
	}
	got := map[string][]string{} // recipient -> the Date headers of their messages
	for _, m := range srv.Messages(t) {
		raw := srv.Raw(t, m.ID)
		date := ""
		for _, l := range bytes.Split(raw, []byte("\r\n")) {
			if v, ok := bytes.CutPrefix(l, []byte("Date: ")); ok {
				date = string(v)
				break
			}
		}
		days := strings.Count(string(raw), "Content-Type: image/jpeg")
		got[m.To[0]] = append(got[m.To[0]], date+" with "+string(rune('0'+days))+" cats")
	}
	want := map[string][]string{
		// The cut-off message as it was, and the new day alone.
		"a@example.test": {"Mon, 02 Mar 2026 08:00:00 +0100 with 1 cats", "Tue, 03 Mar 2026 08:00:00 +0100 with 1 cats"},
		// Never started: both days, composed this morning.
		"b@example.test": {"Tue, 03 Mar 2026 08:00:00 +0100 with 2 cats"},
	}
	for addr, w := range want {
		g := got[addr]
		slices.Sort(g)
		if !slices.Equal(g, w) {
			t.Errorf("%s got %q, want %q", addr, g, w)
		}
	}
	again := runCotd(t, bin, dir, next, "run")
	if again.code != 0 || !strings.Contains(again.stderr, "nothing due") || strings.Contains(again.stderr, "cut off") {
		t.Errorf("third run: %v", again)
	}
	if n := len(srv.Messages(t)); n != 3 {
		t.Errorf("after the third run the server has %d messages, want 3", n)
	}
}
