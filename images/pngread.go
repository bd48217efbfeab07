package images

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image/color"
)

// decodePNG reads the PNGs cameras, phones and editors write for photos
// (8-bit grey, RGB or RGBA, not interlaced, no tRNS or palette) straight
// into planes: the IDAT payloads are inflated in place (inflate.go) into
// one buffer of filtered rows, unfiltered there, and box-shrunk by kx×ky
// into Y, Cb and Cr (for a tw×th rendition), with no *image.RGBA in between. The planes are the
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
	buf := make([]byte, h*stride)
	if inflate(idat, buf) != nil || !unfilter(buf, stride, bpp) {
		return source{}, errFallback
	}
	switch ct {
	case 0:
		y := plane{w: w, h: h, stride: stride, pix: buf[1:]}
		return source{y: y, w: w, h: h, gw: float64(w), gh: float64(h)}, nil
	case 2:
		return rgbSource(buf[1:], stride, w, h, kx, ky), nil
	}
	return rgbaSource(buf[1:], stride, w, h, false, kx, ky), nil
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

// unfilter undoes the PNG row filters (PNG 9.2) in place; rows are stride
// bytes, the first the filter type.
func unfilter(buf []byte, stride, bpp int) bool {
	prev := make([]byte, stride-1) // the row above the first is zeros
	for y := 0; y < len(buf); y += stride {
		row := buf[y+1 : y+stride]
		switch buf[y] {
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
		prev = row
	}
	return true
}

// paeth undoes the Paeth filter: each byte is predicted from the one to
// its left (a), above (b) and above-left (c), whichever is nearest a+b-c.
func paeth(row, prev []byte, bpp int) {
	for i := range bpp {
		row[i] += prev[i]
	}
	for i := bpp; i < len(row); i++ {
		a, b, c := int(row[i-bpp]), int(prev[i]), int(prev[i-bpp])
		pa, pb, pc := b-c, a-c, a+b-2*c
		pa, pb, pc = abs(pa), abs(pb), abs(pc)
		switch {
		case pa <= pb && pa <= pc:
			row[i] += uint8(a)
		case pb <= pc:
			row[i] += uint8(b)
		default:
			row[i] += uint8(c)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// rgbSource is rgbaSource for 3-byte RGB pixels, all opaque. The rows
// are summed into one row of block sums first, with the common 1- and
// 2-pixel blocks unrolled: it runs over every pixel of the photo.
func rgbSource(pix []byte, stride, w, h int, kx, ky int) source {
	ow, oh := (w+kx-1)/kx, (h+ky-1)/ky
	yp, cb, cr := newPlane(ow, oh), newPlane(ow, oh), newPlane(ow, oh)
	sums := make([]uint32, 3*ow)
	for oy := range oh {
		clear(sums)
		y0, y1 := oy*ky, min(oy*ky+ky, h)
		for y := y0; y < y1; y++ {
			addRGB(sums, pix[y*stride:y*stride+3*w], kx)
		}
		yr, cbr, crr := yp.row(oy), cb.row(oy), cr.row(oy)
		n := uint32((y1 - y0) * kx)
		recip, half := reciprocal(n), uint64(n/2) // no division per pixel
		for ox := range ow {
			if ox == ow-1 {
				n = uint32((y1 - y0) * (w - ox*kx))
				recip, half = reciprocal(n), uint64(n/2)
			}
			s := sums[3*ox : 3*ox+3 : 3*ox+3]
			yr[ox], cbr[ox], crr[ox] = color.RGBToYCbCr(
				uint8((uint64(s[0])+half)*recip>>32), uint8((uint64(s[1])+half)*recip>>32), uint8((uint64(s[2])+half)*recip>>32))
		}
	}
	gw, gh := float64(w)/float64(kx), float64(h)/float64(ky)
	return source{y: yp, cb: cb, cr: cr, w: w, h: h, gw: gw, gh: gh, cgw: gw, cgh: gh, hasChroma: true}
}

// addRGB adds a row of RGB pixels into sums, kx pixels to a block.
func addRGB(sums []uint32, row []byte, kx int) {
	switch kx {
	case 1:
		for i, v := range row {
			sums[i] += uint32(v)
		}
		return
	case 2:
		full := len(row) / 6
		for ox := range full {
			r := row[6*ox : 6*ox+6 : 6*ox+6]
			s := sums[3*ox : 3*ox+3 : 3*ox+3]
			s[0] += uint32(r[0]) + uint32(r[3])
			s[1] += uint32(r[1]) + uint32(r[4])
			s[2] += uint32(r[2]) + uint32(r[5])
		}
		if len(row)%6 != 0 {
			r, s := row[6*full:], sums[3*full:]
			s[0], s[1], s[2] = s[0]+uint32(r[0]), s[1]+uint32(r[1]), s[2]+uint32(r[2])
		}
		return
	}
	for x := 0; x < len(row)/3; x++ {
		r, s := row[3*x:3*x+3:3*x+3], sums[3*(x/kx):3*(x/kx)+3]
		s[0], s[1], s[2] = s[0]+uint32(r[0]), s[1]+uint32(r[1]), s[2]+uint32(r[2])
	}
}
