// Package care looks after the machine cotd runs on, the way the owner of
// a Pi would if they looked every day: a reboot the upgrades wait for, a
// filesystem filling up or gone read-only, a clock NTP never set, a power
// supply too weak for the Pi, backups missing or beside the database they
// are meant to outlive. Each check reads the real file or system call (the
// paths are Machine's, so tests point them elsewhere), needs no root and
// works under cotd's hardened unit. Each finding is one line with its fix.
//
// It judges; it does not alert. monitor turns the findings into problems
// (one kind each, with the one severity rule) for the alert mail, the
// ping, `cotd status` and `cotd check`.
package care

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"cotd/internal/text"
)

// Kind is what a finding is about; one finding per kind at most.
type Kind string

const (
	Reboot   Kind = "reboot-pending"  // /run/reboot-required: upgrades wait for a reboot
	DiskLow  Kind = "disk-low"        // a filesystem cotd writes or reads is nearly full
	ReadOnly Kind = "read-only"       // a filesystem cotd uses is mounted read-only
	Clock    Kind = "clock-never-set" // the clock has not been synchronised since boot, for long
	Power    Kind = "under-voltage"   // the Pi's firmware saw under-voltage or throttled since boot
	Backups  Kind = "backups"         // the database's snapshots are missing, old, or beside it
)

// Finding is one thing the machine needs, in one line, and its fix.
type Finding struct {
	Kind Kind
	Msg  string
	Fix  string
}

// Line is the finding with its fix, for the status report and the ping.
func (f Finding) Line() string { return f.Msg + "; fix: " + f.Fix }

// Machine is where the checks look. Pi is the real one.
type Machine struct {
	RebootRequired string // written by Debian's and Raspberry Pi OS's upgrades; its .pkgs beside it
	Throttled      string // the firmware's get_throttled bits, where the kernel exposes them
	Uptime         string // /proc/uptime
	// Synced reports whether NTP has synchronised the kernel's clock
	// (clocksync.Kernel); nil: not checked.
	Synced func() (bool, error)
	// Statfs reads a filesystem's size and flags (statfs(2)).
	Statfs func(path string) (Space, error)
}

// Pi is the machine cotd runs on: the real files and system calls.
func Pi(synced func() (bool, error)) Machine {
	return Machine{
		RebootRequired: "/run/reboot-required",
		Throttled:      "/sys/devices/platform/soc/soc:firmware/get_throttled",
		Uptime:         "/proc/uptime",
		Synced:         synced,
		Statfs:         Statfs,
	}
}

// Space is one filesystem as statfs(2) sees it, from an unprivileged user.
type Space struct {
	ID       string // the filesystem (its statfs fsid), to say a shared one once
	Free     uint64 // bytes an unprivileged user may still write
	Total    uint64
	ReadOnly bool
}

// Statfs is statfs(2) of path, or of its nearest parent that exists (a
// backup folder not made yet lives on its parent's filesystem).
func Statfs(path string) (Space, error) {
	var s unix.Statfs_t
	if err := unix.Statfs(existing(path), &s); err != nil {
		return Space{}, err
	}
	return Space{
		ID:       fmt.Sprintf("%x:%x", s.Fsid.Val[0], s.Fsid.Val[1]),
		Free:     s.Bavail * uint64(s.Bsize),
		Total:    s.Blocks * uint64(s.Bsize),
		ReadOnly: s.Flags&unix.ST_RDONLY != 0,
	}, nil
}

// Places are where cotd keeps what the checks look at.
type Places struct {
	DB, Backups, Photos string // Photos "": the built-in cat
	// NewestBackup is when the newest snapshot of the database was
	// written; zero: there is none.
	NewestBackup time.Time
	// FirstRun and LastRun are the database's first and latest runs (zero
	// before any): snapshots are owed while runs go on.
	FirstRun, LastRun time.Time
}

// Usage is a filesystem's free space at a moment: a run records it, and
// the next one reads the growth from it.
type Usage struct {
	Path string    `json:"path"`
	Free uint64    `json:"free"`
	At   time.Time `json:"at"`
}

// The thresholds. A Pi's SD card of 16-64 GB: a few hundred MB free is a
// few weeks of photos; two weeks at the current growth is time to act.
const (
	lowFree      = 512 << 20 // bytes: below this a filesystem is nearly full
	lowFraction  = 0.05      // or below this share of its size
	lowDays      = 14        // or when it lasts fewer days at the current growth
	minGrowthGap = time.Hour // growth measured over less than this is noise
	backupMaxAge = 48 * time.Hour
	syncGrace    = time.Hour // NTP answers within minutes of boot when it can
)

// Check looks at everything; prev is the usage the last run recorded (for
// the growth), and the usage now is returned for the next one. A check
// that cannot read its file says nothing: not every machine is a Pi.
func (m Machine) Check(p Places, now time.Time, prev []Usage) ([]Finding, []Usage) {
	var out []Finding
	add := func(f *Finding) {
		if f != nil {
			out = append(out, *f)
		}
	}
	add(m.reboot(now))
	disk, ro, usage := m.disks(p, now, prev)
	add(ro)
	add(disk)
	add(m.clock())
	add(m.power())
	add(m.backups(p, now))
	return out, usage
}

// reboot: /run/reboot-required, with its age and the packages that asked.
func (m Machine) reboot(now time.Time) *Finding {
	if m.RebootRequired == "" {
		return nil
	}
	fi, err := os.Stat(m.RebootRequired)
	if err != nil {
		return nil
	}
	msg := "a reboot is pending since " + since(fi.ModTime(), now)
	if pkgs := lines(m.RebootRequired + ".pkgs"); len(pkgs) > 0 {
		shown := pkgs[:min(len(pkgs), 5)]
		msg += " for " + strings.Join(shown, ", ")
		if len(pkgs) > len(shown) {
			msg += fmt.Sprintf(" and %d more", len(pkgs)-len(shown))
		}
	}
	return &Finding{Reboot, msg, "sudo reboot, at a time away from the morning's mail (a run after it catches up)"}
}

// since words a moment and how long ago it was: "2026-03-08 06:00 UTC (2
// days ago)"; the moment alone when it is after now (a --now in the past).
func since(t, now time.Time) string {
	s := t.In(now.Location()).Format(text.Stamp)
	if !t.After(now) {
		s += " (" + text.DaysAgo(now.Sub(t)) + ")"
	}
	return s
}

// lines reads the distinct non-empty lines of a file, sorted; none when it
// cannot be read.
func lines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := text.Escape(strings.TrimSpace(sc.Text()))
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// place is one folder cotd uses and what it holds there.
type place struct {
	what, path string
	writes     bool // cotd writes there, so it must not be read-only
}

// disks judges the filesystems of the database, the backups and the
// photos: nearly full, or read-only. One filesystem holding several is
// named once, with all they hold.
func (m Machine) disks(p Places, now time.Time, prev []Usage) (low, ro *Finding, usage []Usage) {
	if m.Statfs == nil {
		return nil, nil, nil
	}
	places := []place{{"the database", filepath.Dir(p.DB), true}, {"the backups", p.Backups, true}, {"the photos", p.Photos, false}}
	type filesystem struct {
		whats  []string
		path   string // the first place on it
		space  Space
		writes bool // cotd writes to one of the places on it
	}
	var order []string
	byID := map[string]*filesystem{}
	for _, pl := range places {
		if pl.path == "" {
			continue
		}
		s, err := m.Statfs(pl.path)
		if err != nil {
			continue
		}
		f := byID[s.ID]
		if f == nil {
			f = &filesystem{path: pl.path, space: s}
			byID[s.ID] = f
			order = append(order, s.ID)
		}
		f.whats = append(f.whats, pl.what)
		f.writes = f.writes || pl.writes
	}
	var lows, ros []string
	for _, id := range order {
		f := byID[id]
		what := joinAnd(f.whats) + " (" + f.path + ")"
		usage = append(usage, Usage{Path: f.path, Free: f.space.Free, At: now})
		// Read-only matters only where cotd writes: the hardened unit
		// (ProtectSystem=strict) shows the photo folder read-only, as it
		// should, and a USB stick holding only the photos is then fine.
		if f.space.ReadOnly && f.writes {
			ros = append(ros, what)
			continue
		}
		if msg, ok := nearlyFull(f.space, growth(f.path, f.space.Free, now, prev)); ok {
			lows = append(lows, "the filesystem of "+what+" "+msg)
		}
	}
	if len(ros) > 0 {
		ro = &Finding{ReadOnly, "the filesystem of " + strings.Join(ros, " and of ") + " is mounted read-only: an SD card or USB stick failing, or remounted after errors",
			"look for disk errors (journalctl -k -g 'mmc|I/O error|EXT4-fs error'), copy off what you can, then sudo mount -o remount,rw on that mount or replace the card"}
	}
	if len(lows) > 0 {
		low = &Finding{DiskLow, strings.Join(lows, "; "),
			"free space there (df -h; sudo journalctl --vacuum-size=100M; delete or move files), or point --backup-dir at another disk"}
	}
	return low, ro, usage
}

// existing is path, or its nearest parent that exists.
func existing(path string) string {
	for {
		if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return path
		}
		parent := filepath.Dir(path)
		if parent == path {
			return path
		}
		path = parent
	}
}

// growth is how many bytes a day the filesystem at path lost since the
// last run's record; 0 when unknown or not shrinking.
func growth(path string, free uint64, now time.Time, prev []Usage) float64 {
	for _, u := range prev {
		if u.Path != path || u.Free <= free {
			continue
		}
		gap := now.Sub(u.At)
		if gap < minGrowthGap {
			return 0
		}
		return float64(u.Free-free) / gap.Hours() * 24
	}
	return 0
}

// nearlyFull words a filesystem that is nearly full: its free space, its
// share, and the days it lasts at the growth (bytes a day).
func nearlyFull(s Space, perDay float64) (string, bool) {
	days := -1.0
	if perDay > 0 {
		days = float64(s.Free) / perDay
	}
	share := 1.0
	if s.Total > 0 {
		share = float64(s.Free) / float64(s.Total)
	}
	if s.Free >= lowFree && share >= lowFraction && (days < 0 || days >= lowDays) {
		return "", false
	}
	msg := fmt.Sprintf("has %s free (%.0f%% of %s)", bytesWord(s.Free), share*100, bytesWord(s.Total))
	switch {
	case days >= 0:
		msg += fmt.Sprintf(", about %s at the current growth of %s a day", text.Plural(int(days), "day", "days"), bytesWord(uint64(perDay)))
	default:
		msg += ", not shrinking since the last run"
	}
	return msg, true
}

// bytesWord is a size as df -h says it: 512 MiB, 3.2 GiB.
func bytesWord(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	if v < 10 {
		return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
	}
	return fmt.Sprintf("%.0f %ciB", v, "KMGTP"[i])
}

func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// clock: NTP has not synchronised the clock though the machine has been
// up well past the minutes NTP takes when it can answer.
func (m Machine) clock() *Finding {
	if m.Synced == nil {
		return nil
	}
	synced, err := m.Synced()
	if err != nil || synced {
		return nil
	}
	up, ok := uptime(m.Uptime)
	if !ok || up < syncGrace {
		return nil
	}
	return &Finding{Clock, "the clock has not been synchronised since the machine started " + text.Lasted(up) + " ago: NTP never answered, and a Pi without it keeps the time it shut down with",
		"check that NTP reaches a server (timedatectl timesync-status; UDP port 123 must be open to the network), or name a reachable one: NTP= in /etc/systemd/timesyncd.conf, then sudo systemctl restart systemd-timesyncd"}
}

// uptime reads /proc/uptime's first field.
func uptime(path string) (time.Duration, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	s, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(s * float64(time.Second)), true
}

// The firmware's get_throttled bits (Raspberry Pi documentation,
// "vcgencmd get_throttled"): the low ones are now, the high ones since
// boot.
const (
	underVoltageNow   = 1 << 0
	throttledNow      = 1 << 2
	underVoltageSince = 1 << 16
	cappedSince       = 1 << 17
	throttledSince    = 1 << 18
	softLimitSince    = 1 << 19
)

// power: under-voltage or throttling since boot, the cause of most
// "random" SD card corruption on a Pi.
func (m Machine) power() *Finding {
	if m.Throttled == "" {
		return nil
	}
	b, err := os.ReadFile(m.Throttled)
	if err != nil {
		return nil // not a Pi, or the kernel does not expose it
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"), 16, 32)
	if err != nil {
		return nil
	}
	var seen []string
	if v&(underVoltageNow|underVoltageSince) != 0 {
		w := "under-voltage since boot"
		if v&underVoltageNow != 0 {
			w = "under-voltage now"
		}
		seen = append(seen, w)
	}
	if v&(throttledNow|throttledSince|cappedSince|softLimitSince) != 0 {
		w := "throttling since boot"
		if v&throttledNow != 0 {
			w = "throttling now"
		}
		seen = append(seen, w)
	}
	if len(seen) == 0 {
		return nil
	}
	fix := "use the official power supply (5.1 V, 3 A for a Pi 4, 5 A for a Pi 5) and a short, thick cable; under-voltage is the usual cause of SD card corruption"
	if v&(underVoltageNow|underVoltageSince) == 0 {
		fix = "let the Pi cool: a heatsink or a case with air, away from the sun"
	}
	return &Finding{Power, fmt.Sprintf("the Pi's firmware reports %s (get_throttled 0x%x)", strings.Join(seen, " and "), v), fix}
}

// backups: none, or none for two days, while runs went on. Measured
// against the runs, not the clock: a Pi switched off for a holiday has an
// old snapshot and nothing to add to it, and its first run back writes one.
func (m Machine) backups(p Places, now time.Time) *Finding {
	if p.Backups == "" || p.FirstRun.IsZero() || p.LastRun.Before(p.FirstRun) {
		return nil
	}
	switch {
	case p.NewestBackup.IsZero() && p.LastRun.Sub(p.FirstRun) > backupMaxAge:
		return &Finding{Backups, "there is no snapshot of the database in " + p.Backups + " after " + text.Lasted(p.LastRun.Sub(p.FirstRun)) + " of runs: a dead SD card would lose which days everyone had",
			"check that the user cotd runs as can write " + p.Backups + " (journalctl -u cotd -g snapshot), or point --backup-dir elsewhere"}
	case !p.NewestBackup.IsZero() && p.LastRun.Sub(p.NewestBackup) > backupMaxAge:
		return &Finding{Backups, "the newest snapshot of the database in " + p.Backups + " is from " + since(p.NewestBackup, now) + ", and runs went on since",
			"the runs write one a day: look for 'snapshot of the database failed' in journalctl -u cotd, and check that " + p.Backups + " is writable"}
	}
	return nil
}

// BesideDB says when the snapshots are on the database's filesystem (the
// default, backups/ beside it): the SD card dying takes both. It is a
// setting to change once, so `cotd check` says it; the runs do not mail
// it every day.
func (m Machine) BesideDB(p Places) *Finding {
	if m.Statfs == nil || p.Backups == "" {
		return nil
	}
	db, err1 := m.Statfs(filepath.Dir(p.DB))
	bk, err2 := m.Statfs(p.Backups)
	if err1 != nil || err2 != nil || db.ID != bk.ID {
		return nil
	}
	return &Finding{Backups, "the snapshots in " + p.Backups + " are on the same filesystem as the database: the SD card dying takes both",
		"point --backup-dir (COTD_BACKUP_DIR) at another disk, such as the photos' USB stick"}
}
