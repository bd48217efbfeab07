package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cotd/mail"
)

func TestShellcheck(t *testing.T) {
	shellcheck := needTool(t, "shellcheck", "shellcheck")
	s := newStaging(t, cotdBinary(t), "")
	s.mustRun(t)
	for _, script := range []string{scriptPath(t), s.path("/usr/local/sbin/cotd-service")} {
		out, err := exec.Command(shellcheck, script).CombinedOutput()
		if err != nil || len(out) != 0 {
			t.Errorf("shellcheck %s: %v\n%s", script, err, out)
		}
	}
	// The VM test's scripts, from the repository root, where their
	// "shellcheck source=" directives point.
	vm, err := filepath.Glob("vm/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	guest, err := filepath.Glob("vm/guest/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	if len(vm) == 0 || len(guest) < 5 {
		t.Fatalf("found the VM scripts %v %v, want run.sh and the guest's lib, customize and stages", vm, guest)
	}
	var rel []string
	for _, f := range append(vm, guest...) {
		rel = append(rel, filepath.Join("deploy", f))
	}
	cmd := exec.Command(shellcheck, append([]string{"-x"}, rel...)...)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("shellcheck -x %s: %v\n%s", strings.Join(rel, " "), err, out)
	}
}

// The tree pi-setup.sh --root makes, path by path: nothing more, nothing less.
func TestInstallTree(t *testing.T) {
	binary := cotdBinary(t)
	s := newStaging(t, binary, "Europe/Berlin")
	out := s.mustRun(t)

	dir := os.ModeDir
	want := map[string]os.FileMode{
		"/etc":                                    dir | 0o755,
		"/etc/localtime":                          os.ModeSymlink | 0o777,
		"/etc/cotd":                               dir | 0o755,
		"/etc/cotd/cotd.env":                      0o644,
		"/etc/cotd/recipients.txt":                0o640,
		"/etc/cotd/smtp-password":                 0o600,
		"/etc/systemd":                            dir | 0o755,
		"/etc/systemd/system":                     dir | 0o755,
		"/etc/systemd/system/cotd.service":        0o644,
		"/etc/systemd/system/cotd.timer":          0o644,
		"/etc/systemd/system/timers.target.wants": dir | 0o755,
		"/etc/systemd/system/timers.target.wants/cotd.timer": os.ModeSymlink | 0o777,
		"/srv":                         dir | 0o755,
		"/srv/cotd":                    dir | os.ModeSetgid | 0o750,
		"/srv/cotd/photos":             dir | os.ModeSetgid | 0o750,
		"/srv/cotd/quotes.txt":         0o640,
		"/usr":                         dir | 0o755,
		"/usr/local":                   dir | 0o755,
		"/usr/local/bin":               dir | 0o755,
		"/usr/local/bin/cotd":          0o755,
		"/usr/local/sbin":              dir | 0o755,
		"/usr/local/sbin/cotd-service": 0o755,
		"/var":                         dir | 0o755,
		"/var/lib":                     dir | 0o755,
		"/var/lib/cotd":                dir | 0o750,
	}
	tree := snapshot(t, s.root)
	for _, p := range keys(tree) {
		if m, ok := want[p]; !ok {
			t.Errorf("unexpected %s (%v) in the staging root", p, tree[p])
		} else if tree[p].mode != m {
			t.Errorf("%s has mode %v, want %v", p, tree[p].mode, m)
		}
	}
	for p := range want {
		if _, ok := tree[p]; !ok {
			t.Errorf("missing %s", p)
		}
	}

	if got := tree["/etc/systemd/system/timers.target.wants/cotd.timer"].target; got != "/etc/systemd/system/cotd.timer" {
		t.Errorf("timer enable link points to %q, want /etc/systemd/system/cotd.timer as systemctl enable makes it", got)
	}
	src, _ := os.ReadFile(binary)
	if got := s.read(t, "/usr/local/bin/cotd"); got != string(src) {
		t.Errorf("installed binary differs from %s", binary)
	}
	if got := s.read(t, "/etc/cotd/smtp-password"); got != "" {
		t.Errorf("smtp-password holds %q, want an empty file", got)
	}

	golden(t, "cotd.service", s.read(t, "/etc/systemd/system/cotd.service"))
	golden(t, "cotd.timer", s.read(t, "/etc/systemd/system/cotd.timer"))
	golden(t, "cotd.env", s.read(t, "/etc/cotd/cotd.env"))
	golden(t, "cotd-service", s.read(t, "/usr/local/sbin/cotd-service"))

	// What --root records instead of doing, and what the owner reads last.
	for _, line := range []string{
		"would run: useradd --system --user-group --no-create-home --home-dir /var/lib/cotd --shell /usr/sbin/nologin",
		"would run: chown cotd:cotd /var/lib/cotd",
		"would run: chown owner:cotd /srv/cotd/photos",
		"would run: chown owner:cotd /srv/cotd/quotes.txt",
		"would run: chown owner:cotd /etc/cotd/recipients.txt",
		"nano /etc/cotd/recipients.txt",
		// The owner joins group cotd, so their own chgrp of a photo works.
		"would run: usermod --append --groups cotd owner",
		"added owner to group cotd",
		"would run: systemctl daemon-reload",
		"would run: systemctl enable --now cotd.timer",
		"sudo nano /etc/cotd/cotd.env",
		"sudo nano /etc/cotd/smtp-password",
		"sudo cotd-service check",
		"sudo cotd-service send-test --to you@example.com",
		"scp *.jpg owner@",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	// heif-convert for HEIC photos, where apt-get exists.
	heif := "would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libheif-examples"
	if _, err := exec.LookPath("apt-get"); err == nil && !strings.Contains(out, heif) {
		t.Errorf("output lacks %q:\n%s", heif, out)
	}

	// systemctl itself must see the timer as enabled in the staging root.
	if systemctl, err := exec.LookPath("systemctl"); err == nil {
		got, err := exec.Command(systemctl, "--root="+s.root, "is-enabled", "cotd.timer").CombinedOutput()
		if strings.TrimSpace(string(got)) != "enabled" {
			t.Errorf("systemctl --root is-enabled cotd.timer: %v: %s", err, got)
		}
	}
}

// The env file names every setting the service needs, in a syntax systemd's
// EnvironmentFile= reads, with the zone of the machine it is installed on.
func TestEnvTemplate(t *testing.T) {
	binary := cotdBinary(t)
	names := []string{"COTD_TO", "COTD_FROM", "COTD_SMTP_HOST", "COTD_SMTP_PORT", "COTD_SMTP_USER",
		"COTD_SMTP_TLS", "COTD_AT", "COTD_TZ", "COTD_CATCH_UP", "COTD_ALERT_TO", "COTD_PING_URL",
		"COTD_NOTIFY_URL", "COTD_METRICS_FILE", "COTD_PHOTOS", "COTD_QUOTES", "COTD_DB"}
	assignment := regexp.MustCompile(`^#?(COTD_[A-Z_]+)=(.*)$`)
	for _, tc := range []struct {
		zone, wantTZ string // wantTZ "" means COTD_TZ stays commented out
	}{
		{"Europe/Berlin", "Europe/Berlin"},
		{"America/New_York", "America/New_York"},
		{"", ""},
	} {
		t.Run("zone="+tc.zone, func(t *testing.T) {
			s := newStaging(t, binary, tc.zone)
			s.mustRun(t)
			active, mentioned := map[string]string{}, map[string]bool{}
			for i, line := range strings.Split(s.read(t, "/etc/cotd/cotd.env"), "\n") {
				if line == "" || (strings.HasPrefix(line, "# ") || line == "#") {
					continue
				}
				m := assignment.FindStringSubmatch(line)
				if m == nil {
					t.Errorf("cotd.env:%d: %q is neither a comment nor KEY=value", i+1, line)
					continue
				}
				mentioned[m[1]] = true
				if !strings.HasPrefix(line, "#") {
					active[m[1]] = m[2]
				}
			}
			for _, n := range names {
				if !mentioned[n] {
					t.Errorf("cotd.env does not mention %s", n)
				}
			}
			if got, ok := active["COTD_TZ"]; tc.wantTZ == "" && ok || tc.wantTZ != "" && got != tc.wantTZ {
				t.Errorf("COTD_TZ=%q (set: %v), want %q", got, ok, tc.wantTZ)
			}
			for k, v := range map[string]string{"COTD_DB": "/var/lib/cotd/cotd.db", "COTD_PHOTOS": "/srv/cotd/photos",
				"COTD_QUOTES": "/srv/cotd/quotes.txt", "COTD_OUTBOX": "/var/lib/cotd/outbox"} {
				if active[k] != v {
					t.Errorf("%s=%q, want %q", k, active[k], v)
				}
			}
		})
	}
}

// A rerun upgrades the binary and never touches what the owner made or edited.
func TestRerunKeepsOwnerFiles(t *testing.T) {
	binary := cotdBinary(t)
	s := newStaging(t, binary, "Europe/Berlin")
	s.mustRun(t)
	units := map[string]string{}
	for _, u := range []string{"/etc/systemd/system/cotd.service", "/etc/systemd/system/cotd.timer", "/usr/local/sbin/cotd-service"} {
		units[u] = s.read(t, u)
	}

	// The owner configures cotd, adds photos and quotes, and cotd runs once.
	env := s.read(t, "/etc/cotd/cotd.env") + "COTD_TO=cee@example.test\nCOTD_SMTP_HOST=smtp.example.test\n"
	writeFile(t, s.path("/etc/cotd/cotd.env"), []byte(env), 0o640)
	writeFile(t, s.path("/etc/cotd/smtp-password"), []byte("hunter2\n"), 0o600)
	writeFile(t, s.path("/srv/cotd/photos/tom.jpg"), []byte("not really a jpeg"), 0o644)
	writeFile(t, s.path("/srv/cotd/quotes.txt"), []byte("Meow. — A Cat\n"), 0o664)
	writeFile(t, s.path("/var/lib/cotd/cotd.db"), []byte("bbolt pages"), 0o600)
	if err := os.Chmod(s.path("/srv/cotd/photos"), os.ModeSetgid|0o770); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s.root)

	// A new build of cotd arrives beside the script.
	upgraded, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	upgraded = append(upgraded, "\n# upgraded build\n"...)
	writeFile(t, filepath.Join(s.src, "cotd"), upgraded, 0o755)
	out := s.mustRun(t)

	after := snapshot(t, s.root)
	for _, p := range []string{"/etc/cotd/cotd.env", "/etc/cotd/smtp-password", "/srv/cotd", "/srv/cotd/photos",
		"/srv/cotd/photos/tom.jpg", "/srv/cotd/quotes.txt", "/var/lib/cotd", "/var/lib/cotd/cotd.db"} {
		if before[p] != after[p] {
			t.Errorf("rerun changed %s: %v -> %v", p, before[p], after[p])
		}
		if !strings.Contains(out, "kept "+p) && p != "/srv/cotd/photos/tom.jpg" && p != "/var/lib/cotd/cotd.db" {
			t.Errorf("output does not say it kept %s:\n%s", p, out)
		}
	}
	if got := s.read(t, "/usr/local/bin/cotd"); got != string(upgraded) {
		t.Error("rerun did not install the new binary")
	}
	if after["/usr/local/bin/cotd"].mode != 0o755 {
		t.Errorf("upgraded binary has mode %v, want 0755", after["/usr/local/bin/cotd"].mode)
	}
	for u, text := range units {
		if got := s.read(t, u); got != text {
			t.Errorf("rerun wrote a different %s", u)
		}
	}
	// The atomic writes leave no temporary files behind.
	if len(after) != len(before) {
		for _, p := range keys(after) {
			if _, ok := before[p]; !ok {
				t.Errorf("rerun left %s", p)
			}
		}
	}
}

func TestUninstallKeepsData(t *testing.T) {
	s := newStaging(t, cotdBinary(t), "Europe/Berlin")
	s.mustRun(t)
	writeFile(t, s.path("/srv/cotd/photos/tom.jpg"), []byte("cat"), 0o644)
	writeFile(t, s.path("/var/lib/cotd/cotd.db"), []byte("state"), 0o600)
	before := snapshot(t, s.root)

	out := s.mustRun(t, "--uninstall")
	after := snapshot(t, s.root)
	for _, p := range []string{"/usr/local/bin/cotd", "/usr/local/sbin/cotd-service", "/etc/systemd/system/cotd.service",
		"/etc/systemd/system/cotd.timer", "/etc/systemd/system/timers.target.wants/cotd.timer"} {
		if _, ok := after[p]; ok {
			t.Errorf("--uninstall left %s", p)
		}
		if !strings.Contains(out, "removed "+p) {
			t.Errorf("--uninstall does not say it removed %s:\n%s", p, out)
		}
	}
	for _, p := range []string{"/etc/cotd/cotd.env", "/etc/cotd/smtp-password", "/var/lib/cotd/cotd.db",
		"/srv/cotd/photos/tom.jpg", "/srv/cotd/quotes.txt"} {
		if after[p] != before[p] {
			t.Errorf("--uninstall changed %s: %v -> %v", p, before[p], after[p])
		}
	}
	for _, line := range []string{"would run: systemctl disable --now cotd.timer", "would run: systemctl daemon-reload"} {
		if !strings.Contains(out, line) {
			t.Errorf("--uninstall output lacks %q:\n%s", line, out)
		}
	}
	if strings.Contains(out, "userdel") {
		t.Errorf("--uninstall removes the cotd user; only --purge may:\n%s", out)
	}

	// Installing again finds the owner's data as it was.
	s.mustRun(t)
	again := snapshot(t, s.root)
	for _, p := range []string{"/etc/cotd/cotd.env", "/var/lib/cotd/cotd.db", "/srv/cotd/photos/tom.jpg"} {
		if again[p] != before[p] {
			t.Errorf("reinstall changed %s", p)
		}
	}
}

func TestPurge(t *testing.T) {
	s := newStaging(t, cotdBinary(t), "Europe/Berlin")
	s.mustRun(t)
	writeFile(t, s.path("/srv/cotd/photos/tom.jpg"), []byte("cat"), 0o644)
	writeFile(t, s.path("/var/lib/cotd/cotd.db"), []byte("state"), 0o600)

	out := s.mustRun(t, "--purge")
	after := snapshot(t, s.root)
	for _, p := range []string{"/usr/local/bin/cotd", "/etc/systemd/system/cotd.service", "/etc/systemd/system/cotd.timer",
		"/etc/systemd/system/timers.target.wants/cotd.timer", "/usr/local/sbin/cotd-service", "/etc/cotd", "/var/lib/cotd", "/srv/cotd"} {
		if _, ok := after[p]; ok {
			t.Errorf("--purge left %s", p)
		}
		if !strings.Contains(out, "removed "+p) {
			t.Errorf("--purge does not say it removed %s:\n%s", p, out)
		}
	}
	if !strings.Contains(out, "would run: userdel cotd") {
		t.Errorf("--purge does not remove the cotd user:\n%s", out)
	}
	// What was there before pi-setup.sh stays.
	if _, ok := after["/etc/localtime"]; !ok {
		t.Error("--purge removed /etc/localtime, which it did not install")
	}
	// A second purge has nothing left to do and still succeeds.
	if out := s.mustRun(t, "--purge"); strings.Contains(out, "removed ") {
		t.Errorf("second --purge removed something:\n%s", out)
	}
}

// pi-setup.sh refuses, changes nothing, and says what to do.
func TestRefusals(t *testing.T) {
	binary := cotdBinary(t)
	for _, tc := range []struct {
		name    string
		binary  string // "" = none beside the script; "foreign" = another architecture's ELF
		args    []string
		code    int
		message []string
	}{
		{"no binary", "", nil, 2, []string{"error: no cotd binary next to pi-setup.sh",
			"hint: put the cotd binary next to pi-setup.sh: scp cotd pi-setup.sh pi:"}},
		{"binary flag to nothing", binary, []string{"--binary", "/nonexistent/cotd"}, 2,
			[]string{"error: /nonexistent/cotd does not exist"}},
		{"wrong architecture", "foreign", nil, 2, []string{"does not run on this machine", "`cotd version` failed",
			"GOARCH=arm64", "--skip-binary-check"}},
		{"unknown flag", binary, []string{"--frobnicate"}, 2, []string{"error: unknown argument --frobnicate"}},
		{"root without directory", binary, []string{"--root"}, 2, []string{"error: --root needs a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := tc.binary
			if bin == "foreign" {
				bin = ""
			}
			s := newStaging(t, bin, "")
			if tc.binary == "foreign" {
				arch := foreignELF(t, filepath.Join(s.src, "cotd"))
				tc.message = append(tc.message, "built for "+arch)
			}
			before := snapshot(t, s.root)
			out, code := s.run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d:\n%s", code, tc.code, out)
			}
			for _, m := range tc.message {
				if !strings.Contains(out, m) {
					t.Errorf("output lacks %q:\n%s", m, out)
				}
			}
			if after := snapshot(t, s.root); len(after) != len(before) {
				t.Errorf("a refused run changed the staging root: %v", keys(after))
			}
		})
	}

	// An image builder on another architecture skips the check on purpose.
	t.Run("skip binary check", func(t *testing.T) {
		s := newStaging(t, "", "")
		foreignELF(t, filepath.Join(s.src, "cotd"))
		s.mustRun(t, "--skip-binary-check")
		if _, err := os.Stat(s.path("/usr/local/bin/cotd")); err != nil {
			t.Error(err)
		}
	})
}

// Without --root, pi-setup.sh refuses to run as an ordinary user before it
// looks at anything else.
func TestRefusesWithoutRoot(t *testing.T) {
	dir, err := os.MkdirTemp("", "cotd-deploy-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "pi-setup.sh")
	copyFile(t, scriptPath(t), script, 0o755)
	cmd := exec.Command(script)
	if os.Geteuid() == 0 {
		setpriv := needTool(t, "setpriv", "util-linux")
		cmd = exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", script)
	}
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Errorf("exit code %d (%v), want 2:\n%s", code, err, out)
	}
	for _, m := range []string{"error: pi-setup.sh must run as root", "hint: run: sudo ./pi-setup.sh"} {
		if !strings.Contains(string(out), m) {
			t.Errorf("output lacks %q:\n%s", m, out)
		}
	}
}

// installUnits stages an install and adds the machine's own units, which
// systemd-analyze --root needs to resolve sysinit.target and friends.
func installUnits(t *testing.T) staging {
	t.Helper()
	s := newStaging(t, cotdBinary(t), "Europe/Berlin")
	s.mustRun(t)
	dest := s.path("/usr/lib/systemd")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", hostUnitDir(t), dest).CombinedOutput(); err != nil {
		t.Fatalf("copy the host's units: %v\n%s", err, out)
	}
	return s
}

// systemd-analyze verify exits 0 even on unknown keys and bad values, so the
// test asserts its output is empty. It also checks that ExecStart's binary
// exists, which --root resolves inside the staging root.
func TestUnitsVerify(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "systemd")
	s := installUnits(t)
	verify := func() string {
		out, err := exec.Command(analyze, "verify", "--root="+s.root, "cotd.service", "cotd.timer").CombinedOutput()
		if err != nil && len(out) == 0 {
			t.Fatalf("systemd-analyze verify: %v", err)
		}
		return string(out)
	}
	if out := verify(); out != "" {
		t.Errorf("systemd-analyze verify of the installed units is not silent:\n%s", out)
	}

	// The same check must see a broken unit, or its silence proves nothing.
	service := s.path("/etc/systemd/system/cotd.service")
	good := s.read(t, "/etc/systemd/system/cotd.service")
	writeFile(t, service, []byte(good+"ProtectSytem=strict\n"), 0o644)
	if out := verify(); !strings.Contains(out, "ProtectSytem") {
		t.Errorf("systemd-analyze verify did not report a misspelt key:\n%s", out)
	}
	writeFile(t, service, []byte(good), 0o644)
	if err := os.Remove(s.path("/usr/local/bin/cotd")); err != nil {
		t.Fatal(err)
	}
	if out := verify(); !strings.Contains(out, "/usr/local/bin/cotd") {
		t.Errorf("systemd-analyze verify did not report the missing binary:\n%s", out)
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for cotd\.service: ([0-9.]+)`)

// maxExposure bounds the systemd-analyze security score (0 is best, 10 is an
// unhardened root service). The units score 1.4 with systemd 252; what is
// left is the network access cotd needs to send mail, and the read-only
// adjtimex(2) that tells it whether NTP has set the clock (0.4 of it: no
// ProtectClock=, and @clock's adjtimex allowed; cotd still cannot change the
// clock without CAP_SYS_TIME).
const maxExposure = 1.5

func TestSecurityExposure(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "systemd")
	s := newStaging(t, cotdBinary(t), "Europe/Berlin")
	s.mustRun(t)
	out, err := exec.Command(analyze, "security", "--offline=yes", "--no-pager",
		s.path("/etc/systemd/system/cotd.service")).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := exposure.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("systemd-analyze security exposure of cotd.service: %.1f", score)
	if score > maxExposure {
		t.Errorf("exposure %.1f is above %.1f:\n%s", score, maxExposure, out)
	}
	// The settings cotd cannot work without must survive any hardening.
	lines := unitSettings(s.read(t, "/etc/systemd/system/cotd.service"))["Service"]
	for key, want := range map[string]string{"Type": "oneshot", "EnvironmentFile": "/etc/cotd/cotd.env",
		"LoadCredential": "smtp-password:/etc/cotd/smtp-password", "StateDirectory": "cotd",
		"User": "cotd", "ProtectSystem": "strict", "ProtectHome": "yes", "RestrictAddressFamilies": "AF_INET AF_INET6",
		"TimeoutStartSec": "30min", "ExecStart": "/usr/local/bin/cotd run"} {
		if got, _ := setting(lines, key); got != want {
			t.Errorf("cotd.service has %s=%q, want %q", key, got, want)
		}
	}
	// The worst case of a run: the NTP wait pi-setup.sh configures, the
	// sending budget, then the full wait for a final dot's answer that the
	// budget never cuts (issue 25 §2), then the alert mail and the pings.
	worst := 3*time.Minute + mail.DefaultBudget + mail.RFC5321Timeouts.FinalDot + 2*time.Minute
	if worst >= 30*time.Minute {
		t.Errorf("a run may take %s, more than TimeoutStartSec=30min: systemd would kill it while a server holds a message", worst)
	}
}

// The timer wakes cotd every 15 minutes; systemd's own calendar parser says when.
func TestTimerCalendar(t *testing.T) {
	analyze := needTool(t, "systemd-analyze", "systemd")
	s := newStaging(t, cotdBinary(t), "")
	s.mustRun(t)
	timer := unitSettings(s.read(t, "/etc/systemd/system/cotd.timer"))
	for key, want := range map[string]string{"Persistent": "true", "OnBootSec": "2min"} {
		if got, _ := setting(timer["Timer"], key); got != want {
			t.Errorf("cotd.timer has %s=%q, want %q", key, got, want)
		}
	}
	if got, _ := setting(timer["Install"], "WantedBy"); got != "timers.target" {
		t.Errorf("cotd.timer is wanted by %q, want timers.target", got)
	}
	spec, ok := setting(timer["Timer"], "OnCalendar")
	if !ok {
		t.Fatal("cotd.timer has no OnCalendar=")
	}
	cmd := exec.Command(analyze, "calendar", "--iterations=4", "--base-time=2026-03-29 00:50:00 UTC", spec)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze calendar %q: %v\n%s", spec, err, out)
	}
	elapse := regexp.MustCompile(`(?m)^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$`)
	var got []string
	for _, m := range elapse.FindAllStringSubmatch(string(out), -1) {
		got = append(got, m[1])
	}
	var want []string
	base := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	for i := range 4 {
		want = append(want, base.Add(time.Duration(i)*15*time.Minute).Format(time.DateTime))
	}
	if !slices.Equal(got, want) {
		t.Errorf("OnCalendar=%s elapses at %q, want every 15 minutes %q:\n%s", spec, got, want, out)
	}
}

// cotd-service runs cotd with exactly the settings of cotd.service, so that
// `cotd check` sees what the timer's runs see.
func TestHelperMatchesService(t *testing.T) {
	s := newStaging(t, cotdBinary(t), "")
	s.mustRun(t)
	var service []string
	for _, l := range unitSettings(s.read(t, "/etc/systemd/system/cotd.service"))["Service"] {
		k, _, _ := strings.Cut(l, "=")
		if k != "Type" && k != "ExecStart" && k != "TimeoutStartSec" {
			service = append(service, l)
		}
	}
	helper := s.read(t, "/usr/local/sbin/cotd-service")
	var props []string
	for _, m := range regexp.MustCompile(`--property='([^']*)'`).FindAllStringSubmatch(helper, -1) {
		props = append(props, m[1])
	}
	if !slices.Equal(props, service) {
		t.Errorf("cotd-service properties differ from cotd.service:\nhelper:  %q\nservice: %q", props, service)
	}
	for _, want := range []string{"exec systemd-run --quiet --wait --pipe --collect", `-- /usr/local/bin/cotd "$@"`} {
		if !strings.Contains(helper, want) {
			t.Errorf("cotd-service lacks %q:\n%s", want, helper)
		}
	}
}
