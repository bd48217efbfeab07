package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"cotd/internal/needs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from pi-setup.sh's output")

// needTool returns the path of an external tool. A missing tool skips the
// test on a developer machine and fails it in CI, where it must be installed.
func needTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	needs.Missing(t, name+" not found", "apt-get install "+debianPackage)
	return ""
}

// scriptPath is pi-setup.sh at the repository root.
func scriptPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "pi-setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	binaryOnce sync.Once
	binaryPath string // the cotd binary the tests install
	binaryKind string // "real" or "stand-in", for the test log
	binaryErr  error
)

// cotdBinary builds the real cotd (CGO off, as for the Pi) once per test
// binary. While the repository root does not build yet, it falls back to the
// testdata stand-in on a developer machine; in CI the real binary is required.
func cotdBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cotd-deploy-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		out := filepath.Join(dir, "cotd")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		msg, err := cmd.CombinedOutput()
		if err == nil {
			binaryPath, binaryKind = out, "real"
			return
		}
		if os.Getenv("CI") != "" {
			binaryErr = fmt.Errorf("go build of the repository root failed: %w\n%s", err, msg)
			return
		}
		binaryPath, binaryKind = filepath.Join("testdata", "fake-cotd"), "stand-in"
		binaryPath, binaryErr = filepath.Abs(binaryPath)
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	t.Logf("installing the %s cotd binary %s", binaryKind, binaryPath)
	return binaryPath
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binaryKind == "real" {
		os.RemoveAll(filepath.Dir(binaryPath))
	}
	os.Exit(code)
}

// staging is one pi-setup.sh run's world: src holds the script and the
// binary beside it, as after `scp cotd pi-setup.sh pi:`; root is the --root.
type staging struct {
	src, root string
}

// newStaging copies the script and binary into a fresh directory and makes a
// staging root whose /etc/localtime names zone (none when empty).
func newStaging(t *testing.T, binary, zone string) staging {
	t.Helper()
	s := staging{src: filepath.Join(t.TempDir(), "home"), root: filepath.Join(t.TempDir(), "root")}
	for _, d := range []string{s.src, filepath.Join(s.root, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, scriptPath(t), filepath.Join(s.src, "pi-setup.sh"), 0o755)
	if binary != "" {
		copyFile(t, binary, filepath.Join(s.src, "cotd"), 0o755)
	}
	if zone != "" {
		if err := os.Symlink("/usr/share/zoneinfo/"+zone, filepath.Join(s.root, "etc", "localtime")); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b, mode)
}

func writeFile(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// run runs the staged pi-setup.sh with --root and args; it returns the
// combined output and the exit code.
func (s staging) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.src, "pi-setup.sh"), append([]string{"--root", s.root}, args...)...)
	cmd.Dir = s.src
	cmd.Env = append(os.Environ(), "SUDO_USER=owner")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("run pi-setup.sh: %v", err)
		return "", -1
	}
}

// mustRun runs pi-setup.sh and fails the test unless it exits 0.
func (s staging) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, code := s.run(t, args...)
	if code != 0 {
		t.Fatalf("pi-setup.sh %s exited %d:\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func (s staging) path(p string) string { return filepath.Join(s.root, p) }

func (s staging) read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(s.path(p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// entry describes one path in a staging root: its type and permission bits
// (setgid included), symlink target and content hash.
type entry struct {
	mode   fs.FileMode
	target string
	sum    string
}

func (e entry) String() string {
	return fmt.Sprintf("%v %s %.12s", e.mode, e.target, e.sum)
}

// snapshot records every path under root except those in skip.
func snapshot(t *testing.T, root string) map[string]entry {
	t.Helper()
	tree := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{mode: info.Mode() & (fs.ModeType | fs.ModePerm | fs.ModeSetgid | fs.ModeSetuid | fs.ModeSticky)}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			e.target, err = os.Readlink(p)
		case info.Mode().IsRegular():
			var b []byte
			b, err = os.ReadFile(p)
			h := sha256.Sum256(b)
			e.sum = hex.EncodeToString(h[:])
		}
		tree["/"+rel] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func keys(m map[string]entry) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// unitSettings parses a unit file into section -> "Key=Value" lines, in order.
func unitSettings(text string) map[string][]string {
	sections := map[string][]string{}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
		default:
			sections[section] = append(sections[section], line)
		}
	}
	return sections
}

// setting returns the value of the last Key= line in lines.
func setting(lines []string, key string) (string, bool) {
	value, found := "", false
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "="); ok && k == key {
			value, found = v, true
		}
	}
	return value, found
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./deploy -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what pi-setup.sh writes (if the change is intended, run go test ./deploy -update)\n--- got:\n%s", path, got)
	}
}

// foreignELF writes the start of an ELF executable for an architecture other
// than the test machine's, which the kernel refuses to run.
func foreignELF(t *testing.T, path string) (arch string) {
	t.Helper()
	machine, arch := byte(183), "arm64"
	if runtime.GOARCH == "arm64" {
		machine, arch = 62, "x86-64"
	}
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16] = 2 // ET_EXEC
	h[18] = machine
	h[20] = 1 // EV_CURRENT
	writeFile(t, path, h, 0o755)
	return arch
}

// hostUnitDir is the directory holding this machine's systemd units, which
// systemd-analyze verify --root needs for sysinit.target and friends.
func hostUnitDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if _, err := os.Stat(filepath.Join(d, "sysinit.target")); err == nil {
			return d
		}
	}
	needs.Missing(t, "no systemd unit directory with sysinit.target", "apt-get install systemd")
	return ""
}
