package images

// The rendition's encoder. image/jpeg.Encode spent about a fifth of a
// render: it fetches every pixel through YCbCr.YOffset/COffset, reads each
// chroma sample four times and averages it back, divides every coefficient,
// and pushes the entropy bits out a byte at a time. encodeJPEG writes the
// same kind of file (baseline, 4:2:0 or gray, image/jpeg's own headers,
// quantisation and Huffman tables, which it reads back from a tiny
// image/jpeg encode so there is one copy of them) from the planes process
// made: 8×8 blocks straight from the planes, the islow integer DCT,
// quantisation by an exact reciprocal, and a 64-bit bit buffer. The DCT
// is not image/jpeg's, so the bytes differ from image/jpeg's by rounding;
// jpegenc_test.go holds it to image/jpeg's quality.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"math/bits"
	"sync"
)

// encodeJPEG returns img as a baseline JPEG of the given quality (1..100).
// Pictures other than the Gray and 4:2:0 YCbCr that process makes go to
// image/jpeg.
func encodeJPEG(img image.Image, quality int) ([]byte, error) {
	var gray bool
	switch m := img.(type) {
	case *image.Gray:
		gray = true
		if m.Rect.Min != (image.Point{}) {
			return stdEncode(img, quality)
		}
	case *image.YCbCr:
		if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || m.Rect.Min != (image.Point{}) {
			return stdEncode(img, quality)
		}
	default:
		return stdEncode(img, quality)
	}
	b := img.Bounds()
	if b.Dx() >= 1<<16 || b.Dy() >= 1<<16 {
		return nil, fmt.Errorf("image is too large to encode as jpeg (%d×%d)", b.Dx(), b.Dy())
	}
	t, err := tablesFor(quality, gray)
	if err != nil {
		return nil, err
	}
	// About a bit per pixel at quality 85; append grows it if not.
	e := entropyWriter{out: make([]byte, 0, len(t.header)+b.Dx()*b.Dy()/6+1024)}
	e.out = append(e.out, t.header...)
	binary.BigEndian.PutUint16(e.out[t.sofSize:], uint16(b.Dy()))
	binary.BigEndian.PutUint16(e.out[t.sofSize+2:], uint16(b.Dx()))
	var blk [64]int32
	if m, ok := img.(*image.Gray); ok {
		var dc int32
		for y := 0; y < b.Dy(); y += 8 {
			for x := 0; x < b.Dx(); x += 8 {
				loadBlock(&blk, m.Pix, m.Stride, b.Dx(), b.Dy(), x, y)
				dc = e.block(&blk, &t.comp[0], dc)
			}
		}
	} else {
		m := img.(*image.YCbCr)
		cw, ch := (b.Dx()+1)/2, (b.Dy()+1)/2
		var dcY, dcCb, dcCr int32
		for y := 0; y < b.Dy(); y += 16 {
			for x := 0; x < b.Dx(); x += 16 {
				for i := range 4 {
					loadBlock(&blk, m.Y, m.YStride, b.Dx(), b.Dy(), x+(i&1)*8, y+(i>>1)*8)
					dcY = e.block(&blk, &t.comp[0], dcY)
				}
				loadBlock(&blk, m.Cb, m.CStride, cw, ch, x/2, y/2)
				dcCb = e.block(&blk, &t.comp[1], dcCb)
				loadBlock(&blk, m.Cr, m.CStride, cw, ch, x/2, y/2)
				dcCr = e.block(&blk, &t.comp[1], dcCr)
			}
		}
	}
	e.pad()
	return append(e.out, 0xff, 0xd9), nil
}

func stdEncode(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality})
	return buf.Bytes(), err
}

// loadBlock copies the 8×8 block at (x, y) of a w×h plane into blk,
// repeating the last row and column where the block overhangs the edge (as
// image/jpeg does).
func loadBlock(blk *[64]int32, pix []byte, stride, w, h, x, y int) {
	if x+8 <= w && y+8 <= h {
		for j := range 8 {
			r := pix[(y+j)*stride+x:]
			r = r[:8]
			d := blk[j*8 : j*8+8 : j*8+8]
			d[0], d[1], d[2], d[3] = int32(r[0]), int32(r[1]), int32(r[2]), int32(r[3])
			d[4], d[5], d[6], d[7] = int32(r[4]), int32(r[5]), int32(r[6]), int32(r[7])
		}
		return
	}
	for j := range 8 {
		r := pix[min(y+j, h-1)*stride:]
		for i := range 8 {
			blk[j*8+i] = int32(r[min(x+i, w-1)])
		}
	}
}

// encTables is what encodeJPEG needs for one quality and component count.
type encTables struct {
	header  []byte // SOI to the end of the SOS header, from image/jpeg
	sofSize int    // offset of SOF0's height in header (the width follows)
	comp    [2]compTables
}

// compTables are one component's quantiser and Huffman codes.
type compTables struct {
	recip [64]uint32 // by natural index: 2^32/divisor, rounded up (exact, see quantize)
	half  [64]uint32 // divisor/2, for rounding to nearest
	dc    [12]uint32 // code<<8 | length, by size category
	ac    [256]uint32
}

var encCache sync.Map // quality<<1 | gray → *encTables

func tablesFor(quality int, gray bool) (*encTables, error) {
	quality = min(max(quality, 1), 100)
	key := quality << 1
	if gray {
		key |= 1
	}
	if t, ok := encCache.Load(key); ok {
		return t.(*encTables), nil
	}
	t, err := readTables(quality, gray)
	if err != nil {
		return nil, err
	}
	encCache.Store(key, t)
	return t, nil
}

// readTables encodes a 16×16 picture with image/jpeg and reads its headers
// back: the quantisation and Huffman tables are image/jpeg's, whatever they
// are in this Go release.
func readTables(quality int, gray bool) (*encTables, error) {
	var img image.Image = image.NewYCbCr(image.Rect(0, 0, 16, 16), image.YCbCrSubsampleRatio420)
	if gray {
		img = image.NewGray(image.Rect(0, 0, 16, 16))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("jpeg tables: %w", err)
	}
	d := buf.Bytes()
	t := &encTables{}
	var quant [4][64]uint16 // by table id, zig-zag order
	var huff [2][2]struct {
		count [16]byte
		value []byte
	} // [class][id]
	var sofComp [3]byte // quantiser id of each component
	var sosTables [3]byte
	bad := func(what string) (*encTables, error) {
		return nil, fmt.Errorf("jpeg tables: unexpected image/jpeg output (%s)", what)
	}
	if len(d) < 4 || d[0] != 0xff || d[1] != 0xd8 {
		return bad("no SOI")
	}
	for p := 2; ; {
		if p+4 > len(d) || d[p] != 0xff {
			return bad("marker")
		}
		marker, n := d[p+1], int(binary.BigEndian.Uint16(d[p+2:]))
		if p+2+n > len(d) || n < 2 {
			return bad("segment length")
		}
		seg := d[p+4 : p+2+n]
		switch marker {
		case 0xdb: // DQT
			for len(seg) >= 65 {
				if seg[0]>>4 != 0 || seg[0]&15 > 3 {
					return bad("16-bit quantiser")
				}
				for k := range 64 {
					quant[seg[0]&15][k] = uint16(seg[1+k])
				}
				seg = seg[65:]
			}
		case 0xc4: // DHT
			for len(seg) >= 17 {
				class, id := seg[0]>>4, seg[0]&15
				if class > 1 || id > 1 {
					return bad("huffman table id")
				}
				h := &huff[class][id]
				copy(h.count[:], seg[1:17])
				total := 0
				for _, c := range h.count {
					total += int(c)
				}
				if len(seg) < 17+total {
					return bad("huffman table length")
				}
				h.value = seg[17 : 17+total]
				seg = seg[17+total:]
			}
		case 0xc0: // SOF0
			t.sofSize = p + 5
			if len(seg) < 6 {
				return bad("SOF0")
			}
			for c := range min(int(seg[5]), 3) {
				if len(seg) >= 6+3*c+3 {
					sofComp[c] = seg[6+3*c+2]
				}
			}
		case 0xda: // SOS
			for c := range min(int(seg[0]), 3) {
				sosTables[c] = seg[1+2*c+1]
			}
			t.header = append([]byte(nil), d[:p+2+n]...)
			for c := range 2 { // luma, then chroma (Cb and Cr share, as in image/jpeg)
				if gray && c == 1 {
					break
				}
				ct := &t.comp[c]
				q := quant[sofComp[c]&3]
				for k := range 64 {
					div := 8 * uint32(q[k]) // the islow DCT's output is 8× the coefficient
					ct.recip[zigzag[k]] = uint32((1<<32 + uint64(div) - 1) / uint64(div))
					ct.half[zigzag[k]] = div / 2
				}
				dcID, acID := sosTables[c]>>4, sosTables[c]&15
				if dcID > 1 || acID > 1 {
					return bad("scan table id")
				}
				huffCodes(ct.dc[:], huff[0][dcID].count, huff[0][dcID].value)
				huffCodes(ct.ac[:], huff[1][acID].count, huff[1][acID].value)
			}
			return t, nil
		}
		p += 2 + n
	}
}

// huffCodes fills codes (by symbol) with the canonical code of each symbol
// of a DHT table, as code<<8 | length.
func huffCodes(codes []uint32, count [16]byte, value []byte) {
	code, k := uint32(0), 0
	for n := range 16 {
		for range count[n] {
			if int(value[k]) < len(codes) {
				codes[value[k]] = code<<8 | uint32(n+1)
			}
			code++
			k++
		}
		code <<= 1
	}
}

// zigzag is the natural (row-major) index of each zig-zag position.
var zigzag = [64]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// entropyWriter appends the Huffman-coded scan to out.
type entropyWriter struct {
	out  []byte
	acc  uint64 // pending bits, the low n of them
	n    uint
	coef [64]int32
}

// put appends the low size bits of v (size ≤ 32, and n stays below 32
// between calls, so acc never overflows).
func (e *entropyWriter) put(v uint32, size uint) {
	e.acc = e.acc<<size | uint64(v)
	e.n += size
	if e.n < 32 {
		return
	}
	e.n -= 32
	w := uint32(e.acc >> e.n)
	// A 0xFF byte in the scan is followed by a stuffed 0x00 (T.81 F.1.2.3).
	// (A byte's top bit survives both masks only when it is 0xFF.)
	if w&((w&0x7f7f7f7f)+0x01010101)&0x80808080 == 0 {
		e.out = binary.BigEndian.AppendUint32(e.out, w)
		return
	}
	for s := 24; s >= 0; s -= 8 {
		b := byte(w >> s)
		e.out = append(e.out, b)
		if b == 0xff {
			e.out = append(e.out, 0)
		}
	}
}

// pad fills the last byte with 1 bits and flushes what is left.
func (e *entropyWriter) pad() {
	if r := e.n % 8; r != 0 {
		e.put(1<<(8-r)-1, 8-r)
	}
	for e.n > 0 {
		e.n -= 8
		b := byte(e.acc >> e.n)
		e.out = append(e.out, b)
		if b == 0xff {
			e.out = append(e.out, 0)
		}
	}
}

// block transforms, quantises and writes one 8×8 block, returning its
// quantised DC for the next block's difference.
func (e *entropyWriter) block(blk *[64]int32, t *compTables, prevDC int32) int32 {
	fdctIslow(blk)
	q := &e.coef
	for k := range 64 {
		q[k] = quantize(blk[k], t.recip[k], t.half[k])
	}
	dc := q[0]
	e.value(t.dc[:], 0, dc-prevDC)
	run := uint32(0)
	for k := 1; k < 64; k++ {
		v := q[zigzag[k]]
		if v == 0 {
			run++
			continue
		}
		for run > 15 {
			c := t.ac[0xf0]
			e.put(c>>8, uint(c&0xff))
			run -= 16
		}
		e.value(t.ac[:], run, v)
		run = 0
	}
	if run > 0 {
		c := t.ac[0x00]
		e.put(c>>8, uint(c&0xff))
	}
	return dc
}

// value writes the code of (run, size of v) and v's size extra bits.
func (e *entropyWriter) value(codes []uint32, run uint32, v int32) {
	a, extra := v, v
	if v < 0 {
		a, extra = -v, v-1
	}
	size := uint(bits.Len32(uint32(a)))
	c := codes[run<<4|uint32(size)]
	e.put(c>>8<<size|uint32(extra)&(1<<size-1), uint(c&0xff)+size)
}

// quantize is c divided by the divisor, rounded half away from zero (as
// image/jpeg rounds), by multiplying with recip = ceil(2^32/divisor): exact
// for |c| + divisor/2 below 2^32/divisor (2^21 for the largest divisor,
// 8·255; the DCT's output stays below 2^15), see TestQuantizeExact.
func quantize(c int32, recip, half uint32) int32 {
	if c < 0 {
		return -int32((uint64(uint32(-c)+half) * uint64(recip)) >> 32)
	}
	return int32((uint64(uint32(c)+half) * uint64(recip)) >> 32)
}

// The islow forward DCT (Loeffler, Ligtenberg and Moschytz's factorisation
// in 13-bit fixed point, as in the IJG's jfdctint.c). Its outputs are 8× the
// orthonormal DCT-II coefficients of the level-shifted samples.
const (
	constBits = 13
	pass1Bits = 2

	fix0298631336 = 2446
	fix0390180644 = 3196
	fix0541196100 = 4433
	fix0765366865 = 6270
	fix0899976223 = 7373
	fix1175875602 = 9633
	fix1501321110 = 12299
	fix1847759065 = 15137
	fix1961570560 = 16069
	fix2053119869 = 16819
	fix2562915447 = 20995
	fix3072711026 = 25172
)

func fdctIslow(b *[64]int32) {
	// Rows: results scaled up by 2^pass1Bits.
	for r := 0; r < 64; r += 8 {
		d := b[r : r+8 : r+8]
		t0, t7 := d[0]+d[7], d[0]-d[7]
		t1, t6 := d[1]+d[6], d[1]-d[6]
		t2, t5 := d[2]+d[5], d[2]-d[5]
		t3, t4 := d[3]+d[4], d[3]-d[4]
		t10, t13 := t0+t3, t0-t3
		t11, t12 := t1+t2, t1-t2
		d[0] = (t10 + t11 - 8*128) << pass1Bits // the level shift, done once on the DC
		d[4] = (t10 - t11) << pass1Bits
		e2, e6 := fdctEven(t12, t13)
		d[2], d[6] = descale(e2, constBits-pass1Bits), descale(e6, constBits-pass1Bits)
		o1, o3, o5, o7 := fdctOdd(t4, t5, t6, t7)
		d[1], d[3] = descale(o1, constBits-pass1Bits), descale(o3, constBits-pass1Bits)
		d[5], d[7] = descale(o5, constBits-pass1Bits), descale(o7, constBits-pass1Bits)
	}
	// Columns: the pass-1 scaling removed, leaving the 8× of the outputs.
	for c := range 8 {
		t0, t7 := b[c]+b[56+c], b[c]-b[56+c]
		t1, t6 := b[8+c]+b[48+c], b[8+c]-b[48+c]
		t2, t5 := b[16+c]+b[40+c], b[16+c]-b[40+c]
		t3, t4 := b[24+c]+b[32+c], b[24+c]-b[32+c]
		t10, t13 := t0+t3, t0-t3
		t11, t12 := t1+t2, t1-t2
		b[c] = descale(t10+t11, pass1Bits)
		b[32+c] = descale(t10-t11, pass1Bits)
		e2, e6 := fdctEven(t12, t13)
		b[16+c], b[48+c] = descale(e2, constBits+pass1Bits), descale(e6, constBits+pass1Bits)
		o1, o3, o5, o7 := fdctOdd(t4, t5, t6, t7)
		b[8+c], b[24+c] = descale(o1, constBits+pass1Bits), descale(o3, constBits+pass1Bits)
		b[40+c], b[56+c] = descale(o5, constBits+pass1Bits), descale(o7, constBits+pass1Bits)
	}
}

// fdctEven is the rotation of the even part: outputs 2 and 6, not descaled.
func fdctEven(t12, t13 int32) (e2, e6 int32) {
	z1 := (t12 + t13) * fix0541196100
	return z1 + t13*fix0765366865, z1 - t12*fix1847759065
}

// fdctOdd is the odd part: outputs 1, 3, 5 and 7, not descaled.
func fdctOdd(t4, t5, t6, t7 int32) (o1, o3, o5, o7 int32) {
	z1, z2, z3, z4 := t4+t7, t5+t6, t4+t6, t5+t7
	z5 := (z3 + z4) * fix1175875602
	z1 *= -fix0899976223
	z2 *= -fix2562915447
	z3 = z3*-fix1961570560 + z5
	z4 = z4*-fix0390180644 + z5
	return t7*fix1501321110 + z1 + z4, t6*fix3072711026 + z2 + z3,
		t5*fix2053119869 + z2 + z4, t4*fix0298631336 + z1 + z3
}

func descale(x int32, n uint) int32 { return (x + 1<<(n-1)) >> n }
