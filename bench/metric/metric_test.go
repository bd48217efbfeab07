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

// TestCIEDE2000: pairs from Sharma, Wu and Dalal's test data (2005).
func TestCIEDE2000(t *testing.T) {
	for _, tc := range []struct {
		p, q [3]float64
		want float64
	}{
		{[3]float64{50, 2.6772, -79.7751}, [3]float64{50, 0, -82.7485}, 2.0425},
		{[3]float64{50, -1.3802, -84.2814}, [3]float64{50, 0, -82.7485}, 1.0000},
		{[3]float64{50, 2.5, 0}, [3]float64{73, 25, -18}, 27.1492},
		{[3]float64{50, 2.5, 0}, [3]float64{50, 3.2592, 0.3350}, 1.0000},
		{[3]float64{60.2574, -34.0099, 36.2677}, [3]float64{60.4626, -34.1751, 39.4387}, 1.2644},
		{[3]float64{22.7233, 20.0904, -46.6940}, [3]float64{23.0331, 14.9730, -42.5619}, 2.0373},
		{[3]float64{2.0776, 0.0795, -1.1350}, [3]float64{0.9033, -0.0636, -0.5514}, 0.9082},
	} {
		if got := CIEDE2000(tc.p, tc.q); math.Abs(got-tc.want) > 1e-4 {
			t.Errorf("CIEDE2000(%v, %v) = %.4f, want %.4f", tc.p, tc.q, got, tc.want)
		}
	}
}
