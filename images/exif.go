package images

import (
	"bytes"
	"encoding/binary"
	"iter"
)

// This file is cotd's one reader of JPEG metadata: the walk over a JPEG's
// marker segments and the EXIF IFD0 tags cotd uses (Orientation here, the
// ImageDescription the caption package reads). Metadata is untrusted and
// optional: damage anywhere means "no such tag", never an error, because a
// photo with broken EXIF is still worth mailing, just as stored.

// Segments yields the marker and payload (after the length) of each marker
// segment of a JPEG before its image data: the APPn metadata (EXIF, XMP,
// ICC, IPTC), the tables and the frame header. It stops at the first scan,
// at the end of the image, and at the first byte or length that does not
// fit, so every payload it yields lies within b.
func Segments(b []byte) iter.Seq2[byte, []byte] {
	return func(yield func(byte, []byte) bool) {
		if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
			return
		}
		for i := 2; i+4 <= len(b); {
			if b[i] != 0xff {
				return
			}
			m := b[i+1]
			switch {
			case m == 0xff: // fill byte
				i++
				continue
			case m == 0x01 || (m >= 0xd0 && m <= 0xd8): // no length: TEM, RSTn, SOI
				i += 2
				continue
			case m == 0xda || m == 0xd9: // image data or its end: no metadata after it
				return
			}
			n := int(binary.BigEndian.Uint16(b[i+2:]))
			if n < 2 || i+2+n > len(b) {
				return
			}
			if !yield(m, b[i+4:i+2+n]) {
				return
			}
			i += 2 + n
		}
	}
}

// exifHeader starts the APP1 segment that carries EXIF.
const exifHeader = "Exif\x00\x00"

// JPEGEXIF returns the EXIF of a JPEG: the TIFF structure in its first
// APP1 "Exif" segment, or nil when it has none.
func JPEGEXIF(b []byte) []byte {
	for m, seg := range Segments(b) {
		if m == 0xe1 && bytes.HasPrefix(seg, []byte(exifHeader)) {
			return seg[len(exifHeader):]
		}
	}
	return nil
}

// EXIF is IFD0 of a photo's EXIF metadata, where cameras and photo
// managers put Orientation and ImageDescription. Its methods read one tag
// each and cost a few hundred bytes of parsing; other IFDs (the EXIF
// sub-IFD, GPS, the thumbnail's IFD1) are not read.
type EXIF struct {
	t   []byte // the whole TIFF structure: value offsets count from its start
	bo  binary.ByteOrder
	ifd int64 // offset of IFD0
}

// ParseEXIF reads the header of a TIFF structure (the body of an EXIF
// segment, from [JPEGEXIF], or a whole TIFF file). ok is false when t is
// not one or its IFD0 offset points outside it.
func ParseEXIF(t []byte) (e EXIF, ok bool) {
	if len(t) < 8 {
		return EXIF{}, false
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return EXIF{}, false
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return EXIF{}, false
	}
	return EXIF{t: t, bo: bo, ifd: ifd}, true
}

// typeSizes are the sizes in bytes of one value of each TIFF field type
// (BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG,
// SRATIONAL, FLOAT, DOUBLE).
var typeSizes = [13]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

// entry finds the first entry of tag in IFD0 and returns its type and its
// value's bytes: inline when they fit in four bytes, else at the offset
// the entry gives. ok is false when the tag is absent, its type unknown,
// or the table or the value run past the end. Offsets are computed in
// int64, so a hostile count or offset cannot wrap on a 32-bit Pi.
func (e EXIF) entry(tag uint16) (typ uint16, value []byte, ok bool) {
	if e.t == nil {
		return 0, nil, false
	}
	t, bo := e.t, e.bo
	count := int64(bo.Uint16(t[e.ifd:]))
	for k := int64(0); k < count; k++ {
		off := e.ifd + 2 + 12*k
		if off+12 > int64(len(t)) {
			return 0, nil, false
		}
		if bo.Uint16(t[off:]) != tag {
			continue
		}
		typ = bo.Uint16(t[off+2:])
		if int(typ) >= len(typeSizes) || typeSizes[typ] == 0 {
			return typ, nil, false
		}
		size := typeSizes[typ] * int64(bo.Uint32(t[off+4:]))
		if size <= 4 {
			return typ, t[off+8 : off+8+size], true
		}
		at := int64(bo.Uint32(t[off+8:]))
		if at+size > int64(len(t)) {
			return typ, nil, false
		}
		return typ, t[at : at+size], true
	}
	return 0, nil, false
}

// Orientation returns tag 0x0112 (1..8, how the stored pixels must be
// turned to stand upright), or 1 when it is absent or out of range.
func (e EXIF) Orientation() int {
	typ, v, ok := e.entry(0x0112)
	if !ok {
		return 1
	}
	var o int
	switch {
	case typ == 3 && len(v) >= 2: // SHORT, the type the standard prescribes
		o = int(e.bo.Uint16(v))
	case (typ == 4 || typ == 9) && len(v) >= 4: // LONG or SLONG, written by a few tools
		o = int(int32(e.bo.Uint32(v)))
	default:
		return 1
	}
	if o < 1 || o > 8 {
		return 1
	}
	return o
}

// ImageDescription returns tag 0x010E, the photo's title or description as
// a camera or photo manager wrote it (ASCII by the standard, often UTF-8 in
// practice), without its terminating NULs; "" when it is absent.
func (e EXIF) ImageDescription() string { return e.ascii(0x010e) }

// Make, Model and Software return tags 0x010F, 0x0110 and 0x0131: who made
// the camera, which one it is, and what firmware or program wrote the file.
// Captions compare a description against them, since cameras often fill
// the description with their own name.
func (e EXIF) Make() string     { return e.ascii(0x010f) }
func (e EXIF) Model() string    { return e.ascii(0x0110) }
func (e EXIF) Software() string { return e.ascii(0x0131) }

// ascii returns an ASCII tag's text without its terminating NULs, or ""
// when it is absent or of another type.
func (e EXIF) ascii(tag uint16) string {
	typ, v, ok := e.entry(tag)
	if !ok || typ != 2 {
		return ""
	}
	return string(bytes.TrimRight(v, "\x00"))
}

// orientation returns the EXIF Orientation (1..8) of a JPEG or TIFF file,
// or 1 when there is none or the metadata is damaged. It reads only IFD0,
// which is where cameras put the tag.
func orientation(b []byte, format string) int {
	switch format {
	case "jpeg":
		b = JPEGEXIF(b)
	case "tiff":
	default:
		return 1
	}
	e, _ := ParseEXIF(b)
	return e.Orientation()
}
