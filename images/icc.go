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
// and the sRGB variants cameras and phones embed. CMYK profiles' tables
// are evaluated in cmyk.go and a gray profile's tone curve is honoured
// there too; any other kind (an RGB LUT profile) or a damaged profile is
// reported (Result.Notes) and the photo is rendered unconverted.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
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
