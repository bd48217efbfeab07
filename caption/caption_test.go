package caption

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// TestIsBoilerplate: descriptions as real cameras, phones and programs
// write them into EXIF ImageDescription, with the Make/Model/Software the
// same file carries, against what people write.
func TestIsBoilerplate(t *testing.T) {
	olympus := Camera{"OLYMPUS IMAGING CORP.", "E-P3", "Version 1.3"}
	for _, tc := range []struct {
		desc string
		cam  Camera
		junk bool
	}{
		// From the realworld-photos' EXIF (ianare/exif-samples).
		{"OLYMPUS DIGITAL CAMERA", olympus, true},
		{"OLYMPUS DIGITAL CAMERA         ", Camera{"OLYMPUS IMAGING CORP.", "u1020,S1020", "Version 1.0"}, true},
		{"          ", Camera{"NIKON", "COOLPIX P6000", "Nikon Transfer 1.1 W"}, true},
		{"Der Goalie bin ig", Camera{Software: "Adobe Photoshop CC (Macintosh)"}, false},
		// Vendor boilerplate known from camera firmware.
		{"SAMSUNG CAMERA PICTURES", Camera{"SAMSUNG", "SM-G930F", "G930FXXU1APB4"}, true},
		{"SAMSUNG CAMERA PICTURES", Camera{}, true},
		{"KONICA MINOLTA DIGITAL CAMERA", Camera{"Konica Minolta Camera, Inc.", "DiMAGE Z3", ""}, true},
		{"LEAD Technologies Inc. V1.01", Camera{}, true},
		{"SONY DSC", Camera{"SONY", "DSC-W55", ""}, true},
		{"Minolta DSC", Camera{}, true},
		{"KODAK Digital Still Camera", Camera{"EASTMAN KODAK COMPANY", "KODAK EASYSHARE C713 ZOOM DIGITAL CAMERA", ""}, true},
		{"DIGITAL CAMERA", Camera{}, true},
		{"SAMSUNG DIGITAL CAMERA", Camera{}, true},
		{"EXIF_JPEG_PICTURE", Camera{}, true},
		{"Hewlett-Packard", Camera{}, true},
		// The description is the camera's own Make, Model or Software,
		// including words no list holds.
		{"Canon PowerShot A80", Camera{"Canon", "Canon PowerShot A80", ""}, true},
		{"HP PhotoSmart R707 (V01.00)", Camera{"Hewlett-Packard", "HP PhotoSmart R707 (V01.00)", ""}, true},
		{"CASIO EX-Z750", Camera{"CASIO COMPUTER CO.,LTD.", "EX-Z750", ""}, true},
		{"iPhone 13 Pro Max", Camera{"Apple", "iPhone 13 Pro Max", "15.1"}, true},
		{"Pixel 7", Camera{"Google", "Pixel 7", "HDR+ 1.0"}, true},
		{"Picasa", Camera{Software: "Picasa"}, true},
		{"Zoner Photo Studio 18", Camera{Software: "Zoner Photo Studio 18"}, true},
		// All-caps boilerplate of a vendor no list knows.
		{"ACME CAMERA PICTURES", Camera{}, true},
		{"ZORKI DIGITAL CAMERA", Camera{}, true},
		// Programs, paths, counters and dates.
		{"Created with GIMP", Camera{}, true},
		{"DCIM\\100OLYMPUS", Camera{}, true},
		{"IMG_0001.JPG", Camera{}, true},
		{"2024:01:01 10:10:10", Camera{}, true},
		{"Shot on OnePlus", Camera{}, true},
		// What people write, also in capitals, also naming the camera.
		{"Mochi on the radiator", Camera{"Apple", "iPhone 13 Pro Max", "15.1"}, false},
		{"MOCHI ON THE RADIATOR", Camera{}, false},
		{"Pixel in the box", Camera{"Google", "Pixel 7", ""}, false},
		{"Pixel", Camera{"Apple", "iPhone 12", ""}, false},
		{"Luna und Kätzchen", Camera{}, false},
		{"Mochi's first digital photo", Camera{"SONY", "DSC-W55", ""}, false},
		{"Tiger and the Canon box", Camera{"Canon", "Canon EOS 5D", ""}, false},
		{"CAT", Camera{}, false},
	} {
		if got := IsBoilerplate(tc.desc, tc.cam); got != tc.junk {
			t.Errorf("IsBoilerplate(%q, %+v) = %v, want %v", tc.desc, tc.cam, got, tc.junk)
		}
	}
}

// TestEmbeddedCameraFields: a description that copies the file's own
// Make/Model (written by exiftool) is not a caption; the camera's Make does
// not hide a person's words.
func TestEmbeddedCameraFields(t *testing.T) {
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		needs.Missing(t, "exiftool is missing", "apt install libimage-exiftool-perl")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-EXIF:ImageDescription=SAMSUNG CAMERA PICTURES", "-EXIF:Make=SAMSUNG", "-EXIF:Model=SM-G930F"}, ""},
		{[]string{"-EXIF:ImageDescription=DiMAGE Z3", "-EXIF:Make=Konica Minolta Camera, Inc.", "-EXIF:Model=DiMAGE Z3"}, ""},
		{[]string{"-EXIF:ImageDescription=LEAD Technologies Inc. V1.01"}, ""},
		{[]string{"-EXIF:ImageDescription=Mochi and the new Canon", "-EXIF:Make=Canon", "-EXIF:Model=Canon EOS 5D"}, "Mochi and the new Canon"},
	} {
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
			t.Errorf("%v: Find = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestRealworldCaptions: the real camera files' descriptions.
func TestRealworldCaptions(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "realworld-photos")
	if _, err := os.Stat(dir); err != nil {
		needs.Absent(t, "no real-world photos at "+dir, "put the shared folder beside the repository (../shared/realworld-photos)")
	}
	for name, want := range map[string]string{
		"jpg_tests_42_IndexError.jpg": "", // OLYMPUS DIGITAL CAMERA
		"jpg_corrupted.jpg":           "", // OLYMPUS DIGITAL CAMERA
		"jpg_gps_DSCN0010.jpg":        "", // blanks
		"jpg_xmp_no_exif.jpg":         "Der Goalie bin ig",
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := Embedded(data); got != want {
			t.Errorf("%s: Embedded = %q, want %q", name, got, want)
		}
	}
}
