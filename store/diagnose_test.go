package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cotd/internal/needs"
	"cotd/internal/tmpfs"
	"cotd/schedule"
)

// Issue 11 item 15: a healthy database cotd may not write is never called
// "not a cotd database, or damaged … move it away". Each cause gets its
// own error and a safe fix (store.Hint), and the file is left unchanged.

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func makeDB(t *testing.T, path string) {
	t.Helper()
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { return tx.PutJoined("a@example.test", schedule.Day{Year: 2026, Month: 3, Day: 2}) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func checkDiagnosis(t *testing.T, err, want error, says string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("open: %v, want %v", err, want)
	}
	if errors.Is(err, ErrNotDatabase) || strings.Contains(err.Error(), "damaged") {
		t.Errorf("open: %v: a healthy database called damaged or foreign", err)
	}
	h := Hint(err)
	if !strings.Contains(h, "not damaged") || !strings.Contains(h, "do not move or delete it") || !strings.Contains(h, says) {
		t.Errorf("hint %q, want the safe fix (%q)", h, says)
	}
}

func TestOpenOnReadOnlyFileSystem(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	tmpfs.Mount(t, dir, "1m")
	path := filepath.Join(dir, "cotd.db")
	makeDB(t, path)
	before := sum(t, path)
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v: %s", err, out)
	}
	_, err := Open(path, time.Second)
	checkDiagnosis(t, err, ErrReadOnly, "read-write")
	if sum(t, path) != before {
		t.Error("the database changed")
	}
	_, err = Open(filepath.Join(dir, "new", "cotd.db"), time.Second)
	checkDiagnosis(t, err, ErrReadOnly, "read-write")
}

// The permission cases run Open as nobody (uid 65534) in a child process:
// root may open every file.
func TestOpenWithoutPermission(t *testing.T) {
	if p := os.Getenv("COTD_STORE_OPEN"); p != "" {
		_, err := Open(p, time.Second)
		fmt.Printf("permission=%v readonly=%v notdb=%v hint=%q err=%v\n",
			errors.Is(err, ErrPermission), errors.Is(err, ErrReadOnly), errors.Is(err, ErrNotDatabase), Hint(err), err)
		return
	}
	needs.Root(t, "running Open as another user")
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755)
	os.Chmod(base, 0o755)
	// The test binary sits in a folder only root may enter.
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "store.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mode os.FileMode
	}{{"unreadable", 0o600}, {"read only for that user", 0o644}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, strings.ReplaceAll(tc.name, " ", "-"))
			os.Mkdir(dir, 0o755)
			path := filepath.Join(dir, "cotd.db")
			makeDB(t, path)
			os.Chmod(path, tc.mode)
			before := sum(t, path)
			cmd := exec.Command(bin, "-test.run=^TestOpenWithoutPermission$")
			cmd.Env = append(os.Environ(), "COTD_STORE_OPEN="+path)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("child: %v: %s", err, out.String())
			}
			got := out.String()
			if !strings.Contains(got, "permission=true") || !strings.Contains(got, "notdb=false") ||
				!strings.Contains(got, "not damaged") || !strings.Contains(got, "do not move or delete it") {
				t.Errorf("as nobody: %s\nwant ErrPermission with the safe fix", got)
			}
			if sum(t, path) != before {
				t.Error("the database changed")
			}
		})
	}
}

// Damaged (cotd's own file, truncated) and foreign files keep their
// ErrNotDatabase, now with different fixes.
func TestOpenDamagedOrForeign(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cotd.db")
	makeDB(t, path)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)/2], 0o600)
	_, err := Open(path, time.Second)
	if !errors.Is(err, ErrNotDatabase) || !errors.Is(err, ErrDamaged) || !strings.Contains(Hint(err), "cotd restore FILE") {
		t.Errorf("truncated: %v (hint %q), want damaged with restore-from-backup", err, Hint(err))
	}
	foreign := filepath.Join(dir, "notes.txt")
	os.WriteFile(foreign, bytes.Repeat([]byte("hello "), 2000), 0o600)
	_, err = Open(foreign, time.Second)
	if !errors.Is(err, ErrNotDatabase) || errors.Is(err, ErrDamaged) || !strings.Contains(Hint(err), "point --db") {
		t.Errorf("foreign: %v (hint %q), want not a database, point --db", err, Hint(err))
	}
}
