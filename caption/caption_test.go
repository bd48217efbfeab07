package caption

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"cotd/internal/needs"
)

func plainJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(3, 3, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEmbeddedExiftool: titles written by exiftool (an independent
// writer, as photo managers write them) are read from each place.
func TestEmbeddedExiftool(t *testing.T) {
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		needs.Missing(t, "exiftool is missing", "apt install libimage-exiftool-perl")
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"xmp title", []string{"-XMP-dc:Title=Mochi on the radiator", "-XMP-dc:Description=a long afternoon"}, "Mochi on the radiator"},
		{"xmp description", []string{"-XMP-dc:Description=Mochi asleep in the sun"}, "Mochi asleep in the sun"},
		{"exif description", []string{"-EXIF:ImageDescription=Tiger and the laundry basket"}, "Tiger and the laundry basket"},
		{"iptc caption", []string{"-IPTC:Caption-Abstract=Luna guards the sofa", "-IPTC:CodedCharacterSet=UTF8"}, "Luna guards the sofa"},
		{"iptc object name", []string{"-IPTC:ObjectName=Pixel in the box"}, "Pixel in the box"},
		{"unicode title", []string{"-XMP-dc:Title=Zoë und Kätzchen"}, "Zoë und Kätzchen"},
		{"camera junk", []string{"-EXIF:ImageDescription=OLYMPUS DIGITAL CAMERA         "}, ""},
		{"none", []string{"-EXIF:Orientation=1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "IMG_1234.jpg")
			if err := os.WriteFile(f, plainJPEG(t), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"-q", "-overwrite_original"}, tc.args...)
			if out, err := exec.Command(exiftool, append(args, f)...).CombinedOutput(); err != nil {
				t.Fatalf("exiftool: %v\n%s", err, out)
			}
			data, _ := os.ReadFile(f)
			if got := Find(f, data); got != tc.want {
				t.Errorf("Find = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSidecar(t *testing.T) {
	dir := t.TempDir()
	data := plainJPEG(t)
	for name, side := range map[string]string{
		"IMG_0001.jpg": "IMG_0001.txt",
		"PXL_2.jpg":    "PXL_2.jpg.txt",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		os.WriteFile(filepath.Join(dir, side), []byte("\ufeffMochi\r\non the radiator\n\n"), 0o644)
		if got := Find(p, data); got != "Mochi on the radiator" {
			t.Errorf("%s with %s: Find = %q", name, side, got)
		}
	}
	// A sidecar beats the embedded title; an empty one does not count.
	p := filepath.Join(dir, "tiger-in-the-box.jpg")
	os.WriteFile(p, data, 0o644)
	os.WriteFile(filepath.Join(dir, "tiger-in-the-box.txt"), []byte(" \n"), 0o644)
	if got := Find(p, data); got != "Tiger in the box" {
		t.Errorf("empty sidecar: Find = %q, want the file name", got)
	}
}

func TestFromName(t *testing.T) {
	for name, want := range map[string]string{
		"mochi-on-the-radiator.jpg":                  "Mochi on the radiator",
		"Mochi_and_Luna.jpeg":                        "Mochi and Luna",
		"tiger in the box.png":                       "Tiger in the box",
		"mochi.jpg":                                  "Mochi",
		"zoë-im-garten.jpg":                          "Zoë im garten",
		"IMG_1234.jpg":                               "",
		"IMG1234.JPG":                                "",
		"img_20240101_101010.jpg":                    "",
		"PXL_20240312_081523456.jpg":                 "",
		"PXL_20240312_081523456.MP.jpg":              "",
		"DSC0001.jpg":                                "",
		"DSC_0001.JPG":                               "",
		"DSCF1234.jpg":                               "",
		"P1010001.JPG":                               "",
		"20240312_081523.jpg":                        "",
		"Screenshot_2024-03-12.png":                  "",
		"WhatsApp Image 2024-03-12 at 08.15.23.jpeg": "",
		"3f2a9c1e-77b4-4d2e-9a61-0b5e8d3c2f10.jpg":   "",
		"cat.jpg":                                    "",
		"image.png":                                  "",
		"cat-2.jpg":                                  "Cat 2",
		"cat-002.jpg":                                "",
		"12.jpg":                                     "",
		"a.jpg":                                      "",
		"_DSC1234.jpg":                               "",
		"MVIMG_001.jpg":                              "",
	} {
		if got := FromName(name); got != want {
			t.Errorf("FromName(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestDamagedMetadata: truncated or lying segments give no caption, never
// a panic.
func TestDamagedMetadata(t *testing.T) {
	good := plainJPEG(t)
	seg := func(marker byte, payload string) []byte {
		n := len(payload) + 2
		return append([]byte{0xff, marker, byte(n >> 8), byte(n)}, payload...)
	}
	for name, b := range map[string][]byte{
		"exif offset past end": append(append([]byte{0xff, 0xd8}, seg(0xe1, "Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x0e\x01\x02\x00\xff\x00\x00\x00\xff\xff\x00\x00")...), good[2:]...),
		"iptc size past end":   append(append([]byte{0xff, 0xd8}, seg(0xed, "Photoshop 3.0\x008BIM\x04\x04\x00\x00\xff\xff\xff\x00")...), good[2:]...),
		"xmp not xml":          append(append([]byte{0xff, 0xd8}, seg(0xe1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta <<<")...), good[2:]...),
		"segment length lies":  {0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 'E'},
		"empty":                nil,
	} {
		if got := Embedded(b); got != "" {
			t.Errorf("%s: Embedded = %q, want none", name, got)
		}
	}
}

func FuzzEmbedded(f *testing.F) {
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', '*', 0, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := Embedded(b)
		if len([]rune(c)) > MaxLen {
			t.Fatalf("caption of %d runes", len([]rune(c)))
		}
	})
}
