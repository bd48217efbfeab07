package images

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// decodePNG reads the PNGs cameras, phones and editors write for photos
// (8-bit grey, RGB or RGBA, not interlaced, no tRNS or palette) straight
// into planes for a tw×th rendition: the IDAT payloads are inflated in
// place (inflate.go) a window at a time, each row unfiltered as it comes
// and box-shrunk into Y, Cb and Cr (boxer), so neither the 36 MB of a
// 12 MP photo's rows nor an *image.RGBA is ever held. The planes are the
// ones image/png's decode gives toSource and rgbaSource, byte for byte
// (TestPNGReaderMatchesImagePNG, FuzzPNGReader).
//
// Anything else, and anything unusual in the file, is errFallback: the
// caller decodes with image/png, whose verdict (and error) stands. So this
// reader may give up on a file image/png accepts, but never accept one it
// refuses, and its chunk rules mirror image/png's.
func decodePNG(data []byte, tw, th int) (src source, err error) {
	defer func() {
		if recover() != nil { // a bug here must not be a verdict on the photo
			src, err = source{}, errFallback
		}
	}()
	w, h, ct, idat, ok := pngChunks(data)
	if !ok {
		return source{}, errFallback
	}
	kx, ky := boxFactors(w, h, tw, th)
	bpp := 4
	switch ct {
	case 0:
		bpp = 1
	case 2:
		bpp = 3
	}
	stride := 1 + w*bpp
	// Rows are unfiltered into cur (the window must keep the filtered
	// bytes: later matches refer to them) against prev, the row above.
	cur, prev := make([]byte, stride-1), make([]byte, stride-1)
	var y plane
	var box *boxer
	if ct == 0 {
		y = newPlane(w, h) // grey is Lanczos-filtered from full size, as image/png's is
	} else {
		box = newBoxer(w, h, kx, ky, bpp, false)
	}
	n, bad := 0, false
	err = inflateRows(idat, stride, h, 256<<10, func(r []byte) {
		if ct == 0 {
			cur = y.row(n)
		}
		copy(cur, r[1:])
		if !unfilter(r[0], cur, prev, bpp) {
			bad = true
		}
		if box != nil {
			box.add(cur)
			cur, prev = prev, cur
		} else {
			prev = cur
		}
		n++
	})
	if err != nil || bad {
		return source{}, errFallback
	}
	if ct == 0 {
		return source{y: y, w: w, h: h, gw: float64(w), gh: float64(h)}, nil
	}
	return box.source(), nil
}

// pngChunks walks the chunks of a PNG this reader takes and returns its
// size, colour type and IDAT payloads (views into data). Every chunk's CRC
// is checked, as image/png does; the order rules are image/png's too.
func pngChunks(data []byte) (w, h int, ct byte, idat [][]byte, ok bool) {
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return 0, 0, 0, nil, false
	}
	p := 8
	stage := 0 // 0 before IHDR, 1 after it, 2 in the IDAT run, 3 after it
	for {
		if len(data)-p < 12 {
			return 0, 0, 0, nil, false // no IEND: image/png says unexpected EOF
		}
		n := binary.BigEndian.Uint32(data[p:])
		if n > 0x7fffffff || int64(n) > int64(len(data)-p-12) {
			return 0, 0, 0, nil, false
		}
		typ, body := string(data[p+4:p+8]), data[p+8:p+8+int(n)]
		if crc32.ChecksumIEEE(data[p+4:p+8+int(n)]) != binary.BigEndian.Uint32(data[p+8+int(n):]) {
			return 0, 0, 0, nil, false
		}
		p += 12 + int(n)
		if stage == 2 && typ != "IDAT" {
			stage = 3
		}
		switch {
		case stage == 0:
			// IHDR: 8-bit grey (0), RGB (2) or RGBA (6); compression,
			// filter method 0 and no interlace.
			if typ != "IHDR" || n != 13 || body[8] != 8 || body[9] != 0 && body[9] != 2 && body[9] != 6 ||
				body[10] != 0 || body[11] != 0 || body[12] != 0 {
				return 0, 0, 0, nil, false
			}
			uw, uh := binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:])
			if uw == 0 || uh == 0 || uint64(uw)*uint64(uh) > MaxPixels {
				return 0, 0, 0, nil, false
			}
			w, h, ct, stage = int(uw), int(uh), body[9], 1
		case typ == "IHDR" || typ == "PLTE" || typ == "tRNS":
			return 0, 0, 0, nil, false // tRNS makes image/png add alpha; PLTE is ignored but ordered
		case typ == "IDAT" && stage == 3:
			return 0, 0, 0, nil, false // image/png skips a second run; not worth mirroring
		case typ == "IDAT":
			stage = 2
			idat = append(idat, body)
		case typ == "IEND":
			if stage != 3 || n != 0 {
				return 0, 0, 0, nil, false
			}
			return w, h, ct, idat, true
		}
	}
}

// unfilter undoes a PNG row filter (PNG 9.2) on row in place, given the
// row above (zeros above the first); bpp bytes make a pixel.
func unfilter(filter byte, row, prev []byte, bpp int) bool {
	switch filter {
	case 0:
	case 1:
		for i := bpp; i < len(row); i++ {
			row[i] += row[i-bpp]
		}
	case 2:
		for i, p := range prev[:len(row)] {
			row[i] += p
		}
	case 3:
		for i := range bpp {
			row[i] += prev[i] / 2
		}
		for i := bpp; i < len(row); i++ {
			row[i] += uint8((int(row[i-bpp]) + int(prev[i])) / 2)
		}
	case 4:
		paeth(row, prev[:len(row)], bpp)
	default:
		return false // image/png: bad filter type
	}
	return true
}

// paeth undoes the Paeth filter: each byte is predicted from the one to
// its left (a), above (b) and above-left (c), whichever is nearest a+b-c.
// One channel at a time, a and c carried in registers, the choice made by
// conditional moves: photos make it unpredictable, and it runs over every
// byte of a filtered PNG.
func paeth(row, prev []byte, bpp int) {
	prev = prev[:len(row)]
	for ch := range bpp {
		a, c := 0, 0
		for i := ch; i < len(row); i += bpp {
			b := int(prev[i])
			pa, pb := b-c, a-c
			pc := abs(pa + pb)
			pa, pb = abs(pa), abs(pb)
			pred := c
			if pb <= pc {
				pred = b
			}
			if pa <= min(pb, pc) {
				pred = a
			}
			a = (pred + int(row[i])) & 0xff
			row[i] = uint8(a)
			c = b
		}
	}
}

func abs(x int) int {
	m := x >> 63
	return (x ^ m) - m
}
