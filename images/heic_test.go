package images

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cotd/bench/metric"
	"cotd/internal/needs"
)

// mkbox makes an ISOBMFF box; full boxes get their version/flags in body.
func mkbox(typ string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b)))
	return append(append(out, typ...), b...)
}

func be16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func be32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// heifContainer is a HEIC container with no picture data: the primary
// item 1 (hvc1) with the given properties after its ispe.
func heifContainer(w, h int, props ...[]byte) []byte {
	all := append([][]byte{mkbox("ispe", be32(0), be32(w), be32(h))}, props...)
	assoc := []byte{0, 0, 0, 0} // ipma v0, flags 0
	assoc = append(assoc, be32(1)...)
	assoc = append(assoc, be16(1)...)
	assoc = append(assoc, byte(len(all)))
	for i := range all {
		assoc = append(assoc, 0x80|byte(i+1))
	}
	meta := mkbox("meta", be32(0),
		mkbox("hdlr", be32(0), be32(0), []byte("pict"), make([]byte, 13)),
		mkbox("pitm", be32(0), be16(1)),
		mkbox("iinf", be32(0), be16(1), mkbox("infe", []byte{2, 0, 0, 0}, be16(1), be16(0), []byte("hvc1"), []byte{0})),
		mkbox("iprp", mkbox("ipco", all...), mkbox("ipma", assoc)))
	return append(mkbox("ftyp", []byte("heic"), be32(0), []byte("mif1heic")), meta...)
}

func TestParseHEIF(t *testing.T) {
	nclxBox := mkbox("colr", []byte("nclx"), be16(12), be16(13), be16(6), []byte{0x80})
	for _, tc := range []struct {
		name string
		data []byte
		want heifInfo
		err  string
	}{
		{"plain", heifContainer(4032, 3024), heifInfo{codec: "hvc1", width: 4032, height: 3024}, ""},
		{"irot 270 and imir", heifContainer(4032, 3024, mkbox("irot", []byte{3}), mkbox("imir", []byte{1})), heifInfo{codec: "hvc1", width: 4032, height: 3024, rotation: 3, mirror: true}, ""},
		{"nclx", heifContainer(640, 480, nclxBox), heifInfo{codec: "hvc1", width: 640, height: 480, nclx: &nclx{12, 13, 6, true}}, ""},
		{"icc", heifContainer(640, 480, mkbox("colr", []byte("prof"), []byte("ICCDATA"))), heifInfo{codec: "hvc1", width: 640, height: 480, icc: []byte("ICCDATA")}, ""},
		{"no meta", mkbox("ftyp", []byte("heic"), be32(0)), heifInfo{}, "no meta box"},
		{"truncated", heifContainer(640, 480)[:60], heifInfo{}, "runs past the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHEIF(tc.data)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.codec != tc.want.codec || got.width != tc.want.width || got.height != tc.want.height ||
				got.rotation != tc.want.rotation || got.mirror != tc.want.mirror || !bytes.Equal(got.icc, tc.want.icc) ||
				(got.nclx == nil) != (tc.want.nclx == nil) || (got.nclx != nil && *got.nclx != *tc.want.nclx) {
				t.Errorf("got %+v (nclx %v), want %+v", got, got.nclx, tc.want)
			}
		})
	}
}

func FuzzParseHEIF(f *testing.F) {
	f.Add(heifContainer(64, 48, mkbox("irot", []byte{1})))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseHEIF(b)
		Cost(b, int64(len(b)), Default)
	})
}

// TestHEIFRefusals: without the helper a HEIC is refused with how to
// install it (and the error says a later run may read it); a HEIC larger
// than MaxHEIFPixels, or a container that is not one, is refused by its
// header, before any helper runs.
func TestHEIFRefusals(t *testing.T) {
	old := HEIFHelper
	t.Cleanup(func() { HEIFHelper = old })
	HEIFHelper = "cotd-no-such-heif-convert"
	for _, name := range []string{"IMG_0001.HEIC", "a.heif", "b.avif", "c.HIF"} {
		if ok, _ := Supported(name); !ok {
			t.Errorf("Supported(%q) = false", name)
		}
	}
	_, err := Render(bytes.NewReader(heifContainer(4032, 3024)), Default)
	if !errors.Is(err, ErrUnsupported) || !errors.Is(err, ErrNoHelper) {
		t.Errorf("helper missing: %v, want ErrUnsupported and ErrNoHelper", err)
	}
	for _, want := range []string{"heif-convert", "sudo apt-get install libheif-examples", "pi-setup.sh", "Settings → Camera → Formats → Most Compatible"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("helper missing: %q lacks %q", err, want)
		}
	}
	for _, tc := range []struct {
		name string
		data []byte
		want error
		text string
	}{
		{"48 MP", heifContainer(8064, 6048), ErrTooLarge, "larger than the 25 MP limit for HEIC photos"},
		{"no meta", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x00"), ErrCorrupt, "corrupt or unusual HEIC"},
		{"video", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41\x00\x00\x00\x00"), ErrUnsupported, "not a photo"},
	} {
		_, err := Render(bytes.NewReader(tc.data), Default)
		if !errors.Is(err, tc.want) || errors.Is(err, ErrNoHelper) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %v with %q", tc.name, err, tc.want, tc.text)
		}
	}
	if c := Cost(heifContainer(8064, 6048), 5<<20, Default); c > 16<<20 {
		t.Errorf("Cost of a 48 MP HEIC refused by its header = %d MiB", c>>20)
	}
	if c := Cost(heifContainer(4032, 3024), 3<<20, Default); c < 90<<20 || c > 160<<20 {
		t.Errorf("Cost of a 12 MP HEIC = %d MiB, want the helper's ~100 MiB peak", c>>20)
	}
}

// withProperties adds item properties (irot, imir) to the primary item of
// a HEIF file heif-enc wrote, and moves the iloc offsets past the grown
// meta box: heif-enc has no option for a rotation.
func withProperties(t *testing.T, data []byte, props ...[]byte) []byte {
	t.Helper()
	top, err := boxes(data)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, b := range top {
		if b.typ != "meta" {
			out = append(out, mkbox(b.typ, b.body)...)
			continue
		}
		kids, _ := boxes(b.body[4:])
		var primary uint32
		for _, k := range kids {
			if k.typ == "pitm" {
				primary = uint32(binary.BigEndian.Uint16(k.body[4:]))
			}
		}
		var parts [][]byte
		for _, k := range kids {
			if k.typ != "iprp" {
				parts = append(parts, mkbox(k.typ, k.body))
				continue
			}
			pp, _ := boxes(k.body)
			ipco, _ := find(pp, "ipco")
			ipma, _ := find(pp, "ipma")
			have, _ := boxes(ipco.body)
			newIpco := mkbox("ipco", ipco.body, bytes.Join(props, nil))
			m := ipma.body
			if m[0] != 0 || m[3]&1 != 0 {
				t.Fatal("ipma layout not handled by the test")
			}
			n := int(binary.BigEndian.Uint32(m[4:]))
			nm := append([]byte{}, m[:8]...)
			p := m[8:]
			for range n {
				item, count := binary.BigEndian.Uint16(p), int(p[2])
				entry := append([]byte{}, p[:3+count]...)
				if uint32(item) == primary {
					for i := range props {
						entry = append(entry, 0x80|byte(len(have)+i+1))
					}
					entry[2] = byte(count + len(props))
				}
				nm = append(nm, entry...)
				p = p[3+count:]
			}
			parts = append(parts, mkbox("iprp", newIpco, mkbox("ipma", nm)))
		}
		meta := mkbox("meta", b.body[:4], bytes.Join(parts, nil))
		delta := len(meta) - (len(b.body) + 8)
		shiftILoc(t, meta, delta)
		out = append(out, meta...)
	}
	return out
}

// shiftILoc adds delta to every file offset in the meta box's iloc.
func shiftILoc(t *testing.T, meta []byte, delta int) {
	kids, _ := boxes(meta[12:])
	at := 12
	for _, k := range kids {
		if k.typ != "iloc" {
			at += 8 + len(k.body)
			continue
		}
		b := meta[at+8 : at+8+len(k.body)]
		v := b[0]
		offSize, lenSize, baseSize, idxSize := int(b[4]>>4), int(b[4]&15), int(b[5]>>4), int(b[5]&15)
		if v == 0 {
			idxSize = 0
		}
		p := 6
		n := int(binary.BigEndian.Uint16(b[p:]))
		p += 2
		add := func(size int) {
			switch size {
			case 4:
				binary.BigEndian.PutUint32(b[p:], binary.BigEndian.Uint32(b[p:])+uint32(delta))
			case 8:
				binary.BigEndian.PutUint64(b[p:], binary.BigEndian.Uint64(b[p:])+uint64(delta))
			}
			p += size
		}
		for range n {
			p += 2 // item_ID
			method := 0
			if v >= 1 {
				method = int(b[p+1] & 15)
				p += 2
			}
			p += 2 // data_reference_index
			if method != 0 {
				t.Fatal("iloc construction method not handled by the test")
			}
			if baseSize > 0 {
				add(baseSize)
			}
			ext := int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			for range ext {
				p += idxSize
				if baseSize == 0 {
					add(offSize)
				} else {
					p += offSize
				}
				p += lenSize
			}
		}
		return
	}
	t.Fatal("no iloc box")
}

// quadrants is a picture whose orientation shows: a red block top left, a
// green one top right, blue below, a yellow dot at the bottom right.
func quadrants(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{40, 40, 200, 255}
			switch {
			case x >= w*7/8 && y >= h*6/8:
				c = color.NRGBA{230, 210, 30, 255}
			case y < h/2 && x < w/3:
				c = color.NRGBA{220, 30, 30, 255}
			case y < h/2:
				c = color.NRGBA{30, 200, 40, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// vipsReference is vips' rendition of a HEIF file (libheif's RGB decode,
// irot/imir applied), exported to sRGB when it carries a profile.
func vipsReference(t *testing.T, path string, side int, tagged bool) image.Image {
	t.Helper()
	out := filepath.Join(t.TempDir(), "vips.png")
	args := []string{path, "-s", strconv.Itoa(side), "-o", out}
	if tagged {
		args = append(args, "--export-profile", "srgb")
	}
	if b, err := exec.Command("vipsthumbnail", args...).CombinedOutput(); err != nil {
		t.Fatalf("vipsthumbnail: %v\n%s", err, b)
	}
	return readPNG(t, out)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func needHEIFTools(t *testing.T) {
	for _, tool := range []string{"heif-enc", "heif-convert", "vipsthumbnail"} {
		if _, err := exec.LookPath(tool); err != nil {
			needs.Missing(t, tool+" is missing", "apt install libheif-examples libvips-tools")
		}
	}
}

// TestHEIFAgainstVips: HEIC and AVIF files made by heif-enc, with every
// kind of irot/imir the container can carry and a Display P3 profile,
// render upright and in true colour: the rendition is within ΔE2000 1.0
// (mean of 8×8 blocks) of vips' own rendition of the same file, and the
// red block lands where the rotation puts it.
func TestHEIFAgainstVips(t *testing.T) {
	needHEIFTools(t)
	dir := t.TempDir()
	const w, h = 480, 320
	var pic bytes.Buffer
	if err := png.Encode(&pic, quadrants(w, h)); err != nil {
		t.Fatal(err)
	}
	plainPNG := filepath.Join(dir, "plain.png")
	os.WriteFile(plainPNG, pic.Bytes(), 0o644)
	p3png := filepath.Join(dir, "p3.png")
	os.WriteFile(p3png, withPNGProfile(t, pic.Bytes(), writeProfile("Display P3", p3, srgbPara())), 0o644)
	enc := func(in, out string, args ...string) []byte {
		if b, err := exec.Command("heif-enc", append(args, "-q", "90", in, "-o", out)...).CombinedOutput(); err != nil {
			t.Fatalf("heif-enc: %v\n%s", err, b)
		}
		b, _ := os.ReadFile(out)
		return b
	}
	plain := enc(plainPNG, filepath.Join(dir, "plain.heic"))
	p3heic := enc(p3png, filepath.Join(dir, "p3.heic"))
	avif := enc(plainPNG, filepath.Join(dir, "plain.avif"), "-A")
	if info, err := parseHEIF(p3heic); err != nil || info.icc == nil {
		t.Fatalf("heif-enc wrote no ICC profile into the P3 HEIC (%v)", err)
	}
	irot := func(q byte) []byte { return mkbox("irot", []byte{q}) }
	imir := func(axis byte) []byte { return mkbox("imir", []byte{axis}) }
	for _, tc := range []struct {
		name   string
		data   []byte
		tagged bool
		redAt  image.Point // where the red block's centre lands, in fractions of 6 of the upright picture
		upW    int         // upright width
	}{
		{"plain", plain, false, image.Point{1, 1}, w},
		{"irot 90 ccw", withProperties(t, plain, irot(1)), false, image.Point{1, 5}, h},
		{"irot 180", withProperties(t, plain, irot(2)), false, image.Point{5, 5}, w},
		{"irot 270 ccw", withProperties(t, plain, irot(3)), false, image.Point{5, 1}, h},
		// imir as amended (ISO/IEC 23008-12 Amd 2, and as iPhones write
		// it): 0 exchanges top and bottom, 1 left and right.
		{"imir 0 top-bottom", withProperties(t, plain, imir(0)), false, image.Point{1, 5}, w},
		{"imir 1 left-right", withProperties(t, plain, imir(1)), false, image.Point{5, 1}, w},
		{"irot 90 then imir 1", withProperties(t, plain, irot(1), imir(1)), false, image.Point{5, 5}, h},
		{"display p3", p3heic, true, image.Point{1, 1}, w},
		{"avif irot 270", withProperties(t, avif, irot(3)), false, image.Point{5, 1}, h},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.heic")
			os.WriteFile(path, tc.data, 0o644)
			res, err := Render(bytes.NewReader(tc.data), Options{MaxSide: 480, Quality: 95})
			if err != nil {
				t.Fatal(err)
			}
			got := decodeJPEG(t, res.JPEG)
			ref := vipsReference(t, path, 480, tc.tagged)
			if got.Bounds() != ref.Bounds() || res.Width != tc.upW {
				t.Fatalf("rendition %v (width %d), vips %v, want width %d", got.Bounds(), res.Width, ref.Bounds(), tc.upW)
			}
			mean, worst := metric.DeltaE2000(ref, got)
			t.Logf("ΔE2000 against vips: mean %.2f, worst %.2f", mean, worst)
			if mean > 1.0 {
				t.Errorf("ΔE2000 against vips: mean %.2f, want ≤ 1.0", mean)
			}
			b := got.Bounds()
			// The red block is a third wide: probe inside it, away from its edges.
			fx := []int{0, b.Dx() / 12, 0, 0, 0, b.Dx() * 11 / 12}[tc.redAt.X]
			fy := []int{0, b.Dy() / 8, 0, 0, 0, b.Dy() * 7 / 8}[tc.redAt.Y]
			if r, g, bl, _ := got.At(fx, fy).RGBA(); r>>8 < 150 || g>>8 > 90 || bl>>8 > 90 {
				t.Errorf("no red at (%d,%d): %d,%d,%d; the picture is not upright", fx, fy, r>>8, g>>8, bl>>8)
			}
		})
	}
	// Unconverted, the P3 picture is far from vips' sRGB export: the
	// colour check above can tell converting from not.
	res, _ := Render(bytes.NewReader(plain), Options{MaxSide: 480, Quality: 95})
	p3path := filepath.Join(dir, "p3.heic")
	p3ref := vipsReference(t, p3path, 480, true)
	if mean, _ := metric.DeltaE2000(p3ref, decodeJPEG(t, res.JPEG)); mean < 2 {
		t.Errorf("the P3 picture's sRGB export is only ΔE2000 %.2f from the untagged one: the test cannot tell", mean)
	}
	// Display P3 said by an nclx box (primaries 12, the sRGB curve; added
	// here, as heif-enc 1.15 writes none), which vips 8.14 ignores: it
	// must come out as the ICC-tagged one does.
	nclxP3 := withProperties(t, plain, mkbox("colr", []byte("nclx"), be16(12), be16(13), be16(6), []byte{0x80}))
	if info, err := parseHEIF(nclxP3); err != nil || info.nclx == nil || info.nclx.primaries != 12 {
		t.Fatalf("heif-enc wrote no nclx P3 box (%v)", err)
	}
	nres, err := Render(bytes.NewReader(nclxP3), Options{MaxSide: 480, Quality: 95})
	if err != nil || nres.Note != "" {
		t.Fatalf("nclx P3: %v, note %q", err, nres.Note)
	}
	if mean, _ := metric.DeltaE2000(p3ref, decodeJPEG(t, nres.JPEG)); mean > 1.0 {
		t.Errorf("nclx P3 is ΔE2000 %.2f from vips' export of the ICC P3 file, want ≤ 1.0", mean)
	} else {
		t.Logf("nclx P3: ΔE2000 %.2f from vips' export of the ICC P3 file", mean)
	}
}

// withPNGProfile puts an iCCP chunk with prof after a PNG's IHDR.
func withPNGProfile(t *testing.T, pngData, prof []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(prof)
	zw.Close()
	body := append([]byte("P3\x00\x00"), z.Bytes()...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	chunk = append(chunk, "iCCP"...)
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(append([]byte("iCCP"), body...)))
	ihdrEnd := 8 + 8 + 13 + 4
	return append(append(append([]byte{}, pngData[:ihdrEnd]...), chunk...), pngData[ihdrEnd:]...)
}

// TestHEIFRealPhones: the real iPhone and Nokia photos render upright
// (vips' size) and within ΔE2000 1.0 of vips' rendition.
func TestHEIFRealPhones(t *testing.T) {
	needHEIFTools(t)
	dir := realworldDir(t)
	for _, name := range []string{"heic_mobile_iphone_13_pro_max.HEIC", "heic_mobile_HMD_Nokia_8.3_5G_hdr.heif", "heic_samplefilehub.heif"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			info, err := parseHEIF(data)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Render(bytes.NewReader(data), Options{MaxSide: 640, Quality: 90})
			if err != nil {
				t.Fatal(err)
			}
			if res.Note != "" {
				t.Errorf("note %q", res.Note)
			}
			got := decodeJPEG(t, res.JPEG)
			ref := vipsReference(t, path, 640, info.icc != nil)
			if got.Bounds() != ref.Bounds() {
				t.Fatalf("rendition %v, vips %v", got.Bounds(), ref.Bounds())
			}
			mean, worst := metric.DeltaE2000(ref, got)
			t.Logf("ΔE2000 against vips: mean %.2f, worst %.2f", mean, worst)
			if mean > 1.0 {
				t.Errorf("ΔE2000 against vips: mean %.2f, want ≤ 1.0", mean)
			}
		})
	}
}
