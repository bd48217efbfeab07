package images

// CMYK and YCCK JPEGs (scans, print exports) and gray photos with their
// own tone curve. A CMYK profile maps ink to colour through a lookup table
// (A2B1/A2B0, an ICC lut16Type "mft2" or lut8Type "mft1": input curves, a
// grid over the four inks, output curves, into Lab or XYZ), which is
// evaluated here; a CMYK JPEG without a profile (or with a v4 "mAB " table
// this does not read) gets the plain inversion image/color uses, with a
// note. Conversion happens while the decoded inks are box-shrunk into the
// renderer's planes, so neither a full-size RGB copy nor a full-size set
// of planes is ever made: a 16 MP CMYK photo costs its 64 MB decode and
// planes of a quarter of its size.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
)

// clut is an ICC lut8Type or lut16Type table: device values to PCS values.
type clut struct {
	in, out, grid int
	inTab, outTab [][]float32 // per channel, entries in [0,1]
	table         []float32   // grid^in entries of out values in [0,1], first input slowest
	bits16        bool
}

func parseCLUT(t []byte) (*clut, error) {
	if len(t) < 48 {
		return nil, errors.New("truncated lookup table")
	}
	l := &clut{in: int(t[8]), out: int(t[9]), grid: int(t[10])}
	if l.in < 1 || l.in > 8 || l.out < 1 || l.out > 8 || l.grid < 2 {
		return nil, errors.New("lookup table of an unusual shape")
	}
	n := 1
	for range l.in {
		if n *= l.grid; n > 1<<22 {
			return nil, errors.New("lookup table too large")
		}
	}
	var inN, outN, size int
	var read func(b []byte, i int) float32
	switch string(t[:4]) {
	case "mft2":
		if len(t) < 52 {
			return nil, errors.New("truncated lookup table")
		}
		l.bits16 = true
		inN, outN, size = int(binary.BigEndian.Uint16(t[48:])), int(binary.BigEndian.Uint16(t[50:])), 2
		t = t[52:]
		read = func(b []byte, i int) float32 { return float32(binary.BigEndian.Uint16(b[2*i:])) / 65535 }
	case "mft1":
		inN, outN, size = 256, 256, 1
		t = t[48:]
		read = func(b []byte, i int) float32 { return float32(b[i]) / 255 }
	default:
		return nil, fmt.Errorf("a %q lookup table, which cotd does not read", t[:4])
	}
	if inN < 2 || outN < 2 || len(t) < size*(l.in*inN+n*l.out+l.out*outN) {
		return nil, errors.New("truncated lookup table")
	}
	tab := func(count, entries int) [][]float32 {
		out := make([][]float32, count)
		for c := range out {
			out[c] = make([]float32, entries)
			for i := range entries {
				out[c][i] = read(t, i)
			}
			t = t[size*entries:]
		}
		return out
	}
	l.inTab = tab(l.in, inN)
	l.table = make([]float32, n*l.out)
	for i := range l.table {
		l.table[i] = read(t, i)
	}
	t = t[size*len(l.table):]
	l.outTab = tab(l.out, outN)
	return l, nil
}

// curveAt interpolates a 1-D table at x in [0,1].
func curveAt(tab []float32, x float32) float32 {
	p := x * float32(len(tab)-1)
	switch {
	case p <= 0:
		return tab[0]
	case p >= float32(len(tab)-1):
		return tab[len(tab)-1]
	}
	i := int(p)
	f := p - float32(i)
	return tab[i] + f*(tab[i+1]-tab[i])
}

// eval maps device values x (len in) to PCS values (len out), with
// multilinear interpolation in the grid.
func (l *clut) eval(x []float32, out []float32) {
	var idx [8]int
	var frac [8]float32
	g := l.grid - 1
	for c := range l.in {
		v := curveAt(l.inTab[c], x[c]) * float32(g)
		i := min(int(v), g-1)
		idx[c], frac[c] = i, v-float32(i)
	}
	var acc [8]float32
	for corner := range 1 << l.in {
		w := float32(1)
		off := 0
		for c := range l.in {
			i := idx[c]
			if corner>>(l.in-1-c)&1 == 1 {
				i++
				w *= frac[c]
			} else {
				w *= 1 - frac[c]
			}
			off = off*l.grid + i
		}
		if w == 0 {
			continue
		}
		e := l.table[off*l.out : off*l.out+l.out]
		for o := range l.out {
			acc[o] += w * e[o]
		}
	}
	for o := range l.out {
		out[o] = curveAt(l.outTab[o], acc[o])
	}
}

// inkTransform converts CMYK ink (0 = none) to sRGB.
type inkTransform struct {
	lut  *clut // nil: plain inversion
	lab  bool  // the PCS is Lab, else XYZ
	toRG [3][3]float64
	enc  *[encSteps + 1]uint8
	desc string
}

// cmykTransform reads the CMYK profile a JPEG carries; with none, or one
// it cannot evaluate, it returns the plain inversion and a note.
func cmykTransform(data []byte) (*inkTransform, string) {
	prof, err := jpegICC(data)
	if err != nil {
		return &inkTransform{}, "colour profile not converted (" + err.Error() + "); colours may look off"
	}
	if prof == nil {
		return &inkTransform{}, "a CMYK photo without a colour profile: converted by plain ink inversion; colours may be off"
	}
	space, pcs, tags, err := iccTags(prof)
	desc := profileName(tags["desc"])
	if err == nil && space != "CMYK" {
		err = fmt.Errorf("a %s profile on a CMYK photo", space)
	}
	var l *clut
	if err == nil {
		t, ok := tags["A2B1"] // relative colorimetric, as vips and Little CMS default to
		if !ok {
			t, ok = tags["A2B0"]
		}
		if !ok {
			err = errors.New("no A2B0 or A2B1 table")
		} else if l, err = parseCLUT(t); err == nil && (l.in != 4 || l.out != 3) {
			err = errors.New("a table that does not map 4 inks to 3 values")
		}
	}
	if err != nil {
		return &inkTransform{}, fmt.Sprintf("colour profile %q not read (%v): converted by plain ink inversion; colours may be off", desc, err)
	}
	inv, _ := invert(srgbD50)
	return &inkTransform{lut: l, lab: pcs == "Lab ", toRG: inv, enc: srgbTable(), desc: desc}, ""
}

// srgbTable is the sRGB curve from linear light in encSteps steps.
func srgbTable() *[encSteps + 1]uint8 {
	var t [encSteps + 1]uint8
	for i := range t {
		t[i] = uint8(math.Round(255 * srgbEncode(float64(i)/encSteps)))
	}
	return &t
}

func (t *inkTransform) rgb(c, m, y, k uint8) (uint8, uint8, uint8) {
	if t.lut == nil {
		return color.CMYKToRGB(c, m, y, k)
	}
	x := [4]float32{float32(c) / 255, float32(m) / 255, float32(y) / 255, float32(k) / 255}
	var v [3]float32
	t.lut.eval(x[:], v[:])
	var X, Y, Z float64
	if t.lab {
		var L, a, b float64
		if t.lut.bits16 { // ICC v2 16-bit Lab: L 0xFF00 = 100, a/b 0x8000 = 0
			L = float64(v[0]) * 65535 / 65280 * 100
			a, b = float64(v[1])*65535/256-128, float64(v[2])*65535/256-128
		} else {
			L, a, b = float64(v[0])*100, float64(v[1])*255-128, float64(v[2])*255-128
		}
		fy := (L + 16) / 116
		f := func(t float64) float64 {
			if t > 6.0/29 {
				return t * t * t
			}
			return 3 * (6.0 / 29) * (6.0 / 29) * (t - 4.0/29)
		}
		X, Y, Z = 0.9642*f(fy+a/500), f(fy), 0.8249*f(fy-b/200)
	} else { // XYZ as u1Fixed15: 0x8000 = 1.0
		s := 65535.0 / 32768
		X, Y, Z = float64(v[0])*s, float64(v[1])*s, float64(v[2])*s
	}
	enc := func(l float64) uint8 {
		switch {
		case l <= 0:
			return 0
		case l >= 1:
			return 255
		}
		return t.enc[int(l*encSteps+0.5)]
	}
	m3 := t.toRG
	return enc(m3[0][0]*X + m3[0][1]*Y + m3[0][2]*Z), enc(m3[1][0]*X + m3[1][1]*Y + m3[1][2]*Z), enc(m3[2][0]*X + m3[2][1]*Y + m3[2][2]*Z)
}

// cmykSource box-shrinks decoded inks by kx×ky, converts each averaged
// pixel to sRGB and returns it as planes.
func cmykSource(m *image.CMYK, t *inkTransform, kx, ky int) source {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := (w+kx-1)/kx, (h+ky-1)/ky
	yp, cb, cr := newPlane(ow, oh), newPlane(ow, oh), newPlane(ow, oh)
	sums := make([]uint32, 4*ow)
	for oy := range oh {
		clear(sums)
		y0, y1 := oy*ky, min(oy*ky+ky, h)
		for y := y0; y < y1; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				s := sums[4*(x/kx):]
				p := row[4*x : 4*x+4]
				s[0], s[1], s[2], s[3] = s[0]+uint32(p[0]), s[1]+uint32(p[1]), s[2]+uint32(p[2]), s[3]+uint32(p[3])
			}
		}
		yr, cbr, crr := yp.row(oy), cb.row(oy), cr.row(oy)
		for ox := range ow {
			n := uint32((y1 - y0) * (min(ox*kx+kx, w) - ox*kx))
			s := sums[4*ox : 4*ox+4]
			r, g, bl := t.rgb(uint8((s[0]+n/2)/n), uint8((s[1]+n/2)/n), uint8((s[2]+n/2)/n), uint8((s[3]+n/2)/n))
			yr[ox], cbr[ox], crr[ox] = jfif.toYCbCr(r, g, bl)
		}
	}
	gw, gh := float64(w)/float64(kx), float64(h)/float64(ky)
	return source{y: yp, cb: cb, cr: cr, w: w, h: h, gw: gw, gh: gh, cgw: gw, cgh: gh, hasChroma: true, converted: true}
}

// rgba64Source is rgbaSource for 16-bit pictures (16-bit PNG and TIFF):
// the box shrink reads the 16-bit values in place, so the only full-size
// buffer is the decoder's.
func rgba64Source(img image.Image, kx, ky int) (source, bool) {
	var pix []byte
	var stride int
	premul := false
	b := img.Bounds()
	switch m := img.(type) {
	case *image.RGBA64:
		pix, stride, premul = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, true
	case *image.NRGBA64:
		pix, stride = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	default:
		return source{}, false
	}
	w, h := b.Dx(), b.Dy()
	ow, oh := (w+kx-1)/kx, (h+ky-1)/ky
	yp, cb, cr := newPlane(ow, oh), newPlane(ow, oh), newPlane(ow, oh)
	sums := make([]uint64, 3*ow)
	for oy := range oh {
		clear(sums)
		y0, y1 := oy*ky, min(oy*ky+ky, h)
		for y := y0; y < y1; y++ {
			row := pix[y*stride : y*stride+8*w]
			for x := range w {
				p := row[8*x : 8*x+8]
				r, g, bl, a := uint64(p[0])<<8|uint64(p[1]), uint64(p[2])<<8|uint64(p[3]), uint64(p[4])<<8|uint64(p[5]), uint64(p[6])<<8|uint64(p[7])
				if a != 0xffff { // flatten onto white
					if premul {
						r, g, bl = r+0xffff-a, g+0xffff-a, bl+0xffff-a
					} else {
						f := func(c uint64) uint64 { return (c*a + 0xffff*(0xffff-a) + 0x7fff) / 0xffff }
						r, g, bl = f(r), f(g), f(bl)
					}
				}
				s := sums[3*(x/kx):]
				s[0], s[1], s[2] = s[0]+r, s[1]+g, s[2]+bl
			}
		}
		yr, cbr, crr := yp.row(oy), cb.row(oy), cr.row(oy)
		for ox := range ow {
			n := uint64((y1 - y0) * (min(ox*kx+kx, w) - ox*kx))
			s := sums[3*ox : 3*ox+3]
			to8 := func(v uint64) uint8 { return uint8((v/n + 128) / 257) }
			yr[ox], cbr[ox], crr[ox] = color.RGBToYCbCr(to8(s[0]), to8(s[1]), to8(s[2]))
		}
	}
	gw, gh := float64(w)/float64(kx), float64(h)/float64(ky)
	return source{y: yp, cb: cb, cr: cr, w: w, h: h, gw: gw, gh: gh, cgw: gw, cgh: gh, hasChroma: true}, true
}

// gray16Source box-shrinks a 16-bit gray picture into an 8-bit plane.
func gray16Source(m *image.Gray16, kx, ky int) source {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := (w+kx-1)/kx, (h+ky-1)/ky
	yp := newPlane(ow, oh)
	sums := make([]uint64, ow)
	for oy := range oh {
		clear(sums)
		y0, y1 := oy*ky, min(oy*ky+ky, h)
		for y := y0; y < y1; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				sums[x/kx] += uint64(row[2*x])<<8 | uint64(row[2*x+1])
			}
		}
		yr := yp.row(oy)
		for ox := range ow {
			n := uint64((y1 - y0) * (min(ox*kx+kx, w) - ox*kx))
			yr[ox] = uint8((sums[ox]/n + 128) / 257)
		}
	}
	gw, gh := float64(w)/float64(kx), float64(h)/float64(ky)
	return source{y: yp, w: w, h: h, gw: gw, gh: gh}
}

// grayCurve reads a GRAY profile's tone curve (kTRC) as a table from code
// value to sRGB code value: gray is neutral, so only the curve matters.
// ok is false when the profile is not a gray one.
func grayCurve(prof []byte) (lut *[256]uint8, desc string, ok bool, err error) {
	space, _, tags, err := iccTags(prof)
	if err != nil || space != "GRAY" {
		return nil, "", false, err
	}
	desc = profileName(tags["desc"])
	trc, found := tags["kTRC"]
	if !found {
		return nil, desc, true, errors.New("no kTRC tag")
	}
	f, err := parseCurve(trc)
	if err != nil {
		return nil, desc, true, fmt.Errorf("kTRC: %w", err)
	}
	var t [256]uint8
	for v := range 256 {
		t[v] = uint8(math.Round(255 * srgbEncode(math.Min(1, math.Max(0, f(float64(v)/255))))))
	}
	return &t, desc, true, nil
}

// applyGray maps the luma of a rendered picture through a gray profile's
// curve (in place: the picture is the renderer's own).
func applyGray(img image.Image, curve *[256]uint8) image.Image {
	var pix []byte
	switch m := img.(type) {
	case *image.Gray:
		pix = m.Pix
	case *image.YCbCr:
		pix = m.Y
	default:
		return img
	}
	for i, v := range pix {
		pix[i] = curve[v]
	}
	return img
}
