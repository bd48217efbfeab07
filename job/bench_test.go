package job

import (
	"context"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"cotd/internal/photogen"
	cmail "cotd/mail"
)

// benchFolder writes n small distinct JPEGs (a phone folder's worth of
// files, without a phone folder's worth of decoding) and returns the path.
func benchFolder(b testing.TB, n int) string {
	return benchFolderSized(b, n, 96, 64)
}

func benchFolderSized(b testing.TB, n, w, h int) string {
	dir := b.TempDir()
	for i := 0; i < n; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("%03d", i/500))
		os.MkdirAll(sub, 0o755)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("cat%05d.jpg", i)), photogen.Distinct(i, w, h), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func benchJob(b testing.TB, photos string, to []*mail.Address, sender Sender) *Job {
	now := at(2, 8)
	j := jobOver(b, photos, to, sender, func() time.Time { return now })
	j.DefaultQuotes = []byte("Be kind. — Anon\nStay curious. — Someone\n")
	j.Schedule.MaxDays = 7
	j.Stopwatch = time.Now
	return j
}

// BenchmarkIndex10k is the first index of a 10,000-photo folder (read,
// hash, render, cache) and then a rescan with nothing changed, which must
// only stat. Run: go test -run XXX -bench Index10k -benchtime 1x ./job
func BenchmarkIndex10k(b *testing.B) {
	const n = 10000
	photos := benchFolder(b, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		j := benchJob(b, photos, nil, nil)
		b.StartTimer()
		first, err := j.Index()
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		again, err := j.Index()
		rescan := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if first.Photos != n || first.Read != n || again.Read != 0 || again.Photos != n {
			b.Fatalf("first index %d photos, %d read; rescan %d photos, %d read", first.Photos, first.Read, again.Photos, again.Read)
		}
		b.ReportMetric(float64(n)/first.Elapsed.Seconds(), "photos/s-first")
		b.ReportMetric(float64(rescan.Milliseconds()), "ms-rescan")
	}
}

// TestRescanReadsNothing: an unchanged folder is stat-ed, not read; a
// touched file is read again, and only that one.
func TestRescanReadsNothing(t *testing.T) {
	photos := benchFolder(t, 30)
	j := benchJob(t, photos, nil, nil)
	if st, err := j.Index(); err != nil || st.Read != 30 || st.Photos != 30 {
		t.Fatalf("first index: %+v, %v", st, err)
	}
	if st, err := j.Index(); err != nil || st.Read != 0 || st.Photos != 30 {
		t.Fatalf("rescan: %+v, %v", st, err)
	}
	f := filepath.Join(photos, "000", "cat00007.jpg")
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(f, later, later); err != nil {
		t.Fatal(err)
	}
	if st, err := j.Index(); err != nil || st.Read != 1 || st.Photos != 30 {
		t.Fatalf("after touching one file: %+v, %v", st, err)
	}
	// A photo leaves, and a stray file from older settings lies around:
	// the cache keeps exactly one rendition per photo.
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(j.CacheDir, "renditions", "0123456789abcdef-old.jpg")
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := j.Index(); err != nil || st.Photos != 29 || st.Removed != 1 {
		t.Fatalf("after removing one: %+v, %v", st, err)
	}
	ents, _ := os.ReadDir(filepath.Join(j.CacheDir, "renditions"))
	if len(ents) != 29 {
		t.Errorf("%d renditions cached for 29 photos", len(ents))
	}
}

// BenchmarkMorningRun10 is a warm morning in outbox mode: 50 photos of
// 1280x960 already indexed and rendered, today is due, ten recipients get
// their message (composed, written and synced as .eml, recorded one commit
// each).
func BenchmarkMorningRun10(b *testing.B) {
	photos := benchFolderSized(b, 50, 1280, 960)
	var to []*mail.Address
	for i := 0; i < 10; i++ {
		to = append(to, &mail.Address{Address: fmt.Sprintf("r%d@example.test", i)})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		outbox := cmail.Outbox{Dir: b.TempDir()}
		j := benchJob(b, photos, to, outbox)
		if _, err := j.Index(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sum, err := j.Run(context.Background())
		if err != nil || sum.Sent != 10 {
			b.Fatalf("sent %d, %v", sum.Sent, err)
		}
		b.StopTimer()
		if ents, _ := os.ReadDir(outbox.Dir); len(ents) != 10 {
			b.Fatalf("%d files in the outbox", len(ents))
		}
		b.StartTimer()
	}
}

// BenchmarkWarmRun is a morning with nothing new in the folder (issue 22
// §4): n photos indexed and rendered, then a run with a day due (one cat
// picked, one message to the outbox) and a run with nothing due; both must
// cost what changed (nothing), not what the folder holds. cpu-ms/op is the
// process's CPU time (rusage, all threads) per run, which the shared
// machine's load does not inflate as it does wall time. Run:
// go test -run '^$' -bench WarmRun -benchtime 20x ./job
func BenchmarkWarmRun(b *testing.B) {
	for _, n := range []int{2000, 5000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			photos := benchFolder(b, n)
			to := []*mail.Address{{Address: "r@example.test"}}
			j := benchJob(b, photos, to, cmail.Outbox{Dir: b.TempDir()})
			if st, err := j.Index(); err != nil || st.Photos != n {
				b.Fatalf("first index: %d photos, %v", st.Photos, err)
			}
			day := at(2, 8)
			for _, due := range []bool{true, false} {
				name := "idle"
				if due {
					name = "due"
				}
				b.Run(name, func(b *testing.B) {
					cpu0 := cpuTime()
					for b.Loop() {
						if due {
							day = day.AddDate(0, 0, 1) // the next morning
						}
						now := day
						j.Now = func() time.Time { return now }
						sum, err := j.Run(context.Background())
						if err != nil || sum.Index.Read != 0 || sum.Index.Photos != n || (sum.Sent == 1) != due {
							b.Fatalf("run: %v, %d read, %d photos, %d sent", err, sum.Index.Read, sum.Index.Photos, sum.Sent)
						}
					}
					b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
				})
			}
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
