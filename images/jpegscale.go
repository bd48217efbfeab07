package images

import (
	"encoding/binary"
	"errors"
	"math"
)

// This file is a baseline JPEG decoder that reconstructs each 8×8 block at
// 3/4, 1/2, 1/4 or 1/8 of its size straight from its lowest DCT coefficients (the
// "shrink-on-load" that makes libjpeg-turbo and vips fast). Huffman decoding
// still visits every coefficient, but the inverse DCT, the largest cost of a
// full decode, shrinks by 1.8–64× and the planes it writes are 1.8–64× smaller.
// It handles what cameras and phones write: baseline sequential Huffman,
// 8-bit, grey or three-component YCbCr, any sampling factors, restart
// intervals, and progressive files the same way (jpegprog.go). Everything
// else (arithmetic, CMYK, Adobe RGB, damaged
// data) returns errFallback, and the caller decodes with image/jpeg instead,
// so this decoder never decides whether a file is corrupt.

var errFallback = errors.New("not handled by the scaled decoder")

// unzig maps a zig-zag index to a natural (row-major) index in an 8×8 block.
var unzig = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

const lutBits = 9

type huffman struct {
	lut [1 << lutBits]uint16 // (length<<8 | value) for codes up to lutBits long, 0 if longer
	// fast decodes a whole AC coefficient in one look-up when its code and
	// its extra bits fit in lutBits (most of them in a photo): the value
	// (sign-extended) <<16 | run<<8 | bits used, the value 0 for EOB and
	// ZRL; 0 when they do not fit.
	fast    [1 << lutBits]int32
	maxCode [18]int32 // largest code of each length, -1 if none
	valPtr  [17]int32 // index into vals of the first code of each length, minus that code
	vals    []byte
	defined bool
}

func buildHuffman(counts [16]byte, vals []byte) (huffman, bool) {
	h := huffman{vals: vals, defined: true}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		if code+n > 1<<l {
			return h, false // more codes than this length can hold
		}
		h.valPtr[l] = k - code
		if n == 0 {
			h.maxCode[l] = -1
		} else {
			if l <= lutBits {
				for i := int32(0); i < n; i++ {
					c := code + i
					shift := uint(lutBits - l)
					for j := int32(0); j < 1<<shift; j++ {
						h.lut[c<<shift|j] = uint16(l)<<8 | uint16(vals[k+i])
					}
				}
			}
			h.maxCode[l] = code + n - 1
		}
		code += n
		k += n
		code <<= 1
	}
	h.maxCode[17] = math.MaxInt32
	for i, e := range h.lut {
		l, rs := uint(e>>8), byte(e)
		size := uint(rs & 15)
		if e != 0 && size == 0 {
			h.fast[i] = int32(rs>>4)<<8 | int32(l) // EOB or ZRL: value 0
			continue
		}
		if e == 0 || l+size > lutBits {
			continue
		}
		v := int32(i>>(lutBits-l-size)) & (1<<size - 1)
		if v < 1<<(size-1) {
			v += -1<<size + 1
		}
		h.fast[i] = v<<16 | int32(rs>>4)<<8 | int32(l+size)
	}
	return h, true
}

type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // next bits, most significant first
	n      uint   // valid bits in acc
	marker bool   // stopped at a marker
	eof    bool   // ran past the end of the data
}

func (r *bitReader) fill() {
	if !r.marker && r.pos+8 <= len(r.data) {
		// Whole bytes at once while none of the next eight is 0xFF (a
		// stuffed byte or a marker): most of a photo's entropy data.
		w := binary.BigEndian.Uint64(r.data[r.pos:])
		if x := ^w; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			k := (64 - r.n) / 8 // bytes that fit
			r.acc |= w >> (64 - 8*k) << (64 - 8*k - r.n)
			r.pos += int(k)
			r.n += 8 * k
			return
		}
	}
	for r.n <= 56 {
		var b byte
		switch {
		case r.marker:
		case r.pos >= len(r.data):
			r.eof = true
		default:
			b = r.data[r.pos]
			if b == 0xff {
				if r.pos+1 < len(r.data) && r.data[r.pos+1] == 0x00 {
					r.pos += 2
				} else {
					r.marker, b = true, 0
				}
			} else {
				r.pos++
			}
		}
		r.acc |= uint64(b) << (56 - r.n)
		r.n += 8
	}
}

func (r *bitReader) decode(h *huffman) (byte, bool) {
	if r.n < 16 {
		r.fill()
	}
	if e := h.lut[r.acc>>(64-lutBits)]; e != 0 {
		l := uint(e >> 8)
		r.acc <<= l
		r.n -= l
		return byte(e), true
	}
	for l := lutBits + 1; l <= 16; l++ {
		code := int32(r.acc >> (64 - uint(l)))
		if code <= h.maxCode[l] {
			r.acc <<= uint(l)
			r.n -= uint(l)
			i := h.valPtr[l] + code
			if i < 0 || int(i) >= len(h.vals) {
				return 0, false
			}
			return h.vals[i], true
		}
	}
	return 0, false
}

// receive reads s bits and sign-extends them as JPEG's EXTEND does.
func (r *bitReader) receive(s uint) int32 {
	if s == 0 {
		return 0
	}
	if r.n < s {
		r.fill()
	}
	v := int32(r.acc >> (64 - s))
	r.acc <<= s
	r.n -= s
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// bits reads n bits as an unsigned number (n ≤ 16).
func (r *bitReader) bits(n uint) int32 {
	if r.n < n {
		r.fill()
	}
	v := int32(r.acc >> (64 - n))
	r.acc <<= n
	r.n -= n
	return v
}

// restart consumes an RSTn marker after the entropy-coded segment.
func (r *bitReader) restart() bool {
	r.acc, r.n = 0, 0
	for r.pos+1 < len(r.data) && r.data[r.pos] == 0xff && r.data[r.pos+1] == 0xff {
		r.pos++
	}
	if r.pos+1 >= len(r.data) || r.data[r.pos] != 0xff || r.data[r.pos+1] < 0xd0 || r.data[r.pos+1] > 0xd7 {
		return false
	}
	r.pos += 2
	r.marker = false
	return true
}

type jcomp struct {
	id, h, v, tq int
	td, ta       int
	pred         int32
	out          plane
	n            int // samples per block across this component's decode: n/8 of its size
}

// idctBits is the fixed-point precision of idctTable.
const idctBits = 12

// idctTable[n] holds, for an n-point reduced IDCT, C(u)/2·cos((2x+1)uπ/2n)
// in idctBits fixed point: the 8-point IDCT's basis sampled at the centres of
// n cells, which is what the low n×n coefficients reconstruct at 1/(8/n)
// scale (the same reduced transforms libjpeg uses for scaled decoding).
var idctTable = func() map[int]*[64]int32 {
	t := map[int]*[64]int32{}
	for _, n := range []int{1, 2, 4, 6} {
		m := new([64]int32)
		for x := range n {
			for u := range n {
				c := 1.0
				if u == 0 {
					c = 1 / math.Sqrt2
				}
				m[x*n+u] = int32(math.Round(c / 2 * math.Cos(float64(2*x+1)*float64(u)*math.Pi/float64(2*n)) * (1 << idctBits)))
			}
		}
		t[n] = m
	}
	return t
}()

// idct writes the n×n samples of one block from its low coefficients
// (n is 8, 6, 4 or 2; putBlock writes n = 1 as the flat DC value).
// Dequantized coefficients fit in 16 bits, so both passes stay in int32.
func idct(cf *[64]int32, n int, dst []byte, stride int) {
	switch n {
	case 8:
		idct8(cf, dst, stride)
	case 6:
		idct6((*[36]int32)(cf[:36]), dst, stride)
	case 4:
		idct4((*[16]int32)(cf[:16]), dst, stride)
	default:
		idct2((*[16]int32)(cf[:16]), dst, stride)
	}
}

// The 8-point IDCT's constants, in 13-bit fixed point: libjpeg's "islow"
// (jidctint.c, the Loeffler-Ligtenberg-Moschytz factorisation), which
// image/jpeg's full decode matches to within a code value.
const (
	i8Bits  = 13
	i8Pass1 = 2
	fix0298 = 2446  // 0.298631336
	fix0390 = 3196  // 0.390180644
	fix0541 = 4433  // 0.541196100
	fix0765 = 6270  // 0.765366865
	fix0899 = 7373  // 0.899976223
	fix1175 = 9633  // 1.175875602
	fix1501 = 12299 // 1.501321110
	fix1847 = 15137 // 1.847759065
	fix1961 = 16069 // 1.961570560
	fix2053 = 16819 // 2.053119869
	fix2562 = 20995 // 2.562915447
	fix3072 = 25172 // 3.072711026
)

// idct8 is idct for n = 8 (1:1, for photos between 1 and 2.5 times the
// rendition): the full 8×8 inverse DCT, columns then rows.
func idct8(cf *[64]int32, dst []byte, stride int) {
	var ws [64]int32
	for c := range 8 {
		if cf[8+c]|cf[16+c]|cf[24+c]|cf[32+c]|cf[40+c]|cf[48+c]|cf[56+c] == 0 {
			dc := cf[c] << i8Pass1
			for r := range 8 {
				ws[r*8+c] = dc
			}
			continue
		}
		o0, o1, o2, o3, o4, o5, o6, o7 := i8core(cf[c], cf[8+c], cf[16+c], cf[24+c], cf[32+c], cf[40+c], cf[48+c], cf[56+c], i8Bits-i8Pass1)
		ws[c], ws[8+c], ws[16+c], ws[24+c], ws[32+c], ws[40+c], ws[48+c], ws[56+c] = o0, o1, o2, o3, o4, o5, o6, o7
	}
	const shift = i8Bits + i8Pass1 + 3
	for r := range 8 {
		w := ws[r*8 : r*8+8]
		row := (*[8]byte)(dst[r*stride : r*stride+8])
		if w[1]|w[2]|w[3]|w[4]|w[5]|w[6]|w[7] == 0 {
			v := level8((w[0] + 1<<(i8Pass1+2)) >> (i8Pass1 + 3))
			for x := range row {
				row[x] = v
			}
			continue
		}
		o0, o1, o2, o3, o4, o5, o6, o7 := i8core(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], shift)
		row[0], row[1], row[2], row[3] = level8(o0), level8(o1), level8(o2), level8(o3)
		row[4], row[5], row[6], row[7] = level8(o4), level8(o5), level8(o6), level8(o7)
	}
}

// i8core is one 8-point pass of idct8 on the inputs x0..x7 (frequency
// order), its outputs descaled by shift bits.
func i8core(x0, x1, x2, x3, x4, x5, x6, x7 int32, shift uint) (o0, o1, o2, o3, o4, o5, o6, o7 int32) {
	// Even part.
	z1 := (x2 + x6) * fix0541
	t2 := z1 - x6*fix1847
	t3 := z1 + x2*fix0765
	t0 := (x0 + x4) << i8Bits
	t1 := (x0 - x4) << i8Bits
	t10, t13 := t0+t3, t0-t3
	t11, t12 := t1+t2, t1-t2
	// Odd part.
	a0, a1, a2, a3 := x7, x5, x3, x1
	z1, z2, z3, z4 := a0+a3, a1+a2, a0+a2, a1+a3
	z5 := (z3 + z4) * fix1175
	a0, a1, a2, a3 = a0*fix0298, a1*fix2053, a2*fix3072, a3*fix1501
	z1, z2, z3, z4 = -z1*fix0899, -z2*fix2562, -z3*fix1961+z5, -z4*fix0390+z5
	a0 += z1 + z3
	a1 += z2 + z4
	a2 += z2 + z3
	a3 += z1 + z4
	round := int32(1) << (shift - 1)
	return (t10 + a3 + round) >> shift, (t11 + a2 + round) >> shift, (t12 + a1 + round) >> shift, (t13 + a0 + round) >> shift,
		(t13 - a0 + round) >> shift, (t12 - a1 + round) >> shift, (t11 - a2 + round) >> shift, (t10 - a3 + round) >> shift
}

// The 4-point IDCT's constants: C(u)/2·cos(uπ/8) in idctBits fixed point,
// the very entries of idctTable[4], so the butterflies below give the same
// bytes as the table, with 6 multiplies per pass instead of 16.
var (
	k0 = idctTable[4][0] // ½·cos(π/4) = ½/√2
	k1 = idctTable[4][1] // ½·cos(π/8)
	k3 = idctTable[4][3] // ½·cos(3π/8)
)

// idct4 is idct for n = 4 (1/2 scale, the usual one for a 12 MP photo).
func idct4(cf *[16]int32, dst []byte, stride int) {
	const round = 1 << (idctBits - 1)
	var tmp [16]int32
	for w := 0; w < 16; w += 4 {
		c0, c1, c2, c3 := cf[w], cf[w+1], cf[w+2], cf[w+3]
		if c1|c2|c3 == 0 {
			v := (c0*k0 + round) >> idctBits
			tmp[w], tmp[w+1], tmp[w+2], tmp[w+3] = v, v, v, v
			continue
		}
		e0, e1 := (c0+c2)*k0, (c0-c2)*k0
		o0, o1 := c1*k1+c3*k3, c1*k3-c3*k1
		tmp[w] = (e0 + o0 + round) >> idctBits
		tmp[w+1] = (e1 + o1 + round) >> idctBits
		tmp[w+2] = (e1 - o1 + round) >> idctBits
		tmp[w+3] = (e0 - o0 + round) >> idctBits
	}
	// The four output rows as arrays: one bounds check each, not sixteen.
	r0 := (*[4]byte)(dst[:4])
	r1 := (*[4]byte)(dst[stride : stride+4])
	r2 := (*[4]byte)(dst[2*stride : 2*stride+4])
	r3 := (*[4]byte)(dst[3*stride : 3*stride+4])
	for x := range 4 {
		c0, c1, c2, c3 := tmp[x], tmp[4+x], tmp[8+x], tmp[12+x]
		e0, e1 := (c0+c2)*k0, (c0-c2)*k0
		o0, o1 := c1*k1+c3*k3, c1*k3-c3*k1
		r0[x] = level8((e0 + o0 + round) >> idctBits)
		r1[x] = level8((e1 + o1 + round) >> idctBits)
		r2[x] = level8((e1 - o1 + round) >> idctBits)
		r3[x] = level8((e0 - o0 + round) >> idctBits)
	}
}

// The 6-point IDCT's constants: ½·cos(θ) in idctBits fixed point, the
// entries of idctTable[6] (its basis samples cos((2x+1)uπ/12) are all
// ±cos of 15°, 30°, 45°, 60° or 75°, or 0 or ±1).
var (
	k6dc = idctTable[6][0] // ½·cos(π/4) = ½/√2: the DC term
	k15  = idctTable[6][1] // ½·cos(π/12)
	k30  = idctTable[6][2] // ½·cos(π/6)
	k45  = idctTable[6][3] // ½·cos(π/4)
	k60  = idctTable[6][4] // ½·cos(π/3) = ¼
	k75  = idctTable[6][5] // ½·cos(5π/12)
)

// idct6 is idct for n = 6 (3/4 scale, for photos 1.5 to 2 times the
// rendition): rows then columns, each 6-point pass split into its even and
// odd halves (outputs x and 5-x share their products), 10 multiplies
// instead of the table's 36. A row whose AC coefficients are all zero (most
// rows of a photo's block) is its DC alone.
func idct6(cf *[36]int32, dst []byte, stride int) {
	const round = 1 << (idctBits - 1)
	var tmp [36]int32
	for v := 0; v < 36; v += 6 {
		c := (*[6]int32)(cf[v : v+6])
		o := (*[6]int32)(tmp[v : v+6])
		if c[1]|c[2]|c[3]|c[4]|c[5] == 0 {
			d := (c[0]*k6dc + round) >> idctBits
			o[0], o[1], o[2], o[3], o[4], o[5] = d, d, d, d, d, d
			continue
		}
		p0, p1, p2, p3, p4, p5 := i6core(c[0], c[1], c[2], c[3], c[4], c[5])
		o[0], o[1], o[2] = (p0+round)>>idctBits, (p1+round)>>idctBits, (p2+round)>>idctBits
		o[3], o[4], o[5] = (p3+round)>>idctBits, (p4+round)>>idctBits, (p5+round)>>idctBits
	}
	for x := range 6 {
		p0, p1, p2, p3, p4, p5 := i6core(tmp[x], tmp[6+x], tmp[12+x], tmp[18+x], tmp[24+x], tmp[30+x])
		dst[x] = level8((p0 + round) >> idctBits)
		dst[stride+x] = level8((p1 + round) >> idctBits)
		dst[2*stride+x] = level8((p2 + round) >> idctBits)
		dst[3*stride+x] = level8((p3 + round) >> idctBits)
		dst[4*stride+x] = level8((p4 + round) >> idctBits)
		dst[5*stride+x] = level8((p5 + round) >> idctBits)
	}
}

// i6core is one 6-point pass of idct6: the inputs c0..c5 in frequency
// order, the outputs in idctBits fixed point, not yet rounded.
func i6core(c0, c1, c2, c3, c4, c5 int32) (o0, o1, o2, o3, o4, o5 int32) {
	a, b, c := c0*k6dc, c2*k30, c4*k60
	e0, e1, e2 := a+b+c, a-2*c, a-b+c
	d0 := c1*k15 + c3*k45 + c5*k75
	d1 := (c1 - c3 - c5) * k45
	d2 := c1*k75 - c3*k45 + c5*k15
	return e0 + d0, e1 + d1, e2 + d2, e2 - d2, e1 - d1, e0 - d0
}

// idct2 is idct for n = 2 (1/4 scale).
func idct2(cf *[16]int32, dst []byte, stride int) {
	const round = 1 << (idctBits - 1)
	k := idctTable[2][0] // ½/√2, and ½·cos(π/4) is the same
	a, b := ((cf[0]+cf[1])*k+round)>>idctBits, ((cf[0]-cf[1])*k+round)>>idctBits
	c, d := ((cf[2]+cf[3])*k+round)>>idctBits, ((cf[2]-cf[3])*k+round)>>idctBits
	dst[0] = level8(((a+c)*k + round) >> idctBits)
	dst[1] = level8(((b+d)*k + round) >> idctBits)
	dst[stride] = level8(((a-c)*k + round) >> idctBits)
	dst[stride+1] = level8(((b-d)*k + round) >> idctBits)
}

// level8 undoes the level shift and clamps a sample to a byte.
func level8(v int32) uint8 { return uint8(min(max(v+128, 0), 255)) }

// isBaselineJPEG reports whether the first frame header is baseline or
// extended sequential Huffman (SOF0/SOF1), which the scaled decoder reads.
func isBaselineJPEG(data []byte) bool {
	i := 2
	for i+4 <= len(data) && data[i] == 0xff {
		m := data[i+1]
		switch {
		case m == 0xff:
			i++
			continue
		case m == 0xc0 || m == 0xc1:
			return true
		case m >= 0xc2 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc, m == 0xda, m == 0xd9:
			return false
		}
		i += 2 + int(binary.BigEndian.Uint16(data[i+2:]))
	}
	return false
}

// decodeJPEGScaled decodes a JPEG at n/8 of its size (n samples across
// each 8×8 block: 8, 6, 4, 2 or 1) into planes. The planes' geometry is in
// source: luma spans width·n/8 × height·n/8, chroma its share of that.
// chroma, when given, is the rendition's chroma size (ctw, cth), by which a
// baseline file's full-resolution chroma may be decoded smaller still
// (chromaBlocks).
func decodeJPEGScaled(data []byte, n int, chroma ...int) (source, error) {
	var (
		quant    [4][64]int32
		qDefined [4]bool
		dc, ac   [4]huffman
		comps    []jcomp
		width    int
		height   int
		restartN int
		// progressive files: every scan's coefficients, kept until EOI
		progressive bool
		prog        *progState
	)
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return source{}, errFallback
	}
	i := 2
	for {
		for i+1 < len(data) && data[i] == 0xff && data[i+1] == 0xff {
			i++
		}
		if prog != nil && i+2 <= len(data) && data[i] == 0xff && data[i+1] == 0xd9 {
			return prog.finish(comps, width, height, &quant, qDefined) // EOI after the last scan
		}
		if i+4 > len(data) || data[i] != 0xff {
			return source{}, errFallback
		}
		m := data[i+1]
		if m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01 {
			i += 2
			continue
		}
		segLen := int(binary.BigEndian.Uint16(data[i+2:]))
		if segLen < 2 || i+2+segLen > len(data) {
			return source{}, errFallback
		}
		seg := data[i+4 : i+2+segLen]
		i += 2 + segLen
		switch {
		case m == 0xc0 || m == 0xc1 || m == 0xc2:
			progressive = m == 0xc2
			if comps != nil || progressive && n == 8 {
				return source{}, errFallback // 1:1 progressive: image/jpeg's
			}
			var ok bool
			if comps, width, height, ok = parseFrame(seg); !ok {
				return source{}, errFallback
			}
		case m >= 0xc2 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			return source{}, errFallback // progressive, lossless, arithmetic
		case m == 0xc4:
			for len(seg) > 0 {
				if len(seg) < 17 {
					return source{}, errFallback
				}
				tc, th := seg[0]>>4, seg[0]&15
				var counts [16]byte
				copy(counts[:], seg[1:17])
				total := 0
				for _, c := range counts {
					total += int(c)
				}
				if tc > 1 || th > 3 || len(seg) < 17+total || total > 256 {
					return source{}, errFallback
				}
				h, ok := buildHuffman(counts, append([]byte(nil), seg[17:17+total]...))
				if !ok {
					return source{}, errFallback
				}
				if tc == 0 {
					dc[th] = h
				} else {
					ac[th] = h
				}
				seg = seg[17+total:]
			}
		case m == 0xdb:
			for len(seg) > 0 {
				pq, tq := seg[0]>>4, seg[0]&15
				if tq > 3 || pq > 1 || len(seg) < 1+64*(int(pq)+1) {
					return source{}, errFallback
				}
				for k := range 64 {
					if pq == 0 {
						quant[tq][k] = int32(seg[1+k])
					} else {
						quant[tq][k] = int32(binary.BigEndian.Uint16(seg[1+2*k:]))
					}
				}
				qDefined[tq] = true
				seg = seg[1+64*(int(pq)+1):]
			}
		case m == 0xdd:
			if len(seg) < 2 {
				return source{}, errFallback
			}
			restartN = int(binary.BigEndian.Uint16(seg))
		case m == 0xee:
			if len(seg) >= 5 && string(seg[:5]) == "Adobe" {
				return source{}, errFallback // Adobe transforms (RGB, YCCK): leave to image/jpeg
			}
		case m == 0xda:
			if comps == nil {
				return source{}, errFallback
			}
			if !progressive {
				if len(chroma) == 2 {
					chromaBlocks(comps, width, height, n, chroma[0], chroma[1])
				}
				return decodeScan(data[i:], seg, comps, width, height, n, restartN, &quant, qDefined, &dc, &ac)
			}
			if prog == nil {
				if !lumaFirst(comps) {
					return source{}, errFallback
				}
				prog = newProgState(comps, width, height, n)
			}
			used, ok := prog.scan(data[i:], seg, comps, width, height, restartN, &dc, &ac)
			if !ok {
				return source{}, errFallback
			}
			i += used
		case m == 0xd9:
			return source{}, errFallback
		}
	}
}

// parseFrame reads a frame header (the payload of SOF0, SOF1 or SOF2) as
// the scaled decoder takes it: 8-bit samples, one component or three that
// are not RGB, sampling factors of 1 to 4, at most MaxPixels. ok is false
// for anything else, which is left to image/jpeg.
func parseFrame(seg []byte) (comps []jcomp, width, height int, ok bool) {
	if len(seg) < 6 || seg[0] != 8 {
		return nil, 0, 0, false
	}
	height, width = int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:]))
	if int64(width)*int64(height) > MaxPixels {
		return nil, 0, 0, false
	}
	nf := int(seg[5])
	if (nf != 1 && nf != 3) || len(seg) < 6+3*nf || width == 0 || height == 0 {
		return nil, 0, 0, false
	}
	for c := range nf {
		p := seg[6+3*c:]
		jc := jcomp{id: int(p[0]), h: int(p[1] >> 4), v: int(p[1] & 15), tq: int(p[2])}
		if jc.h < 1 || jc.h > 4 || jc.v < 1 || jc.v > 4 || jc.tq > 3 {
			return nil, 0, 0, false
		}
		if nf == 1 {
			jc.h, jc.v = 1, 1 // a lone component's scan has one block per MCU
		}
		comps = append(comps, jc)
	}
	if nf == 3 && comps[0].id == 'R' && comps[1].id == 'G' && comps[2].id == 'B' {
		return nil, 0, 0, false
	}
	return comps, width, height, true
}

func decodeScan(entropy, sos []byte, comps []jcomp, width, height, n, restartN int,
	quant *[4][64]int32, qDefined [4]bool, dc, ac *[4]huffman) (source, error) {
	if len(sos) < 1 {
		return source{}, errFallback
	}
	ns := int(sos[0])
	if ns != len(comps) || len(sos) < 1+2*ns+3 {
		return source{}, errFallback // non-interleaved multi-scan baseline
	}
	for s := range ns {
		id, tables := int(sos[1+2*s]), sos[2+2*s]
		if comps[s].id != id {
			return source{}, errFallback
		}
		comps[s].td, comps[s].ta = int(tables>>4), int(tables&15)
		if comps[s].td > 3 || comps[s].ta > 3 || !dc[comps[s].td].defined || !ac[comps[s].ta].defined || !qDefined[comps[s].tq] {
			return source{}, errFallback
		}
	}
	if p := sos[1+2*ns:]; p[0] != 0 || p[1] != 63 || p[2] != 0 {
		return source{}, errFallback
	}
	if !lumaFirst(comps) {
		return source{}, errFallback
	}
	_, _, mcusX, mcusY := mcuGrid(comps, width, height)
	var slots [9]*[64]int8 // by samples per block
	for ci := range comps {
		c := &comps[ci]
		if c.n == 0 {
			c.n = n
		}
		c.out = newPlane(mcusX*c.h*c.n, mcusY*c.v*c.n)
		slots[c.n] = lowSlots(c.n)
	}

	r := bitReader{data: entropy}
	var cf [64]int32 // the low n×n dequantized coefficients, row-major
	block := func(c *jcomp, bx, by int) bool {
		n, slot := c.n, slots[c.n]
		q := &quant[c.tq]
		t, ok := r.decode(&dc[c.td])
		if !ok || t > 16 {
			return false
		}
		c.pred += r.receive(uint(t))
		clear(cf[:n*n])
		cf[0] = c.pred * q[0]
		onlyDC := true
		h := &ac[c.ta]
		for k := 1; k < 64; k++ {
			if r.n < lutBits {
				r.fill()
			}
			if f := h.fast[r.acc>>(64-lutBits)]; f != 0 {
				l := uint(f & 31)
				r.acc <<= l
				r.n -= l
				if f>>16 == 0 { // EOB, or ZRL: sixteen zeros
					if f>>8&15 != 15 {
						break
					}
					k += 15
					continue
				}
				k += int(f>>8) & 15
				if k > 63 {
					return false
				}
				if s := slot[k]; s >= 0 {
					cf[s] = f >> 16 * q[k]
					onlyDC = false
				}
				continue
			}
			rs, ok := r.decode(h)
			if !ok {
				return false
			}
			run, size := int(rs>>4), uint(rs&15)
			if size == 0 {
				if run != 15 {
					break
				}
				k += 15
				continue
			}
			k += run
			if k > 63 {
				return false
			}
			v := r.receive(size)
			if s := slot[k]; s >= 0 {
				cf[s] = v * q[k]
				onlyDC = false
			}
		}
		putBlock(&c.out, bx, by, n, &cf, onlyDC)
		return true
	}

	mcu := 0
	for my := range mcusY {
		for mx := range mcusX {
			if restartN > 0 && mcu > 0 && mcu%restartN == 0 {
				if !r.restart() {
					return source{}, errFallback
				}
				for ci := range comps {
					comps[ci].pred = 0
				}
			}
			mcu++
			for ci := range comps {
				c := &comps[ci]
				for v := range c.v {
					for h := range c.h {
						if !block(c, mx*c.h+h, my*c.v+v) {
							return source{}, errFallback
						}
					}
				}
			}
			if r.eof {
				return source{}, errFallback // truncated: let image/jpeg say so
			}
		}
	}

	return planesSource(comps, width, height, n)
}

// chromaBlocks picks a smaller decode for full-resolution chroma (4:4:4,
// which vips and cameras write at quality 90 and up) when the rendition's
// 4:2:0 chroma, ctw×cth, needs less of it: a 1920–2559 px photo's chroma
// (for 1280) at 4/8 instead of 6/8, by the rule that picks luma's
// (jpegBlock). The smaller IDCT and planes skip a box shrink
// after the decode too: chroma was half the filters' work for a quarter
// of the detail anyone sees.
func chromaBlocks(comps []jcomp, width, height, n, ctw, cth int) {
	if len(comps) != 3 || ctw <= 0 || cth <= 0 {
		return
	}
	for ci := 1; ci < 3; ci++ {
		if comps[ci].h != comps[0].h || comps[ci].v != comps[0].v {
			return // subsampled chroma already shrinks with luma
		}
	}
	nc := min(n, jpegBlock(width, height, ctw, cth))
	comps[1].n, comps[2].n = nc, nc
}

// putBlock writes the n×n samples of block (bx, by) of out from its low
// dequantized coefficients cf: one flat value when only the DC term is set
// (most blocks of a photo at small scales) or n is 1, the reduced IDCT
// otherwise. Baseline and progressive decoding both end here, so the same
// coefficients give the same bytes whichever way the file was sent.
func putBlock(out *plane, bx, by, n int, cf *[64]int32, onlyDC bool) {
	off := by*n*out.stride + bx*n
	if onlyDC || n == 1 {
		v := uint8(min(max((cf[0]+4)>>3+128, 0), 255))
		for y := range n {
			row := out.pix[off+y*out.stride:]
			row = row[:n]
			for x := range row {
				row[x] = v
			}
		}
		return
	}
	idct(cf, n, out.pix[off:], out.stride)
}

// lowSlots maps each zig-zag index to its place among the low n×n
// coefficients the reduced IDCT reads (row-major), or -1.
func lowSlots(n int) *[64]int8 {
	var s [64]int8
	for k := range 64 {
		s[k] = -1
		if z := unzig[k]; int(z&7) < n && int(z>>3) < n {
			s[k] = int8(int(z>>3)*n + int(z&7))
		}
	}
	return &s
}

// mcuGrid returns the largest sampling factors of comps and how many MCUs
// (of 8·hmax × 8·vmax pixels) cover a width×height frame across and down.
func mcuGrid(comps []jcomp, width, height int) (hmax, vmax, mcusX, mcusY int) {
	hmax, vmax = 1, 1
	for _, c := range comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	return hmax, vmax, (width + 8*hmax - 1) / (8 * hmax), (height + 8*vmax - 1) / (8 * vmax)
}

// lumaFirst reports whether the first component is the full-resolution
// plane, as every photo has it (the planes' geometry assumes it).
func lumaFirst(comps []jcomp) bool {
	for _, c := range comps {
		if c.h > comps[0].h || c.v > comps[0].v {
			return false
		}
	}
	return true
}

// planesSource describes the decoded planes of comps (each out holding
// its blocks at n×n pixels) as a source.
func planesSource(comps []jcomp, width, height, n int) (source, error) {
	hmax, vmax := comps[0].h, comps[0].v
	scale := 8 / float64(n)
	cscale := scale
	if len(comps) == 3 && comps[1].n != 0 {
		if comps[2].n != comps[1].n {
			return source{}, errFallback
		}
		cscale = 8 / float64(comps[1].n)
	}
	y := comps[0]
	gw, gh := float64(width)/scale, float64(height)/scale
	src := source{
		y: plane{w: int(math.Ceil(gw)), h: int(math.Ceil(gh)), stride: y.out.stride, pix: y.out.pix},
		w: width, h: height, gw: gw, gh: gh,
	}
	if len(comps) == 3 {
		cgw := float64(width) * float64(comps[1].h) / float64(hmax) / cscale
		cgh := float64(height) * float64(comps[1].v) / float64(vmax) / cscale
		if comps[2].h != comps[1].h || comps[2].v != comps[1].v {
			return source{}, errFallback
		}
		cw, ch := int(math.Ceil(cgw)), int(math.Ceil(cgh))
		src.cb = plane{w: cw, h: ch, stride: comps[1].out.stride, pix: comps[1].out.pix}
		src.cr = plane{w: cw, h: ch, stride: comps[2].out.stride, pix: comps[2].out.pix}
		src.cgw, src.cgh, src.hasChroma = cgw, cgh, true
	}
	return src, nil
}
