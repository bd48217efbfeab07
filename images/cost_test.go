package images

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"cotd/internal/needs"
)

// allocated is how many bytes fn allocates, garbage included: an upper
// bound of the most it holds at once.
func allocated(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// renderCost returns what Cost says a JPEG takes and what rendering it
// takes by the same account: the file's two copies (the caller's and
// Render's, which Cost charges as 2×size) and everything render allocates.
func renderCost(t *testing.T, data []byte) (est, used, rendered int64) {
	t.Helper()
	var res Result
	rendered = allocated(func() {
		var err error
		if res, err = render(data, Default.normalized()); err != nil {
			t.Fatal(err)
		}
	})
	if max(res.Width, res.Height) != Default.MaxSide {
		t.Fatalf("rendition is %d×%d, want %d on its long side", res.Width, res.Height, Default.MaxSide)
	}
	est = Cost(data[:min(len(data), HeaderBytes)], int64(len(data)), Default)
	return est, 2*int64(len(data)) + rendered, rendered
}

// checkCost holds Cost to a render: never below what it allocates (which
// counts garbage too, so it bounds the most held at once), and not far
// above it either, or the index would render one photo at a time when
// its budget holds several.
func checkCost(t *testing.T, name string, est, used int64) {
	t.Helper()
	t.Logf("%s: Cost %.1f MiB, file ×2 + render allocated %.1f MiB (%.2f×)", name, mib(est), mib(used), float64(est)/float64(used))
	if est < used {
		t.Errorf("%s: Cost is %.1f MiB, below the %.1f MiB its render takes", name, mib(est), mib(used))
	}
	if est > used*3/2 {
		t.Errorf("%s: Cost is %.1f MiB, more than 1.5× the %.1f MiB its render takes", name, mib(est), mib(used))
	}
}

// jpegPair makes a w×h picture with detail in every block as a baseline
// JPEG (image/jpeg, quality 85) and the same coefficients as a progressive
// one (jpegtran -progressive, lossless).
func jpegPair(t *testing.T, w, h int) (base, prog []byte) {
	t.Helper()
	jpegtran, err := exec.LookPath("jpegtran")
	if err != nil {
		needs.Missing(t, "jpegtran is missing", "apt install libjpeg-turbo-progs")
	}
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			img.Y[y*img.YStride+x] = uint8(x*7 ^ y*3)
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(i), uint8(i/3)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(jpegtran, "-progressive")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	prog, err = cmd.Output()
	if err != nil {
		t.Fatalf("jpegtran -progressive: %v", err)
	}
	return buf.Bytes(), prog
}

// TestCostOfProgressiveJPEG pins Cost for a progressive JPEG, which is
// decoded scaled (jpegprog.go), to what rendering it allocates. The same
// 12 MP picture is rendered as a baseline file and as a progressive one
// (jpegtran, lossless: the same coefficients, so the same planes and the
// same output). Cost must cover each render and not be far above it (the
// full-decode figure it used for progressive files before, 8 bytes a
// pixel, was 2.5× what the render takes), and what it charges the
// progressive file beyond the baseline one must be what the progressive
// decoder allocates beyond the baseline one: its coefficient store. A
// baseline file the scaled decoder leaves to image/jpeg is held to its
// full decode the same way.
func TestCostOfProgressiveJPEG(t *testing.T) {
	base, prog := jpegPair(t, 4000, 3000)
	if isBaselineJPEG(prog) || !isBaselineJPEG(base) {
		t.Fatal("the fixtures are not one baseline and one progressive JPEG")
	}

	baseEst, baseUsed, baseAlloc := renderCost(t, base)
	checkCost(t, "baseline", baseEst, baseUsed)
	progEst, progUsed, progAlloc := renderCost(t, prog)
	checkCost(t, "progressive", progEst, progUsed)

	// An APP14 "Adobe" segment (as Photoshop writes, transform 1: YCbCr)
	// sends the file to image/jpeg, which decodes it in full.
	adobe := append([]byte{0xff, 0xd8, 0xff, 0xee, 0, 14}, "Adobe\x00\x64\x00\x00\x00\x00\x01"...)
	adobe = append(adobe, base[2:]...)
	if _, err := decodeJPEGScaled(adobe, 4); err == nil {
		t.Fatal("the scaled decoder took the Adobe file; the test needs one it leaves to image/jpeg")
	}
	adobeEst, adobeUsed, _ := renderCost(t, adobe)
	checkCost(t, "baseline with an Adobe segment", adobeEst, adobeUsed)

	// Within 5%: the extra scans' Huffman tables and bookkeeping.
	extra := progAlloc - baseAlloc
	charged := progEst - baseEst - 2*(int64(len(prog))-int64(len(base)))
	t.Logf("the progressive render allocates %.2f MiB more than the baseline one; Cost charges %.2f MiB more", mib(extra), mib(charged))
	if d := charged - extra; d < -extra/20 || d > extra/20 {
		t.Errorf("Cost charges a progressive file %.2f MiB more than the baseline one; its render allocates %.2f MiB more", mib(charged), mib(extra))
	}
}

// TestCostOfRealPhotos holds Cost to the renders of the phone photos of
// issue 7 (4:2:0 and 4:2:2, 8–12 MP, an ICC profile among them).
func TestCostOfRealPhotos(t *testing.T) {
	dir := realworldDir(t)
	for _, name := range benchPhotos {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		est, used, _ := renderCost(t, data)
		checkCost(t, name, est, used)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// TestLargeProgressiveJPEG: a progressive JPEG past MaxFullDecodePixels
// (a 20 MP export) is rendered, as the scaled decoder reads it at a
// fraction of its size, within what Cost charges; a damaged one is refused
// as corrupt instead of falling back to image/jpeg's full decode, which
// would hold 4–8 bytes a pixel.
func TestLargeProgressiveJPEG(t *testing.T) {
	const w, h = 5200, 3900
	if w*h <= MaxFullDecodePixels {
		t.Fatal("the fixture must be past MaxFullDecodePixels")
	}
	_, prog := jpegPair(t, w, h)
	if isBaselineJPEG(prog) || !scaledProgressive(prog) {
		t.Fatal("the fixture is not a progressive JPEG the scaled decoder reads")
	}
	est, used, _ := renderCost(t, prog)
	checkCost(t, "20 MP progressive", est, used)

	// Cut mid-scan with no EOI: the scaled decoder gives up on it (cut at
	// a scan's end with an EOI it renders what arrived).
	_, err := render(prog[:len(prog)/2], Default.normalized())
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "too large to decode in full") {
		t.Errorf("damaged 20 MP progressive JPEG: %v; want it refused as corrupt, not decoded in full", err)
	}
}
