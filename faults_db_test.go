package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cotd/internal/needs"
	"cotd/internal/tmpfs"
)

// testDatabaseOpen (issue 11 item 15): a healthy database on a read-only
// file system, or one the cotd user may not read or write, exits 3 with a
// hint that says the file is fine and what to do, never "move it away".
func testDatabaseOpen(t *testing.T, bin string) {
	needs.Root(t, "mounting a read-only file system and running cotd as another user")
	check := func(t *testing.T, r result, says string) {
		t.Helper()
		if r.code != 3 {
			t.Errorf("exit %d, want 3:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "cotd: error: database ") || !strings.Contains(r.stderr, says) ||
			!strings.Contains(r.stderr, "cotd: hint: the database is not damaged") || strings.Contains(r.stderr, "move it away") {
			t.Errorf("stderr:\n%s\nwant %q and the safe hint", r.stderr, says)
		}
	}
	t.Run("read-only file system", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ro")
		os.Mkdir(dir, 0o700)
		tmpfs.Mount(t, dir, "2m")
		env := []string{"COTD_DB=" + filepath.Join(dir, "cotd.db"), "COTD_OUTBOX=" + filepath.Join(dir, "outbox"),
			"COTD_NOW=2026-03-02T08:00:00+01:00"}
		if r := runCotd(t, bin, dir, env, "run"); r.code != 0 {
			t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
		}
		if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
			t.Fatalf("remount ro: %v: %s", err, out)
		}
		env[2] = "COTD_NOW=2026-03-03T08:00:00+01:00"
		check(t, runCotd(t, bin, dir, env, "run"), "read-only file system")
		// status reads it read-only, as bbolt info does, and says as its
		// problem (exit 1, unhealthy) that runs cannot write it.
		r := runCotd(t, bin, dir, env, "status")
		if r.code != 1 || !strings.Contains(r.stdout, "runs cannot write the database") || !strings.Contains(r.stdout, "read-only file system") {
			t.Errorf("status: exit %d, want 1 naming the read-only file system:\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		dir := t.TempDir()
		os.Chmod(filepath.Dir(dir), 0o755)
		os.Chmod(dir, 0o755)
		if r := runCotd(t, bin, dir, []string{"COTD_NOW=2026-03-02T08:00:00+01:00"}, "run"); r.code != 0 {
			t.Fatalf("first run: exit %d: %s", r.code, r.stderr)
		}
		os.Chmod(filepath.Join(dir, "cotd.db"), 0o600) // root's
		binCopy := copyBinary(t, bin, dir)
		check(t, runBare(t, binCopy, dir, true, []string{"COTD_TZ=Europe/Berlin", "COTD_NOW=2026-03-03T08:00:00+01:00"}, "run"), "permission denied")
	})
}
