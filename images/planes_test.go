package images

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestResizeMatchesPlainSums checks the resize passes (four-row vertical
// sweeps, hrow's unrolled 8-, 12- and 16-tap rows) against the plain
// multiply-add of the same integer taps, for shrink factors that give
// every tap count, and odd sizes: the same samples to the bit.
func TestResizeMatchesPlainSums(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := [][4]int{ // source w×h → destination w×h
		{2016, 1512, 1280, 960}, // a 12 MP photo decoded at 1/2: 12 taps
		{1008, 756, 640, 480},
		{99, 61, 80, 50},       // 8 taps
		{1500, 1125, 640, 480}, // 4:4:4 chroma at 3/4: 16 taps
		{301, 7, 100, 3},       // wider taps than 16
		{17, 300, 16, 299},     // almost 1:1
		{5, 5, 5, 5},
		{640, 480, 1, 1},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d-%dx%d", c[0], c[1], c[2], c[3]), func(t *testing.T) {
			p := newPlane(c[0], c[1])
			for i := range p.pix {
				p.pix[i] = uint8(r.IntN(256))
			}
			got := resize(p, float64(c[0]), float64(c[1]), c[2], c[3], float64(c[2]), float64(c[3]))
			v := makeTaps(p.h, float64(c[1]), c[3], float64(c[3]), hBits)
			h := makeTaps(p.w, float64(c[0]), c[2], float64(c[2]), vBits)
			for y := range c[3] {
				for x := range c[2] {
					var sum int32
					for k, wh := range h.w[x] {
						var col int32
						for j, wv := range v.w[y] {
							col += int32(p.row(v.start[y] + j)[h.start[x]+k]) * wv
						}
						sum += ((col + 1<<(hBits-mBits-1)) >> (hBits - mBits)) * wh
					}
					want := uint8(min(max((sum+1<<(vBits+mBits-1))>>(vBits+mBits), 0), 255))
					if g := got.row(y)[x]; g != want {
						t.Fatalf("(%d,%d) = %d, plain sums give %d", x, y, g, want)
					}
				}
			}
		})
	}
}
