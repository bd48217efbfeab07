package images

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// lumaOf returns the BT.601 luma of img as float64s, row by row.
func lumaOf(img image.Image) ([]float64, int, int) {
	b := img.Bounds()
	out := make([]float64, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, 0.299*float64(r>>8)+0.587*float64(g>>8)+0.114*float64(bl>>8))
		}
	}
	return out, b.Dx(), b.Dy()
}

// psnr is the peak signal-to-noise ratio of two equal-sized lumas, in dB.
func psnr(a, b []float64) float64 {
	var se float64
	for i := range a {
		d := a[i] - b[i]
		se += d * d
	}
	mse := se / float64(len(a))
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// ssim is the mean structural similarity over 8×8 windows (step 4) of two
// lumas, with the usual constants for 8-bit data.
func ssim(a, b []float64, w, h int) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	var sum float64
	var n int
	for y := 0; y+8 <= h; y += 4 {
		for x := 0; x+8 <= w; x += 4 {
			var ma, mb float64
			for j := range 8 {
				for i := range 8 {
					ma += a[(y+j)*w+x+i]
					mb += b[(y+j)*w+x+i]
				}
			}
			ma, mb = ma/64, mb/64
			var va, vb, cov float64
			for j := range 8 {
				for i := range 8 {
					da, db := a[(y+j)*w+x+i]-ma, b[(y+j)*w+x+i]-mb
					va += da * da
					vb += db * db
					cov += da * db
				}
			}
			va, vb, cov = va/63, vb/63, cov/63
			sum += ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			n++
		}
	}
	return sum / float64(n)
}

// lanczosReference is the naive pipeline cotd replaces: imaging's Lanczos on
// the full-resolution image, unencoded.
func lanczosReference(t testing.TB, data []byte, w, h int) image.Image {
	t.Helper()
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		t.Fatal(err)
	}
	return imaging.Resize(img, w, h, imaging.Lanczos)
}

// TestQualityAgainstLanczos holds the fast pipeline to imaging's Lanczos on
// the real phone photos: the rendition (after its own JPEG encoding) must be
// as close to the reference as imaging's own output encoded at the same
// quality, within a small margin.
func TestQualityAgainstLanczos(t *testing.T) {
	dir := realworldDir(t)
	for _, name := range append(benchPhotos, "jpg_orientation_landscape_6.jpg") {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Render(bytes.NewReader(data), Default)
			if err != nil {
				t.Fatal(err)
			}
			got, err := jpeg.Decode(bytes.NewReader(res.JPEG))
			if err != nil {
				t.Fatal(err)
			}
			ref := lanczosReference(t, data, res.Width, res.Height)
			var naive bytes.Buffer
			if err := jpeg.Encode(&naive, ref, &jpeg.Options{Quality: Default.Quality}); err != nil {
				t.Fatal(err)
			}
			naiveImg, _ := jpeg.Decode(&naive)

			ry, w, h := lumaOf(ref)
			gy, _, _ := lumaOf(got)
			ny, _, _ := lumaOf(naiveImg)
			gp, np := psnr(ry, gy), psnr(ry, ny)
			gs, ns := ssim(ry, gy, w, h), ssim(ry, ny, w, h)
			t.Logf("vs imaging Lanczos: cotd PSNR %.2f dB SSIM %.4f; imaging+q85 PSNR %.2f dB SSIM %.4f", gp, gs, np, ns)
			if gp < np-1.0 || gs < ns-0.01 {
				t.Errorf("rendition is further from Lanczos than imaging's own q85 output: PSNR %.2f < %.2f-1 dB or SSIM %.4f < %.4f-0.01", gp, np, gs, ns)
			}
		})
	}
}

var _ = color.Gray{}
