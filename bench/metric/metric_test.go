package metric

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestMetrics(t *testing.T) {
	a := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range a.Pix {
		a.Pix[i] = uint8(i * 7)
	}
	b := image.NewGray(a.Rect)
	copy(b.Pix, a.Pix)
	if p := PSNR(a, b); !math.IsInf(p, 1) {
		t.Errorf("PSNR of identical images = %v, want +Inf", p)
	}
	if s := SSIM(a, b); math.Abs(s-1) > 1e-9 {
		t.Errorf("SSIM of identical images = %v, want 1", s)
	}
	for i := range b.Pix {
		b.Set(i%32, i/32, color.Gray{Y: a.Pix[i] ^ 0x10})
	}
	if p := PSNR(a, b); math.Abs(p-24.05) > 0.1 {
		t.Errorf("PSNR with every pixel off by 16 = %.2f dB, want 24.05", p)
	}
	if s := SSIM(a, b); s >= 0.99 || s <= 0 {
		t.Errorf("SSIM of a disturbed image = %v, want in (0, 0.99)", s)
	}
}
