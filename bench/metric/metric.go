// Package metric measures how close a rendition is to a reference image, for
// the quality test of package images and bench/compare.sh. It is not a
// general image-quality library: luma only, 8×8 SSIM windows, no weighting.
package metric

import (
	"image"
	"math"
)

// Luma returns the BT.601 luma of img as float64s, row by row.
func Luma(img image.Image) []float64 {
	b := img.Bounds()
	out := make([]float64, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, 0.299*float64(r>>8)+0.587*float64(g>>8)+0.114*float64(bl>>8))
		}
	}
	return out
}

// PSNR is the peak signal-to-noise ratio of two equal-sized images' luma, in dB.
func PSNR(a, b image.Image) float64 {
	la, lb := Luma(a), Luma(b)
	var se float64
	for i := range la {
		d := la[i] - lb[i]
		se += d * d
	}
	mse := se / float64(len(la))
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// SSIM is the mean structural similarity of two equal-sized images' luma over
// 8×8 windows taken every 4 pixels, with the usual constants for 8-bit data.
func SSIM(a, b image.Image) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	la, lb := Luma(a), Luma(b)
	w, h := a.Bounds().Dx(), a.Bounds().Dy()
	var sum float64
	var n int
	for y := 0; y+8 <= h; y += 4 {
		for x := 0; x+8 <= w; x += 4 {
			var ma, mb float64
			for j := range 8 {
				for i := range 8 {
					ma += la[(y+j)*w+x+i]
					mb += lb[(y+j)*w+x+i]
				}
			}
			ma, mb = ma/64, mb/64
			var va, vb, cov float64
			for j := range 8 {
				for i := range 8 {
					da, db := la[(y+j)*w+x+i]-ma, lb[(y+j)*w+x+i]-mb
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
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}
