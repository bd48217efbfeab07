package images

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// planePSNR compares two planes over the smaller common area.
func planePSNR(a, b plane) float64 {
	w, h := min(a.w, b.w), min(a.h, b.h)
	var se float64
	for y := range h {
		for x := range w {
			d := float64(a.pix[y*a.stride+x]) - float64(b.pix[y*b.stride+x])
			se += d * d
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(w*h)/se)
}

// TestScaledDecoderMatchesFullDecode holds the reduced-IDCT decoder to
// image/jpeg: decoding at 1/s must look like a full decode shrunk by s×s
// boxes, and at 3/4 like one resized by Lanczos, plane by plane, on real photos (4:2:0, 4:2:2, restart markers) and
// on a made-up grey JPEG.
func TestScaledDecoderMatchesFullDecode(t *testing.T) {
	inputs := map[string][]byte{}
	gray := image.NewGray(image.Rect(0, 0, 333, 211))
	for y := range 211 {
		for x := range 333 {
			gray.Pix[y*gray.Stride+x] = uint8(128 + 60*math.Sin(float64(x)/9) + 50*math.Cos(float64(y)/13))
		}
	}
	inputs["grey"] = plainJPEG(t, gray)
	// Progressive files (jpegprog.go): spectral selection and successive
	// approximation, restart markers, 4:2:0, 4:2:2, 4:4:4 at an odd size, grey.
	for _, name := range []string{"progressive.jpg", "prog420.jpg", "prog422.jpg", "prog_gray.jpg", "prog444_odd.jpg"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		inputs[name] = b
	}
	if dir := realworldDirOrEmpty(); dir != "" {
		for _, name := range append(benchPhotos, "jpg_gps_DSCN0010.jpg", "jpg_orientation_portrait_6.jpg") {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			inputs[name] = b
		}
	}
	for name, data := range inputs {
		full, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		ref := toSource(full)
		for _, n := range []int{6, 4, 2, 1} {
			got, err := decodeJPEGScaled(data, n)
			if err != nil {
				t.Fatalf("%s at %d/8: %v", name, n, err)
			}
			if wantW := (ref.w*n + 7) / 8; got.y.w != wantW {
				t.Errorf("%s at %d/8: luma width %d, want %d", name, n, got.y.w, wantW)
			}
			planes := []struct {
				what      string
				got, want plane
			}{{"Y", got.y, ref.y}}
			if ref.hasChroma {
				planes = append(planes, struct {
					what      string
					got, want plane
				}{"Cb", got.cb, ref.cb}, struct {
					what      string
					got, want plane
				}{"Cr", got.cr, ref.cr})
			}
			for _, p := range planes {
				var small plane
				if 8%n == 0 {
					small = boxShrink(p.want, 8/n, 8/n)
				} else {
					gw, gh := float64(p.want.w), float64(p.want.h)
					small = resize(p.want, gw, gh, p.got.w, p.got.h, gw*float64(n)/8, gh*float64(n)/8)
				}
				if q := planePSNR(p.got, small); q < 30 {
					t.Errorf("%s at %d/8: %s plane PSNR %.1f dB against a shrunk full decode, want ≥ 30", name, n, p.what, q)
				}
			}
		}
	}
}

// A progressive file with restart markers (which image/jpeg cannot read:
// "missing 0xff00 sequence") decodes to exactly the planes of the same
// encoding without them.
func TestScaledProgressiveRestarts(t *testing.T) {
	with, err := os.ReadFile(filepath.Join("testdata", "prog420_restart.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	without, err := os.ReadFile(filepath.Join("testdata", "prog420.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{6, 4, 2, 1} {
		a, err := decodeJPEGScaled(with, n)
		if err != nil {
			t.Fatalf("with restarts at %d/8: %v", n, err)
		}
		b, err := decodeJPEGScaled(without, n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.y.pix, b.y.pix) || !bytes.Equal(a.cb.pix, b.cb.pix) || !bytes.Equal(a.cr.pix, b.cr.pix) {
			t.Errorf("at %d/8 the planes differ with restart markers", n)
		}
	}
}

// TestScaledDecoderFallsBack checks that what it does not handle goes to
// image/jpeg instead of coming out wrong. (Progressive files were on this
// list until the decoder learned them; a truncated one still falls back.)
func TestScaledDecoderFallsBack(t *testing.T) {
	prog, err := os.ReadFile(filepath.Join("testdata", "progressive.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	prog = prog[:len(prog)/2]
	cmyk, err := os.ReadFile(filepath.Join("testdata", "cmyk.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	good := plainJPEG(t, image.NewGray(image.Rect(0, 0, 64, 64)))
	for name, data := range map[string][]byte{
		"progressive": prog, "cmyk": cmyk, "truncated": good[:len(good)-40], "empty": nil, "png": []byte("\x89PNG\r\n\x1a\n"),
	} {
		if _, err := decodeJPEGScaled(data, 4); !errors.Is(err, errFallback) {
			t.Errorf("%s: err = %v, want errFallback", name, err)
		}
	}
}

// FuzzScaledDecoder: hostile JPEG data must never panic the scaled decoder
// (Render would survive it, but only by falling back).
func FuzzScaledDecoder(f *testing.F) {
	f.Add(plainJPEG(&testing.T{}, image.NewGray(image.Rect(0, 0, 16, 16))))
	f.Add(plainJPEG(&testing.T{}, image.NewYCbCr(image.Rect(0, 0, 24, 17), image.YCbCrSubsampleRatio420)))
	f.Add(exifJPEG(&testing.T{}, image.NewGray(image.Rect(0, 0, 9, 9)), 6))
	if b, err := os.ReadFile(filepath.Join("testdata", "prog444_odd.jpg")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range []int{6, 4, 1} {
			src, err := decodeJPEGScaled(b, n)
			if err == nil && (src.y.w < 1 || len(src.y.pix) < src.y.h*src.y.stride) {
				t.Fatalf("bad plane %dx%d stride %d len %d", src.y.w, src.y.h, src.y.stride, len(src.y.pix))
			}
		}
	})
}

// At 1:1 the scaled decoder (its 8×8 islow IDCT) gives image/jpeg's planes
// to within a code value or so, on real baseline photos and a made-up grey
// one; a progressive file at 1:1 is left to image/jpeg.
func TestScaledDecoderAtFullSize(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 333, 211))
	for y := range 211 {
		for x := range 333 {
			gray.Pix[y*gray.Stride+x] = uint8(128 + 60*math.Sin(float64(x)/9) + 50*math.Cos(float64(y)/13))
		}
	}
	inputs := map[string][]byte{"grey": plainJPEG(t, gray)}
	if dir := realworldDirOrEmpty(); dir != "" {
		for _, name := range []string{"jpg_tests_42_IndexError.jpg", "jpg_gps_DSCN0010.jpg", "jpg_mobile_jolla.jpg"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			inputs[name] = b
		}
	}
	for name, data := range inputs {
		full, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		ref := toSource(full)
		got, err := decodeJPEGScaled(data, 8)
		if err != nil {
			t.Fatalf("%s at 1:1: %v", name, err)
		}
		if got.y.w != ref.y.w || got.y.h != ref.y.h || got.hasChroma != ref.hasChroma {
			t.Fatalf("%s at 1:1: luma %dx%d (chroma %v), want %dx%d (%v)", name, got.y.w, got.y.h, got.hasChroma, ref.y.w, ref.y.h, ref.hasChroma)
		}
		planes := map[string][2]plane{"Y": {got.y, ref.y}}
		if ref.hasChroma {
			planes["Cb"], planes["Cr"] = [2]plane{got.cb, ref.cb}, [2]plane{got.cr, ref.cr}
		}
		for what, p := range planes {
			if q := planePSNR(p[0], p[1]); q < 50 {
				t.Errorf("%s at 1:1: %s plane PSNR %.1f dB against image/jpeg, want ≥ 50", name, what, q)
			}
		}
	}
	prog, err := os.ReadFile(filepath.Join("testdata", "prog420.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeJPEGScaled(prog, 8); err != errFallback {
		t.Errorf("progressive at 1:1: %v, want errFallback (image/jpeg decodes it)", err)
	}
}

// TestIDCT6 holds the factorised 6-point IDCT to the reduced IDCT it
// computes, in floating point: the low 6×6 coefficients of an 8×8 block
// reconstructed at the centres of 6×6 cells, C(u)C(v)/4 · cos((2x+1)uπ/12)
// · cos((2y+1)vπ/12), plus the level shift, within one code value. The
// blocks are seeded: dense ones at every magnitude a dequantized
// coefficient reaches, sparse ones (a row or a column alone, as photos'
// blocks mostly are), and the extremes.
func TestIDCT6(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 8))
	for n := range 3000 {
		var cf [36]int32
		for k := range cf {
			switch {
			case n%5 == 0 && k/6 != 0: // the first row alone
			case n%5 == 1 && k%6 != 0: // the first column alone
			case n%7 == 0:
				cf[k] = int32(1<<11) * int32(1-2*(k&1)) // the extremes
			default:
				m := int32(1) << r.IntN(12)
				cf[k] = r.Int32N(2*m+1) - m
			}
		}
		cf[0] = r.Int32N(2*1024*8+1) - 1024*8 // any DC of an 8-bit block
		in := cf
		var dst [6 * 7]byte
		idct6(&in, dst[:], 7)
		for y := range 6 {
			for x := range 6 {
				var sum float64
				for v := range 6 {
					for u := range 6 {
						cu, cvv := 1.0, 1.0
						if u == 0 {
							cu = 1 / math.Sqrt2
						}
						if v == 0 {
							cvv = 1 / math.Sqrt2
						}
						sum += float64(cf[v*6+u]) * cu * cvv / 4 * math.Cos(float64(2*x+1)*float64(u)*math.Pi/12) * math.Cos(float64(2*y+1)*float64(v)*math.Pi/12)
					}
				}
				want := min(max(math.Round(sum+128), 0), 255)
				if got := float64(dst[y*7+x]); math.Abs(got-want) > 1 {
					t.Fatalf("block %d sample (%d,%d) = %v, float reduced IDCT = %v", n, x, y, got, want)
				}
			}
		}
	}
}

// TestScaledDecoderChromaBlocks: a baseline 4:4:4 file's chroma is decoded
// at the scale the rendition's 4:2:0 chroma needs (chromaBlocks), smaller
// than luma's, and still looks like the full decode's chroma shrunk; its
// luma, and a 4:2:0 file's every plane, are the bytes they were.
func TestScaledDecoderChromaBlocks(t *testing.T) {
	needVips(t)
	dir := realworldDir(t)
	for _, c := range []struct {
		side, sub string
		n, nc     int
	}{{"2000", "off", 6, 4}, {"3199", "off", 4, 4}, {"2400", "off", 6, 4}, {"2600", "off", 4, 4}, {"2000", "on", 6, 6}} {
		in := filepath.Join(t.TempDir(), "in.jpg")
		if b, err := exec.Command("vips", "thumbnail", filepath.Join(dir, "jpg_tests_42_IndexError.jpg"), in+"[Q=92,subsample-mode="+c.sub+"]", c.side).CombinedOutput(); err != nil {
			t.Fatalf("vips thumbnail: %v\n%s", err, b)
		}
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := jpeg.DecodeConfig(bytes.NewReader(data))
		tw, th := fit(cfg.Width, cfg.Height, Default.MaxSide)
		if n := jpegBlock(cfg.Width, cfg.Height, tw, th); n != c.n {
			t.Fatalf("%s px: luma at %d/8, want %d/8", c.side, n, c.n)
		}
		plain, err := decodeJPEGScaled(data, c.n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeJPEGScaled(data, c.n, (tw+1)/2, (th+1)/2)
		if err != nil {
			t.Fatal(err)
		}
		name := c.side + " px, subsample " + c.sub
		if planePSNR(got.y, plain.y) != math.Inf(1) {
			t.Errorf("%s: luma changed", name)
		}
		full, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		ref := toSource(full)
		if wantW := (ref.cb.w*c.nc + 7) / 8; got.cb.w != wantW || got.cgw != float64(ref.cb.w)*float64(c.nc)/8 {
			t.Fatalf("%s: chroma %d px wide spanning %g, want %d/8 of %d", name, got.cb.w, got.cgw, c.nc, ref.cb.w)
		}
		if c.nc == c.n {
			if planePSNR(got.cb, plain.cb) != math.Inf(1) || planePSNR(got.cr, plain.cr) != math.Inf(1) {
				t.Errorf("%s: chroma changed though its decode did not", name)
			}
			continue
		}
		for _, p := range []struct {
			what      string
			got, want plane
		}{{"Cb", got.cb, ref.cb}, {"Cr", got.cr, ref.cr}} {
			small := boxShrink(p.want, 8/c.nc, 8/c.nc)
			if q := planePSNR(p.got, small); q < 30 {
				t.Errorf("%s: %s at %d/8: PSNR %.1f dB against a shrunk full decode, want ≥ 30", name, p.what, c.nc, q)
			}
		}
	}
}
