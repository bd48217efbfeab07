package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cotd/internal/photogen"
	"cotd/internal/smtppeer"
)

// testSigtermAtFinalDot (issue 11 item 6): systemd's SIGTERM arrives while
// the server, which already has the first recipient's message, takes a
// second to answer its final dot. The run finishes that message, records
// it, does not start the others, and exits; the next run sends only the
// others. Every recipient's server gets the message exactly once.
func testSigtermAtFinalDot(t *testing.T, bin string) {
	addr, dots, had := smtppeer.SlowDot(t, time.Second)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "photos"), 0o755)
	for i := range 2 {
		writeFile(t, filepath.Join(dir, "photos", "cat"+string(rune('a'+i))+".jpg"), photogen.Distinct(i, 64, 48))
	}
	env := []string{"COTD_SMTP_HOST=127.0.0.1", "COTD_SMTP_PORT=" + port, "COTD_SMTP_TLS=none",
		"COTD_FROM=cotd@example.test", "COTD_TO=a@example.test, b@example.test, c@example.test",
		"COTD_PHOTOS=photos", "COTD_NOW=2026-03-02T08:00:00+01:00"}

	cmd, _, stderr := cotdCommand(bin, dir, env, "run")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-dots: // the server has a@'s message; its reply is a second away
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no message reached the server:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 1 || !strings.Contains(stderr.String(), "not attempted") {
		t.Errorf("run stopped by SIGTERM: exit %d, want 1 with the rest not attempted:\n%s", code, stderr.String())
	}
	if got := had(); len(got) != 1 {
		t.Errorf("the server got %v before the stop, want only the message in flight", got)
	}

	r := runCotd(t, bin, dir, env, "run")
	if r.code != 0 {
		t.Fatalf("next run: exit %d:\n%s", r.code, r.stderr)
	}
	count := map[string]int{}
	for _, to := range had() {
		count[to]++
	}
	for _, to := range []string{"a@example.test", "b@example.test", "c@example.test"} {
		if count[to] != 1 {
			t.Errorf("%s got the message %d times, want exactly once (all: %v)", to, count[to], had())
		}
	}
}
