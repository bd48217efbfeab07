package images

import (
	"math"
)

// plane is one 8-bit channel (Y, Cb or Cr). Working per plane keeps JPEG
// chroma at its stored resolution, so a 4:2:0 photo costs 1.5 bytes per pixel
// instead of the 4 of an RGBA copy.
type plane struct {
	w, h, stride int
	pix          []byte
}

func newPlane(w, h int) plane {
	return plane{w: w, h: h, stride: w, pix: make([]byte, w*h)}
}

func (p plane) row(y int) []byte { return p.pix[y*p.stride : y*p.stride+p.w] }

// boxShrink averages kx×ky blocks: an exact area filter that is cheap (one
// add per source pixel) and alias-free enough when a Lanczos pass follows with
// a residual factor of 2 or more. Partial blocks at the right and bottom
// edges are averaged over the pixels they have.
func boxShrink(p plane, kx, ky int) plane {
	ow, oh := (p.w+kx-1)/kx, (p.h+ky-1)/ky
	out := newPlane(ow, oh)
	if kx == 2 && ky == 2 && p.w%2 == 0 && p.h%2 == 0 {
		// The common case (4:2:0 JPEG planes, even sizes) in one pass.
		for oy := range oh {
			r0, r1 := p.row(2*oy), p.row(2*oy+1)
			o := out.row(oy)
			r0, r1 = r0[:2*len(o)], r1[:2*len(o)]
			for x := range o {
				o[x] = uint8((uint32(r0[2*x]) + uint32(r0[2*x+1]) + uint32(r1[2*x]) + uint32(r1[2*x+1]) + 2) >> 2)
			}
		}
		return out
	}
	sums := make([]uint32, ow)
	for oy := range oh {
		clear(sums)
		y0, y1 := oy*ky, min(oy*ky+ky, p.h)
		for y := y0; y < y1; y++ {
			r := p.row(y)
			switch kx {
			case 1:
				s := sums[:len(r)]
				for x, v := range r {
					s[x] += uint32(v)
				}
			case 2:
				n := p.w / 2
				s := sums[:n]
				for x := range s {
					s[x] += uint32(r[2*x]) + uint32(r[2*x+1])
				}
				if p.w%2 == 1 {
					sums[n] += uint32(r[p.w-1])
				}
			default:
				for x, v := range r {
					sums[x/kx] += uint32(v)
				}
			}
		}
		rows := uint32(y1 - y0)
		o := out.row(oy)
		// Rounded division by the pixel count, as a multiply by its
		// reciprocal: exact, as the sums stay far below 2^32/n.
		full := rows * uint32(kx)
		recip, half := reciprocal(full), full/2
		for x := range o {
			if x == ow-1 && p.w%kx != 0 {
				n := rows * uint32(p.w%kx)
				recip, half = reciprocal(n), n/2
			}
			o[x] = uint8((uint64(sums[x]+half) * recip) >> 32)
		}
	}
	return out
}

// reciprocal is ceil(2^32/n): for a < 2^32/n, a*reciprocal(n)>>32 is a/n.
func reciprocal(n uint32) uint64 { return (1<<32 + uint64(n) - 1) / uint64(n) }

const (
	hBits = 14 // first-pass (vertical) weight precision
	vBits = 12 // second-pass (horizontal) weight precision; smaller so the int32 sums cannot overflow
	mBits = 8  // fractional bits kept between the passes
)

// taps are the filter weights for each output pixel along one axis: output i
// reads src[start[i] : start[i]+len(w[i])].
type taps struct {
	start []int
	w     [][]int32
}

func lanczos3(x float64) float64 {
	x = math.Abs(x)
	if x >= 3 {
		return 0
	}
	if x < 1e-9 {
		return 1
	}
	px := math.Pi * x
	return 3 * math.Sin(px) * math.Sin(px/3) / (px * px)
}

// makeTaps computes Lanczos-3 weights mapping srcLen pixels to dstLen, where
// the image spans geom source pixels (geom < srcLen when the last pixel of a
// box-shrunk plane is partial). Edge pixels are repeated beyond the border.
func makeTaps(srcLen int, geom float64, dstLen int, dstGeom float64, bits uint) taps {
	scale := geom / dstGeom
	support := 3 * math.Max(scale, 1)
	fs := math.Max(scale, 1)
	t := taps{start: make([]int, dstLen), w: make([][]int32, dstLen)}
	ws := make([]float64, 0, int(2*support)+3)
	one := float64(int32(1) << bits)
	for i := range dstLen {
		c := (float64(i) + 0.5) * scale
		lo := int(math.Floor(c - support))
		hi := int(math.Ceil(c + support))
		first, last := min(max(lo, 0), srcLen-1), min(max(hi, 0), srcLen-1)
		ws = ws[:0]
		for range last - first + 1 {
			ws = append(ws, 0)
		}
		for j := lo; j <= hi; j++ {
			ws[min(max(j, 0), srcLen-1)-first] += lanczos3((float64(j) + 0.5 - c) / fs)
		}
		var sum float64
		for _, v := range ws {
			sum += v
		}
		iw := make([]int32, len(ws))
		var isum int32
		peak := 0
		for k, v := range ws {
			iw[k] = int32(math.Round(v / sum * one))
			isum += iw[k]
			if iw[k] > iw[peak] {
				peak = k
			}
		}
		iw[peak] += int32(one) - isum // exact unity gain: flat areas stay flat
		// Weights that round to zero at either end are dropped: the same
		// sums, and at a residual up to 4/3 (after the 3/4 decode) at most
		// 8 taps, which hrow unrolls, where the padding to 12 cost a third.
		for len(iw) > 1 && iw[0] == 0 {
			iw, first = iw[1:], first+1
		}
		for len(iw) > 1 && iw[len(iw)-1] == 0 {
			iw = iw[:len(iw)-1]
		}
		t.start[i], t.w[i] = first, iw
	}
	return t
}

// resize maps plane p, which spans gw×gh of its pixels, to dw×dh pixels that
// span dgw×dgh (for 4:2:0 chroma of an odd-sized image the last pixel is half).
// The vertical pass runs first: it streams whole source rows through a
// multiply-add the compiler keeps tight, and leaves only dh rows for the
// gathering horizontal pass.
func resize(p plane, gw, gh float64, dw, dh int, dgw, dgh float64) plane {
	v := makeTaps(p.h, gh, dh, dgh, hBits)
	h := makeTaps(p.w, gw, dw, dgw, vBits)

	// The horizontal pass reads every output pixel's taps as one run of n
	// (a multiple of 4, zero weights past the real ones) from a flat table
	// and from tmp rows padded by n, so hrow's loops have no tail and no
	// per-pixel slice headers to load.
	n := 4
	for _, ws := range h.w {
		n = max(n, (len(ws)+3)&^3)
	}
	hw := make([]int32, dw*n)
	for x, ws := range h.w {
		copy(hw[x*n:], ws)
	}
	stride := p.w + n
	tmp := make([]int32, stride*dh)
	acc := make([]int32, p.w)
	const vRound = 1 << (hBits - mBits - 1)
	for y := range dh {
		clear(acc)
		ws, k := v.w[y], 0
		// Four source rows per sweep quarter the loads and stores of acc
		// (the sums are exact integers, so the grouping changes nothing).
		for ; k+3 < len(ws); k += 4 {
			w0, w1, w2, w3 := ws[k], ws[k+1], ws[k+2], ws[k+3]
			r0 := p.row(v.start[y] + k)[:len(acc)]
			r1 := p.row(v.start[y] + k + 1)[:len(acc)]
			r2 := p.row(v.start[y] + k + 2)[:len(acc)]
			r3 := p.row(v.start[y] + k + 3)[:len(acc)]
			for x, a := range acc {
				acc[x] = a + int32(r0[x])*w0 + int32(r1[x])*w1 + int32(r2[x])*w2 + int32(r3[x])*w3
			}
		}
		for ; k+1 < len(ws); k += 2 {
			w0, w1 := ws[k], ws[k+1]
			r0 := p.row(v.start[y] + k)[:len(acc)]
			r1 := p.row(v.start[y] + k + 1)[:len(acc)]
			for x, a := range acc {
				acc[x] = a + int32(r0[x])*w0 + int32(r1[x])*w1
			}
		}
		if k < len(ws) {
			w := ws[k]
			r := p.row(v.start[y] + k)
			r = r[:len(acc)]
			for x := range acc {
				acc[x] += int32(r[x]) * w
			}
		}
		out := tmp[y*stride : y*stride+p.w]
		for x, a := range acc {
			out[x] = (a + vRound) >> (hBits - mBits)
		}
	}

	dst := newPlane(dw, dh)
	for y := range dh {
		hrow(dst.row(y), tmp[y*stride:(y+1)*stride], hw, h.start, n)
	}
	return dst
}

// hrow is one row of the horizontal pass: output x is the n taps of hw
// from x*n against src from start[x]. The common tap counts (8, 12 and 16:
// a residual factor below 2.67, after the box) are unrolled over arrays, so the
// compiler checks bounds once a pixel instead of once a tap.
func hrow(o []uint8, src, hw []int32, start []int, n int) {
	switch n {
	case 8:
		for x := range o {
			w := (*[8]int32)(hw[x*8 : x*8+8])
			s := (*[8]int32)(src[start[x] : start[x]+8])
			a := s[0]*w[0] + s[1]*w[1] + s[2]*w[2] + s[3]*w[3]
			b := s[4]*w[4] + s[5]*w[5] + s[6]*w[6] + s[7]*w[7]
			o[x] = hround(a + b)
		}
	case 12:
		for x := range o {
			w := (*[12]int32)(hw[x*12 : x*12+12])
			s := (*[12]int32)(src[start[x] : start[x]+12])
			a := s[0]*w[0] + s[1]*w[1] + s[2]*w[2] + s[3]*w[3]
			b := s[4]*w[4] + s[5]*w[5] + s[6]*w[6] + s[7]*w[7]
			c := s[8]*w[8] + s[9]*w[9] + s[10]*w[10] + s[11]*w[11]
			o[x] = hround(a + b + c)
		}
	case 16: // 4:4:4 chroma after a 3/4 decode: a factor of 2.3 for the half-size rendition
		for x := range o {
			w := (*[16]int32)(hw[x*16 : x*16+16])
			s := (*[16]int32)(src[start[x] : start[x]+16])
			a := s[0]*w[0] + s[1]*w[1] + s[2]*w[2] + s[3]*w[3]
			b := s[4]*w[4] + s[5]*w[5] + s[6]*w[6] + s[7]*w[7]
			c := s[8]*w[8] + s[9]*w[9] + s[10]*w[10] + s[11]*w[11]
			d := s[12]*w[12] + s[13]*w[13] + s[14]*w[14] + s[15]*w[15]
			o[x] = hround(a + b + c + d)
		}
	default:
		for x := range o {
			w := hw[x*n : x*n+n]
			s := src[start[x]:]
			s = s[:len(w)]
			var a int32
			for k, v := range w {
				a += s[k] * v
			}
			o[x] = hround(a)
		}
	}
}

// hround brings a horizontal sum back to a clamped 8-bit sample.
func hround(a int32) uint8 {
	const hShift = vBits + mBits
	a = (a + 1<<(hShift-1)) >> hShift
	return uint8(min(max(a, 0), 255))
}

// orient turns a plane upright for EXIF orientation o; for 5..8 width and
// height swap. Run on the small rendition, it costs next to nothing.
func orient(p plane, o int) plane {
	if o <= 1 || o > 8 {
		return p
	}
	w, h := p.w, p.h
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := newPlane(ow, oh)
	for y := range oh {
		r := out.row(y)
		for x := range r {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			r[x] = p.pix[sy*p.stride+sx]
		}
	}
	return out
}
