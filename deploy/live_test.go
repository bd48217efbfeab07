package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"cotd/internal/needs"
)

// liveSystem is a scratch copy of this machine in which pi-setup.sh runs
// without --root: testdata/live-ns.sh bind-mounts it over /etc, /usr/local,
// /srv and /var/lib inside a private mount namespace.
type liveSystem struct {
	scratch, src, driver, unshare string
}

func newLiveSystem(t *testing.T) liveSystem {
	t.Helper()
	needs.Root(t, "the live install's mount namespace")
	unshare := needTool(t, "unshare", "util-linux")
	needTool(t, "useradd", "passwd")
	if fi, err := os.Stat("/srv"); err != nil || !fi.IsDir() {
		needs.Absent(t, "this machine has no /srv to mount a scratch copy over", "create it: mkdir /srv")
	}
	driver, err := filepath.Abs(filepath.Join("testdata", "live-ns.sh"))
	if err != nil {
		t.Fatal(err)
	}
	s := newStaging(t, cotdBinary(t), "")
	return liveSystem{scratch: t.TempDir(), src: s.src, driver: driver, unshare: unshare}
}

func (l liveSystem) run(t *testing.T, args ...string) string {
	t.Helper()
	argv := append([]string{"-m", "--propagation", "private", l.driver, l.scratch, "catowner",
		filepath.Join(l.src, "pi-setup.sh")}, args...)
	cmd := exec.Command(l.unshare, argv...)
	cmd.Dir = l.src
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pi-setup.sh %s in a mount namespace: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// path maps a path on the simulated Pi to its place in the scratch copy.
func (l liveSystem) path(p string) string {
	for _, m := range []struct{ mount, dir string }{{"/etc", "etc"}, {"/usr/local", "usr-local"}, {"/srv", "srv"}, {"/var/lib", "var-lib"}} {
		if rest, ok := strings.CutPrefix(p, m.mount); ok {
			return filepath.Join(l.scratch, m.dir, rest)
		}
	}
	panic("not in the scratch copy: " + p)
}

// ids reads name -> id from the scratch copy's /etc/passwd or /etc/group.
func (l liveSystem) ids(t *testing.T, file string) map[string]int {
	t.Helper()
	f, err := os.Open(l.path("/etc/" + file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 {
			id, _ := strconv.Atoi(fields[2])
			ids[fields[0]] = id
		}
	}
	return ids
}

func (l liveSystem) passwdLine(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(l.path("/etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+":") {
			return line
		}
	}
	return ""
}

func (l liveSystem) systemctlLog(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.scratch, "systemctl.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// The install as sudo ./pi-setup.sh does it on a Pi: the cotd user, the
// owners and modes of every file, the systemctl calls, then uninstall and purge.
func TestLiveInstall(t *testing.T) {
	l := newLiveSystem(t)
	l.run(t)

	user := l.passwdLine(t, "cotd")
	fields := strings.Split(user, ":")
	if len(fields) != 7 || fields[5] != "/var/lib/cotd" || fields[6] != "/usr/sbin/nologin" {
		t.Fatalf("cotd user is %q, want home /var/lib/cotd and shell /usr/sbin/nologin", user)
	}
	uid, _ := strconv.Atoi(fields[2])
	if uid >= 1000 || uid == 0 {
		t.Errorf("cotd has uid %d, want a system uid", uid)
	}
	users, groups := l.ids(t, "passwd"), l.ids(t, "group")
	for _, tc := range []struct {
		path, user, group string
		mode              os.FileMode
	}{
		{"/usr/local/bin/cotd", "root", "root", 0o755},
		{"/usr/local/sbin/cotd-service", "root", "root", 0o755},
		{"/etc/cotd/cotd.env", "root", "root", 0o644},
		{"/etc/cotd/smtp-password", "root", "root", 0o600},
		{"/etc/systemd/system/cotd.service", "root", "root", 0o644},
		{"/etc/systemd/system/cotd.timer", "root", "root", 0o644},
		{"/var/lib/cotd", "cotd", "cotd", os.ModeDir | 0o750},
		{"/srv/cotd", "catowner", "cotd", os.ModeDir | os.ModeSetgid | 0o750},
		{"/srv/cotd/photos", "catowner", "cotd", os.ModeDir | os.ModeSetgid | 0o750},
		{"/srv/cotd/quotes.txt", "catowner", "cotd", 0o640},
		{"/etc/cotd/recipients.txt", "catowner", "cotd", 0o640},
	} {
		fi, err := os.Lstat(l.path(tc.path))
		if err != nil {
			t.Error(err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != users[tc.user] || int(st.Gid) != groups[tc.group] {
			t.Errorf("%s is owned by %d:%d, want %s:%s (%d:%d)", tc.path, st.Uid, st.Gid, tc.user, tc.group, users[tc.user], groups[tc.group])
		}
		if got := fi.Mode() & (os.ModeType | os.ModePerm | os.ModeSetgid); got != tc.mode {
			t.Errorf("%s has mode %v, want %v", tc.path, got, tc.mode)
		}
	}
	if log := l.systemctlLog(t); log != "systemctl daemon-reload\nsystemctl enable --now cotd.timer\n" {
		t.Errorf("systemctl calls:\n%s", log)
	}

	// A rerun finds the user and leaves the owner's files alone.
	writeFile(t, l.path("/etc/cotd/smtp-password"), []byte("hunter2\n"), 0o600)
	out := l.run(t)
	if strings.Contains(out, "useradd") || l.passwdLine(t, "cotd") != user {
		t.Errorf("rerun touched the cotd user (%q):\n%s", l.passwdLine(t, "cotd"), out)
	}
	if b, _ := os.ReadFile(l.path("/etc/cotd/smtp-password")); string(b) != "hunter2\n" {
		t.Errorf("rerun changed the password file to %q", b)
	}

	l.run(t, "--uninstall")
	if _, err := os.Stat(l.path("/usr/local/bin/cotd")); !os.IsNotExist(err) {
		t.Errorf("--uninstall left the binary: %v", err)
	}
	if l.passwdLine(t, "cotd") == "" {
		t.Error("--uninstall removed the cotd user")
	}
	if !strings.Contains(l.systemctlLog(t), "systemctl disable --now cotd.timer\n") {
		t.Errorf("--uninstall did not disable the timer:\n%s", l.systemctlLog(t))
	}

	l.run(t, "--purge")
	if got := l.passwdLine(t, "cotd"); got != "" {
		t.Errorf("--purge left the cotd user: %q", got)
	}
	if _, ok := l.ids(t, "group")["cotd"]; ok {
		t.Error("--purge left the cotd group")
	}
	for _, p := range []string{"/etc/cotd", "/var/lib/cotd", "/srv/cotd"} {
		if _, err := os.Stat(l.path(p)); !os.IsNotExist(err) {
			t.Errorf("--purge left %s: %v", p, err)
		}
	}
}
