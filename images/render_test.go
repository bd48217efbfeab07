package images

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/disintegration/imaging"

	"cotd/internal/photogen"
)

// assertClean fails unless b is a baseline JPEG whose only segments are the
// ones needed to decode it: no APPn (EXIF, XMP, ICC, JFIF), no comment, and
// nothing after the end-of-image marker. Metadata can only live in segments
// or trailing data, so the byte search covers those; the entropy-coded scan
// is random-looking and would match "GPS" by chance now and then.
func assertClean(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		t.Fatalf("output does not start with a JPEG SOI")
	}
	if !bytes.HasSuffix(b, []byte{0xff, 0xd9}) {
		t.Errorf("output has data after its end-of-image marker")
	}
	for i := 2; i+4 <= len(b); {
		m := b[i+1]
		if b[i] != 0xff {
			t.Fatalf("no marker at offset %d", i)
		}
		switch {
		case m >= 0xe0 && m <= 0xef || m == 0xfe:
			t.Errorf("output has metadata segment 0xff%02x", m)
		case m == 0xc2 || m == 0xc1 || m == 0xc3:
			t.Errorf("output is not baseline (SOF 0xff%02x)", m)
		case m == 0xda:
			for _, needle := range []string{"GPS", "Exif", "http://ns.adobe.com/xap", "ICC_PROFILE", "Photoshop"} {
				if bytes.Contains(b[:i], []byte(needle)) {
					t.Errorf("output header contains %q", needle)
				}
			}
			return
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	t.Errorf("output has no SOS segment")
}

func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return img
}

// TestRealWorldCorpus renders every file of ../shared/realworld-photos: each
// comes out clean and within 1280 px, or is refused with a sentinel error.
func TestRealWorldCorpus(t *testing.T) {
	dir := realworldDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Files that must be refused, and why; every other image must render.
	refused := map[string]error{
		"jpg_corrupted.jpg": ErrCorrupt,
	}
	// HEIC photos render with heif-convert; without it they are refused
	// with how to install it.
	_, noHelper := exec.LookPath(HEIFHelper)
	var rendered int
	for _, e := range entries {
		name := e.Name()
		if name == "README.md" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			res, err := RenderFile(filepath.Join(dir, name), Default)
			if strings.HasPrefix(name, "heic_") && noHelper != nil {
				if !errors.Is(err, ErrNoHelper) || !strings.Contains(err.Error(), "apt-get install libheif-examples") {
					t.Fatalf("err = %v, want ErrNoHelper with how to install it", err)
				}
				return
			}
			if want, ok := refused[name]; ok {
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			rendered++
			if res.Width > 1280 || res.Height > 1280 || res.Width < 1 || res.Height < 1 {
				t.Errorf("size %d×%d, want within 1280×1280", res.Width, res.Height)
			}
			if max(res.SourceWidth, res.SourceHeight) >= 1280 && max(res.Width, res.Height) != 1280 {
				t.Errorf("a %d×%d photo came out %d×%d, want its long side at 1280", res.SourceWidth, res.SourceHeight, res.Width, res.Height)
			}
			assertClean(t, res.JPEG)
			if b := decodeJPEG(t, res.JPEG).Bounds(); b.Dx() != res.Width || b.Dy() != res.Height {
				t.Errorf("Result says %d×%d, JPEG is %v", res.Width, res.Height, b)
			}
		})
	}
	if rendered < 30 {
		t.Errorf("only %d photos rendered; the corpus has more than 30 good ones", rendered)
	}
}

// meanAbsDiff compares two images of equal size over R, G and B.
func meanAbsDiff(t *testing.T, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("sizes differ: %v vs %v", a.Bounds(), b.Bounds())
	}
	var sum float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			sum += math.Abs(float64(r1>>8)-float64(r2>>8)) + math.Abs(float64(g1>>8)-float64(g2>>8)) + math.Abs(float64(b1>>8)-float64(b2>>8))
		}
	}
	return sum / float64(3*r.Dx()*r.Dy())
}

// TestEveryOrientationComesOutUpright renders the eight copies of each test
// picture (one per EXIF orientation, pixels stored accordingly). The copies
// are not pixel-identical (about 14 mean difference at thumbnail size), so
// each rendition must be closer to copy 1 than any flipped or turned version
// of itself, and close in absolute terms; a wrong turn scores 40 or more.
func TestEveryOrientationComesOutUpright(t *testing.T) {
	dir := realworldDir(t)
	thumb := func(img image.Image) *image.NRGBA { return imaging.Resize(img, 64, 64, imaging.Box) }
	transforms := map[string]func(image.Image) *image.NRGBA{
		"flipped": imaging.FlipH, "upside down": imaging.Rotate180, "flipped vertically": imaging.FlipV,
		"transposed": imaging.Transpose, "turned right": imaging.Rotate270, "transversed": imaging.Transverse, "turned left": imaging.Rotate90,
	}
	for _, set := range []string{"landscape", "portrait"} {
		ref, err := RenderFile(filepath.Join(dir, "jpg_orientation_"+set+"_1.jpg"), Default)
		if err != nil {
			t.Fatal(err)
		}
		want := decodeJPEG(t, ref.JPEG)
		for o := 1; o <= 8; o++ {
			name := "jpg_orientation_" + set + "_" + string(rune('0'+o)) + ".jpg"
			t.Run(name, func(t *testing.T) {
				res, err := RenderFile(filepath.Join(dir, name), Default)
				if err != nil {
					t.Fatal(err)
				}
				got := decodeJPEG(t, res.JPEG)
				if got.Bounds() != want.Bounds() {
					t.Fatalf("size %v, want %v like orientation 1", got.Bounds(), want.Bounds())
				}
				upright := meanAbsDiff(t, thumb(want), thumb(got))
				if upright > 25 {
					t.Errorf("mean abs difference from orientation 1 is %.1f, want ≤ 25", upright)
				}
				for what, f := range transforms {
					if d := meanAbsDiff(t, thumb(want), thumb(f(got))); d <= upright {
						t.Errorf("the rendition %s is closer to orientation 1 (%.1f) than as rendered (%.1f)", what, d, upright)
					}
				}
			})
		}
	}
}

// exifJPEG returns a JPEG of img with an EXIF segment carrying orientation o
// and a GPS IFD pointer, the way a phone writes it.
func exifJPEG(t *testing.T, img image.Image, o int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	// TIFF (big-endian): IFD0 with Orientation and GPSInfo; a GPS IFD with a latitude ref.
	tiff := []byte("MM\x00*\x00\x00\x00\x08")
	be := binary.BigEndian
	ifd := make([]byte, 2+2*12+4)
	be.PutUint16(ifd, 2)
	be.PutUint16(ifd[2:], 0x0112)
	be.PutUint16(ifd[4:], 3)
	be.PutUint32(ifd[6:], 1)
	be.PutUint16(ifd[10:], uint16(o))
	be.PutUint16(ifd[14:], 0x8825)
	be.PutUint16(ifd[16:], 4)
	be.PutUint32(ifd[18:], 1)
	be.PutUint32(ifd[22:], uint32(8+len(ifd)))
	gps := make([]byte, 2+12+4)
	be.PutUint16(gps, 1)
	be.PutUint16(gps[2:], 1) // GPSLatitudeRef
	be.PutUint16(gps[4:], 2)
	be.PutUint32(gps[6:], 2)
	copy(gps[10:], "N\x00")
	tiff = append(append(tiff, ifd...), gps...)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xff, 0xe1, 0, 0}
	be.PutUint16(app1[2:], uint16(len(seg)+2))
	jpg := buf.Bytes()
	out := append([]byte{}, jpg[:2]...)
	out = append(append(out, app1...), seg...)
	return append(out, jpg[2:]...)
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func solid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

// TestMadeUpInputs covers what users drop into the folder besides photos.
func TestMadeUpInputs(t *testing.T) {
	gradient := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := range 300 {
			gradient.Set(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var good bytes.Buffer
	if err := jpeg.Encode(&good, gradient, nil); err != nil {
		t.Fatal(err)
	}

	// A portrait stored 1200×1800 whose top fifth is red, tagged Orientation=6:
	// upright it is landscape, and the red stored top is on the right.
	portrait := solid(1200, 1800, color.NRGBA{40, 90, 200, 255})
	for y := range 360 {
		for x := range 1200 {
			portrait.Set(x, y, color.NRGBA{220, 30, 30, 255})
		}
	}

	rgba64 := image.NewRGBA64(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			rgba64.Set(x, y, color.RGBA64{0x1234, 0x8000, 0xffff, 0xffff})
		}
	}
	alpha := solid(40, 30, color.NRGBA{0, 0, 0, 0}) // fully transparent: must come out white
	for x := range 20 {
		alpha.Set(x, 0, color.NRGBA{0, 0, 0, 255})
	}
	red := image.NewPaletted(image.Rect(0, 0, 32, 32), palette.Plan9)
	blue := image.NewPaletted(image.Rect(0, 0, 32, 32), palette.Plan9)
	for y := range 32 {
		for x := range 32 {
			red.Set(x, y, color.RGBA{255, 0, 0, 255})
			blue.Set(x, y, color.RGBA{0, 0, 255, 255})
		}
	}
	var anim bytes.Buffer
	if err := gif.EncodeAll(&anim, &gif.GIF{Image: []*image.Paletted{red, blue}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	readFixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// center returns the RGB at the middle of the rendition.
	center := func(img image.Image) (uint8, uint8, uint8) {
		b := img.Bounds()
		r, g, bl, _ := img.At(b.Dx()/2, b.Dy()/2).RGBA()
		return uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)
	}
	near := func(a, b uint8) bool { return math.Abs(float64(a)-float64(b)) <= 12 }

	tests := []struct {
		name    string
		data    []byte
		wantErr error
		reason  string // substring of the error text
		check   func(t *testing.T, res Result, img image.Image)
	}{
		{name: "empty.jpg", data: nil, wantErr: ErrCorrupt, reason: "empty file"},
		{name: "notes.jpg", data: []byte("shopping list\n- cat food\n"), wantErr: ErrUnsupported, reason: "not an image (the file starts with text)"},
		{name: "random.jpg", data: []byte{0x00, 0x01, 0x02, 0x03, 0xfe, 0xfd, 0x80, 0x81}, wantErr: ErrUnsupported, reason: "unknown file content"},
		{name: "truncated.jpg", data: good.Bytes()[:good.Len()/2], wantErr: ErrCorrupt, reason: "truncated or corrupt JPEG"},
		{name: "header-only.jpg", data: good.Bytes()[:40], wantErr: ErrCorrupt, reason: "re-export the photo"},
		{name: "renamed-heic.jpg", data: []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x00"), wantErr: ErrCorrupt, reason: "corrupt or unusual HEIC"},
		{name: "avif.jpg", data: []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf\x00\x00\x00\x00"), wantErr: ErrCorrupt, reason: "corrupt or unusual AVIF"},
		{name: "bomb.png", data: photogen.PNGHeader(100000, 100000), wantErr: ErrTooLarge, reason: "100000×100000 (10000 MP), larger than the 64 MP limit"},
		{name: "big.png", data: photogen.PNGHeader(5000, 4000), wantErr: ErrTooLarge, reason: "PNG is 5000×4000 (20 MP), larger than the 16 MP limit for PNG files"},
		{name: "zero-size.png", data: photogen.PNGHeader(0, 10), wantErr: ErrCorrupt},
		{name: "rotated.jpg", data: exifJPEG(t, portrait, 6), check: func(t *testing.T, res Result, img image.Image) {
			if res.Width != 1280 || res.Height != 853 {
				t.Errorf("size %d×%d, want 1280×853", res.Width, res.Height)
			}
			if r, _, _ := rgbAt(img, 1270, 426); r < 180 {
				t.Errorf("right edge is not the red stored top (R=%d): not turned clockwise", r)
			}
			if r, _, b := rgbAt(img, 10, 426); r > 100 || b < 150 {
				t.Errorf("left edge R=%d B=%d, want the blue stored bottom", r, b)
			}
			if res.SourceWidth != 1200 || res.SourceHeight != 1800 {
				t.Errorf("source %d×%d, want 1200×1800", res.SourceWidth, res.SourceHeight)
			}
		}},
		{name: "small.jpg", data: good.Bytes(), check: func(t *testing.T, res Result, img image.Image) {
			if res.Width != 300 || res.Height != 200 {
				t.Errorf("size %d×%d, want 300×200 (never upscaled)", res.Width, res.Height)
			}
			if d := meanAbsDiff(t, gradient, img); d > 3 {
				t.Errorf("mean abs difference %.1f from the original, want ≤ 3", d)
			}
		}},
		{name: "cmyk.jpg", data: readFixture("cmyk.jpg"), check: func(t *testing.T, res Result, img image.Image) {
			if r, g, b := center(img); !near(r, 0xc0) || !near(g, 0x30) || !near(b, 0x20) {
				t.Errorf("CMYK #c03020 came out #%02x%02x%02x", r, g, b)
			}
		}},
		{name: "progressive.jpg", data: readFixture("progressive.jpg"), check: func(t *testing.T, res Result, img image.Image) {
			ref, err := jpeg.Decode(bytes.NewReader(readFixture("progressive.jpg")))
			if err != nil {
				t.Fatal(err)
			}
			if d := meanAbsDiff(t, ref, img); d > 3 {
				t.Errorf("mean abs difference %.1f from the original, want ≤ 3", d)
			}
		}},
		{name: "deep.png", data: encodePNG(t, rgba64), check: func(t *testing.T, res Result, img image.Image) {
			if r, g, b := center(img); !near(r, 0x12) || !near(g, 0x80) || !near(b, 0xff) {
				t.Errorf("16-bit #1280ff came out #%02x%02x%02x", r, g, b)
			}
		}},
		{name: "alpha.png", data: encodePNG(t, alpha), check: func(t *testing.T, res Result, img image.Image) {
			if r, g, b := center(img); r < 245 || g < 245 || b < 245 {
				t.Errorf("transparent area came out #%02x%02x%02x, want white", r, g, b)
			}
		}},
		{name: "animated.gif", data: anim.Bytes(), check: func(t *testing.T, res Result, img image.Image) {
			if r, _, b := center(img); r < 200 || b > 60 {
				t.Errorf("animated GIF came out R=%d B=%d, want its first (red) frame", r, b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.name)
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := RenderFile(path, Default)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.reason) {
					t.Errorf("reason %q does not contain %q", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			assertClean(t, res.JPEG)
			tt.check(t, res, decodeJPEG(t, res.JPEG))
		})
	}
}

func rgbAt(img image.Image, x, y int) (uint8, uint8, uint8) {
	r, g, b, _ := img.At(x, y).RGBA()
	return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
}

// TestBombIsRefusedBeforeDecoding proves the pixel limit is checked from the
// header: refusing a 100000×100000 PNG allocates almost nothing.
func TestBombIsRefusedBeforeDecoding(t *testing.T) {
	data := photogen.PNGHeader(100000, 100000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Render(bytes.NewReader(data), Default)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 10<<20 {
		t.Errorf("refusing the bomb allocated %d MiB, want < 10 MiB", d>>20)
	}
}

// TestOrientMatchesImaging checks the plane transforms against imaging's
// independent implementations of the eight EXIF orientations.
func TestOrientMatchesImaging(t *testing.T) {
	const w, h = 5, 3
	src := image.NewGray(image.Rect(0, 0, w, h))
	for i := range src.Pix {
		src.Pix[i] = uint8(10 * (i + 1))
	}
	want := map[int]*image.NRGBA{
		2: imaging.FlipH(src), 3: imaging.Rotate180(src), 4: imaging.FlipV(src),
		5: imaging.Transpose(src), 6: imaging.Rotate270(src), 7: imaging.Transverse(src), 8: imaging.Rotate90(src),
	}
	for o := 2; o <= 8; o++ {
		got := orient(plane{w: w, h: h, stride: w, pix: src.Pix}, o)
		wb := want[o].Bounds()
		if got.w != wb.Dx() || got.h != wb.Dy() {
			t.Fatalf("orientation %d: size %d×%d, want %v", o, got.w, got.h, wb)
		}
		for y := range got.h {
			for x := range got.w {
				if g, wv := got.pix[y*got.stride+x], want[o].Pix[want[o].PixOffset(x, y)]; g != wv {
					t.Fatalf("orientation %d: pixel (%d,%d) = %d, want %d", o, x, y, g, wv)
				}
			}
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct{ w, h, side, ww, wh int }{
		{4032, 3024, 1280, 1280, 960},
		{1800, 1200, 1280, 1280, 853},
		{3024, 4032, 1280, 960, 1280},
		{800, 600, 1280, 800, 600},
		{1280, 1280, 1280, 1280, 1280},
		{100000, 10, 1280, 1280, 1},
	}
	for _, tt := range tests {
		if w, h := fit(tt.w, tt.h, tt.side); w != tt.ww || h != tt.wh {
			t.Errorf("fit(%d, %d, %d) = %d×%d, want %d×%d", tt.w, tt.h, tt.side, w, h, tt.ww, tt.wh)
		}
	}
}

func TestSupported(t *testing.T) {
	tests := []struct {
		name   string
		ok     bool
		reason string
	}{
		{"cat.jpg", true, ""}, {"CAT.JPEG", true, ""}, {"a.png", true, ""}, {"a.GIF", true, ""},
		{"a.webp", true, ""}, {"a.tif", true, ""}, {"a.TIFF", true, ""}, {"a.bmp", true, ""},
		{"IMG_1.HEIC", true, ""}, {"a.heif", true, ""}, {"a.avif", true, ""},
		{"DSC_1.NEF", false, "RAW"}, {"a.dng", false, "RAW"}, {"a.cr2", false, "RAW"}, {"a.arw", false, "RAW"},
		{"a.psd", false, "Photoshop"}, {"a.svg", false, "SVG"},
		{"notes.txt", false, ""}, {"clip.mov", false, ""}, {"noext", false, ""},
	}
	for _, tt := range tests {
		ok, reason := Supported(tt.name)
		if ok != tt.ok || !strings.Contains(reason, tt.reason) || (tt.reason == "" && reason != "") {
			t.Errorf("Supported(%q) = %v, %q; want %v, %q", tt.name, ok, reason, tt.ok, tt.reason)
		}
	}
}

func TestKey(t *testing.T) {
	if Default.Key() != (Options{}).Key() {
		t.Errorf("zero Options key %q differs from Default's %q, but both render the same", (Options{}).Key(), Default.Key())
	}
	seen := map[string]Options{}
	for _, o := range []Options{Default, {MaxSide: 640, Quality: 85}, {MaxSide: 1280, Quality: 90}} {
		k := o.Key()
		if prev, dup := seen[k]; dup {
			t.Errorf("%+v and %+v share key %q", prev, o, k)
		}
		seen[k] = o
		if strings.ContainsAny(k, "/ \\") || len(k) > 32 {
			t.Errorf("key %q is not short and file-name safe", k)
		}
	}
}

// TestDecoderPanicIsCorrupt registers a decoder that panics, as a decoder
// bug on hostile input would, and checks that it becomes ErrCorrupt.
func TestDecoderPanicIsCorrupt(t *testing.T) {
	image.RegisterFormat("cotd-panicky", "PANICKY!",
		func(io.Reader) (image.Image, error) { panic("index out of range") },
		func(io.Reader) (image.Config, error) { panic("index out of range") })
	data := []byte("PANICKY!rest")
	if _, err := decodeConfig(data, "cotd-panicky"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("decodeConfig: err = %v, want ErrCorrupt", err)
	}
	if _, err := decode(data, "cotd-panicky"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "re-export") {
		t.Errorf("decode: err = %v, want ErrCorrupt with advice", err)
	}
}

// TestSampleCat checks the cat that ships in the binary (assets/cat.jpg,
// drawn by assets/gen): small enough to embed, and mailable as it is.
func TestSampleCat(t *testing.T) {
	path := filepath.Join("..", "assets", "cat.jpg")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 150<<10 {
		t.Errorf("assets/cat.jpg is %d bytes, want under 150 KiB", st.Size())
	}
	res, err := RenderFile(path, Default)
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 1280 || res.Height != 960 {
		t.Errorf("sample cat renders %d×%d, want 1280×960", res.Width, res.Height)
	}
	assertClean(t, res.JPEG)
}
