package images

import (
	"bytes"
	"image"
	"image/color"
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
	cfg, _, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return worst
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w*h > MaxPixels {
		return size + fixed // refused from its header
	}
	if format == "jpeg" && isBaselineJPEG(head) {
		tw, th := fit(cfg.Width, cfg.Height, o.MaxSide)
		s := int64(jpegScale(cfg.Width, cfg.Height, tw, th))
		// Planes at 1/s (luma and up to two full-resolution chroma
		// planes) and the box-shrunk copies made from them.
		return 2*size + fixed + 4*(w/s+1)*(h/s+1)
	}
	if w*h > MaxFullDecodePixels {
		return size + fixed // refused from its header
	}
	perPixel := int64(12) // RGBA 64-bit decodes (16-bit PNG, TIFF) and three planes
	switch {
	case format == "jpeg":
		perPixel = 8 // image/jpeg's progressive coefficients (int32) and its YCbCr
	case cfg.ColorModel == color.RGBAModel || cfg.ColorModel == color.NRGBAModel:
		perPixel = 8 // 8-bit RGBA and three planes
	case cfg.ColorModel == color.GrayModel:
		perPixel = 2
	}
	return size + fixed + perPixel*w*h
}

// jpegScale is the shrink-on-load factor (1, 2, 4 or 8) for a w×h JPEG
// rendered at tw×th: the largest that leaves at least shrinkOnLoadResidual
// for the filters after it.
func jpegScale(w, h, tw, th int) int {
	s := 8
	for s > 1 && (float64(w)/float64(s) < shrinkOnLoadResidual*float64(tw) || float64(h)/float64(s) < shrinkOnLoadResidual*float64(th)) {
		s /= 2
	}
	return s
}
