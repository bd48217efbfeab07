package images

// Colour management: a photo's embedded ICC profile says what its RGB
// numbers mean. Phones write Display P3 (every iPhone JPEG, many Android
// ones), cameras Adobe RGB; mail clients assume sRGB for an untagged JPEG,
// and cotd strips all metadata, so the pixels are converted to sRGB before
// encoding or their reds and oranges go dull.
//
// Only matrix/TRC ("matrix-shaper") RGB profiles are read: three colorant
// columns (rXYZ, gXYZ, bXYZ, D50-adapted as ICC requires) and a tone curve
// per channel (curv or para). That covers Display P3, Adobe RGB, ProPhoto
// and the sRGB variants cameras and phones embed. A LUT-based, CMYK, gray
// or damaged profile is reported (Result.Notes) and the photo is rendered
// as before, unconverted.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strings"
)

// iccProfile returns the ICC profile embedded in a JPEG (APP2
// "ICC_PROFILE" chunks, in sequence order) or a PNG (iCCP), or nil.
func iccProfile(data []byte, format string) ([]byte, error) {
	switch format {
	case "jpeg":
		return jpegICC(data)
	case "png":
		return pngICC(data)
	}
	return nil, nil
}

func jpegICC(b []byte) ([]byte, error) {
	chunks := map[int][]byte{}
	total := 0
	for m, seg := range Segments(b) {
		if m == 0xe2 && len(seg) > 14 && string(seg[:12]) == "ICC_PROFILE\x00" {
			seq, count := int(seg[12]), int(seg[13])
			if seq < 1 || seq > count {
				return nil, errors.New("ICC profile chunks are numbered wrongly")
			}
			total = count
			chunks[seq] = seg[14:]
		}
	}
	if len(chunks) == 0 {
		return nil, nil
	}
	var out []byte
	for k := 1; k <= total; k++ {
		c, ok := chunks[k]
		if !ok {
			return nil, fmt.Errorf("ICC profile chunk %d of %d is missing", k, total)
		}
		out = append(out, c...)
	}
	return out, nil
}

func pngICC(b []byte) ([]byte, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(b) < 8 || string(b[:8]) != sig {
		return nil, nil
	}
	for i := 8; i+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if n < 0 || i+12+n > len(b) {
			return nil, nil
		}
		body := b[i+8 : i+8+n]
		switch typ {
		case "iCCP":
			name := bytes.IndexByte(body, 0)
			if name < 0 || name+2 > len(body) {
				return nil, errors.New("iCCP chunk is damaged")
			}
			zr, err := zlib.NewReader(bytes.NewReader(body[name+2:]))
			if err != nil {
				return nil, fmt.Errorf("iCCP chunk: %w", err)
			}
			p, err := io.ReadAll(io.LimitReader(zr, 4<<20))
			if err != nil {
				return nil, fmt.Errorf("iCCP chunk: %w", err)
			}
			return p, nil
		case "IDAT", "IEND":
			return nil, nil
		}
		i += 12 + n
	}
	return nil, nil
}

// curve is a tone reproduction curve: encoded value in [0,1] to linear.
type curve func(float64) float64

// matrixShaper is an RGB matrix/TRC profile.
type matrixShaper struct {
	desc  string
	trc   [3]curve
	toXYZ [3][3]float64 // columns are the D50 colorants
}

// parseICC reads a matrix/TRC RGB profile; the error says why a profile
// is not one (and so cannot be converted here).
func parseICC(p []byte) (*matrixShaper, error) {
	space, pcs, tags, err := iccTags(p)
	if err != nil {
		return nil, err
	}
	m := &matrixShaper{desc: profileName(tags["desc"])}
	switch {
	case space != "RGB ":
		return m, fmt.Errorf("a %s profile, not RGB", strings.TrimSpace(space))
	case pcs != "XYZ ":
		return m, errors.New("a LUT-based RGB profile (Lab connection space)")
	}
	for c, name := range []string{"r", "g", "b"} {
		xyz, ok := tags[name+"XYZ"]
		trc, ok2 := tags[name+"TRC"]
		if !ok || !ok2 {
			if _, lut := tags["A2B0"]; lut {
				return m, errors.New("a LUT-based RGB profile")
			}
			return m, fmt.Errorf("no %sXYZ/%sTRC tags", name, name)
		}
		if len(xyz) < 20 || string(xyz[:4]) != "XYZ " {
			return m, fmt.Errorf("%sXYZ is not an XYZ tag", name)
		}
		for r := 0; r < 3; r++ {
			m.toXYZ[r][c] = s15f16(xyz[8+4*r:])
		}
		f, err := parseCurve(trc)
		if err != nil {
			return m, fmt.Errorf("%sTRC: %w", name, err)
		}
		m.trc[c] = f
	}
	if _, ok := invert(m.toXYZ); !ok {
		return m, errors.New("its colorants are degenerate")
	}
	return m, nil
}

// iccTags reads an ICC profile's header (its colour space and connection
// space) and its tag table.
func iccTags(p []byte) (space, pcs string, tags map[string][]byte, err error) {
	if len(p) < 132 || string(p[36:40]) != "acsp" {
		return "", "", nil, errors.New("not an ICC profile")
	}
	if size := int(binary.BigEndian.Uint32(p)); size > len(p) || size < 132 {
		return "", "", nil, fmt.Errorf("ICC profile is truncated (%d of %d bytes)", len(p), size)
	}
	space, pcs = string(p[16:20]), string(p[20:24])
	tags = map[string][]byte{}
	n := int(binary.BigEndian.Uint32(p[128:]))
	if n > 1000 || 132+12*n > len(p) {
		return "", "", nil, errors.New("ICC tag table is damaged")
	}
	for k := 0; k < n; k++ {
		e := p[132+12*k:]
		off, size := int(binary.BigEndian.Uint32(e[4:])), int(binary.BigEndian.Uint32(e[8:]))
		if off < 0 || size < 8 || off+size > len(p) {
			return "", "", nil, fmt.Errorf("ICC tag %q points outside the profile", e[:4])
		}
		tags[string(e[:4])] = p[off : off+size]
	}
	return space, pcs, tags, nil
}

func s15f16(b []byte) float64 { return float64(int32(binary.BigEndian.Uint32(b))) / 65536 }

func parseCurve(t []byte) (curve, error) {
	switch string(t[:4]) {
	case "curv":
		if len(t) < 12 {
			return nil, errors.New("truncated curve")
		}
		n := int(binary.BigEndian.Uint32(t[8:]))
		if n < 0 || len(t) < 12+2*n {
			return nil, errors.New("truncated curve")
		}
		switch n {
		case 0:
			return func(x float64) float64 { return x }, nil
		case 1:
			g := float64(binary.BigEndian.Uint16(t[12:])) / 256
			return func(x float64) float64 { return math.Pow(x, g) }, nil
		}
		table := make([]float64, n)
		for i := range table {
			table[i] = float64(binary.BigEndian.Uint16(t[12+2*i:])) / 65535
		}
		return func(x float64) float64 {
			pos := x * float64(n-1)
			i := int(pos)
			if i >= n-1 {
				return table[n-1]
			}
			if i < 0 {
				return table[0]
			}
			f := pos - float64(i)
			return table[i]*(1-f) + table[i+1]*f
		}, nil
	case "para":
		if len(t) < 12 {
			return nil, errors.New("truncated parametric curve")
		}
		fn := int(binary.BigEndian.Uint16(t[8:]))
		counts := []int{1, 3, 4, 5, 7}
		if fn >= len(counts) || len(t) < 12+4*counts[fn] {
			return nil, fmt.Errorf("parametric curve type %d is not known", fn)
		}
		var v [7]float64
		for i := 0; i < counts[fn]; i++ {
			v[i] = s15f16(t[12+4*i:])
		}
		g, a, b, c, d, e, f := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
		pow := func(x float64) float64 {
			if x <= 0 {
				return 0
			}
			return math.Pow(x, g)
		}
		switch fn {
		case 0:
			return pow, nil
		case 1:
			return func(x float64) float64 {
				if a != 0 && x >= -b/a {
					return pow(a*x + b)
				}
				return 0
			}, nil
		case 2:
			return func(x float64) float64 {
				if a != 0 && x >= -b/a {
					return pow(a*x+b) + c
				}
				return c
			}, nil
		case 3:
			return func(x float64) float64 {
				if x >= d {
					return pow(a*x + b)
				}
				return c * x
			}, nil
		default:
			return func(x float64) float64 {
				if x >= d {
					return pow(a*x+b) + e
				}
				return c*x + f
			}, nil
		}
	}
	return nil, fmt.Errorf("curve type %q is not known", t[:4])
}

// profileName reads a v2 'desc' or v4 'mluc' description, for the log.
func profileName(t []byte) string {
	switch {
	case len(t) > 12 && string(t[:4]) == "desc":
		n := int(binary.BigEndian.Uint32(t[8:]))
		if n > 0 && 12+n <= len(t) {
			return strings.TrimRight(string(t[12:12+n]), "\x00")
		}
	case len(t) > 28 && string(t[:4]) == "mluc":
		size, off := int(binary.BigEndian.Uint32(t[20:])), int(binary.BigEndian.Uint32(t[24:]))
		if off+size <= len(t) {
			var r []rune
			for i := off; i+1 < off+size; i += 2 {
				r = append(r, rune(binary.BigEndian.Uint16(t[i:])))
			}
			return string(r)
		}
	}
	return ""
}

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
