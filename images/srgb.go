package images

// Converting to sRGB: the transform a parsed profile (icc.go) makes, and
// where it is applied to a decoded photo.

import (
	"fmt"
	"image"
	"math"
)

// srgbD50 holds sRGB's colorants adapted to D50 (Bradford), as in the sRGB
// ICC profile: the destination of every conversion.
var srgbD50 = [3][3]float64{
	{0.4360747, 0.3850649, 0.1430804},
	{0.2225045, 0.7168786, 0.0606169},
	{0.0139322, 0.0971045, 0.7141733},
}

func invert(m [3][3]float64) ([3][3]float64, bool) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
		m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	if math.Abs(det) < 1e-9 {
		return m, false
	}
	var r [3][3]float64
	r[0][0] = (m[1][1]*m[2][2] - m[1][2]*m[2][1]) / det
	r[0][1] = (m[0][2]*m[2][1] - m[0][1]*m[2][2]) / det
	r[0][2] = (m[0][1]*m[1][2] - m[0][2]*m[1][1]) / det
	r[1][0] = (m[1][2]*m[2][0] - m[1][0]*m[2][2]) / det
	r[1][1] = (m[0][0]*m[2][2] - m[0][2]*m[2][0]) / det
	r[1][2] = (m[0][2]*m[1][0] - m[0][0]*m[1][2]) / det
	r[2][0] = (m[1][0]*m[2][1] - m[1][1]*m[2][0]) / det
	r[2][1] = (m[0][1]*m[2][0] - m[0][0]*m[2][1]) / det
	r[2][2] = (m[0][0]*m[1][1] - m[0][1]*m[1][0]) / det
	return r, true
}

func mul(a, b [3][3]float64) [3][3]float64 {
	var r [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				r[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return r
}

func srgbEncode(l float64) float64 {
	if l <= 0.0031308 {
		return 12.92 * l
	}
	return 1.055*math.Pow(l, 1/2.4) - 0.055
}

func srgbDecode(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// transform maps 8-bit source RGB to 8-bit sRGB with table lookups only:
// per output channel, the sum of three precomputed terms (the source
// channel's tone curve times its matrix coefficient), then the sRGB curve
// from a 16-bit table.
type transform struct {
	lin  [3][256]float32    // source code value -> linear light
	m    [3][3]float32      // source linear RGB -> sRGB linear RGB
	term [3][3][256]float32 // term[out][in][v] = m[out][in] * lin[in][v]
	enc  [encSteps + 1]uint8
}

// encSteps is the resolution of the output curve's table: 65536 steps keep
// it exact to the code value even in the deepest shadows, where the sRGB
// curve is steepest.
const encSteps = 65535

func newTransform(p *matrixShaper) *transform {
	t := &transform{}
	for c := range 3 {
		for v := range 256 {
			t.lin[c][v] = float32(p.trc[c](float64(v) / 255))
		}
	}
	inv, _ := invert(srgbD50)
	m := mul(inv, p.toXYZ)
	for i := range 3 {
		for j := range 3 {
			t.m[i][j] = float32(m[i][j])
			for v := range 256 {
				t.term[i][j][v] = t.m[i][j] * t.lin[j][v]
			}
		}
	}
	for i := range t.enc {
		t.enc[i] = uint8(math.Round(255 * srgbEncode(float64(i)/encSteps)))
	}
	return t
}

// identity reports a profile that is sRGB already (within what 8 bits can
// show), so the photo is left exactly as decoded.
func (t *transform) identity() bool {
	for v := 0; v < 256; v += 5 {
		for c := range 3 {
			var rgb [3]float32
			rgb[c] = t.lin[c][v]
			out := t.apply(rgb)
			want := uint8(v)
			if d := int(out[c]) - int(want); d > 1 || d < -1 {
				return false
			}
			for o := range 3 {
				if o != c && out[o] > 1 {
					return false
				}
			}
		}
	}
	return true
}

func (t *transform) apply(l [3]float32) [3]uint8 {
	var out [3]uint8
	for i := range 3 {
		out[i] = t.encode(t.m[i][0]*l[0] + t.m[i][1]*l[1] + t.m[i][2]*l[2])
	}
	return out
}

// encode is the sRGB curve of a linear value, clipped to the gamut.
func (t *transform) encode(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 1:
		return 255
	}
	return t.enc[int(v*encSteps+0.5)]
}

func (t *transform) rgb(r, g, b uint8) (uint8, uint8, uint8) {
	return t.encode(t.term[0][0][r] + t.term[0][1][g] + t.term[0][2][b]),
		t.encode(t.term[1][0][r] + t.term[1][1][g] + t.term[1][2][b]),
		t.encode(t.term[2][0][r] + t.term[2][1][g] + t.term[2][2][b])
}

// toSRGB converts a rendered picture from the photo's embedded profile to
// sRGB. It returns the picture unchanged, with a note for the log, when the
// profile cannot be handled; with no profile (or an sRGB one) it returns
// the picture unchanged and no note.
func toSRGB(img image.Image, data []byte, format string) (image.Image, string) {
	prof, err := iccProfile(data, format)
	if err != nil {
		return img, "colour profile not converted (" + err.Error() + "); colours may look off"
	}
	if prof == nil {
		return img, ""
	}
	if curve, desc, gray, err := grayCurve(prof); gray { // cmyk.go
		if err != nil {
			return img, fmt.Sprintf("colour profile %q not converted (%v); tones may look off", desc, err)
		}
		return applyGray(img, curve), ""
	}
	p, err := parseICC(prof)
	if err != nil {
		name := ""
		if p != nil && p.desc != "" {
			name = fmt.Sprintf(" %q", p.desc)
		}
		return img, fmt.Sprintf("colour profile%s not converted (%v); colours may look off", name, err)
	}
	return applyProfile(img, p)
}

// applyProfile converts a rendered picture from an RGB profile to sRGB.
func applyProfile(img image.Image, p *matrixShaper) (image.Image, string) {
	t := newTransform(p)
	if t.identity() {
		return img, ""
	}
	switch m := img.(type) {
	case *image.YCbCr:
		if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			return t.ycbcr420(m), ""
		}
	case *image.Gray:
		return img, "" // a gray picture under an RGB profile: R=G=B stays neutral enough
	}
	return img, fmt.Sprintf("colour profile %q not converted (picture type %T); colours may look off", p.desc, img)
}

// ycbcr420 converts each pixel and re-subsamples the chroma: every pixel's
// luma is exact, and each chroma sample is the mean of its (up to four)
// converted pixels, as a JPEG encoder would subsample them.
//
// It is the per-pixel chain jfif.toRGB, t.rgb, jfif.toYCbCr written out in
// one loop over whole rows (the same arithmetic in the same order, so the
// same bytes: TestICCFastPathMatchesPerPixel), without the calls and the
// offset arithmetic per pixel: the conversion was a fifth of a P3 photo's
// render (issue 22 §3).
func (t *transform) ycbcr420(m *image.YCbCr) *image.YCbCr {
	b := m.Rect
	out := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	w := b.Dx()
	cw := (w + 1) / 2
	sumCb := make([]int32, cw)
	sumCr := make([]int32, cw)
	cnt := make([]int32, cw)
	j := jfif
	enc := &t.enc
	encode := func(v float32) uint8 {
		switch {
		case v <= 0:
			return 0
		case v >= 1:
			return 255
		}
		return enc[int(v*encSteps+0.5)]
	}
	t00, t01, t02 := &t.term[0][0], &t.term[0][1], &t.term[0][2]
	t10, t11, t12 := &t.term[1][0], &t.term[1][1], &t.term[1][2]
	t20, t21, t22 := &t.term[2][0], &t.term[2][1], &t.term[2][2]
	for y := b.Min.Y; y < b.Max.Y; y++ {
		yi := y - b.Min.Y
		yrow := m.Y[m.YOffset(b.Min.X, y):]
		yrow = yrow[:w]
		crow := m.COffset(b.Min.X, y)
		orow := out.Y[yi*out.YStride:]
		orow = orow[:w]
		for xi := range w {
			ci := crow + (b.Min.X+xi)/2 - b.Min.X/2 // m.COffset(b.Min.X+xi, y)
			cb, cr := m.Cb[ci], m.Cr[ci]
			fy := float32(yrow[xi])
			r := round8(fy + j.rCr[cr])
			g := round8(fy + j.gCb[cb] + j.gCr[cr])
			bl := round8(fy + j.bCb[cb])
			r, g, bl = encode(t00[r]+t01[g]+t02[bl]), encode(t10[r]+t11[g]+t12[bl]), encode(t20[r]+t21[g]+t22[bl])
			orow[xi] = round8(j.yR[r] + j.yG[g] + j.yB[bl])
			k := xi / 2
			sumCb[k] += int32(round8(j.cbR[r] + j.cbG[g] + j.cbB[bl] + 128))
			sumCr[k] += int32(round8(j.crR[r] + j.crG[g] + j.crB[bl] + 128))
			cnt[k]++
		}
		if yi%2 == 1 || y == b.Max.Y-1 {
			row := (yi / 2) * out.CStride
			for k := range cw {
				if cnt[k] > 0 {
					out.Cb[row+k] = uint8((sumCb[k] + cnt[k]/2) / cnt[k])
					out.Cr[row+k] = uint8((sumCr[k] + cnt[k]/2) / cnt[k])
				}
				sumCb[k], sumCr[k], cnt[k] = 0, 0, 0
			}
		}
	}
	return out
}

// convertAny converts any decoded picture (not just the renderer's
// planes) by the photo's embedded profile, for references that must see
// the same colours as a rendition; unchanged when there is nothing to do.
func convertAny(img image.Image, data []byte, format string) image.Image {
	prof, err := iccProfile(data, format)
	if err != nil || prof == nil {
		return img
	}
	p, err := parseICC(prof)
	if err != nil {
		return img
	}
	t := newTransform(p)
	if t.identity() {
		return img
	}
	b := img.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			nr, ng, nb := t.rgb(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			i := out.PixOffset(x, y)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = nr, ng, nb, uint8(a>>8)
		}
	}
	return out
}

// jfif holds JFIF's full-range YCbCr<->RGB conversion as tables of
// float32 terms, rounded once at the end: the integer versions in
// image/color round twice per round trip, which costs 0.15 ΔE on average
// against Little CMS.
var jfif = newJFIF()

type jfifTables struct {
	rCr, gCb, gCr, bCb [256]float32 // YCbCr -> RGB terms, by Cb or Cr
	yR, yG, yB         [256]float32 // RGB -> Y
	cbR, cbG, cbB      [256]float32 // RGB -> Cb (without the +128)
	crR, crG, crB      [256]float32 // RGB -> Cr (without the +128)
}

func newJFIF() *jfifTables {
	t := &jfifTables{}
	for i := range 256 {
		c, v := float32(i)-128, float32(i)
		t.rCr[i], t.gCb[i], t.gCr[i], t.bCb[i] = 1.402*c, -0.344136*c, -0.714136*c, 1.772*c
		t.yR[i], t.yG[i], t.yB[i] = 0.299*v, 0.587*v, 0.114*v
		t.cbR[i], t.cbG[i], t.cbB[i] = -0.168736*v, -0.331264*v, 0.5*v
		t.crR[i], t.crG[i], t.crB[i] = 0.5*v, -0.418688*v, -0.081312*v
	}
	return t
}

func (t *jfifTables) toRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	fy := float32(y)
	return round8(fy + t.rCr[cr]), round8(fy + t.gCb[cb] + t.gCr[cr]), round8(fy + t.bCb[cb])
}

func (t *jfifTables) toYCbCr(r, g, b uint8) (uint8, uint8, uint8) {
	return round8(t.yR[r] + t.yG[g] + t.yB[b]),
		round8(t.cbR[r] + t.cbG[g] + t.cbB[b] + 128),
		round8(t.crR[r] + t.crG[g] + t.crB[b] + 128)
}

func round8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// colorants returns the D50-adapted (Bradford) XYZ columns of an RGB space.
func colorants(pri [3][2]float64, white [2]float64) [3][3]float64 {
	xyz := func(c [2]float64) [3]float64 { return [3]float64{c[0] / c[1], 1, (1 - c[0] - c[1]) / c[1]} }
	var p [3][3]float64
	for c := range 3 {
		v := xyz(pri[c])
		for r := range 3 {
			p[r][c] = v[r]
		}
	}
	inv, _ := invert(p)
	w := xyz(white)
	var s [3]float64
	for r := range 3 {
		s[r] = inv[r][0]*w[0] + inv[r][1]*w[1] + inv[r][2]*w[2]
	}
	var m [3][3]float64
	for r := range 3 {
		for c := range 3 {
			m[r][c] = p[r][c] * s[c]
		}
	}
	brad := [3][3]float64{{0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}}
	bi, _ := invert(brad)
	d50 := [3]float64{0.96422, 1, 0.82521}
	src := [3]float64{}
	dst := [3]float64{}
	for r := range 3 {
		for k := range 3 {
			src[r] += brad[r][k] * w[k]
			dst[r] += brad[r][k] * d50[k]
		}
	}
	var scale [3][3]float64
	for r := range 3 {
		scale[r][r] = dst[r] / src[r]
	}
	return mul(mul(bi, mul(scale, brad)), m)
}
