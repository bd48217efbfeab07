package images

import (
	"bytes"
	"unicode/utf8"
)

// sniff names a file's format from its first bytes. Decodable formats return
// their image.RegisterFormat name and a nil error; anything else returns a
// reason, so a HEIC renamed to .jpg is still read as a HEIC.
func sniff(b []byte) (string, error) {
	switch {
	case len(b) == 0:
		return "", corrupt("empty file (0 bytes); copy the photo again")
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "jpeg", nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png", nil
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "gif", nil
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return "webp", nil
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return "tiff", nil
	case bytes.HasPrefix(b, []byte("BM")) && len(b) >= 26:
		return "bmp", nil
	}
	if len(b) >= 12 && bytes.Equal(b[4:8], []byte("ftyp")) {
		return ftypReason(b)
	}
	switch {
	case bytes.HasPrefix(b, []byte("8BPS")):
		return "", unsupported("Photoshop files are not supported, export a JPEG")
	case bytes.HasPrefix(b, []byte("\xff\x0a")), bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cJXL ")):
		return "", unsupported("JPEG XL is not supported, convert it to JPEG")
	case bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cjP  ")):
		return "", unsupported("JPEG 2000 is not supported, convert it to JPEG")
	case bytes.HasPrefix(b, []byte("II\x2a\x00\x10\x00\x00\x00CR")), bytes.HasPrefix(b, []byte("IIRO")), bytes.HasPrefix(b, []byte("IIU\x00")), bytes.HasPrefix(b, []byte("FUJIFILMCCD-RAW")):
		return "", unsupported("camera RAW files are not supported, export a JPEG")
	case bytes.HasPrefix(b, []byte{0xff, 0xd8}):
		return "", corrupt("truncated or corrupt JPEG: no marker after the start of image; re-export the photo")
	case looksLikeText(b):
		return "", unsupported("not an image (the file starts with text)")
	}
	return "", unsupported("not an image cotd can read (unknown file content); use JPEG, PNG, HEIC, AVIF, GIF, WebP, TIFF or BMP")
}

// ftypReason names an ISO base media file by its brand: HEIC/HEIF and
// AVIF photos are decoded (heif.go); a video or other media is refused.
func ftypReason(b []byte) (string, error) {
	brands := [][]byte{b[8:12]}
	size := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	for i := 16; i+4 <= size && i+4 <= len(b) && i < 64; i += 4 {
		brands = append(brands, b[i:i+4]) // compatible brands
	}
	for _, br := range brands {
		switch string(br) {
		case "avif", "avis":
			return "avif", nil
		}
	}
	for _, br := range brands {
		switch string(br) {
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "mif2":
			return "heic", nil
		}
	}
	return "", unsupported("not a photo (a video or other ISO media file); use JPEG, PNG, HEIC, AVIF, GIF, WebP, TIFF or BMP")
}

func looksLikeText(b []byte) bool {
	if len(b) > 512 {
		b = b[:512]
	}
	if !utf8.Valid(b) {
		// A multi-byte rune may be cut at the end of the sample.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
		if !utf8.Valid(b) {
			return false
		}
	}
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			return false
		}
	}
	return len(b) > 0
}
