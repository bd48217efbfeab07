package images

// HEIF (HEIC from iPhones and Android phones, AVIF) is read in two parts.
// The container (ISO base media file format, ISO/IEC 14496-12 and
// 23008-12) is parsed here in Go: the primary item, its size (ispe), the
// rotation and mirror the viewer must apply (irot, imir), and its colour
// (colr: an ICC profile or nclx code points). That is enough for the
// header checks every photo gets (pixel limits, the memory cost) without
// decoding anything. The pictures themselves (HEVC or AV1, often a grid of
// 512×512 tiles) are decoded by a helper program, heif.go's heifConvert.

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// heifInfo is what the container says about the primary image.
type heifInfo struct {
	codec         string // item type of the primary item: hvc1, av01, grid, ...
	width, height int    // ispe: the picture as coded, before irot/imir
	rotation      int    // irot: quarter turns anti-clockwise, 0..3
	mirror        bool   // imir present
	icc           []byte // colr prof/rICC
	nclx          *nclx  // colr nclx
}

// nclx are the ITU-T H.273 code points of a colr nclx box.
type nclx struct {
	primaries, transfer, matrix uint16
	fullRange                   bool
}

// box is one ISOBMFF box: its type and its payload (after the header).
type box struct {
	typ  string
	body []byte
}

// boxes splits b into its boxes; a box running past the end ends the list
// with an error.
func boxes(b []byte) ([]box, error) {
	var out []box
	for len(b) > 0 {
		if len(b) < 8 {
			return out, errors.New("truncated box header")
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return out, errors.New("truncated box header")
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if size < hdr || size > uint64(len(b)) {
			return out, errors.New("box " + typ + " runs past the end of the file")
		}
		out = append(out, box{typ, b[hdr:size]})
		b = b[size:]
	}
	return out, nil
}

func find(bs []box, typ string) (box, bool) {
	for _, b := range bs {
		if b.typ == typ {
			return b, true
		}
	}
	return box{}, false
}

// parseHEIF reads the container's meta box for the primary item.
func parseHEIF(data []byte) (heifInfo, error) {
	top, err := boxes(data)
	if meta, ok := find(top, "meta"); ok {
		return parseMeta(meta.body)
	}
	if err != nil {
		return heifInfo{}, err
	}
	return heifInfo{}, errors.New("no meta box: an image sequence or a video, not a still photo")
}

func parseMeta(b []byte) (heifInfo, error) {
	var info heifInfo
	if len(b) < 4 {
		return info, errors.New("truncated meta box")
	}
	kids, err := boxes(b[4:]) // a FullBox: version and flags first
	if err != nil {
		return info, err
	}
	pitm, ok := find(kids, "pitm")
	if !ok || len(pitm.body) < 6 {
		return info, errors.New("no primary item")
	}
	var primary uint32
	if pitm.body[0] == 0 {
		primary = uint32(binary.BigEndian.Uint16(pitm.body[4:]))
	} else if len(pitm.body) >= 8 {
		primary = binary.BigEndian.Uint32(pitm.body[4:])
	}
	if iinf, ok := find(kids, "iinf"); ok {
		info.codec = itemType(iinf.body, primary)
	}
	iprp, ok := find(kids, "iprp")
	if !ok {
		return info, errors.New("no item properties")
	}
	props, err := boxes(iprp.body)
	if err != nil {
		return info, err
	}
	ipco, ok1 := find(props, "ipco")
	ipma, ok2 := find(props, "ipma")
	if !ok1 || !ok2 {
		return info, errors.New("no item properties")
	}
	all, err := boxes(ipco.body)
	if err != nil {
		return info, err
	}
	for _, i := range associations(ipma.body, primary) {
		if i == 0 {
			continue // "no property"
		}
		if i > len(all) {
			return info, errors.New("item property index out of range")
		}
		p := all[i-1]
		switch p.typ {
		case "ispe":
			if len(p.body) >= 12 {
				info.width = int(binary.BigEndian.Uint32(p.body[4:]))
				info.height = int(binary.BigEndian.Uint32(p.body[8:]))
			}
		case "irot":
			if len(p.body) >= 1 {
				info.rotation = int(p.body[0] & 3)
			}
		case "imir":
			info.mirror = true
		case "colr":
			if len(p.body) < 4 {
				continue
			}
			switch string(p.body[:4]) {
			case "prof", "rICC":
				if info.icc == nil {
					info.icc = p.body[4:]
				}
			case "nclx":
				if len(p.body) >= 11 && info.nclx == nil {
					info.nclx = &nclx{
						primaries: binary.BigEndian.Uint16(p.body[4:]),
						transfer:  binary.BigEndian.Uint16(p.body[6:]),
						matrix:    binary.BigEndian.Uint16(p.body[8:]),
						fullRange: p.body[10]&0x80 != 0,
					}
				}
			}
		}
	}
	if info.width <= 0 || info.height <= 0 {
		return info, errors.New("the primary image has no size (ispe)")
	}
	return info, nil
}

// itemType finds the primary item's type in an iinf box.
func itemType(b []byte, id uint32) string {
	if len(b) < 6 {
		return ""
	}
	off := 6 // version/flags and a 16-bit count
	if b[0] != 0 {
		off = 8
	}
	if len(b) < off {
		return ""
	}
	entries, _ := boxes(b[off:])
	for _, e := range entries {
		if e.typ != "infe" || len(e.body) < 4 {
			continue
		}
		v, p := e.body[0], e.body[4:]
		var item uint32
		switch {
		case v == 2 && len(p) >= 8:
			item, p = uint32(binary.BigEndian.Uint16(p)), p[4:]
		case v >= 3 && len(p) >= 10:
			item, p = binary.BigEndian.Uint32(p), p[6:]
		default:
			continue
		}
		if item == id && len(p) >= 4 {
			return string(p[:4])
		}
	}
	return ""
}

// associations lists the (1-based) ipco indices of the item's properties
// in ipma, in the order they apply.
func associations(b []byte, id uint32) []int {
	if len(b) < 8 {
		return nil
	}
	version, flags := b[0], b[3]
	n := binary.BigEndian.Uint32(b[4:])
	p := b[8:]
	for range n {
		var item uint32
		if version < 1 {
			if len(p) < 3 {
				return nil
			}
			item, p = uint32(binary.BigEndian.Uint16(p)), p[2:]
		} else {
			if len(p) < 5 {
				return nil
			}
			item, p = binary.BigEndian.Uint32(p), p[4:]
		}
		count := int(p[0])
		p = p[1:]
		var idx []int
		for range count {
			if flags&1 != 0 {
				if len(p) < 2 {
					return nil
				}
				idx, p = append(idx, int(binary.BigEndian.Uint16(p)&0x7fff)), p[2:]
			} else {
				if len(p) < 1 {
					return nil
				}
				idx, p = append(idx, int(p[0]&0x7f)), p[1:]
			}
		}
		if item == id {
			return idx
		}
	}
	return nil
}

// upright is the picture's size once irot is applied.
func (h heifInfo) upright() (int, int) {
	if h.rotation%2 == 1 {
		return h.height, h.width
	}
	return h.width, h.height
}

// renderHEIF renders a HEIC or AVIF photo: the header checks from the
// container, the pictures decoded upright by the helper, then the JPEG
// pipeline with the EXIF Orientation ignored (HEIF's irot/imir are the
// orientation, and heif-convert has applied them).
func renderHEIF(data []byte, format string, o Options) (Result, error) {
	label := formatLabel(format)
	info, err := parseHEIF(data)
	if err != nil {
		return Result{}, corrupt("corrupt or unusual %s (%v); re-export the photo as JPEG%s", label, err, heifFix)
	}
	w, h := info.upright()
	px := int64(w) * int64(h)
	if px > MaxHEIFPixels {
		return Result{}, tooLarge("%s is %d×%d (%d MP), larger than the %d MP limit for %s photos; shrink it or export it as JPEG",
			label, w, h, px/1_000_000, MaxHEIFPixels/1_000_000, label)
	}
	jpg, err := heifToJPEG(data, px, label)
	if err != nil {
		return Result{}, err
	}
	// heif-convert writes an ICC profile into its JPEG but not an nclx
	// box: its colour space is given here instead.
	var colour *matrixShaper
	note := ""
	if info.icc == nil && info.nclx != nil {
		colour, note = nclxProfile(info.nclx)
	}
	res, err := renderImage(jpg, "jpeg", 1, colour, o)
	if err != nil {
		return Result{}, corrupt("%s decoded, but its picture could not be rendered (%v); re-export the photo as JPEG%s", label, err, heifFix)
	}
	res.SourceWidth, res.SourceHeight, res.Format = info.width, info.height, format
	if note != "" {
		res.Note = note
	}
	return res, nil
}

// nclxPrimaries are the H.273 colour primaries cotd converts from (red,
// green, blue; all with the D65 white): BT.2020 (9) and Display P3 (12).
// BT.709/sRGB (1), unspecified (2) and the BT.601 ones Android phones
// write (5, 6) are shown as sRGB.
var nclxPrimaries = map[uint16][3][2]float64{
	9:  {{0.708, 0.292}, {0.170, 0.797}, {0.131, 0.046}},
	12: {{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}},
}

// nclxProfile is the matrix/TRC profile an nclx box describes, or nil for
// sRGB's primaries; the note says why one could not be made. The tone
// curve is sRGB's for the sRGB and BT.709-family transfers (13; 1, 6, 14,
// 15, which photo viewers show the same way); HDR transfers (PQ, HLG) are
// not converted.
func nclxProfile(n *nclx) (*matrixShaper, string) {
	pri, ok := nclxPrimaries[n.primaries]
	switch {
	case n.primaries == 1 || n.primaries == 2 || n.primaries == 5 || n.primaries == 6:
		return nil, ""
	case !ok:
		return nil, fmt.Sprintf("colour not converted (nclx colour primaries %d); colours may look off", n.primaries)
	}
	switch n.transfer {
	case 1, 2, 6, 13, 14, 15:
	default:
		return nil, fmt.Sprintf("colour not converted (nclx transfer characteristics %d, an HDR or unusual curve); colours may look off", n.transfer)
	}
	m := &matrixShaper{desc: fmt.Sprintf("nclx %d/%d/%d", n.primaries, n.transfer, n.matrix), toXYZ: colorants(pri, [2]float64{0.3127, 0.3290})}
	for c := range m.trc {
		m.trc[c] = srgbDecode
	}
	return m, ""
}

// heifHeaderCost is [Cost] for a HEIC or AVIF file: the helper's peak,
// then the JPEG it hands back decoded at a reduced scale; ok is false when
// the head does not hold the container's meta box.
func heifHeaderCost(head []byte, size int64) (cost int64, refused, ok bool) {
	info, err := parseHEIF(head)
	if err != nil {
		return 0, false, false
	}
	px := int64(info.width) * int64(info.height)
	if px > MaxHEIFPixels {
		return 0, true, true
	}
	// The file and its copy for the helper, the helper's peak (it runs
	// while cotd holds only those), then the JPEG it wrote (under 1.2
	// bytes a pixel at heifQuality) with its scaled decode and rendition.
	return 2*size + max(heifCost(px), 2*px+24<<20), false, true
}
