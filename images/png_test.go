package images

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"cotd/bench/metric"

	"github.com/disintegration/imaging"
)

// A PNG decodes to *image.RGBA (opaque) or *image.NRGBA (with alpha):
// both are turned into planes in one pass, box-shrunk on the way, with no
// per-pixel interface call (issue 13: a 12 MP PNG made ~12 million
// allocations), and the rendition is as close to a Lanczos reference of
// the flattened image as a JPEG's.
func TestRGBAFastPath(t *testing.T) {
	const w, h = 1000, 750
	opaque := image.NewRGBA(image.Rect(0, 0, w, h))
	alpha := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x*x + y*y) / 97), 255}
			opaque.SetRGBA(x, y, color.RGBA{c.R, c.G, c.B, 255})
			c.A = uint8(128 + (x+y)%128)
			alpha.SetNRGBA(x, y, c)
		}
	}
	for _, m := range []image.Image{opaque, alpha} {
		if n := testing.AllocsPerRun(2, func() { toSource(m) }); n > 10 {
			t.Errorf("%T: %.0f allocations to make planes; want a handful, not one per pixel", m, n)
		}
		if n := testing.AllocsPerRun(2, func() { rgbaOf(m, 4, 3) }); n > 10 {
			t.Errorf("%T shrunk: %.0f allocations", m, n)
		}
		data := encodePNG(t, m)
		res, err := Render(bytes.NewReader(data), Options{MaxSide: 300, Quality: 92})
		if err != nil {
			t.Fatal(err)
		}
		got, err := jpeg.Decode(bytes.NewReader(res.JPEG))
		if err != nil {
			t.Fatal(err)
		}
		flat := imaging.New(w, h, color.White)
		flat = imaging.Overlay(flat, m, image.Point{}, 1)
		ref := imaging.Resize(flat, res.Width, res.Height, imaging.Lanczos)
		if p := metric.PSNR(ref, got); p < 38 {
			t.Errorf("%T: PSNR %.2f dB against Lanczos of the flattened image; want ≥ 38", m, p)
		}
	}
}

func rgbaOf(m image.Image, kx, ky int) source {
	b := m.Bounds()
	switch m := m.(type) {
	case *image.RGBA:
		return rgbaSource(m.Pix, m.Stride, b.Dx(), b.Dy(), true, kx, ky)
	case *image.NRGBA:
		return rgbaSource(m.Pix, m.Stride, b.Dx(), b.Dy(), false, kx, ky)
	}
	panic("not RGBA")
}
