package images

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"strings"

	// Decoders for the formats cotd indexes.
	_ "image/gif"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// boxResidual is the smallest factor left for the Lanczos pass after the box
// shrink: 2 keeps the result within a hair of a full-resolution Lanczos.
var boxResidual = 1.5

// source is a decoded photo as planes: y alone for grayscale, or y with cb and
// cr at their stored resolution (cw×ch spans the whole picture).
type source struct {
	y, cb, cr plane
	w, h      int     // the photo's size as stored
	gw, gh    float64 // luma plane's extent in its pixels: w×h, or less when decoded scaled
	cgw, cgh  float64 // chroma planes' extent in their pixels
	hasChroma bool
	converted bool   // already sRGB (a CMYK photo converted by its profile, cmyk.go)
	note      string // why its colours were not converted exactly, for Result.Note
}

func render(data []byte, o Options) (Result, error) {
	format, err := sniff(data)
	if err != nil {
		return Result{}, err
	}
	if format == "heic" || format == "avif" {
		return renderHEIF(data, format, o) // heif.go
	}
	return renderImage(data, format, orientation(data, format), nil, o)
}

// renderImage renders a photo of a format the Go decoders read, turning it
// upright by orientation (its EXIF Orientation, or 1 for pixels that are
// upright already). colour, when not nil, is the pictures' colour space in
// place of the profile the file carries (a HEIF's nclx box).
func renderImage(data []byte, format string, orientation int, colour *matrixShaper, o Options) (Result, error) {
	cfg, err := decodeConfig(data, format)
	if err != nil {
		return Result{}, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Result{}, corrupt("%s header says the image is %d×%d; re-export the photo", formatLabel(format), cfg.Width, cfg.Height)
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px > MaxPixels {
		return Result{}, tooLarge("image is %d×%d (%d MP), larger than the %d MP limit; shrink it first",
			cfg.Width, cfg.Height, px/1_000_000, MaxPixels/1_000_000)
	}
	cmyk := format == "jpeg" && cfg.ColorModel == color.CMYKModel // image/jpeg alone decodes it, 4 bytes a pixel
	if px > MaxFullDecodePixels && (cmyk || !(format == "jpeg" && (isBaselineJPEG(data) || scaledProgressive(data)))) {
		kind := formatLabel(format)
		switch {
		case cmyk:
			kind = "CMYK JPEG"
		case format == "jpeg":
			kind = "progressive JPEG"
		}
		return Result{}, tooLarge("%s is %d×%d (%d MP), larger than the %d MP limit for %s files; shrink it or save it as a standard JPEG",
			kind, cfg.Width, cfg.Height, px/1_000_000, MaxFullDecodePixels/1_000_000, kind)
	}
	tw, th := target(cfg.Width, cfg.Height, orientation, o.MaxSide)

	src, err := decodeScaled(data, format, cfg.Width, cfg.Height, tw, th)
	if err != nil {
		return Result{}, err
	}
	img := process(src, orientation, tw, th)
	note := src.note
	switch {
	case colour != nil:
		img, note = applyProfile(img, colour)
	case !src.converted:
		img, note = toSRGB(img, data, format) // icc.go
	}

	out, err := encodeJPEG(img, o.Quality) // jpegenc.go
	if err != nil {
		return Result{}, fmt.Errorf("encode jpeg: %w", err)
	}
	b := img.Bounds()
	return Result{
		JPEG:         out,
		Width:        b.Dx(),
		Height:       b.Dy(),
		Note:         note,
		SourceWidth:  cfg.Width,
		SourceHeight: cfg.Height,
		Format:       format,
	}, nil
}

func formatLabel(format string) string {
	switch format {
	case "jpeg", "png", "gif", "bmp":
		return strings.ToUpper(format)
	case "webp":
		return "WebP"
	case "tiff":
		return "TIFF"
	case "heic":
		return "HEIC"
	case "avif":
		return "AVIF"
	}
	return format
}

// decodeConfig reads only the header; decoders that panic on hostile input
// are reported as corrupt, never crash the run.
func decodeConfig(data []byte, format string) (cfg image.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corrupt("corrupt %s header (decoder failed: %v); re-export the photo", formatLabel(format), r)
		}
	}()
	cfg, _, err = image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return cfg, decodeError(format, err)
	}
	return cfg, nil
}

func decodeError(format string, err error) error {
	label := formatLabel(format)
	var ue jpeg.UnsupportedError
	switch {
	case errors.As(err, &ue):
		return unsupported("JPEG uses a feature cotd cannot read (%s); re-save it as a standard JPEG", string(ue))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return corrupt("truncated or corrupt %s: unexpected EOF; re-export the photo", label)
	case strings.Contains(err.Error(), "unsupported"):
		return unsupported("%s uses a feature cotd cannot read (%v); re-save it as JPEG", label, err)
	}
	return corrupt("truncated or corrupt %s: %v; re-export the photo", label, err)
}

// shrinkOnLoadResidual is the smallest factor the scaled JPEG decode leaves
// for the filters after it: the reduced IDCT is a good low-pass filter, but
// Lanczos should still have some work to do so edges stay crisp.
var shrinkOnLoadResidual = 1.25

// threeQuarterResidual is shrinkOnLoadResidual for the 3/4 decode (1920
// px and up for 1280; even at 1707 px, a residual of 1.0, the rendition
// stays within 0.65 dB of imaging's q85 output): its
// reduced IDCT keeps three quarters of each block's frequencies, so the
// Lanczos after it is the filter that sets the band, and a smaller share
// is enough (TestQualityAgainstLanczosScaledBands holds it to imaging).
var threeQuarterResidual = 1.125

// decodeScaled decodes a JPEG at 3/4, 1/2, 1/4 or 1/8 of its size when the
// rendition (tw×th, stored orientation) is small enough, else in full: a
// baseline one by the scaled decoder at 1:1 (its 8×8 IDCT), a progressive
// one by image/jpeg.
func decodeScaled(data []byte, format string, w, h, tw, th int) (source, error) {
	if format == "jpeg" {
		err := errFallback // a 1:1 progressive file is image/jpeg's to decode
		if n := jpegBlock(w, h, tw, th); n < 8 || isBaselineJPEG(data) {
			var src source
			if src, err = decodeJPEGScaledSafe(data, n, (tw+1)/2, (th+1)/2); err == nil {
				return src, nil
			}
		}
		// A progressive file past the full-decode limit was let in for the
		// scaled decoder alone: image/jpeg would hold 4–8 bytes a pixel of it.
		if int64(w)*int64(h) > MaxFullDecodePixels && !isBaselineJPEG(data) {
			return source{}, corrupt("progressive JPEG of %d MP is damaged or unusual (%v), and too large to decode in full; re-save it as a standard JPEG", int64(w)*int64(h)/1_000_000, err)
		}
	}
	return decodeFull(data, format, tw, th)
}

// scaledProgressive reports whether data is a progressive JPEG the scaled
// decoder reads (jpegprog.go), which it decodes at 3/4, 1/2, 1/4 or 1/8 of its
// size whatever its pixel count.
func scaledProgressive(data []byte) bool {
	f, ok := jpegFrame(data[:min(len(data), HeaderBytes)])
	return ok && f.progressive && f.scaled
}

// decodeJPEGScaledSafe turns a panic in the scaled decoder into a fallback
// to image/jpeg, which then gives the verdict on the file.
func decodeJPEGScaledSafe(data []byte, n, ctw, cth int) (src source, err error) {
	defer func() {
		if r := recover(); r != nil {
			src, err = source{}, errFallback
		}
	}()
	return decodeJPEGScaled(data, n, ctw, cth)
}

func decode(data []byte, format string) (source, error) { return decodeFull(data, format, 0, 0) }

// decodeFull decodes at full size. For a target tw×th (0: none) an RGBA
// or NRGBA image (PNG, lossless WebP) is box-shrunk while it is turned
// into planes, as scalePlane would shrink the planes, so the full-size
// planes are never made.
func decodeFull(data []byte, format string, tw, th int) (src source, err error) {
	defer func() {
		if r := recover(); r != nil {
			src, err = source{}, corrupt("corrupt %s (decoder failed: %v); re-export the photo", formatLabel(format), r)
		}
	}()
	if format == "png" {
		if src, err := decodePNG(data, tw, th); err == nil {
			return src, nil
		}
	}
	return decodeStd(data, format, tw, th)
}

// decodeStd is decodeFull by the standard library's decoders (and x/image's
// registered with them).
func decodeStd(data []byte, format string, tw, th int) (source, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return source{}, decodeError(format, err)
	}
	kx, ky := boxFactors(img.Bounds().Dx(), img.Bounds().Dy(), tw, th)
	// Converted while shrunk, never copied at full size (cmyk.go).
	switch m := img.(type) {
	case *image.CMYK:
		t, note := cmykTransform(data)
		src := cmykSource(m, t, kx, ky)
		src.note = note
		return src, nil
	case *image.Gray16:
		return gray16Source(m, kx, ky), nil
	case *image.RGBA64, *image.NRGBA64:
		src, _ := rgba64Source(m, kx, ky)
		return src, nil
	}
	if tw > 0 && th > 0 {
		b := img.Bounds()
		switch m := img.(type) {
		case *image.RGBA:
			return rgbaSource(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, b.Dx(), b.Dy(), true, kx, ky), nil
		case *image.NRGBA:
			return rgbaSource(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, b.Dx(), b.Dy(), false, kx, ky), nil
		}
	}
	return toSource(img), nil
}

// boxFactors is the box shrink a w×h decode gets on its way into planes
// for a tw×th rendition (none when tw or th is 0): as much as leaves
// boxResidual for Lanczos.
func boxFactors(w, h, tw, th int) (kx, ky int) {
	if tw <= 0 || th <= 0 {
		return 1, 1
	}
	return max(1, int(float64(w)/float64(tw)/boxResidual)), max(1, int(float64(h)/float64(th)/boxResidual))
}

// rgbaSource turns 8-bit RGBA pixels (premultiplied or not) into Y, Cb and
// Cr planes, flattened onto white, averaging kx×ky blocks on the way (an
// exact box shrink, partial blocks at the edges averaged over the pixels
// they have): one pass, no per-pixel interface calls, and planes 1/(kx·ky)
// of the full size.
func rgbaSource(pix []byte, stride, w, h int, premul bool, kx, ky int) source {
	b := newBoxer(w, h, kx, ky, 4, premul)
	for y := range h {
		b.add(pix[y*stride : y*stride+4*w])
	}
	return b.source()
}

// boxer is the box shrink of rgbaSource a row at a time, for 8-bit RGB
// (bpp 3, all opaque) or RGBA rows, so a decoder that makes rows (the PNG
// reader) never holds the whole picture.
type boxer struct {
	w, h, kx, ky, bpp int
	premul            bool
	sums              []uint32 // per block of the output row: R, G, B
	y, cb, cr         plane
	rows, oy          int // rows added; the output row they go to
}

func newBoxer(w, h, kx, ky, bpp int, premul bool) *boxer {
	ow, oh := (w+kx-1)/kx, (h+ky-1)/ky
	return &boxer{w: w, h: h, kx: kx, ky: ky, bpp: bpp, premul: premul, sums: make([]uint32, 3*ow),
		y: newPlane(ow, oh), cb: newPlane(ow, oh), cr: newPlane(ow, oh)}
}

// add takes the next row, w×bpp bytes.
func (b *boxer) add(row []byte) {
	if b.bpp == 3 {
		addRGB(b.sums, row, b.kx)
	} else {
		addRGBA(b.sums, row, b.kx, b.premul)
	}
	b.rows++
	if b.rows%b.ky != 0 && b.rows != b.h {
		return
	}
	// The output row: each block's mean, by a reciprocal, not a division
	// per pixel (exact: the sums are far below 2^32/n).
	ky := b.rows - b.oy*b.ky
	yr, cbr, crr := b.y.row(b.oy), b.cb.row(b.oy), b.cr.row(b.oy)
	n := uint32(ky * b.kx)
	recip, half := reciprocal(n), uint64(n/2)
	for ox := range yr {
		if ox == len(yr)-1 {
			n = uint32(ky * (b.w - ox*b.kx))
			recip, half = reciprocal(n), uint64(n/2)
		}
		s := b.sums[3*ox : 3*ox+3 : 3*ox+3]
		yr[ox], cbr[ox], crr[ox] = color.RGBToYCbCr(
			uint8((uint64(s[0])+half)*recip>>32), uint8((uint64(s[1])+half)*recip>>32), uint8((uint64(s[2])+half)*recip>>32))
	}
	clear(b.sums)
	b.oy++
}

func (b *boxer) source() source {
	gw, gh := float64(b.w)/float64(b.kx), float64(b.h)/float64(b.ky)
	return source{y: b.y, cb: b.cb, cr: b.cr, w: b.w, h: b.h, gw: gw, gh: gh, cgw: gw, cgh: gh, hasChroma: true}
}

// addRGBA adds a row of RGBA pixels, flattened onto white, into sums, kx
// pixels to a block.
func addRGBA(sums []uint32, row []byte, kx int, premul bool) {
	w := len(row) / 4
	for ox := 0; ox*kx < w; ox++ {
		var sr, sg, sb uint32
		for x := ox * kx; x < min(ox*kx+kx, w); x++ {
			p := row[4*x : 4*x+4 : 4*x+4]
			r, g, b, a := uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3])
			switch {
			case a == 255:
			case premul:
				r, g, b = r+255-a, g+255-a, b+255-a
			default:
				r, g, b = (r*a+255*(255-a)+127)/255, (g*a+255*(255-a)+127)/255, (b*a+255*(255-a)+127)/255
			}
			sr, sg, sb = sr+r, sg+g, sb+b
		}
		s := sums[3*ox : 3*ox+3 : 3*ox+3]
		s[0], s[1], s[2] = s[0]+sr, s[1]+sg, s[2]+sb
	}
}

// addRGB adds a row of RGB pixels into sums, kx pixels to a block, with
// the common 1- and 2-pixel blocks unrolled: it runs over every pixel.
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

// toSource views a decoded image as planes. JPEG's YCbCr and Gray are used
// in place; other formats are converted once, flattened onto white.
func toSource(img image.Image) source {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.YCbCr:
		cw, ch := chromaSize(m.SubsampleRatio, w, h)
		sx, sy := chromaFactor(m.SubsampleRatio)
		ci := m.COffset(b.Min.X, b.Min.Y)
		return source{
			y:  plane{w: w, h: h, stride: m.YStride, pix: m.Y[m.YOffset(b.Min.X, b.Min.Y):]},
			cb: plane{w: cw, h: ch, stride: m.CStride, pix: m.Cb[ci:]},
			cr: plane{w: cw, h: ch, stride: m.CStride, pix: m.Cr[ci:]},
			w:  w, h: h, gw: float64(w), gh: float64(h),
			cgw: float64(w) / float64(sx), cgh: float64(h) / float64(sy),
			hasChroma: true,
		}
	case *image.Gray:
		return source{y: plane{w: w, h: h, stride: m.Stride, pix: m.Pix[m.PixOffset(b.Min.X, b.Min.Y):]}, w: w, h: h, gw: float64(w), gh: float64(h)}
	}
	if isGray(img.ColorModel()) {
		y := newPlane(w, h)
		for yy := range h {
			r := y.row(yy)
			for x := range r {
				r[x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+yy)).(color.Gray).Y
			}
		}
		return source{y: y, w: w, h: h, gw: float64(w), gh: float64(h)}
	}
	yp, cb, cr := newPlane(w, h), newPlane(w, h), newPlane(w, h)
	put := func(i int, r, g, bl uint8) {
		yp.pix[i], cb.pix[i], cr.pix[i] = color.RGBToYCbCr(r, g, bl)
	}
	switch m := img.(type) {
	case *image.RGBA:
		return rgbaSource(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, true, 1, 1)
	case *image.NRGBA:
		for yy := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+yy):]
			for x := range w {
				p := row[4*x : 4*x+4]
				a := uint32(p[3])
				f := func(c uint8) uint8 { return uint8((uint32(c)*a + 255*(255-a) + 127) / 255) }
				put(yy*w+x, f(p[0]), f(p[1]), f(p[2]))
			}
		}
	case *image.CMYK:
		for yy := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+yy):]
			for x := range w {
				p := row[4*x : 4*x+4]
				r, g, bl := color.CMYKToRGB(p[0], p[1], p[2], p[3])
				put(yy*w+x, r, g, bl)
			}
		}
	default:
		// Premultiplied 16-bit: adding the uncovered part of white flattens it.
		for yy := range h {
			for x := range w {
				r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+yy).RGBA()
				r, g, bl = r+0xffff-a, g+0xffff-a, bl+0xffff-a
				put(yy*w+x, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			}
		}
	}
	return source{y: yp, cb: cb, cr: cr, w: w, h: h, gw: float64(w), gh: float64(h), cgw: float64(w), cgh: float64(h), hasChroma: true}
}

func isGray(m color.Model) bool { return m == color.GrayModel || m == color.Gray16Model }

func chromaFactor(r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

func chromaSize(r image.YCbCrSubsampleRatio, w, h int) (int, int) {
	sx, sy := chromaFactor(r)
	return (w + sx - 1) / sx, (h + sy - 1) / sy
}

// fit returns the size of a w×h picture fitted within side×side, never larger.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, int(math.Round(float64(h)*float64(side)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(side)/float64(h)))), side
}

// chromaResidual is boxResidual for chroma. Full-resolution chroma (4:4:4,
// which vips and cameras write at high quality) shrinks twice as much as
// luma into the rendition's 4:2:0, so Lanczos alone needs twice the taps,
// over the full-width rows: most of the filter's work for half the
// picture's detail. A 2×2 box first, where at least this much remains, is
// what the encoder's own 4:2:0 averaging does after a full-resolution
// filter, in the other order.
var chromaResidual = 1.125

// scalePlane shrinks p (spanning gw×gh of its pixels) to dw×dh pixels spanning
// dgw×dgh: an exact box shrink by an integer factor while at least boxResidual
// remains, then Lanczos-3 for the rest.
func scalePlane(p plane, gw, gh float64, dw, dh int, dgw, dgh float64) plane {
	return scalePlaneBy(p, gw, gh, dw, dh, dgw, dgh, boxResidual)
}

// scalePlaneBy is scalePlane leaving residual (not boxResidual) for Lanczos.
func scalePlaneBy(p plane, gw, gh float64, dw, dh int, dgw, dgh, residual float64) plane {
	if p.w == dw && p.h == dh && gw == dgw && gh == dgh {
		return p
	}
	// Each axis on its own: 4:2:2 chroma is already halved across, not down.
	kx, ky := max(1, int(gw/dgw/residual)), max(1, int(gh/dgh/residual))
	if kx > 1 || ky > 1 {
		p = boxShrink(p, kx, ky)
		gw, gh = gw/float64(kx), gh/float64(ky)
	}
	return resize(p, gw, gh, dw, dh, dgw, dgh)
}

// target is the rendition's size in the photo's stored orientation: fitted
// within side×side once turned upright by orientation o.
func target(w, h, o, side int) (int, int) {
	if o >= 5 {
		w, h = h, w
	}
	tw, th := fit(w, h, side)
	if o >= 5 {
		tw, th = th, tw // resize in stored orientation, turn afterwards
	}
	return tw, th
}

// process scales the source to tw×th (stored orientation) and returns the
// upright picture: YCbCr 4:2:0 (what the JPEG encoder writes without any
// conversion) or Gray.
func process(src source, o, tw, th int) image.Image {
	y := orient(scalePlane(src.y, src.gw, src.gh, tw, th, float64(tw), float64(th)), o)
	if !src.hasChroma {
		return &image.Gray{Pix: y.pix, Stride: y.stride, Rect: image.Rect(0, 0, y.w, y.h)}
	}
	cw, ch := (tw+1)/2, (th+1)/2
	cgw, cgh := float64(tw)/2, float64(th)/2
	cb := orient(scalePlaneBy(src.cb, src.cgw, src.cgh, cw, ch, cgw, cgh, chromaResidual), o)
	cr := orient(scalePlaneBy(src.cr, src.cgw, src.cgh, cw, ch, cgw, cgh, chromaResidual), o)
	return &image.YCbCr{
		Y: compact(y), Cb: compact(cb), Cr: compact(cr),
		YStride: y.w, CStride: cb.w,
		SubsampleRatio: image.YCbCrSubsampleRatio420,
		Rect:           image.Rect(0, 0, y.w, y.h),
	}
}

// compact returns the plane's pixels with stride == width.
func compact(p plane) []byte {
	if p.stride == p.w {
		return p.pix[:p.w*p.h]
	}
	out := newPlane(p.w, p.h)
	for y := range p.h {
		copy(out.row(y), p.row(y))
	}
	return out.pix
}
