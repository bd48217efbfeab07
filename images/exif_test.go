package images

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"testing"
)

func plainJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOrientationParser(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	tests := []struct {
		name   string
		data   []byte
		format string
		want   int
	}{
		{"no exif", exifJPEG(t, img, 1)[:2], "jpeg", 1},
		{"plain jpeg", plainJPEG(t, img), "jpeg", 1},
		{"truncated segment", exifJPEG(t, img, 6)[:20], "jpeg", 1},
		{"out of range value", exifJPEG(t, img, 9), "jpeg", 1},
		{"zero value", exifJPEG(t, img, 0), "jpeg", 1},
		{"tiff little endian", []byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00"), "tiff", 8},
		{"tiff loop offset", []byte("II*\x00\xff\xff\xff\xff"), "tiff", 1},
		{"png ignores", []byte("\x89PNG"), "png", 1},
	}
	for o := 1; o <= 8; o++ {
		tests = append(tests, struct {
			name   string
			data   []byte
			format string
			want   int
		}{"exif " + string(rune('0'+o)), exifJPEG(t, img, o), "jpeg", o})
	}
	for _, tt := range tests {
		if got := orientation(tt.data, tt.format); got != tt.want {
			t.Errorf("%s: orientation = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// FuzzHeaderParsers feeds arbitrary bytes to the hand-written parsers that
// run on every file before any decoder: they must not panic, the orientation
// must be 1..8, and sniff's errors must carry a sentinel.
func FuzzHeaderParsers(f *testing.F) {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for o := 1; o <= 8; o++ {
		f.Add(exifJPEG(&testing.T{}, img, o))
	}
	f.Add([]byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x04\x00\x00\x00\x01\x00\x00\x00\x03"))
	f.Add([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"))
	f.Add([]byte("hello\n"))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, format := range []string{"jpeg", "tiff"} {
			if o := orientation(b, format); o < 1 || o > 8 {
				t.Fatalf("orientation %d out of range", o)
			}
		}
		if _, err := sniff(b); err != nil && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("sniff error %v has no sentinel", err)
		}
	})
}

// tiffWithDescription is a little-endian TIFF structure whose IFD0 holds
// one ImageDescription entry of type typ, count bytes, with its value
// inline or at the offset at (0: just after the IFD), followed by tail.
func tiffWithDescription(typ uint16, count, at uint32, tail string) []byte {
	le := binary.LittleEndian
	t := []byte("II*\x00\x08\x00\x00\x00")
	t = le.AppendUint16(t, 1)
	t = le.AppendUint16(t, 0x010e)
	t = le.AppendUint16(t, typ)
	t = le.AppendUint32(t, count)
	if count <= 4 {
		var v [4]byte
		copy(v[:], tail)
		t = append(t, v[:]...)
		return le.AppendUint32(t, 0)
	}
	if at == 0 {
		at = uint32(len(t) + 8)
	}
	t = le.AppendUint32(t, at)
	t = le.AppendUint32(t, 0) // no IFD1
	return append(t, tail...)
}

// TestEXIFReader pins the exported reader caption uses: the segment walk
// finds the EXIF among other segments, ImageDescription is read inline or
// from its offset without its NULs, and anything damaged or of the wrong
// type is no description rather than a panic (offsets near 4 GiB included,
// which would wrap an int on a 32-bit Pi).
func TestEXIFReader(t *testing.T) {
	tests := []struct {
		name string
		tiff []byte
		want string
	}{
		{"at an offset", tiffWithDescription(2, 12, 0, "Mochi naps\x00\x00"), "Mochi naps"},
		{"inline", tiffWithDescription(2, 4, 0, "Bo\x00\x00"), "Bo"},
		{"offset past end", tiffWithDescription(2, 40, 0, "short"), ""},
		{"offset wraps 32 bits", tiffWithDescription(2, 16, 0x7ffffff8, "x"), ""},
		{"not ascii", tiffWithDescription(7, 12, 0, "Mochi naps\x00\x00"), ""},
		{"unknown type", tiffWithDescription(99, 12, 0, "Mochi naps\x00\x00"), ""},
		{"table past end", tiffWithDescription(2, 12, 0, "Mochi naps\x00\x00")[:20], ""},
		{"bad magic", append([]byte("II+\x00"), tiffWithDescription(2, 12, 0, "Mochi naps\x00\x00")[4:]...), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		e, _ := ParseEXIF(tt.tiff)
		if got := e.ImageDescription(); got != tt.want {
			t.Errorf("%s: ImageDescription = %q, want %q", tt.name, got, tt.want)
		}
	}

	// In a JPEG, after an XMP segment and before the frame: found, and
	// the walk yields every segment before the image data in order.
	tiff := tiffWithDescription(2, 12, 0, "Mochi naps\x00\x00")
	seg := func(marker byte, payload string) []byte {
		n := len(payload) + 2
		return append([]byte{0xff, marker, byte(n >> 8), byte(n)}, payload...)
	}
	jpg := plainJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	b := append([]byte{0xff, 0xd8}, seg(0xe1, "http://ns.adobe.com/xap/1.0/\x00<x/>")...)
	b = append(b, seg(0xe1, "Exif\x00\x00"+string(tiff))...)
	b = append(b, jpg[2:]...)
	e, ok := ParseEXIF(JPEGEXIF(b))
	if !ok || e.ImageDescription() != "Mochi naps" || e.Orientation() != 1 {
		t.Errorf("EXIF in a JPEG: ok %v, description %q, orientation %d; want true, \"Mochi naps\", 1", ok, e.ImageDescription(), e.Orientation())
	}
	var markers []byte
	for m := range Segments(b) {
		markers = append(markers, m)
	}
	if len(markers) < 4 || markers[0] != 0xe1 || markers[1] != 0xe1 || !bytes.Contains(markers, []byte{0xc0}) || bytes.Contains(markers, []byte{0xda}) {
		t.Errorf("Segments yielded markers % x, want the two APP1s first, the frame header, and nothing from the scan on", markers)
	}
}

// FuzzEXIF feeds arbitrary bytes to the exported metadata reader, as a JPEG
// and as a bare TIFF structure: no panic, segments within the input, an
// orientation of 1..8, and a description no longer than the input.
func FuzzEXIF(f *testing.F) {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	f.Add(exifJPEG(&testing.T{}, img, 6))
	f.Add(tiffWithDescription(2, 12, 0, "Mochi naps\x00\x00"))
	f.Add(tiffWithDescription(2, 16, 0x7ffffff8, "x"))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', '*', 0, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, seg := range Segments(b) {
			if len(seg) > len(b) {
				t.Fatalf("segment of %d bytes from %d", len(seg), len(b))
			}
		}
		for _, tiff := range [][]byte{JPEGEXIF(b), b} {
			e, _ := ParseEXIF(tiff)
			if o := e.Orientation(); o < 1 || o > 8 {
				t.Fatalf("orientation %d out of range", o)
			}
			if d := e.ImageDescription(); len(d) > len(tiff) {
				t.Fatalf("description of %d bytes from %d", len(d), len(tiff))
			}
		}
	})
}
