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
		full := rows * uint32(kx)
		for x := range o {
			n := full
			if x == ow-1 && p.w%kx != 0 {
				n = rows * uint32(p.w%kx)
			}
			o[x] = uint8((sums[x] + n/2) / n)
		}
	}
	return out
}

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

	tmp := make([]int32, p.w*dh)
	acc := make([]int32, p.w)
	const vRound = 1 << (hBits - mBits - 1)
	for y := range dh {
		clear(acc)
		ws, k := v.w[y], 0
		// Two source rows per sweep halve the loads and stores of acc.
		for ; k+1 < len(ws); k += 2 {
			w0, w1 := ws[k], ws[k+1]
			r0 := p.row(v.start[y] + k)
			r1 := p.row(v.start[y] + k + 1)
			r0, r1 = r0[:len(acc)], r1[:len(acc)]
			for x := range acc {
				acc[x] += int32(r0[x])*w0 + int32(r1[x])*w1
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
		out := tmp[y*p.w : (y+1)*p.w]
		for x, a := range acc {
			out[x] = (a + vRound) >> (hBits - mBits)
		}
	}

	dst := newPlane(dw, dh)
	const hShift = vBits + mBits
	for y := range dh {
		src := tmp[y*p.w : (y+1)*p.w]
		o := dst.row(y)
		for x := range o {
			ws := h.w[x]
			s := src[h.start[x]:]
			s = s[:len(ws)]
			var a, b int32
			k := 0
			for ; k+3 < len(ws); k += 4 {
				a += s[k]*ws[k] + s[k+1]*ws[k+1]
				b += s[k+2]*ws[k+2] + s[k+3]*ws[k+3]
			}
			for ; k < len(ws); k++ {
				a += s[k] * ws[k]
			}
			a += b
			a = (a + 1<<(hShift-1)) >> hShift
			o[x] = uint8(min(max(a, 0), 255))
		}
	}
	return dst
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
