package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The real binary, for the tests that run it as a process (the fault
// suite): built once, run with only the settings a test gives, as the
// test's user or as nobody.

// buildCotd builds cotd into a temporary folder the way users build it
// (CGO_ENABLED=0), with the given build tags: the fault suite builds with
// crashpoints, which compiles in the kill points of internal/crash; the
// shipped binary has none.
func buildCotd(t *testing.T, tags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cotd")
	args := []string{"build"}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	build := exec.Command("go", append(args, "-o", bin, ".")...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cotdCommand is bin run in dir with only the given COTD_* settings (the
// test process's own COTD_* variables and CREDENTIALS_DIRECTORY are
// dropped) in Europe/Berlin, its output kept.
func cotdCommand(bin, dir string, env []string, args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	cmd = exec.Command(bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COTD_") && !strings.HasPrefix(kv, "CREDENTIALS_DIRECTORY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "COTD_TZ=Europe/Berlin")
	cmd.Env = append(cmd.Env, env...)
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, stdout, stderr
}

// nobody is the user (uid and gid 65534) a test runs cotd as for a
// permission fault: root, who runs CI, may read every file.
const nobody = 65534

// copyBinary copies bin into dir, mode 0755, so that another user can
// run it (t.TempDir's parent is private to the test's user).
func copyBinary(t *testing.T, bin, dir string) string {
	t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	binCopy := filepath.Join(dir, "cotd")
	writeFile(t, binCopy, b)
	if err := os.Chmod(binCopy, 0o755); err != nil {
		t.Fatal(err)
	}
	return binCopy
}

// runBare runs bin in dir with nothing of the test's environment: only
// PATH, HOME=dir and env; as nobody when asNobody.
func runBare(t *testing.T, bin, dir string, asNobody bool, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + dir}, env...)
	if asNobody {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return finish(t, cmd, &stdout, &stderr)
}
