package images

import "encoding/binary"

// orientation returns the EXIF Orientation (1..8) of a JPEG or TIFF file, or
// 1 when there is none or the metadata is damaged: a photo with broken EXIF
// is still worth mailing, just as stored. It reads only the first IFD, which
// is where cameras put the tag, so it costs a few hundred bytes of parsing.
func orientation(b []byte, format string) int {
	switch format {
	case "jpeg":
		return jpegOrientation(b)
	case "tiff":
		return tiffOrientation(b)
	}
	return 1
}

// jpegOrientation walks the JPEG marker segments before the image data and
// reads the first APP1 "Exif" segment.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return 1
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xff {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7):
			i += 2
			continue
		case marker == 0xda || marker == 0xd9: // image data or end: no EXIF before it
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure (the body
// of an EXIF segment, or a whole TIFF file).
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	count := int64(bo.Uint16(t[ifd:]))
	for e := int64(0); e < count; e++ {
		off := ifd + 2 + 12*e
		if off+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[off:]) != 0x0112 {
			continue
		}
		var v int
		switch typ := bo.Uint16(t[off+2:]); typ {
		case 3: // SHORT, the type the standard prescribes
			v = int(bo.Uint16(t[off+8:]))
		case 4, 9: // LONG or SLONG, written by a few tools
			v = int(int32(bo.Uint32(t[off+8:])))
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return v
	}
	return 1
}
