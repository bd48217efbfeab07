package images

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cotd/internal/needs"
)

// The profiles are written here, from their published primaries, so the
// test needs no profile files: Display P3 (DCI-P3 primaries, D65, the sRGB
// curve as a v4-style parametric curve) and Adobe RGB (1998) (its own
// primaries, D65, gamma 563/256 as a curv).
var (
	d65     = [2]float64{0.3127, 0.3290}
	p3      = [3][2]float64{{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}}
	adobe   = [3][2]float64{{0.64, 0.33}, {0.21, 0.71}, {0.15, 0.06}}
	srgbPri = [3][2]float64{{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}}
)

func fixed(v float64) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(int32(math.Round(v*65536))))
	return b
}

func xyzTag(x, y, z float64) []byte {
	t := append([]byte("XYZ \x00\x00\x00\x00"), fixed(x)...)
	return append(append(t, fixed(y)...), fixed(z)...)
}

func srgbPara() []byte {
	t := []byte("para\x00\x00\x00\x00\x00\x03\x00\x00")
	for _, v := range []float64{2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045} {
		t = append(t, fixed(v)...)
	}
	return t
}

func gammaCurv(g float64) []byte {
	return []byte{'c', 'u', 'r', 'v', 0, 0, 0, 0, 0, 0, 0, 1, byte(int(g*256) >> 8), byte(int(g * 256)), 0, 0}
}

// writeProfile builds an ICC v2 matrix/TRC display profile.
func writeProfile(desc string, pri [3][2]float64, trc []byte) []byte {
	m := colorants(pri, d65)
	d := []byte("desc\x00\x00\x00\x00")
	d = binary.BigEndian.AppendUint32(d, uint32(len(desc)+1))
	d = append(d, desc...)
	d = append(d, make([]byte, 1+4+4+2+1+67)...)
	tags := []struct {
		sig  string
		data []byte
	}{
		{"desc", d},
		{"wtpt", xyzTag(0.96422, 1, 0.82521)},
		{"rXYZ", xyzTag(m[0][0], m[1][0], m[2][0])},
		{"gXYZ", xyzTag(m[0][1], m[1][1], m[2][1])},
		{"bXYZ", xyzTag(m[0][2], m[1][2], m[2][2])},
		{"rTRC", trc}, {"gTRC", trc}, {"bTRC", trc},
	}
	return buildProfile("RGB ", "XYZ ", tags)
}

func buildProfile(space, pcs string, tags []struct {
	sig  string
	data []byte
}) []byte {
	head := make([]byte, 128)
	copy(head[4:], "lcms")
	binary.BigEndian.PutUint32(head[8:], 0x02100000)
	copy(head[12:], "mntr")
	copy(head[16:], space)
	copy(head[20:], pcs)
	copy(head[36:], "acsp")
	copy(head[68:], append(fixed(0.9642), append(fixed(1.0), fixed(0.8249)...)...))
	table := binary.BigEndian.AppendUint32(nil, uint32(len(tags)))
	off := 128 + 4 + 12*len(tags)
	var body []byte
	for _, t := range tags {
		for len(t.data)%4 != 0 {
			t.data = append(t.data, 0)
		}
		table = append(table, t.sig...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(body)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(t.data)))
		body = append(body, t.data...)
	}
	p := append(append(head, table...), body...)
	binary.BigEndian.PutUint32(p, uint32(len(p)))
	return p
}

// withProfile inserts the profile as APP2 ICC_PROFILE chunks after SOI,
// split in two chunks to exercise reassembly.
func withProfile(jpg, prof []byte) []byte {
	half := len(prof) / 2
	out := append([]byte{}, jpg[:2]...)
	for i, part := range [][]byte{prof[:half], prof[half:]} {
		seg := append([]byte("ICC_PROFILE\x00"), byte(i+1), 2)
		seg = append(seg, part...)
		out = append(out, 0xff, 0xe2, byte((len(seg)+2)>>8), byte(len(seg)+2))
		out = append(out, seg...)
	}
	return append(out, jpg[2:]...)
}

// testPicture is a grid of flat 16×16 tiles (one JPEG MCU each, so every
// decoder's chroma upsampling agrees inside a tile) in 32 hues × 8
// saturations × 4 values: saturated reds and oranges (a ginger cat),
// greens, blues, pastels and near-neutrals.
func testPicture(t *testing.T) []byte {
	t.Helper()
	const tile, w, h = 16, 32 * 16, 32 * 16
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for ty := range h / tile {
		for tx := range w / tile {
			hue := float64(tx) / 32 * 360
			sat := 0.15 + 0.85*float64(ty%8)/7
			val := 0.35 + 0.65*float64(ty/8)/3
			r, g, b := hsv(hue, sat, val)
			for y := ty * tile; y < (ty+1)*tile; y++ {
				for x := tx * tile; x < (tx+1)*tile; x++ {
					img.Set(x, y, color.RGBA{r, g, b, 255})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hsv(h, s, v float64) (uint8, uint8, uint8) {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	return uint8(255 * (r + m)), uint8(255 * (g + m)), uint8(255 * (b + m))
}

// lab converts an sRGB pixel to CIELAB (D65).
func lab(c color.Color) [3]float64 {
	r, g, b, _ := c.RGBA()
	lin := [3]float64{srgbDecode(float64(r) / 65535), srgbDecode(float64(g) / 65535), srgbDecode(float64(b) / 65535)}
	X := 0.4124564*lin[0] + 0.3575761*lin[1] + 0.1804375*lin[2]
	Y := 0.2126729*lin[0] + 0.7151522*lin[1] + 0.0721750*lin[2]
	Z := 0.0193339*lin[0] + 0.1191920*lin[1] + 0.9503041*lin[2]
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	fx, fy, fz := f(X/0.95047), f(Y), f(Z/1.08883)
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

// deltaE returns the mean and the largest CIE76 ΔE between two pictures
// of one size, sampled at the centre of each 16×16 tile (away from the
// tile edges, where decoders' chroma upsampling legitimately differs).
func deltaE(t *testing.T, a, b image.Image) (mean, worst float64) {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("sizes differ: %v vs %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	n := 0
	for y := r.Min.Y + 7; y < r.Max.Y; y += 16 {
		for x := r.Min.X + 7; x < r.Max.X; x += 16 {
			p, q := lab(a.At(x, y)), lab(b.At(x, y))
			d := math.Sqrt((p[0]-q[0])*(p[0]-q[0]) + (p[1]-q[1])*(p[1]-q[1]) + (p[2]-q[2])*(p[2]-q[2]))
			mean += d
			worst = max(worst, d)
			n++
		}
	}
	return mean / float64(n), worst
}

func iccDecode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestICCAgainstLittleCMS renders photos tagged Display P3 and Adobe RGB
// and compares them with Little CMS's jpgicc converting the same files to
// sRGB (relative colorimetric, its default sRGB output): ΔE76 at most 0.8
// on average and 2.5 at worst (about one just-noticeable difference; the
// two JPEG codecs alone differ by 0.3 on average and 0.9 at worst on this
// picture with no profile at all). The same photo with its profile
// stripped and not converted (what cotd did before) is far off, which is
// what keeps this test honest.
func TestICCAgainstLittleCMS(t *testing.T) {
	jpgicc, err := exec.LookPath("jpgicc")
	if err != nil {
		needs.Missing(t, "jpgicc is missing", "apt install liblcms2-utils")
	}
	pic := testPicture(t)
	for _, tc := range []struct {
		name    string
		profile []byte
		stripAt float64 // the unconverted picture's mean ΔE is at least this
	}{
		{"display-p3", writeProfile("Display P3", p3, srgbPara()), 3},
		{"adobe-rgb", writeProfile("Adobe RGB (1998)", adobe, gammaCurv(563.0/256)), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.jpg")
			out := filepath.Join(dir, "lcms.jpg")
			tagged := withProfile(pic, tc.profile)
			if err := os.WriteFile(in, tagged, 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command(jpgicc, "-t1", "-q100", in, out).CombinedOutput(); err != nil {
				t.Fatalf("jpgicc: %v\n%s", err, b)
			}
			ref, _ := os.ReadFile(out)
			res, err := Render(bytes.NewReader(tagged), Options{MaxSide: 4000, Quality: 100})
			if err != nil {
				t.Fatal(err)
			}
			if res.Note != "" {
				t.Errorf("note %q for a profile that can be converted", res.Note)
			}
			refImg, got := iccDecode(t, ref), iccDecode(t, res.JPEG)
			mean, worst := deltaE(t, got, refImg)
			t.Logf("%s: ΔE76 against jpgicc: mean %.2f, worst %.2f", tc.name, mean, worst)
			if mean > 0.8 || worst > 2.5 {
				t.Errorf("ΔE76 against jpgicc: mean %.2f (want ≤ 0.8), worst %.2f (want ≤ 2.5)", mean, worst)
			}
			plain, err := Render(bytes.NewReader(pic), Options{MaxSide: 4000, Quality: 100})
			if err != nil {
				t.Fatal(err)
			}
			smean, sworst := deltaE(t, iccDecode(t, plain.JPEG), refImg)
			t.Logf("%s: unconverted: mean %.2f, worst %.2f", tc.name, smean, sworst)
			if smean < tc.stripAt {
				t.Errorf("the unconverted picture is only ΔE %.2f from jpgicc's: the test cannot tell conversion from none", smean)
			}
		})
	}
}

// TestICCUnhandled: a profile cotd cannot convert (CMYK, LUT-based RGB,
// truncated, chunks missing) leaves the photo rendered as before, with a
// note for the log naming the profile; an sRGB profile changes nothing.
func TestICCUnhandled(t *testing.T) {
	pic := testPicture(t)
	plain, err := Render(bytes.NewReader(pic), Default)
	if err != nil {
		t.Fatal(err)
	}
	lut := buildProfile("RGB ", "Lab ", []struct {
		sig  string
		data []byte
	}{{"A2B0", []byte("mft2\x00\x00\x00\x00")}})
	cmyk := buildProfile("CMYK", "Lab ", nil)
	p3p := writeProfile("Display P3", p3, srgbPara())
	oneChunk := func(prof []byte) []byte { // chunk 1 of 2 only
		seg := append([]byte("ICC_PROFILE\x00\x01\x02"), prof[:40]...)
		return append(append([]byte{0xff, 0xd8, 0xff, 0xe2, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...), pic[2:]...)
	}
	for _, tc := range []struct {
		name, data, note string
	}{
		{"lut rgb", string(withProfile(pic, lut)), "LUT-based"},
		{"cmyk", string(withProfile(pic, cmyk)), "a CMYK profile"},
		{"truncated", string(withProfile(pic, p3p[:200])), "truncated"},
		{"missing chunk", string(oneChunk(p3p)), "chunk 2 of 2 is missing"},
		{"srgb", string(withProfile(pic, writeProfile("sRGB IEC61966-2.1", srgbPri, srgbPara()))), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Render(strings.NewReader(tc.data), Default)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if (tc.note == "") != (res.Note == "") || !strings.Contains(res.Note, tc.note) {
				t.Errorf("note %q, want one containing %q", res.Note, tc.note)
			}
			if !bytes.Equal(res.JPEG, plain.JPEG) {
				t.Errorf("the photo was not rendered as it is without a profile")
			}
		})
	}
}

func FuzzParseICC(f *testing.F) {
	f.Add(writeProfile("Display P3", p3, srgbPara()))
	f.Add(writeProfile("Adobe RGB (1998)", adobe, gammaCurv(2.2)))
	f.Fuzz(func(t *testing.T, p []byte) {
		if m, err := parseICC(p); err == nil {
			tr := newTransform(m)
			tr.rgb(255, 128, 0)
		}
	})
}

// BenchmarkICCConvert: the colour conversion of one full-size rendition
// (1280×960, 4:2:0), the cost a P3 photo adds to its one-time render.
func BenchmarkICCConvert(b *testing.B) {
	m, err := parseICC(writeProfile("Display P3", p3, srgbPara()))
	if err != nil {
		b.Fatal(err)
	}
	t := newTransform(m)
	img := image.NewYCbCr(image.Rect(0, 0, 1280, 960), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i)
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(i*7), uint8(i*13)
	}
	b.ReportAllocs()
	for b.Loop() {
		t.ycbcr420(img)
	}
}

// TestICCRealPhoto: a real camera JPEG tagged with Apple's "Generic RGB
// Profile" (gamma 1.8, its own primaries; 14 of the corpus photos carry
// it), rendered by cotd, against the same photo converted by jpgicc and
// then rendered (exiftool copies the orientation jpgicc drops). On a small,
// detailed photo the two codecs alone differ a lot, so the baseline is
// measured too: jpgicc with the profile ignored (-n) against cotd's render
// of the photo with its profile stripped. Converting may add at most 0.75
// ΔE76 to that baseline on average; not converting adds far more.
func TestICCRealPhoto(t *testing.T) {
	dir := realworldDir(t)
	jpgicc, err1 := exec.LookPath("jpgicc")
	exiftool, err2 := exec.LookPath("exiftool")
	if err1 != nil || err2 != nil {
		needs.Missing(t, "jpgicc or exiftool is missing", "apt install liblcms2-utils libimage-exiftool-perl")
	}
	in := filepath.Join(dir, "jpg_orientation_landscape_6.jpg")
	lcms := func(args ...string) []byte {
		out := filepath.Join(t.TempDir(), "lcms.jpg")
		if b, err := exec.Command(jpgicc, append(args, "-t1", "-q100", in, out)...).CombinedOutput(); err != nil {
			t.Fatalf("jpgicc: %v\n%s", err, b)
		}
		if b, err := exec.Command(exiftool, "-q", "-overwrite_original", "-TagsFromFile", in, "-Orientation", out).CombinedOutput(); err != nil {
			t.Fatalf("exiftool: %v\n%s", err, b)
		}
		b, _ := os.ReadFile(out)
		return b
	}
	render := func(b []byte) image.Image {
		res, err := Render(bytes.NewReader(b), Default)
		if err != nil || res.Note != "" {
			t.Fatalf("Render: %v, note %q", err, res.Note)
		}
		return iccDecode(t, res.JPEG)
	}
	data, _ := os.ReadFile(in)
	if prof, _ := iccProfile(data, "jpeg"); len(prof) == 0 {
		t.Fatal("the photo carries no ICC profile")
	}
	converted, untagged := render(lcms()), render(lcms("-n"))
	mine, stripped := render(data), render(stripICC(data))
	base, _ := deltaE(t, stripped, untagged)
	mean, _ := deltaE(t, mine, converted)
	off, _ := deltaE(t, stripped, converted)
	t.Logf("Generic RGB photo, mean ΔE76: codecs alone %.2f; converted vs jpgicc %.2f; unconverted vs jpgicc %.2f", base, mean, off)
	if mean > base+0.75 || off < mean+2 {
		t.Errorf("converted %.2f vs jpgicc (want ≤ %.2f + 0.75), unconverted %.2f (want ≥ converted + 2)", mean, base, off)
	}
}

// stripICC drops the APP2 ICC_PROFILE segments of a JPEG.
func stripICC(b []byte) []byte {
	out := append([]byte{}, b[:2]...)
	for i := 2; i+4 <= len(b); {
		if b[i+1] == 0xda {
			return append(out, b[i:]...)
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		seg := b[i : i+2+n]
		if !(b[i+1] == 0xe2 && bytes.HasPrefix(seg[4:], []byte("ICC_PROFILE\x00"))) {
			out = append(out, seg...)
		}
		i += 2 + n
	}
	return out
}

// ycbcr420PerPixel is ycbcr420 as the per-pixel chain it writes out in one
// loop: the reference its bytes must equal.
func (t *transform) ycbcr420PerPixel(m *image.YCbCr) *image.YCbCr {
	b := m.Rect
	out := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	cw := (b.Dx() + 1) / 2
	sumCb, sumCr, cnt := make([]int32, cw), make([]int32, cw), make([]int32, cw)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		yi := y - b.Min.Y
		for x := b.Min.X; x < b.Max.X; x++ {
			xi := x - b.Min.X
			ci := m.COffset(x, y)
			r, g, bl := jfif.toRGB(m.Y[m.YOffset(x, y)], m.Cb[ci], m.Cr[ci])
			r, g, bl = t.rgb(r, g, bl)
			ny, ncb, ncr := jfif.toYCbCr(r, g, bl)
			out.Y[yi*out.YStride+xi] = ny
			sumCb[xi/2] += int32(ncb)
			sumCr[xi/2] += int32(ncr)
			cnt[xi/2]++
		}
		if yi%2 == 1 || y == b.Max.Y-1 {
			row := (yi / 2) * out.CStride
			for k := range cw {
				if cnt[k] > 0 {
					out.Cb[row+k] = uint8((sumCb[k] + cnt[k]/2) / cnt[k])
					out.Cr[row+k] = uint8((sumCr[k] + cnt[k]/2) / cnt[k])
				}
				sumCb[k], sumCr[k], cnt[k] = 0, 0, 0
			}
		}
	}
	return out
}

// The P3 conversion's one-loop form gives the very bytes of the per-pixel
// chain, for seeded random pictures of odd and even sizes, at even origins
// (as the renderer makes them) and as sub-images, under P3 and Adobe RGB.
func TestICCFastPathMatchesPerPixel(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 3))
	profiles := map[string][]byte{"Display P3": writeProfile("Display P3", p3, srgbPara()), "Adobe RGB": writeProfile("Adobe RGB (1998)", adobe, gammaCurv(563.0/256))}
	for name, prof := range profiles {
		m, err := parseICC(prof)
		if err != nil {
			t.Fatal(err)
		}
		tr := newTransform(m)
		for _, r := range []image.Rectangle{image.Rect(0, 0, 1, 1), image.Rect(0, 0, 37, 23), image.Rect(0, 0, 64, 48), image.Rect(4, 6, 41, 31), image.Rect(-8, -4, 21, 13)} {
			img := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
			for i := range img.Y {
				img.Y[i] = uint8(rng.IntN(256))
			}
			for i := range img.Cb {
				img.Cb[i], img.Cr[i] = uint8(rng.IntN(256)), uint8(rng.IntN(256))
			}
			sub := img.SubImage(image.Rect(r.Min.X+2, r.Min.Y+2, r.Max.X-1, r.Max.Y-1)).(*image.YCbCr)
			if r.Dx() < 4 || r.Dy() < 4 {
				sub = img
			}
			for _, in := range []*image.YCbCr{img, sub} {
				got, want := tr.ycbcr420(in), tr.ycbcr420PerPixel(in)
				if !bytes.Equal(got.Y, want.Y) || !bytes.Equal(got.Cb, want.Cb) || !bytes.Equal(got.Cr, want.Cr) || got.Rect != want.Rect {
					t.Errorf("%s %v: the one-loop conversion differs from the per-pixel chain", name, in.Rect)
				}
			}
		}
	}
}
