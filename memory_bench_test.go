package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cotd/internal/smtppeer"
)

// BenchmarkRunMemory measures the peak RSS of a real `cotd run` (a child
// process, its rusage) that mails N recipients an 8-day catch-up digest
// through SMTP to a loopback server that takes every message (issue 25
// §6: every message used to be built before the first was sent, 2.9-3.4
// GB for 1,000 recipients). The photos are noisy 1600x1200 JPEGs, so each
// rendition is the size of a phone photo's (about 400 KB). Run:
//
//	go test -run XXX -bench RunMemory -benchtime 1x .
//
// COTD_BENCH_BIN=path measures another cotd binary (an older build) the
// same way, for a before/after table.
func BenchmarkRunMemory(b *testing.B) {
	bin := os.Getenv("COTD_BENCH_BIN")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "cotd")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
	}
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("recipients=%d/days=8", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rss, sent, took := runMemoryOnce(b, bin, n)
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(sent), "messages")
				b.ReportMetric(took.Seconds(), "run-s")
			}
		})
	}
}

// runMemoryOnce runs cotd once on day 1 (one message each) and once on day
// 9 (an 8-day digest each), and returns the second run's peak RSS, how
// many messages the server held after it, and how long it took.
func runMemoryOnce(b *testing.B, bin string, n int) (rss int64, held int, took time.Duration) {
	dir := b.TempDir()
	photos := filepath.Join(dir, "photos")
	if err := os.MkdirAll(photos, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		if err := os.WriteFile(filepath.Join(photos, fmt.Sprintf("cat%02d.jpg", i)), noisyJPEG(b, i, 1600, 1200), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	p := smtppeer.NewFaulty(b, smtppeer.Options{Session: 30 * time.Minute, Discard: true})
	var to []string
	for i := range n {
		to = append(to, "r"+strconv.Itoa(i)+"@example.test")
	}
	env := []string{"COTD_PHOTOS=" + photos, "COTD_DB=" + filepath.Join(dir, "cotd.db"), "COTD_TO=" + strings.Join(to, ", "),
		"COTD_FROM=cotd@example.test", "COTD_SMTP_HOST=127.0.0.1", "COTD_SMTP_PORT=" + strconv.Itoa(p.Port), "COTD_SMTP_TLS=none",
		"COTD_CATCH_UP_MAX_DAYS=8", "COTD_TZ=Europe/Berlin", "COTD_QUOTES=" + filepath.Join(dir, "none.txt")}
	run := func(now string) *os.ProcessState {
		cmd := exec.Command(bin, "run")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append(env, "COTD_NOW="+now)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("cotd run at %s: %v\n%s", now, err, stderr.String())
		}
		return cmd.ProcessState
	}
	run("2026-03-02T08:00:00+01:00")
	p.Take()
	start := time.Now()
	st := run("2026-03-10T08:00:00+01:00")
	took = time.Since(start)
	_, got, _ := p.Take()
	if len(got) != n {
		b.Fatalf("the digest run left the server %d messages, want %d", len(got), n)
	}
	return st.SysUsage().(*syscall.Rusage).Maxrss * 1024, len(got), took
}

// noisyJPEG is a w x h photo with seeded noise, which JPEG cannot shrink
// much: a rendition of it weighs what a real photo's does.
func noisyJPEG(b *testing.B, seed, w, h int) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(rng.IntN(256))
			img.Set(x, y, color.RGBA{v, uint8(x * 255 / w), uint8(y * 255 / h), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
