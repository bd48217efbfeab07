package images

import (
	"bytes"
	"image"
	"image/color"
	"math"
)

// HeaderBytes is how much of a file [Cost] wants to see: enough for the
// header of every format cotd reads, past the EXIF, XMP and ICC segments a
// phone writes before a JPEG's frame header.
const HeaderBytes = 256 << 10

// Cost estimates the most memory, in bytes, that rendering a file of size
// bytes takes, from its first bytes alone (head, up to [HeaderBytes]): the
// file's bytes, the decoder's working set and the planes after it. It is
// what lets a caller run several renders at once under a memory budget
// without decoding anything first. A head it cannot read is costed as the
// largest full-size decode cotd allows, so guessing wrong errs on the side
// of running alone.
func Cost(head []byte, size int64, o Options) int64 {
	o = o.normalized()
	const fixed = 4 << 20 // encoder buffers, Lanczos weights, the output planes
	worst := size + fixed + MaxFullDecodePixels*12
	format, err := sniff(head)
	if err != nil {
		return size + fixed // refused from its first bytes, never decoded
	}
	if format == "heic" || format == "avif" {
		c, refused, ok := heifHeaderCost(head, size)
		switch {
		case !ok:
			return worst
		case refused:
			return size + fixed
		}
		return c + fixed
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return worst
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w*h > MaxPixels {
		return size + fixed // refused from its header
	}
	baseline := format == "jpeg" && isBaselineJPEG(head)
	cmyk := format == "jpeg" && cfg.ColorModel == color.CMYKModel
	if w*h > MaxFullDecodePixels && (cmyk || !baseline && !(format == "jpeg" && scaledProgressive(head))) {
		return size + fixed // refused from its header
	}
	if format == "jpeg" {
		tw, th := fit(cfg.Width, cfg.Height, o.MaxSide)
		if f, ok := jpegFrame(head); ok {
			return 2*size + fixed + f.workingSet(jpegBlock(cfg.Width, cfg.Height, tw, th), tw, th)
		}
		if baseline {
			// A frame image/jpeg alone reads (CMYK, YCCK, RGB): its full
			// decode (its component planes, then the 4-byte CMYK or RGBA
			// picture made from them), the planes box-shrunk from it
			// while it is converted (cmyk.go, rgbaSource), and resize's
			// rows over them.
			k := max(1, int64(float64(w)/float64(tw)/boxResidual)) * max(1, int64(float64(h)/float64(th)/boxResidual))
			return 2*size + fixed + 8*w*h + 3*w*h/k + 12*(w+16)*int64(th+1)
		}
	}
	perPixel := int64(12) // paletted and other decodes made into three full-size planes
	switch {
	case format == "jpeg":
		perPixel = 8 // image/jpeg's progressive coefficients (int32) and its YCbCr
	case cfg.ColorModel == color.RGBAModel || cfg.ColorModel == color.NRGBAModel:
		perPixel = 8 // 8-bit RGBA and three planes
	case cfg.ColorModel == color.GrayModel:
		perPixel = 2
	case cfg.ColorModel == color.RGBA64Model || cfg.ColorModel == color.NRGBA64Model || cfg.ColorModel == color.Gray16Model:
		// 16-bit decodes (PNG, TIFF), box-shrunk into planes as they are
		// read (cmyk.go): the decode, the planes and resize's rows.
		tw, th := fit(cfg.Width, cfg.Height, o.MaxSide)
		k := max(1, int64(float64(w)/float64(tw)/boxResidual)) * max(1, int64(float64(h)/float64(th)/boxResidual))
		dec, planes := int64(8), int64(3)
		if cfg.ColorModel == color.Gray16Model {
			dec, planes = 2, 1
		}
		return size + fixed + dec*w*h + planes*w*h/k + 12*(w+16)*int64(th+1)
	}
	return size + fixed + perPixel*w*h
}

// frame is what [Cost] needs of a JPEG's frame header.
type frame struct {
	comps         []jcomp
	width, height int
	progressive   bool
	scaled        bool // the scaled decoder takes it; else image/jpeg decodes it in full
	orientation   int  // EXIF Orientation: other than 1, the rendition is turned (a copy)
	icc           bool // an ICC profile: the rendition is converted to sRGB (a copy)
}

// jpegFrame reads the frame header of a JPEG from its first bytes, for a
// baseline, extended or progressive Huffman frame of 8-bit grey or YCbCr,
// which is what both the scaled decoder and image/jpeg decode into planes;
// ok is false for any other frame.
func jpegFrame(head []byte) (f frame, ok bool) {
	adobe := false
	for m, seg := range Segments(head) {
		switch {
		case m == 0xee && len(seg) >= 5 && string(seg[:5]) == "Adobe":
			adobe = true // the scaled decoder leaves Adobe files to image/jpeg
		case (m == 0xc0 || m == 0xc1 || m == 0xc2) && f.comps == nil:
			if f.comps, f.width, f.height, ok = parseFrame(seg); !ok {
				return frame{}, false
			}
			f.progressive = m == 0xc2
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			return frame{}, false // another frame type, or a second frame
		}
	}
	if f.comps == nil {
		return frame{}, false
	}
	f.orientation = orientation(head, "jpeg")
	p, err := jpegICC(head)
	f.icc = p != nil || err != nil
	f.scaled = !adobe && lumaFirst(f.comps) &&
		(len(f.comps) == 1 || f.comps[1].h == f.comps[2].h && f.comps[1].v == f.comps[2].v)
	return f, true
}

// workingSet is what rendering the frame at 1/s into tw×th takes beyond
// the file itself, from the geometry the decoders and scalePlane use: each
// plane (padded to whole MCUs; at s = 1 image/jpeg's YCbCr, which is the
// same), its box-shrunk copy when scalePlane makes one, resize's int32
// rows (the width it resizes × its output rows) and, for a progressive
// file, the coefficients held until the last scan: the low n×n of every
// block in the scaled decoder (progBytes), all 64 as int32 in image/jpeg;
// then the rendition's planes.
func (f frame) workingSet(n, tw, th int) int64 {
	if !f.scaled {
		n = 8
	}
	hmax, vmax, mcusX, mcusY := mcuGrid(f.comps, f.width, f.height)
	var b int64
	for i, c := range f.comps {
		pw, ph := mcusX*c.h*n, mcusY*c.v*n
		gw := float64(f.width*c.h*n) / float64(hmax*8) // the picture's extent in the plane
		gh := float64(f.height*c.v*n) / float64(vmax*8)
		dw, dh := float64(tw), float64(th)
		if i > 0 {
			dw, dh = dw/2, dh/2
		}
		b += int64(pw) * int64(ph)
		kx, ky := max(1, int(gw/dw/boxResidual)), max(1, int(gh/dh/boxResidual))
		if kx > 1 || ky > 1 {
			pw, ph = (pw+kx-1)/kx, (ph+ky-1)/ky
			b += int64(pw) * int64(ph)
		}
		b += 4 * int64(pw) * int64(math.Ceil(dh))
		if f.progressive && n == 8 {
			b += int64(mcusX*c.h) * int64(mcusY*c.v) * 64 * 4
		}
	}
	if f.progressive && n < 8 {
		b += progBytes(f.comps, f.width, f.height, n)
	}
	// The rendition's planes (1.5 bytes a pixel) as resize makes them, a
	// copy turned upright, one converted to sRGB, and the encoded JPEG as
	// jpegenc.go's buffer grows (under 2 bytes a pixel even for noise).
	copies := int64(1)
	if f.orientation != 1 {
		copies++
	}
	if f.icc {
		copies++
	}
	return b + (copies*3+4)*int64(tw)*int64(th)/2
}

// jpegBlock is how many samples across each 8×8 block of a w×h JPEG the
// scaled decoder makes for a rendition of tw×th: 1, 2 or 4 (shrink-on-load
// at 1/8, 1/4, 1/2), 6 (3/4) or 8 (1:1). It picks the smallest that leaves
// at least shrinkOnLoadResidual for the filters after it. A photo between 2
// and 2.5 times the rendition (a long side of 2560-3199 px for 1280) is
// still decoded at 1/2, as vips does, with the filters left a smaller share:
// a full decode of it cost 1.3-1.7x vips' CPU for no visible gain. Between
// threeQuarterResidual and 2 times (1920-2559 px for 1280) it is decoded at
// 3/4, which leaves Lanczos 44% fewer samples to filter (issue 22 §3).
func jpegBlock(w, h, tw, th int) int {
	leaves := func(n int, residual float64) bool {
		return float64(w*n)/8 >= residual*float64(tw) && float64(h*n)/8 >= residual*float64(th)
	}
	for _, n := range []int{1, 2, 4} {
		if leaves(n, shrinkOnLoadResidual) {
			return n
		}
	}
	switch {
	case w >= 2*tw && h >= 2*th:
		return 4
	case leaves(6, threeQuarterResidual):
		return 6
	}
	return 8
}
