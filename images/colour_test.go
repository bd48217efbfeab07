package images

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cotd/bench/metric"
	"cotd/internal/needs"
)

func needVips(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("vips"); err != nil {
		needs.Missing(t, "vips is missing", "apt install libvips-tools")
	}
}

// vipsSRGB converts a file to sRGB with vips icc_transform (Little CMS,
// relative colorimetric, from the file's embedded profile) and decodes it.
func vipsSRGB(t *testing.T, in string) image.Image {
	t.Helper()
	out := filepath.Join(t.TempDir(), "srgb.png")
	if b, err := exec.Command("vips", "icc_transform", in, out, "srgb", "--intent", "relative").CombinedOutput(); err != nil {
		t.Fatalf("vips icc_transform: %v\n%s", err, b)
	}
	return readPNG(t, out)
}

func renderAll(t *testing.T, data []byte) (image.Image, Result) {
	t.Helper()
	res, err := Render(bytes.NewReader(data), Options{MaxSide: 4000, Quality: 95})
	if err != nil {
		t.Fatal(err)
	}
	return decodeJPEG(t, res.JPEG), res
}

// TestCMYKAgainstVips: CMYK JPEGs made by vips with its CMYK profile (and
// a YCCK, Adobe-inverted one given the same profile with exiftool) are
// converted to sRGB by that profile: within ΔE2000 1.0 (mean of 8×8
// blocks) of vips' own conversion. The same inks by plain inversion (the
// profile stripped) are far off, so the test tells the two apart.
func TestCMYKAgainstVips(t *testing.T) {
	needVips(t)
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		needs.Missing(t, "exiftool is missing", "apt install libimage-exiftool-perl")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "pic.jpg")
	os.WriteFile(src, testPicture(t), 0o644)
	cmyk := filepath.Join(dir, "cmyk.jpg")
	if b, err := exec.Command("vips", "icc_transform", src, cmyk, "cmyk").CombinedOutput(); err != nil {
		t.Fatalf("vips icc_transform to cmyk: %v\n%s", err, b)
	}
	prof := filepath.Join(dir, "cmyk.icc")
	if b, err := exec.Command(exiftool, "-b", "-ICC_Profile", cmyk).Output(); err != nil || len(b) < 1000 {
		t.Fatalf("exiftool -ICC_Profile: %v", err)
	} else {
		os.WriteFile(prof, b, 0o644)
	}
	ycck := filepath.Join(dir, "ycck.jpg")
	fixture, _ := os.ReadFile(filepath.Join("testdata", "cmyk.jpg")) // YCCK, Adobe transform 2
	os.WriteFile(ycck, fixture, 0o644)
	if b, err := exec.Command(exiftool, "-q", "-overwrite_original", "-ICC_Profile<="+prof, ycck).CombinedOutput(); err != nil {
		t.Fatalf("exiftool: %v\n%s", err, b)
	}
	for _, path := range []string{cmyk, ycck} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, _ := os.ReadFile(path)
			got, res := renderAll(t, data)
			if res.Note != "" {
				t.Errorf("note %q for a profile that can be converted", res.Note)
			}
			ref := vipsSRGB(t, path)
			mean, worst := metric.DeltaE2000(ref, got)
			t.Logf("ΔE2000 against vips: mean %.2f, worst %.2f", mean, worst)
			if mean > 1.0 {
				t.Errorf("ΔE2000 against vips: mean %.2f, want ≤ 1.0", mean)
			}
			plain, pres := renderAll(t, stripICC(data))
			if !strings.Contains(pres.Note, "without a colour profile") {
				t.Errorf("unprofiled CMYK: note %q", pres.Note)
			}
			if pm, _ := metric.DeltaE2000(ref, plain); pm < mean+2 {
				t.Errorf("plain inversion is only ΔE2000 %.2f from vips (converted %.2f): the test cannot tell", pm, mean)
			} else {
				t.Logf("plain inversion: ΔE2000 %.2f", pm)
			}
		})
	}
}

// TestGrayProfile: a gray photo tagged with a linear (gamma 1.0) gray
// profile is converted through the profile's curve: within ΔE2000 1.0 of
// vips' conversion, where left as stored it is far too dark.
func TestGrayProfile(t *testing.T) {
	needVips(t)
	img := image.NewGray(image.Rect(0, 0, 256, 128))
	for y := range 128 {
		for x := range 256 {
			img.Pix[y*img.Stride+x] = uint8(x&^15 | y/16)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	d := []byte("desc\x00\x00\x00\x00")
	d = binary.BigEndian.AppendUint32(d, uint32(len("Gray linear")+1))
	d = append(d, "Gray linear\x00"...)
	d = append(d, make([]byte, 4+4+2+1+67)...)
	prof := buildProfile("GRAY", "XYZ ", []struct {
		sig  string
		data []byte
	}{{"desc", d}, {"wtpt", xyzTag(0.96422, 1, 0.82521)}, {"kTRC", gammaCurv(1.0)}})
	tagged := withProfile(buf.Bytes(), prof)
	path := filepath.Join(t.TempDir(), "gray.jpg")
	os.WriteFile(path, tagged, 0o644)
	got, res := renderAll(t, tagged)
	if res.Note != "" {
		t.Errorf("note %q", res.Note)
	}
	ref := vipsSRGB(t, path)
	mean, worst := metric.DeltaE2000(ref, got)
	t.Logf("ΔE2000 against vips: mean %.2f, worst %.2f", mean, worst)
	if mean > 1.0 {
		t.Errorf("ΔE2000 against vips: mean %.2f, want ≤ 1.0", mean)
	}
	if raw, _ := metric.DeltaE2000(ref, img); raw < 5 {
		t.Errorf("the stored gray is only ΔE2000 %.2f from vips: the test cannot tell", raw)
	}
	// A damaged gray profile: rendered as stored, with a note.
	_, res = renderAll(t, withProfile(buf.Bytes(), buildProfile("GRAY", "XYZ ", nil)))
	if !strings.Contains(res.Note, "no kTRC") {
		t.Errorf("gray profile without a curve: note %q", res.Note)
	}
}

// TestDeepAndInkMemory: a 16-bit PNG and a CMYK JPEG are box-shrunk while
// they are converted, so rendering one takes its decoder's buffer and not
// much more (before, both made full-size planes and copies: 16-bit PNG
// and TIFF reached 330 MiB), and Cost covers what the render allocates.
// A CMYK JPEG past MaxFullDecodePixels is refused by its header.
func TestDeepAndInkMemory(t *testing.T) {
	needVips(t)
	const w, h = 2400, 1600
	deep := image.NewNRGBA64(image.Rect(0, 0, w, h))
	rgb := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			deep.SetNRGBA64(x, y, color.NRGBA64{uint16(x * 27), uint16(y * 41), uint16(x ^ y), 0xffff})
			rgb.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var p, j bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&p, deep); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, rgb, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rgb.jpg"), j.Bytes(), 0o644)
	if b, err := exec.Command("vips", "icc_transform", filepath.Join(dir, "rgb.jpg"), filepath.Join(dir, "cmyk.jpg"), "cmyk").CombinedOutput(); err != nil {
		t.Fatalf("vips icc_transform: %v\n%s", err, b)
	}
	ink, _ := os.ReadFile(filepath.Join(dir, "cmyk.jpg"))
	for _, tc := range []struct {
		name      string
		data      []byte
		decodeBuf float64
	}{{"16-bit png", p.Bytes(), w * h * 8}, {"cmyk jpeg", ink, w * h * 8}} { // image/jpeg: 4 planes, then the CMYK picture
		est, used, rendered := renderCost(t, tc.data)
		t.Logf("%s: Cost %.1f MiB, render allocated %.1f MiB", tc.name, mib(est), mib(rendered))
		if est < used {
			t.Errorf("%s: Cost %.1f MiB is below the %.1f MiB its render takes", tc.name, mib(est), mib(used))
		}
		// The decode, planes of the same size (no box shrink applies to
		// a 2400 px photo fitted into 1280), resize's rows, the profile.
		if float64(rendered) > tc.decodeBuf+float64(3*w*h)+float64(12*w*853)+8<<20 {
			t.Errorf("%s: render allocated %.1f MiB, more than its %.1f MiB decode and one set of planes", tc.name, mib(rendered), tc.decodeBuf/(1<<20))
		}
	}
	sof := []byte{0x06, 0x40, 0x09, 0x60} // SOF 1600×2400
	if bytes.Count(ink, sof) != 1 {
		t.Fatal("cannot find the CMYK JPEG's frame size")
	}
	big := bytes.Replace(ink, sof, []byte{0x10, 0x00, 0x10, 0x00}, 1) // 4096×4096, 16.8 MP
	if _, err := Render(bytes.NewReader(big), Default); err == nil || !strings.Contains(err.Error(), "CMYK JPEG is 4096×4096 (16 MP), larger than the 16 MP limit") {
		t.Errorf("16.8 MP CMYK: %v", err)
	}
	// vips' CMYK profile is 940 KiB, so the frame header lies past the
	// HeaderBytes Cost sees: it charges the largest full decode.
	if c := Cost(big[:min(len(big), HeaderBytes)], int64(len(big)), Default); c > 256<<20 {
		t.Errorf("Cost of a CMYK JPEG refused by its header: %.1f MiB", mib(c))
	}
}
