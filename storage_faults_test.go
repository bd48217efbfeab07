package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cotd/store"
)

// Storage faults through the whole run, generated (issue 25 §5): after a
// first day delivered, the database is truncated at a seeded random
// offset, emptied, given damaged pages or scribbled on; the next day's
// run either works on an intact database or refuses with exit 3, naming
// the file and the snapshot to restore. Never is the first day mailed
// again, never does a run start afresh on its own (a fresh start would
// mail today from a rotation with no history), never a panic. Full disk
// and read-only file systems at every write of a run:
// TestStorageFullAndReadOnlyGenerated (it needs a tmpfs).
func TestStorageFaultsThroughTheRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 25))
	type fault struct {
		name  string
		apply func(b []byte) []byte
	}
	var faults []fault
	faults = append(faults, fault{"zero length", func([]byte) []byte { return nil }})
	for range 6 {
		frac := rng.Float64()
		faults = append(faults, fault{fmt.Sprintf("truncated at %.0f%%", frac*100), func(b []byte) []byte { return b[:int(float64(len(b))*frac)] }})
	}
	for range 6 {
		seed := rng.Uint64()
		faults = append(faults, fault{fmt.Sprintf("pages scribbled (seed %d)", seed), func(b []byte) []byte {
			r := rand.New(rand.NewPCG(seed, 2))
			ps := int(binary.LittleEndian.Uint32(b[16+8:]))
			for range 8 {
				id := 2 + r.IntN(len(b)/ps-2)
				for range 32 {
					b[id*ps+r.IntN(ps)] = byte(r.IntN(256))
				}
			}
			return b
		}})
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			dir := t.TempDir()
			vars := map[string]string{"COTD_DB": filepath.Join(dir, "cotd.db"), "COTD_TZ": "Europe/Berlin",
				"COTD_OUTBOX": filepath.Join(dir, "outbox"), "COTD_PHOTOS": filepath.Join(dir, "photos"), "COTD_QUOTES": filepath.Join(dir, "quotes.txt"),
				"COTD_TO": "a@example.test"}
			os.Mkdir(vars["COTD_PHOTOS"], 0o755)
			if err := os.WriteFile(filepath.Join(vars["COTD_PHOTOS"], "cat.jpg"), sampleCat, 0o644); err != nil {
				t.Fatal(err)
			}
			lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
			run := func(now string) (int, string) {
				vars["COTD_NOW"] = now
				var out, errOut bytes.Buffer
				code := cli([]string{"run"}, env{&out, &errOut, lookup})
				return code, errOut.String()
			}
			if code, stderr := run("2026-03-02T08:00:00+01:00"); code != 0 {
				t.Fatalf("first run: exit %d\n%s", code, stderr)
			}
			first := filepath.Join(vars["COTD_OUTBOX"], "2026-03-02-a@example.test.eml")
			before, err := os.ReadFile(first)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(vars["COTD_DB"])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(vars["COTD_DB"], f.apply(b), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, now := range []string{"2026-03-03T08:00:00+01:00", "2026-03-03T08:15:00+01:00"} {
				code, stderr := run(now)
				if after, err := os.ReadFile(first); err != nil || !bytes.Equal(after, before) {
					t.Fatalf("the first day was mailed again (%v)\n%s", err, stderr)
				}
				switch code {
				case exitOK:
					// The fault missed what the run reads: its history must be intact.
					c, err := store.Inspect(vars["COTD_DB"])
					if err != nil || c.LastDelivered.String() != "2026-03-03" || !c.LastRun.Before(time.Date(2026, 3, 3, 7, 15, 1, 0, time.UTC)) && c.Days < 2 {
						t.Errorf("exit 0 over a database that lost its history: %+v, %v\n%s", c, err, stderr)
					}
				case exitRefused:
					if !strings.Contains(stderr, "cotd: error: database "+vars["COTD_DB"]) || !strings.Contains(stderr, "cotd: hint: restore the newest good snapshot") {
						t.Errorf("refused without naming the file and the snapshot:\n%s", stderr)
					}
					if _, err := os.Stat(filepath.Join(vars["COTD_OUTBOX"], "2026-03-03-a@example.test.eml")); err == nil {
						t.Errorf("refused, yet mailed today")
					}
				default:
					t.Errorf("exit %d, want 0 on an intact database or 3\n%s", code, stderr)
				}
			}
		})
	}
}
