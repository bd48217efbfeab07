package images

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pngTestImage is a w×h picture of the given kind (gray, rgb, rgba, or a
// kind the reader leaves to image/png: rgb16, paletted) with gradients,
// noise and flat runs, so every filter and match distance occurs.
func pngTestImage(kind string, w, h int) image.Image {
	rect := image.Rect(0, 0, w, h)
	var m interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	switch kind {
	case "gray":
		m = image.NewGray(rect)
	case "rgb":
		m = image.NewRGBA(rect)
	case "rgba":
		m = image.NewNRGBA(rect)
	case "rgb16":
		m = image.NewRGBA64(rect)
	case "paletted":
		m = image.NewPaletted(rect, color.Palette{color.Black, color.White, color.RGBA{200, 30, 40, 255}})
	}
	seed := uint32(7)
	for y := range h {
		for x := range w {
			seed = seed*1664525 + 1013904223
			n := uint8(seed >> 28)
			c := color.NRGBA{uint8(x*255/max(1, w-1)) + n, uint8(y * 255 / max(1, h-1)), uint8((x*x+y*y)/97) ^ n, 255}
			if x > w/2 && y > h/2 {
				c.R, c.G, c.B = 40, 90, 200 // flat: long matches
			}
			if kind == "rgba" {
				c.A = uint8(x + 3*y)
			}
			m.Set(x, y, c)
		}
	}
	return m
}

func encodePNGLevel(t testing.TB, m image.Image, level png.CompressionLevel) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: level}).Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sameSource reports how two decodes' planes differ, or "".
func sameSource(a, b source) string {
	if a.w != b.w || a.h != b.h || a.gw != b.gw || a.gh != b.gh || a.cgw != b.cgw || a.cgh != b.cgh || a.hasChroma != b.hasChroma {
		return fmt.Sprintf("geometry %d×%d (%g×%g, chroma %v) against %d×%d (%g×%g, chroma %v)", a.w, a.h, a.gw, a.gh, a.hasChroma, b.w, b.h, b.gw, b.gh, b.hasChroma)
	}
	planes := []struct {
		name string
		p, q plane
	}{{"Y", a.y, b.y}}
	if a.hasChroma {
		planes = append(planes, struct {
			name string
			p, q plane
		}{"Cb", a.cb, b.cb}, struct {
			name string
			p, q plane
		}{"Cr", a.cr, b.cr})
	}
	for _, pl := range planes {
		if pl.p.w != pl.q.w || pl.p.h != pl.q.h {
			return fmt.Sprintf("%s plane %d×%d against %d×%d", pl.name, pl.p.w, pl.p.h, pl.q.w, pl.q.h)
		}
		for y := range pl.p.h {
			if !bytes.Equal(pl.p.row(y), pl.q.row(y)) {
				return fmt.Sprintf("%s plane row %d differs", pl.name, y)
			}
		}
	}
	return ""
}

// checkPNG decodes data with the reader and with image/png: the reader
// must take it (or leave it, as want says) and, when it takes it, give
// image/png's planes byte for byte, at full size and box-shrunk.
func checkPNG(t *testing.T, name string, data []byte, wantTaken bool) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	for _, k := range []int{0, 1, 2, 3} {
		tw, th := 0, 0
		if k > 0 && err == nil {
			tw, th = max(1, int(float64(cfg.Width)/float64(k)/1.6)), max(1, int(float64(cfg.Height)/float64(k)/1.6))
		}
		got, gerr := decodePNG(data, tw, th)
		if (gerr == nil) != wantTaken {
			t.Fatalf("%s: decodePNG error %v, want taken %v", name, gerr, wantTaken)
		}
		if gerr != nil {
			return
		}
		want, werr := decodeStd(data, "png", tw, th)
		if werr != nil {
			t.Fatalf("%s: the reader took a PNG image/png refuses: %v", name, werr)
		}
		if d := sameSource(got, want); d != "" {
			t.Fatalf("%s for %d×%d: %s", name, tw, th, d)
		}
	}
}

// TestPNGReaderMatchesImagePNG: grey, RGB and RGBA PNGs at odd and even
// sizes, from Go's encoder at every compression level (which picks a filter
// per row), decode to image/png's planes.
func TestPNGReaderMatchesImagePNG(t *testing.T) {
	for _, kind := range []string{"gray", "rgb", "rgba"} {
		for _, sz := range [][2]int{{1, 1}, {3, 5}, {17, 9}, {640, 480}, {1001, 7}, {5, 700}} {
			for _, level := range []png.CompressionLevel{png.DefaultCompression, png.NoCompression, png.BestSpeed, png.BestCompression} {
				data := encodePNGLevel(t, pngTestImage(kind, sz[0], sz[1]), level)
				checkPNG(t, fmt.Sprintf("%s %dx%d level %d", kind, sz[0], sz[1], level), data, true)
			}
		}
	}
}

// TestPNGReaderVipsFiles: the same for PNGs libvips writes (libspng or
// libpng with zlib: another deflate encoder), with each filter it offers.
func TestPNGReaderVipsFiles(t *testing.T) {
	needVips(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.png")
	if err := os.WriteFile(src, encodePNGLevel(t, pngTestImage("rgb", 803, 601), png.BestSpeed), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, opt := range []string{"filter=none,compression=6", "filter=sub,compression=1", "filter=up,compression=9",
		"filter=avg,compression=6", "filter=paeth,compression=6", "filter=all,compression=9", "compression=0"} {
		out := filepath.Join(dir, "out.png")
		if b, err := exec.Command("vips", "copy", src, out+"["+opt+"]").CombinedOutput(); err != nil {
			t.Fatalf("vips copy [%s]: %v\n%s", opt, err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		checkPNG(t, "vips "+opt, data, true)
	}
	out := filepath.Join(dir, "interlaced.png")
	if b, err := exec.Command("vips", "copy", src, out+"[interlace]").CombinedOutput(); err != nil {
		t.Fatalf("vips copy [interlace]: %v\n%s", err, b)
	}
	data, _ := os.ReadFile(out)
	checkPNG(t, "vips interlaced", data, false)
}

// withChunk returns a PNG with a chunk (its CRC made right unless badCRC)
// inserted before the chunk at index i (0: IHDR).
func withChunk(t *testing.T, data []byte, i int, typ string, body []byte, badCRC bool) []byte {
	t.Helper()
	c := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	c = append(c, typ...)
	c = append(c, body...)
	crc := crc32.ChecksumIEEE(c[4:])
	if badCRC {
		crc ^= 1
	}
	c = binary.BigEndian.AppendUint32(c, crc)
	p := 8
	for ; i > 0; i-- {
		p += 12 + int(binary.BigEndian.Uint32(data[p:]))
	}
	return append(append(append([]byte(nil), data[:p]...), c...), data[p:]...)
}

// TestPNGReaderLeavesTheRestToImagePNG: what the reader does not take, or
// finds odd, goes to image/png, whose verdict stands: other pixel formats,
// chunks that change the pixels or break image/png's order rules, and any
// damage. What it takes despite an odd chunk, image/png takes too.
func TestPNGReaderLeavesTheRestToImagePNG(t *testing.T) {
	rgb := encodePNGLevel(t, pngTestImage("rgb", 40, 30), png.DefaultCompression)
	n := len(rgb)
	cases := []struct {
		name  string
		data  []byte
		taken bool
	}{
		{"16-bit RGB", encodePNGLevel(t, pngTestImage("rgb16", 40, 30), png.DefaultCompression), false},
		{"paletted", encodePNGLevel(t, pngTestImage("paletted", 40, 30), png.DefaultCompression), false},
		{"tRNS on RGB (image/png adds alpha)", withChunk(t, rgb, 1, "tRNS", []byte{0, 40, 0, 90, 0, 200}, false), false},
		{"PLTE on RGB", withChunk(t, rgb, 1, "PLTE", []byte{1, 2, 3}, false), false},
		{"a second IHDR", withChunk(t, rgb, 1, "IHDR", rgb[16:29], false), false},
		{"bad CRC on an ancillary chunk", withChunk(t, rgb, 1, "tEXt", []byte("Comment\x00hi"), true), false},
		{"bad CRC on IDAT", func() []byte { c := bytes.Clone(rgb); c[n-16] ^= 1; return c }(), false},
		{"no IEND", rgb[:n-12], false},
		{"IEND with a body", append(bytes.Clone(rgb[:n-12]), withChunk(t, []byte("\x89PNG\r\n\x1a\n"), 0, "IEND", []byte{0}, false)[8:]...), false},
		{"an IDAT after another chunk", withChunk(t, withChunk(t, rgb, 2, "tEXt", []byte("a\x00b"), false), 3, "IDAT", nil, false), false},
		{"an empty IDAT ending the run", withChunk(t, rgb, 2, "IDAT", nil, false), true},
		{"truncated IDAT", func() []byte {
			p := 8 + 25
			l := binary.BigEndian.Uint32(rgb[p:])
			c := bytes.Clone(rgb[:p])
			return append(c, withChunk(t, append([]byte("\x89PNG\r\n\x1a\n"), rgb[p+12+int(l):]...), 0, "IDAT", rgb[p+8:p+8+int(l)-5], false)[8:]...)
		}(), false},
		{"a text chunk before IDAT", withChunk(t, rgb, 1, "tEXt", []byte("Comment\x00hi"), false), true},
		{"a text chunk after IDAT", withChunk(t, rgb, 2, "tEXt", []byte("Comment\x00hi"), false), true},
		{"an unknown chunk", withChunk(t, rgb, 1, "zzZz", []byte("x"), false), true},
		{"bytes after IEND", append(bytes.Clone(rgb), "garbage"...), true},
	}
	for _, c := range cases {
		checkPNG(t, c.name, c.data, c.taken)
		// And the render's verdict is image/png's.
		_, rerr := decodeFull(c.data, "png", 20, 15)
		_, serr := decodeStd(c.data, "png", 20, 15)
		if (rerr == nil) != (serr == nil) {
			t.Errorf("%s: decodeFull error %v, image/png's %v", c.name, rerr, serr)
		}
	}
}

// FuzzPNGReader: the reader never takes a file image/png refuses, and
// gives its planes when it takes one.
func FuzzPNGReader(f *testing.F) {
	for _, kind := range []string{"gray", "rgb", "rgba"} {
		f.Add(encodePNGLevel(f, pngTestImage(kind, 9, 7), png.DefaultCompression))
		f.Add(encodePNGLevel(f, pngTestImage(kind, 16, 3), png.NoCompression))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<20 {
			return
		}
		got, gerr := decodePNG(data, cfg.Width/2, cfg.Height/2)
		if gerr != nil {
			return
		}
		want, werr := decodeStd(data, "png", cfg.Width/2, cfg.Height/2)
		if werr != nil {
			t.Fatalf("the reader took a PNG image/png refuses: %v", werr)
		}
		if d := sameSource(got, want); d != "" {
			t.Fatal(d)
		}
	})
}
