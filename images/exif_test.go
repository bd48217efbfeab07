package images

import (
	"bytes"
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
