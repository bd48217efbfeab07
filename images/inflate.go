package images

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"sync"
)

// inflater decodes a zlib stream (RFC 1950, 1951) split across segments —
// a PNG's IDAT payloads, read in place — a window at a time: more fills
// out up to a limit, the caller takes what it needs and slides the last
// 32 KiB (the longest distance back) to the front, so a 12 MP PNG's 36 MB
// of rows never sit in memory at once. It exists for speed:
// compress/flate reads its input a byte at a time through an interface
// and its Huffman codes a bit at a time, and was two thirds of a PNG
// render's CPU. This one keeps 56–63 bits of input in a register, finds a
// literal or a length in one table lookup, and copies a match 8 bytes at a
// time.
//
// Any error means only that this decoder did not produce the image: the
// caller decodes the file again with image/png, which gives the verdict,
// so inflate may refuse what compress/flate accepts (never the reverse)
// and its errors need no detail.
func newInflater(segs [][]byte, out []byte) *inflater {
	f := &inflater{segs: segs, out: out}
	if len(segs) > 0 {
		f.in = segs[0]
	}
	return f
}

// inflateSlack is how far past its limit more may write: one match, and
// the 8 bytes its last copy step may spill.
const inflateSlack = 258 + 8

// inflateRows decodes a stream that must be rows rows of stride bytes,
// handing each to row in turn (the slice is valid until row returns), in a
// window of the last 32 KiB, the row being made, and chunk bytes more.
func inflateRows(segs [][]byte, stride, rows, chunk int, row func([]byte)) error {
	const history = 32 << 10
	buf := make([]byte, history+stride+max(chunk, stride)+inflateSlack)
	limit := len(buf) - inflateSlack
	f := newInflater(segs, buf)
	sum, start, done := uint32(1), 0, 0
	for {
		if err := f.more(limit); err != nil {
			return err
		}
		for ; done < rows && f.op-start >= stride; done++ {
			r := buf[start : start+stride]
			sum = adler32Update(sum, r)
			row(r)
			start += stride
		}
		if done == rows && f.op > start {
			return errInflate // more than the image: image/png refuses it
		}
		if f.done {
			break
		}
		keep := min(start, f.op-history) // limit > history+stride: keep > 0
		copy(buf, buf[keep:f.op])
		f.op -= keep
		start -= keep
	}
	if done != rows || f.sum != sum {
		return errInflate
	}
	return nil
}

var errInflate = errors.New("inflate: stream not decoded")

const (
	litPrimary  = 11 // bits of the first litlen lookup; longer codes go to a subtable
	distPrimary = 8
	maxCodeLen  = 15

	// Entry layout: bits 0–3 the bits to consume, 4–7 the extra bits that
	// follow (or a subtable's index bits), 8–15 the kind, 16–31 the value
	// (literal byte, length or distance base, subtable offset).
	kindLit  = 1 << 8
	kindEOB  = 2 << 8
	kindSub  = 4 << 8
	kindBad  = 8 << 8
	kindCopy = 0 // a length or a distance: base and extra bits

	litTableSize  = 1<<litPrimary + 288<<(maxCodeLen-litPrimary)
	distTableSize = 1<<distPrimary + 32<<(maxCodeLen-distPrimary)
)

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// The order code-length code lengths come in (RFC 1951 3.2.7).
	clenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func litEntry(sym int) uint32 {
	switch {
	case sym < 256:
		return kindLit | uint32(sym)<<16
	case sym == 256:
		return kindEOB
	case sym < 286:
		i := sym - 257
		return kindCopy | uint32(lengthBase[i])<<16 | uint32(lengthExtra[i])<<4
	}
	return kindBad
}

func distEntry(sym int) uint32 {
	if sym < 30 {
		return kindCopy | uint32(distBase[sym])<<16 | uint32(distExtra[sym])<<4
	}
	return kindBad
}

type inflater struct {
	segs [][]byte
	si   int    // index of in in segs
	in   []byte // the segment being read
	pos  int
	bits uint64 // input bits, least significant first; valid ones counted by nb
	nb   uint
	pad  int // zero bytes supplied past the end of the input
	out  []byte
	op   int

	state  int // what comes next: a zlib header, a block, a block's rest, the trailer
	final  bool
	stored int // bytes left in a stored block
	lt     *[litTableSize]uint32
	dt     *[distTableSize]uint32
	done   bool   // the stream has ended, and so has the input
	sum    uint32 // the Adler-32 the stream ends with, for the caller to check

	lit  [litTableSize]uint32
	dist [distTableSize]uint32
	lens [288 + 32]uint8
}

// refillSlow tops the bit buffer up a byte at a time, across segment ends,
// with zeros past the end of the input (counted in pad, so that a stream
// that consumes them is refused).
func (f *inflater) refillSlow() {
	f.bits &= 1<<f.nb - 1
	for f.nb <= 56 {
		for f.pos >= len(f.in) && f.si+1 < len(f.segs) {
			f.si++
			f.in, f.pos = f.segs[f.si], 0
		}
		var b byte
		if f.pos < len(f.in) {
			b = f.in[f.pos]
			f.pos++
		} else {
			f.pad++
		}
		f.bits |= uint64(b) << f.nb
		f.nb += 8
	}
}

func (f *inflater) refill() {
	if f.pos+8 <= len(f.in) {
		f.bits |= binary.LittleEndian.Uint64(f.in[f.pos:]) << f.nb
		f.pos += int((63 - f.nb) >> 3)
		f.nb |= 56
		return
	}
	f.refillSlow()
}

// take returns the next n (≤ 32) bits; the buffer holds at least n.
func (f *inflater) take(n uint) uint32 {
	v := uint32(f.bits & (1<<n - 1))
	f.bits >>= n
	f.nb -= n
	return v
}

// overrun reports whether the decoder has consumed zeros from past the end.
func (f *inflater) overrun() bool { return f.pad > int(f.nb/8) }

const (
	stHeader = iota
	stBlock
	stStored
	stHuffman
	stTrailer
)

// more decodes until out holds limit bytes (up to inflateSlack more) or the
// stream ends (done). limit+inflateSlack must fit in out.
func (f *inflater) more(limit int) error {
	for !f.done && f.op < limit {
		switch f.state {
		case stHeader:
			f.refill()
			cmf, flg := f.take(8), f.take(8)
			if cmf&0x0f != 8 || cmf>>4 > 7 || (cmf<<8|flg)%31 != 0 || flg&0x20 != 0 {
				return errInflate
			}
			f.state = stBlock
		case stBlock:
			f.refill()
			f.final = f.take(1) == 1
			switch f.take(2) {
			case 0:
				f.take(f.nb % 8)
				f.refill()
				n, nn := f.take(16), f.take(16)
				if n != ^nn&0xffff {
					return errInflate
				}
				f.stored, f.state = int(n), stStored
			case 1:
				fixedOnce()
				f.lt, f.dt, f.state = &fixedLit, &fixedDist, stHuffman
			case 2:
				if err := f.dynamic(); err != nil {
					return err
				}
				f.lt, f.dt, f.state = &f.lit, &f.dist, stHuffman
			default:
				return errInflate
			}
		case stStored:
			if err := f.copyStored(limit); err != nil {
				return err
			}
			if f.stored == 0 {
				f.state = f.next()
			}
		case stHuffman:
			eob, err := f.huffman(limit)
			if err != nil {
				return err
			}
			if eob {
				f.state = f.next()
			}
		case stTrailer:
			if err := f.trailer(); err != nil {
				return err
			}
			f.done = true
		}
		if f.overrun() {
			return errInflate
		}
	}
	return nil
}

func (f *inflater) next() int {
	if f.final {
		return stTrailer
	}
	return stBlock
}

// trailer reads the Adler-32 after the last block, byte-aligned, which must
// end the input: image/png refuses trailing bytes in the last IDAT.
func (f *inflater) trailer() error {
	f.take(f.nb % 8)
	f.refill()
	f.sum = f.take(8)<<24 | f.take(8)<<16 | f.take(8)<<8 | f.take(8)
	if f.overrun() || f.nb/8 != uint(f.pad) {
		return errInflate
	}
	for f.pos < len(f.in) || f.si+1 < len(f.segs) {
		if f.pos < len(f.in) {
			return errInflate
		}
		f.si++
		f.in, f.pos = f.segs[f.si], 0
	}
	return nil
}

// copyStored copies a stored block's bytes, up to limit: first what is
// left in the bit buffer, then straight from the segments.
func (f *inflater) copyStored(limit int) error {
	n := min(f.stored, max(0, limit-f.op))
	f.stored -= n
	for ; n > 0 && f.nb >= 8; n-- {
		if f.pad >= int(f.nb/8) {
			return errInflate
		}
		f.out[f.op] = byte(f.take(8))
		f.op++
	}
	if n == 0 {
		return nil
	}
	f.bits, f.nb = 0, 0 // drained: nb was a multiple of 8
	for n > 0 {
		if f.pos >= len(f.in) {
			if f.si+1 >= len(f.segs) {
				return errInflate
			}
			f.si++
			f.in, f.pos = f.segs[f.si], 0
			continue
		}
		c := copy(f.out[f.op:f.op+n], f.in[f.pos:])
		f.op += c
		f.pos += c
		n -= c
	}
	return nil
}

func (f *inflater) dynamic() error {
	f.refill()
	nlit, ndist, nclen := int(f.take(5))+257, int(f.take(5))+1, int(f.take(4))+4
	if nlit > 286 || ndist > 30 {
		return errInflate
	}
	var clen [19]uint8
	for i := range nclen {
		if f.nb < 3 {
			f.refill()
		}
		clen[clenOrder[i]] = uint8(f.take(3))
	}
	// The code-length code is at most 7 bits: one direct table.
	var ct [1 << 7]uint32
	if !buildTable(ct[:], clen[:], 7, func(s int) uint32 { return uint32(s) << 16 }) {
		return errInflate
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		if f.nb < 7+7 {
			f.refill()
		}
		e := ct[f.bits&127]
		if e&kindBad != 0 {
			return errInflate
		}
		f.take(uint(e & 15))
		sym := e >> 16
		var rep int
		var val uint8
		switch {
		case sym < 16:
			lens[i] = uint8(sym)
			i++
			continue
		case sym == 16:
			if i == 0 {
				return errInflate
			}
			val, rep = lens[i-1], 3+int(f.take(2))
		case sym == 17:
			rep = 3 + int(f.take(3))
		default:
			rep = 11 + int(f.take(7))
		}
		if i+rep > len(lens) {
			return errInflate
		}
		for ; rep > 0; rep-- {
			lens[i] = val
			i++
		}
	}
	if lens[256] == 0 {
		return errInflate
	}
	if !buildTable(f.lit[:], lens[:nlit], litPrimary, litEntry) ||
		!buildTable(f.dist[:], lens[nlit:], distPrimary, distEntry) {
		return errInflate
	}
	return nil
}

// buildTable fills t with the canonical Huffman code of lengths (RFC 1951
// 3.2.2), indexed by the next primary input bits (codes are sent most
// significant bit first, so an index is a code reversed). Codes longer
// than primary point to a subtable of 1<<(maxLen-primary) entries indexed
// by the bits after. Like compress/flate it accepts a complete code, an
// empty one, or a single code of one bit; unused entries decode as bad.
func buildTable(t []uint32, lengths []uint8, primary uint, entry func(int) uint32) bool {
	var count [maxCodeLen + 1]int
	maxLen := 0
	for _, l := range lengths {
		if l != 0 {
			count[l]++
			maxLen = max(maxLen, int(l))
		}
	}
	var next [maxCodeLen + 1]int
	code := 0
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	c := next[maxLen] + count[maxLen]
	if maxLen == 0 || c != 1<<maxLen {
		if maxLen != 0 && !(c == 1 && maxLen == 1) {
			return false
		}
		// Empty, or one code of one bit: the entries no code fills are bad.
		// A complete code fills every entry, so only these are cleared.
		for i := range t[:1<<primary] {
			t[i] = kindBad
		}
	}
	sub := uint(0)
	if uint(maxLen) > primary {
		sub = uint(maxLen) - primary
	}
	used := 1 << primary                    // next free subtable offset
	var hasSub [1 << litPrimary / 64]uint64 // primary entries pointing to a subtable
	for s, l := range lengths {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		r := int(bits.Reverse16(uint16(c)) >> (16 - l))
		e := entry(s)
		if uint(l) <= primary {
			for i := r; i < 1<<primary; i += 1 << l {
				t[i] = e | uint32(l)
			}
			continue
		}
		p := r & (1<<primary - 1)
		if hasSub[p/64]&(1<<(p%64)) == 0 {
			if used+1<<sub > len(t) {
				return false
			}
			hasSub[p/64] |= 1 << (p % 64)
			t[p] = kindSub | uint32(used)<<16 | uint32(sub)<<4 | uint32(primary)
			for i := range t[used : used+1<<sub] {
				t[used+i] = kindBad
			}
			used += 1 << sub
		}
		off := int(t[p] >> 16)
		rest := uint(l) - primary
		for i := r >> primary; i < 1<<sub; i += 1 << rest {
			t[off+i] = e | uint32(rest)
		}
	}
	return true
}

var (
	fixedLit  [litTableSize]uint32
	fixedDist [distTableSize]uint32
	fixedInit sync.Once
)

// fixedOnce builds the fixed code of RFC 1951 3.2.6 on first use; renders
// run on several goroutines at once, so it is guarded by a once.
func fixedOnce() { fixedInit.Do(buildFixed) }

func buildFixed() {
	var l [288 + 32]uint8
	for i := range 288 {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	for i := 288; i < 320; i++ {
		l[i] = 5
	}
	buildTable(fixedLit[:], l[:288], litPrimary, litEntry)
	buildTable(fixedDist[:], l[288:], distPrimary, distEntry)
}

// huffman decodes a block's symbols with the tables in f.lt and f.dt
// until its end (eob) or until out holds limit bytes. The hot loop keeps
// the bit buffer, input and output positions in locals, written back only
// around the slow refill; one refill gives 56 bits, enough for a length,
// a distance and their extra bits (48).
func (f *inflater) huffman(limit int) (eob bool, err error) {
	lt, dt := f.lt, f.dt
	out, op := f.out, f.op
	in, pos, bb, nb := f.in, f.pos, f.bits, f.nb
	for op < limit {
		if pos+8 <= len(in) {
			bb |= binary.LittleEndian.Uint64(in[pos:]) << nb
			pos += int((63 - nb) >> 3)
			nb |= 56
		} else {
			f.pos, f.bits, f.nb = pos, bb, nb
			f.refillSlow()
			if f.pad > 16 {
				return false, errInflate
			}
			in, pos, bb, nb = f.in, f.pos, f.bits, f.nb
		}
		e := lt[bb&(1<<litPrimary-1)]
		if e&kindSub != 0 {
			bb >>= litPrimary
			nb -= litPrimary
			e = lt[uint(e>>16)+uint(bb&(1<<(e>>4&15)-1))]
		}
		c := uint(e & 15)
		bb >>= c
		nb -= c
		if e&kindLit != 0 {
			out[op] = byte(e >> 16)
			op++
			// More literals while the buffer still holds a longest code.
			for nb >= maxCodeLen && op < limit {
				e = lt[bb&(1<<litPrimary-1)]
				if e&(kindLit|kindSub) != kindLit {
					break
				}
				c = uint(e & 15)
				bb >>= c
				nb -= c
				out[op] = byte(e >> 16)
				op++
			}
			continue
		}
		if e&kindEOB != 0 {
			f.in, f.pos, f.bits, f.nb, f.op = in, pos, bb, nb, op
			return true, nil
		}
		if e&kindBad != 0 {
			return false, errInflate
		}
		x := uint(e >> 4 & 15)
		length := int(e>>16) + int(bb&(1<<x-1))
		bb >>= x
		nb -= x
		e = dt[bb&(1<<distPrimary-1)]
		if e&kindSub != 0 {
			bb >>= distPrimary
			nb -= distPrimary
			e = dt[uint(e>>16)+uint(bb&(1<<(e>>4&15)-1))]
		}
		if e&kindBad != 0 {
			return false, errInflate
		}
		c = uint(e & 15)
		bb >>= c
		nb -= c
		x = uint(e >> 4 & 15)
		dist := int(e>>16) + int(bb&(1<<x-1))
		bb >>= x
		nb -= x
		if dist > op {
			return false, errInflate // before the stream's start: the window keeps 32 KiB
		}
		if dist >= 8 {
			// Each 8 bytes read were written before: the source ends at
			// or before the destination starts. op < limit leaves room
			// for the spill (inflateSlack).
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(out[op+i:], binary.LittleEndian.Uint64(out[op-dist+i:]))
			}
		} else {
			for i := range length {
				out[op+i] = out[op-dist+i]
			}
		}
		op += length
	}
	f.in, f.pos, f.bits, f.nb, f.op = in, pos, bb, nb, op
	return false, nil
}

// adler32Update is hash/adler32's checksum carried on from sum over p,
// eight bytes a step: 16-bit lanes of a word times a word of weights put
// the lanes' weighted sum in the top lane (no lane carries: 255·(8+7+…+1)
// < 1<<16), so a byte costs about two instructions instead of five. The
// rows of a 12 MP PNG are 36 MB.
func adler32Update(sum uint32, p []byte) uint32 {
	const (
		mod   = 65521
		lanes = 0x00ff00ff00ff00ff
		ones  = 0x0001000100010001
		wEven = 8<<48 | 6<<32 | 4<<16 | 2 // bytes 0, 2, 4, 6 of a word
		wOdd  = 7<<48 | 5<<32 | 3<<16 | 1 // bytes 1, 3, 5, 7
	)
	s1, s2 := uint64(sum&0xffff), uint64(sum>>16)
	for len(p) >= 8 {
		n := min(len(p)&^7, 1<<16) // s2 stays far below 1<<64 between reductions
		for q := p[:n]; len(q) >= 8; q = q[8:] {
			w := binary.LittleEndian.Uint64(q)
			e, o := w&lanes, w>>8&lanes
			s2 += 8*s1 + (e*wEven+o*wOdd)>>48
			s1 += (e + o) * ones >> 48
		}
		s1, s2 = s1%mod, s2%mod
		p = p[n:]
	}
	for _, b := range p {
		s1 += uint64(b)
		s2 += s1
	}
	return uint32(s2%mod)<<16 | uint32(s1%mod)
}
