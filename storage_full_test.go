package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cotd/internal/mailpit"
	"cotd/internal/photogen"
	"cotd/internal/tmpfs"
	"cotd/schedule"
	"cotd/store"
)

// A full disk and a read-only file system at every write of a run
// (issue 25 §5), generated: the database, its snapshots and the write-
// ahead records share one small tmpfs, and the second morning's run
// starts with only k bytes free, k seeded over the range in which the
// run's writes run out one after the other (the index, the membership,
// the write-ahead record of the message, its delivery, the snapshot, the
// run's record), or on a file system remounted read-only. Whatever write
// fails: the run exits 0 only with the day delivered and recorded, else 1
// or 3 naming the cause with a hint; the database opens intact; once
// there is room again the day is delivered, at most once more and then
// under the same Message-ID; a further run sends nothing.
func TestStorageFullAndReadOnlyGenerated(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{})
	// What the second run writes: measured on a roomy tmpfs first, so
	// the generated k covers every write whatever the page sizes.
	need := func() int64 {
		dir, state := storageCase(t, "8m")
		vars := storageVars(srv, dir, state)
		if code, out := cliRun(vars, "2026-03-02T08:00:00+01:00"); code != exitOK {
			t.Fatalf("first run: exit %d\n%s", code, out)
		}
		before := freeBytes(t, state)
		if code, out := cliRun(vars, "2026-03-03T08:00:00+01:00"); code != exitOK {
			t.Fatalf("second run: exit %d\n%s", code, out)
		}
		return before - freeBytes(t, state)
	}()
	t.Logf("the second run needs %d KiB on the database's file system", need>>10)
	if need <= 0 {
		t.Fatalf("the second run wrote nothing measurable (%d bytes)", need)
	}
	rng := rand.New(rand.NewPCG(25, 0xd15c))
	type fault struct {
		name string
		free int64 // bytes left free before the second run; -1: read-only
	}
	faults := []fault{{"no byte free", 0}, {"read-only", -1}}
	for range 14 {
		k := rng.Int64N(need + 8<<10)
		faults = append(faults, fault{fmt.Sprintf("%d KiB free", k>>10), k})
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			srv.DeleteAll(t)
			dir, state := storageCase(t, "8m")
			vars := storageVars(srv, dir, state)
			if code, out := cliRun(vars, "2026-03-02T08:00:00+01:00"); code != exitOK {
				t.Fatalf("first run: exit %d\n%s", code, out)
			}
			filler := filepath.Join(state, "filler")
			if f.free >= 0 {
				fill(t, filler, freeBytes(t, state)-f.free)
			} else {
				remount(t, state, "ro")
			}

			code, out := cliRun(vars, "2026-03-03T08:00:00+01:00")
			t.Logf("exit %d: %s", code, firstProblem(out))
			delivered := deliveredOn(t, vars["COTD_DB"], f.free < 0, schedule.Day{Year: 2026, Month: 3, Day: 3})
			switch {
			case code == exitOK && !delivered:
				t.Errorf("exit 0, yet the day is not recorded as delivered\n%s", out)
			case code == exitOK:
				// Every write that mattered fitted; a snapshot that did not
				// is a warning.
				for _, l := range strings.Split(out, "\n") {
					if strings.Contains(l, "no space left") && !strings.Contains(l, "level=WARN") {
						t.Errorf("exit 0 with a full disk not said as a warning: %s", l)
					}
				}
			case code == exitFailed || code == exitRefused:
				if !strings.Contains(out, "no space left on device") && !strings.Contains(out, "read-only file system") {
					t.Errorf("exit %d without naming the full disk or the read-only file system\n%s", code, out)
				}
				if !strings.Contains(out, "cotd: hint: ") && !strings.Contains(out, "fix=") {
					t.Errorf("exit %d without a fix\n%s", code, out)
				}
			default:
				t.Errorf("exit %d, want 0, 1 or 3\n%s", code, out)
			}

			if f.free >= 0 {
				if err := os.Remove(filler); err != nil {
					t.Fatal(err)
				}
			} else {
				remount(t, state, "rw")
			}
			if code, out := cliRun(vars, "2026-03-03T09:00:00+01:00"); code != exitOK {
				t.Fatalf("run with room again: exit %d\n%s", code, out)
			}
			if code, out := cliRun(vars, "2026-03-03T09:15:00+01:00"); code != exitOK || !strings.Contains(out, "nothing due") {
				t.Errorf("the run after: exit %d\n%s", code, out)
			}
			ids := map[string]int{}
			for _, m := range srv.Messages(t) {
				if !strings.Contains(m.MessageID, ".20260302.") { // the first morning's
					ids[m.MessageID]++
				}
			}
			total := 0
			for _, n := range ids {
				total += n
			}
			if total < 1 || total > 2 || len(ids) != 1 {
				t.Errorf("the second morning reached the server %d times under %d Message-IDs (%v), want once, or twice under one", total, len(ids), ids)
			}
			if !deliveredOn(t, vars["COTD_DB"], false, schedule.Day{Year: 2026, Month: 3, Day: 3}) {
				t.Errorf("after the room came back the day is not recorded as delivered")
			}
		})
	}
}

// storageCase is a case's folder: photos on the test's disk, the state
// (database, snapshots) on a tmpfs of size.
func storageCase(t *testing.T, size string) (dir, state string) {
	dir = t.TempDir()
	state = filepath.Join(dir, "state")
	tmpfs.Mount(t, state, size)
	os.Mkdir(filepath.Join(dir, "photos"), 0o755)
	for i := range 3 {
		writeFile(t, filepath.Join(dir, "photos", fmt.Sprintf("cat%d.jpg", i)), photogen.Distinct(i, 320, 240))
	}
	writeFile(t, filepath.Join(dir, "quotes.txt"), []byte("Be the cat. — Anon\nNap often. — A. Cat\n"))
	return dir, state
}

func storageVars(srv *mailpit.Server, dir, state string) map[string]string {
	return map[string]string{
		"COTD_DB": filepath.Join(state, "cotd.db"), "COTD_TZ": "Europe/Berlin",
		"COTD_PHOTOS": filepath.Join(dir, "photos"), "COTD_QUOTES": filepath.Join(dir, "quotes.txt"),
		"COTD_SMTP_HOST": "127.0.0.1", "COTD_SMTP_PORT": fmt.Sprint(srv.Port), "COTD_SMTP_TLS": "none",
		"COTD_FROM": "cotd@example.test", "COTD_TO": "a@example.test",
	}
}

// cliRun runs 'cotd run' in this process at now.
func cliRun(vars map[string]string, now string) (int, string) {
	vars["COTD_NOW"] = now
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	var out, errOut bytes.Buffer
	code := cli([]string{"run"}, env{&out, &errOut, lookup})
	return code, errOut.String()
}

func freeBytes(t *testing.T, dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fill writes n bytes into path, or as many as fit.
func fill(t *testing.T, path string, n int64) {
	if n <= 0 {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, n)); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
}

func remount(t *testing.T, dir, mode string) {
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", mode, dir, err, out)
	}
	t.Cleanup(func() { exec.Command("mount", "-o", "remount,rw", dir).Run() })
}

// deliveredOn reports whether the database at path opens intact and has
// day d delivered to a@.
func deliveredOn(t *testing.T, path string, readOnly bool, d schedule.Day) bool {
	t.Helper()
	st, err := store.OpenReadOnly(path, time.Second)
	if err != nil {
		t.Fatalf("the database does not open: %v", err)
	}
	defer st.Close()
	var ok bool
	if err := st.View(func(tx *store.Tx) error {
		del, found, err := tx.Delivery(d, "a@example.test")
		ok = found && del.GaveUp == ""
		return err
	}); err != nil {
		t.Fatalf("the database does not read: %v", err)
	}
	return ok
}

// firstProblem is the first warning or error of a run's log, for the
// test's own log.
func firstProblem(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") || strings.HasPrefix(l, "cotd: error") {
			if i := strings.Index(l, "msg="); i >= 0 {
				l = l[i:]
			}
			return l
		}
	}
	return "no problem"
}
