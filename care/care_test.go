package care

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)

// machine is a Pi in a folder: its files under dir, every filesystem the
// one fs says, and the clock synced as synced says.
func machine(t *testing.T, fsys map[string]Space, synced bool) (Machine, string) {
	t.Helper()
	dir := t.TempDir()
	m := Machine{
		RebootRequired: filepath.Join(dir, "run", "reboot-required"),
		Throttled:      filepath.Join(dir, "get_throttled"),
		Uptime:         filepath.Join(dir, "uptime"),
		Synced:         func() (bool, error) { return synced, nil },
		Statfs: func(path string) (Space, error) {
			for prefix, s := range fsys {
				if strings.HasPrefix(path, prefix) {
					return s, nil
				}
			}
			return Space{ID: "root", Free: 50 << 30, Total: 100 << 30}, nil
		},
	}
	return m, dir
}

func write(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func first(fs []Finding, _ []Usage) []Finding { return fs }

// kinds is the findings by kind.
func kinds(fs []Finding) map[Kind]Finding {
	out := map[Kind]Finding{}
	for _, f := range fs {
		if _, dup := out[f.Kind]; dup {
			panic("two findings of kind " + string(f.Kind))
		}
		out[f.Kind] = f
	}
	return out
}

// A healthy machine says nothing: no reboot file, no throttling, the
// clock synced, room on every disk, a fresh backup on another disk.
func TestHealthyMachineSaysNothing(t *testing.T) {
	m, _ := machine(t, map[string]Space{"/mnt/usb": {ID: "usb", Free: 20 << 30, Total: 30 << 30}}, true)
	p := Places{DB: "/var/lib/cotd/cotd.db", Backups: "/mnt/usb/backups", Photos: "/mnt/usb/photos", NewestBackup: now.Add(-3 * time.Hour), FirstRun: now.AddDate(0, -1, 0), LastRun: now}
	got, usage := m.Check(p, now, nil)
	if len(got) != 0 {
		t.Errorf("findings %v", got)
	}
	if f := m.BesideDB(p); f != nil {
		t.Errorf("beside: %v", f)
	}
	if len(usage) != 2 {
		t.Errorf("usage %+v, want one per filesystem (root, usb)", usage)
	}
}

func TestRebootPending(t *testing.T) {
	m, _ := machine(t, nil, true)
	write(t, m.RebootRequired, "*** System restart required ***\n", now.Add(-50*time.Hour))
	write(t, m.RebootRequired+".pkgs", "linux-image-rpi-v8\nlibc6\nlinux-image-rpi-v8\n\n", time.Time{})
	f := kinds(first(m.Check(Places{}, now, nil)))[Reboot]
	want := "a reboot is pending since 2026-03-08 06:00 UTC (2 days ago) for libc6, linux-image-rpi-v8"
	if f.Msg != want || !strings.Contains(f.Fix, "sudo reboot") {
		t.Errorf("got %+v, want %q", f, want)
	}
	// Without the .pkgs file (another upgrade tool), the age alone.
	os.Remove(m.RebootRequired + ".pkgs")
	if f := kinds(first(m.Check(Places{}, now, nil)))[Reboot]; f.Msg != "a reboot is pending since 2026-03-08 06:00 UTC (2 days ago)" {
		t.Errorf("no pkgs: %q", f.Msg)
	}
	// A package name with a line break cannot forge a line.
	write(t, m.RebootRequired+".pkgs", "evil\x1b[31m\n", time.Time{})
	if f := kinds(first(m.Check(Places{}, now, nil)))[Reboot]; strings.ContainsAny(f.Msg, "\x1b\n") {
		t.Errorf("escape not escaped: %q", f.Msg)
	}
}

// Every get_throttled pattern the firmware documents: the "now" bits and
// the "since boot" bits, each alone and together.
func TestPower(t *testing.T) {
	for _, tc := range []struct {
		bits, want, fix string
	}{
		{"0x0", "", ""},
		{"0x50000", "the Pi's firmware reports under-voltage since boot and throttling since boot (get_throttled 0x50000)", "power supply"},
		{"0x50005", "the Pi's firmware reports under-voltage now and throttling now (get_throttled 0x50005)", "power supply"},
		{"0x10000", "the Pi's firmware reports under-voltage since boot (get_throttled 0x10000)", "power supply"},
		{"0x80000", "the Pi's firmware reports throttling since boot (get_throttled 0x80000)", "cool"},
		{"0x20000", "the Pi's firmware reports throttling since boot (get_throttled 0x20000)", "cool"},
		{"0x8\n", "", ""}, // a soft temperature limit now, nothing since boot: passing
		{"garbage", "", ""},
	} {
		m, _ := machine(t, nil, true)
		write(t, m.Throttled, tc.bits, time.Time{})
		f := kinds(first(m.Check(Places{}, now, nil)))[Power]
		if f.Msg != tc.want || !strings.Contains(f.Fix, tc.fix) {
			t.Errorf("%q: %+v, want %q (fix with %q)", tc.bits, f, tc.want, tc.fix)
		}
	}
	// Not a Pi: no file, nothing said.
	m, _ := machine(t, nil, true)
	if f, ok := kinds(first(m.Check(Places{}, now, nil)))[Power]; ok {
		t.Errorf("no file: %+v", f)
	}
}

// The clock: unsynchronised for over an hour since boot is a finding;
// synced, or just booted (NTP has minutes to answer), is not.
func TestClockNeverSynchronised(t *testing.T) {
	for _, tc := range []struct {
		synced bool
		uptime string
		want   bool
	}{
		{false, "10800.52 20000.1\n", true},
		{false, "600.00 1000.0\n", false},
		{true, "10800.52 20000.1\n", false},
		{false, "", false}, // no /proc/uptime: cannot tell how long
	} {
		m, _ := machine(t, nil, tc.synced)
		if tc.uptime != "" {
			write(t, m.Uptime, tc.uptime, time.Time{})
		}
		f, ok := kinds(first(m.Check(Places{}, now, nil)))[Clock]
		if ok != tc.want {
			t.Errorf("synced %v, uptime %q: %+v", tc.synced, tc.uptime, f)
		}
		if ok && (!strings.Contains(f.Msg, "3 hours ago") || !strings.Contains(f.Fix, "timedatectl")) {
			t.Errorf("words: %+v", f)
		}
	}
}

// A filesystem is nearly full by its free space, its share, or the days
// it lasts at the growth since the last run; read-only is said apart.
// One filesystem holding the database and the backups is named once.
func TestDisks(t *testing.T) {
	p := Places{DB: "/var/lib/cotd/cotd.db", Backups: "/var/lib/cotd/backups", Photos: "/mnt/usb/photos"}
	for _, tc := range []struct {
		name     string
		sd, usb  Space
		prev     []Usage
		low, ro  string // substrings; "" means no finding
		lowFixed bool
	}{
		{name: "room", sd: Space{ID: "sd", Free: 10 << 30, Total: 30 << 30}, usb: Space{ID: "usb", Free: 10 << 30, Total: 30 << 30}},
		{name: "few bytes", sd: Space{ID: "sd", Free: 200 << 20, Total: 30 << 30}, usb: Space{ID: "usb", Free: 10 << 30, Total: 30 << 30},
			low: "the filesystem of the database and the backups (/var/lib/cotd) has 200 MiB free (1% of 30 GiB), not shrinking since the last run"},
		{name: "small share", sd: Space{ID: "sd", Free: 10 << 30, Total: 30 << 30}, usb: Space{ID: "usb", Free: 1 << 30, Total: 1 << 40},
			low: "the filesystem of the photos (/mnt/usb/photos) has 1.0 GiB free (0% of 1.0 TiB)"},
		{name: "growth", sd: Space{ID: "sd", Free: 2 << 30, Total: 30 << 30}, usb: Space{ID: "usb", Free: 10 << 30, Total: 30 << 30},
			prev: []Usage{{Path: "/var/lib/cotd", Free: 3 << 30, At: now.Add(-24 * time.Hour)}},
			low:  "has 2.0 GiB free (7% of 30 GiB), about 2 days at the current growth of 1.0 GiB a day"},
		{name: "slow growth", sd: Space{ID: "sd", Free: 2 << 30, Total: 30 << 30}, usb: Space{ID: "usb", Free: 10 << 30, Total: 30 << 30},
			prev: []Usage{{Path: "/var/lib/cotd", Free: 2<<30 + 10<<20, At: now.Add(-24 * time.Hour)}}},
		{name: "growth over minutes is noise", sd: Space{ID: "sd", Free: 2 << 30, Total: 30 << 30}, usb: Space{ID: "usb", Free: 10 << 30, Total: 30 << 30},
			prev: []Usage{{Path: "/var/lib/cotd", Free: 3 << 30, At: now.Add(-5 * time.Minute)}}},
		{name: "read-only", sd: Space{ID: "sd", Free: 200 << 20, Total: 30 << 30, ReadOnly: true}, usb: Space{ID: "usb", Free: 10 << 30, Total: 30 << 30},
			ro: "the filesystem of the database and the backups (/var/lib/cotd) is mounted read-only"},
		// ProtectSystem=strict shows every folder but the state directory
		// read-only: cotd only reads the photos, so that is no problem.
		{name: "photos read-only (the hardened unit)", sd: Space{ID: "sd", Free: 10 << 30, Total: 30 << 30}, usb: Space{ID: "usb", Free: 10 << 30, Total: 30 << 30, ReadOnly: true}},
		{name: "both", sd: Space{ID: "sd", Free: 10 << 30, Total: 30 << 30, ReadOnly: true}, usb: Space{ID: "usb", Free: 100 << 20, Total: 30 << 30},
			ro: "(/var/lib/cotd) is mounted read-only", low: "the filesystem of the photos (/mnt/usb/photos) has 100 MiB free"},
	} {
		m, _ := machine(t, map[string]Space{"/var/lib/cotd": tc.sd, "/mnt/usb": tc.usb}, true)
		got := kinds(first(m.Check(p, now, tc.prev)))
		for kind, want := range map[Kind]string{DiskLow: tc.low, ReadOnly: tc.ro} {
			f, ok := got[kind]
			if ok != (want != "") || !strings.Contains(f.Msg, want) {
				t.Errorf("%s: %s = %+v, want %q", tc.name, kind, f, want)
			}
			if ok && f.Fix == "" {
				t.Errorf("%s: %s has no fix", tc.name, kind)
			}
		}
	}
}

// Backups: none after two days of runs, none for two days of runs, or on
// the database's filesystem (said by check only). A holiday with the Pi
// off is not a stale backup: the runs stopped too.
func TestBackups(t *testing.T) {
	sd := map[string]Space{"/var/lib/cotd": {ID: "sd", Free: 10 << 30, Total: 30 << 30}}
	for _, tc := range []struct {
		name string
		p    Places
		want string
	}{
		{"fresh install", Places{FirstRun: now.Add(-time.Hour), LastRun: now}, ""},
		{"none after two days", Places{FirstRun: now.AddDate(0, 0, -3), LastRun: now}, "there is no snapshot of the database in /mnt/usb/backups"},
		{"fresh", Places{FirstRun: now.AddDate(0, 0, -30), LastRun: now, NewestBackup: now.Add(-20 * time.Hour)}, ""},
		{"stale", Places{FirstRun: now.AddDate(0, 0, -30), LastRun: now, NewestBackup: now.Add(-73 * time.Hour)},
			"the newest snapshot of the database in /mnt/usb/backups is from 2026-03-07 07:00 UTC (3 days ago), and runs went on since"},
		{"back from a holiday", Places{FirstRun: now.AddDate(0, 0, -30), LastRun: now.AddDate(0, 0, -9), NewestBackup: now.AddDate(0, 0, -9)}, ""},
		{"never ran", Places{}, ""},
	} {
		m, _ := machine(t, sd, true)
		tc.p.DB, tc.p.Backups = "/var/lib/cotd/cotd.db", "/mnt/usb/backups"
		f := kinds(first(m.Check(tc.p, now, nil)))[Backups]
		if !strings.HasPrefix(f.Msg, tc.want) || (tc.want == "") != (f.Msg == "") {
			t.Errorf("%s: %+v, want %q", tc.name, f, tc.want)
		}
	}
	m, _ := machine(t, sd, true)
	beside := Places{DB: "/var/lib/cotd/cotd.db", Backups: "/var/lib/cotd/backups"}
	if f := m.BesideDB(beside); f == nil || !strings.Contains(f.Msg, "same filesystem as the database") || !strings.Contains(f.Fix, "--backup-dir") {
		t.Errorf("beside: %+v", f)
	}
}

// The real files of this machine are read without root and without
// failing, whatever they say (the VM test proves them under the unit).
func TestRealMachine(t *testing.T) {
	dir := t.TempDir()
	m := Pi(func() (bool, error) { return true, nil })
	fs, usage := m.Check(Places{DB: filepath.Join(dir, "cotd.db"), Backups: filepath.Join(dir, "backups"), Photos: dir}, now, nil)
	for _, f := range fs {
		if f.Msg == "" || f.Fix == "" {
			t.Errorf("finding without words: %+v", f)
		}
	}
	if len(usage) != 1 || usage[0].Free == 0 {
		t.Errorf("usage of %s: %+v", dir, usage)
	}
}

func TestBytesWord(t *testing.T) {
	for n, want := range map[uint64]string{512: "512 B", 2048: "2.0 KiB", 200 << 20: "200 MiB", 3 << 30: "3.0 GiB", 1 << 40: "1.0 TiB"} {
		if got := bytesWord(n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}
