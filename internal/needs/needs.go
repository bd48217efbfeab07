// Package needs is how a test says something it needs is missing here: a
// real peer that is not installed (Mailpit, Postfix), a tool, a fixture
// folder, root, or an unprivileged user. CI, which installs everything
// and runs as root, fails; a developer's machine skips, naming what is
// missing and how to get it. Every environmental skip goes through here,
// so that under CI=true green means every test ran. It is for tests only.
package needs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// Absent fails the test under CI and skips it elsewhere: why says what is
// missing here, fix how to get it.
func Absent(t testing.TB, why, fix string) {
	t.Helper()
	msg := why + "; " + fix
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Missing fails the test under CI and skips it elsewhere, with why and
// the command that installs what is missing.
func Missing(t testing.TB, why, install string) {
	t.Helper()
	Absent(t, why, "install it: "+install)
}

// Root fails the test under CI and skips it elsewhere unless it runs as
// root; why says what root is needed for ("mounting a tmpfs").
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI runs this test as root: %s needs root", why)
	}
	t.Skip(why + " needs root")
}

// unprivilegedEnv marks the child process Unprivileged starts.
const unprivilegedEnv = "COTD_TEST_UNPRIVILEGED"

// Nobody is the unprivileged user and group Unprivileged runs as.
const Nobody = 65534

// Unprivileged is for a test that must not run as root (root reads any
// file, so a permission error cannot be provoked). It reports whether the
// caller should go on: true when the test already runs as another user;
// as root, it runs the test again in a child process as nobody (uid and
// gid 65534, no supplementary groups), fails t with the child's output
// unless the child passed, and returns false. CI runs as root, so the
// test runs there too instead of skipping.
func Unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	if os.Getenv(unprivilegedEnv) != "" {
		t.Fatal("the unprivileged child still runs as root")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary's own folder is root's (0700): nobody runs a copy.
	dir, err := os.MkdirTemp("", "cotd-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(exe))
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	var run []string
	for _, part := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(bin, "-test.run", strings.Join(run, "/"), "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1", "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		t.Fatalf("as uid %d, %s did not pass (%v):\n%s", Nobody, t.Name(), err, out)
	}
	t.Logf("ran as uid %d:\n%s", Nobody, out)
	return false
}
