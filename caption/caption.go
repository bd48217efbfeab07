// Package caption finds what the owner said about a photo: who is in it.
// It looks, in order, at a sidecar text file beside the photo, the photo's
// own title or description (XMP dc:title and dc:description, EXIF
// ImageDescription, the IPTC caption), and finally a file name that is
// clearly a name rather than a camera counter (`mochi-on-the-radiator.jpg`
// yes, `IMG_1234.jpg`, `PXL_20240101_…`, `DSC0001.jpg` no).
//
// It reads metadata only; decoding pictures is the images package's job,
// and so is the JPEG segment walk and the EXIF parse (images.Segments,
// images.ParseEXIF), which it shares with the renderer's Orientation.
// Every source is optional and any damage in it just means no caption:
// a photo is worth mailing without one.
package caption

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"cotd/images"
)

// MaxLen bounds a caption; a longer description is cut at a word.
const MaxLen = 140

// Find returns the caption of the photo at path whose contents are data
// (path may be empty for a photo that has no file, such as the built-in
// sample). Empty means none was found.
func Find(path string, data []byte) string {
	if path != "" {
		if c := sidecar(path); c != "" {
			return c
		}
	}
	if c := Embedded(data); c != "" {
		return c
	}
	if path != "" {
		return FromName(filepath.Base(path))
	}
	return ""
}

// sidecar reads mochi.txt or mochi.jpg.txt beside mochi.jpg.
func sidecar(path string) string {
	stem := strings.TrimSuffix(path, filepath.Ext(path))
	for _, p := range []string{stem + ".txt", path + ".txt"} {
		b, err := os.ReadFile(p)
		if err != nil || len(b) > 64<<10 {
			continue
		}
		if c := clean(string(b)); c != "" {
			return c
		}
	}
	return ""
}

// Embedded returns the title or description a JPEG carries: XMP dc:title,
// then XMP dc:description, EXIF ImageDescription, the IPTC caption and the
// IPTC object name.
func Embedded(data []byte) string {
	var xmp, iptc []byte
	for marker, seg := range images.Segments(data) {
		switch {
		case marker == 0xe1 && bytes.HasPrefix(seg, []byte("http://ns.adobe.com/xap/1.0/\x00")) && xmp == nil:
			xmp = seg[len("http://ns.adobe.com/xap/1.0/\x00"):]
		case marker == 0xed && bytes.HasPrefix(seg, []byte("Photoshop 3.0\x00")) && iptc == nil:
			iptc = seg[len("Photoshop 3.0\x00"):]
		}
	}
	exif, _ := images.ParseEXIF(images.JPEGEXIF(data))
	title, desc := xmpText(xmp)
	caption, object := iptcText(iptc)
	cam := Camera{Make: exif.Make(), Model: exif.Model(), Software: exif.Software()}
	for _, c := range []string{title, desc, exif.ImageDescription(), caption, object} {
		if c = clean(c); c != "" && !IsBoilerplate(c, cam) {
			return c
		}
	}
	return ""
}

// xmpText reads dc:title and dc:description (the x-default or first
// rdf:li of each) from an XMP packet.
func xmpText(packet []byte) (title, desc string) {
	if len(packet) == 0 {
		return "", ""
	}
	d := xml.NewDecoder(bytes.NewReader(packet))
	d.Strict = false
	var in string // "title" or "description" while inside one
	var li bool
	for {
		tok, err := d.Token()
		if err != nil {
			return title, desc
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == "http://purl.org/dc/elements/1.1/" && (t.Name.Local == "title" || t.Name.Local == "description") {
				in = t.Name.Local
			}
			li = in != "" && t.Name.Local == "li"
		case xml.EndElement:
			if t.Name.Local == in {
				in = ""
			}
			li = false
		case xml.CharData:
			if !li {
				continue
			}
			s := strings.TrimSpace(string(t))
			if in == "title" && title == "" {
				title = s
			}
			if in == "description" && desc == "" {
				desc = s
			}
		}
	}
}

// iptcText reads the IPTC IIM caption (2:120) and object name (2:05) from
// a Photoshop image resource block (8BIM resource 0x0404).
func iptcText(b []byte) (caption, object string) {
	for len(b) >= 12 && string(b[:4]) == "8BIM" {
		id := binary.BigEndian.Uint16(b[4:])
		nameLen := int(b[6])
		p := 7 + nameLen
		if p%2 == 1 { // the Pascal name is padded to an even length
			p++
		}
		if p+4 > len(b) {
			return
		}
		size := int(binary.BigEndian.Uint32(b[p:]))
		p += 4
		if size < 0 || p+size > len(b) {
			return
		}
		if id == 0x0404 {
			return iim(b[p : p+size])
		}
		p += size
		if p%2 == 1 {
			p++
		}
		if p > len(b) {
			return
		}
		b = b[p:]
	}
	return
}

func iim(b []byte) (caption, object string) {
	for len(b) >= 5 && b[0] == 0x1c {
		rec, ds := b[1], b[2]
		n := int(binary.BigEndian.Uint16(b[3:]))
		if n&0x8000 != 0 || 5+n > len(b) { // extended lengths are not used for text
			return
		}
		v := string(b[5 : 5+n])
		if rec == 2 && ds == 120 && caption == "" {
			caption = v
		}
		if rec == 2 && ds == 5 && object == "" {
			object = v
		}
		b = b[5+n:]
	}
	return
}

// clean makes one line of at most MaxLen characters from what a file or a
// tag held: valid UTF-8, no control characters, single spaces.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\ufeff' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxLen {
		r := []rune(s)[:MaxLen-1]
		cut := string(r)
		if i := strings.LastIndexByte(cut, ' '); i > MaxLen/2 {
			cut = cut[:i]
		}
		s = strings.TrimRight(cut, " ,;:.") + "…"
	}
	return s
}

var (
	// counters are the names cameras, phones and apps give files.
	counters   = regexp.MustCompile(`(?i)^(img|dsc|dscn|dscf|dsc_|pxl|mvimg|pano|burst|vid|dji|gopr|sam|wp|photo|image|screenshot|screen shot|whatsapp image|signal|pict?|cimg|p|_dsc|imag|kimg|mmexport|fb_img|received)[ _-]?\d`)
	longDigits = regexp.MustCompile(`\d{4,}`)
	hexish     = regexp.MustCompile(`(?i)^[0-9a-f-]{8,}$`)
	generic    = map[string]bool{"cat": true, "cats": true, "kitty": true, "kitten": true, "image": true, "img": true, "photo": true, "picture": true, "pic": true, "untitled": true, "scan": true, "download": true, "file": true, "new": true, "copy": true, "edited": true, "final": true, "test": true}
)

// FromName turns a file name that is clearly a name into a caption:
// "mochi-on-the-radiator.jpg" reads "Mochi on the radiator". Camera and
// phone counters, dates, hashes and bare generic words give "".
func FromName(name string) string {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	if counters.MatchString(stem) || longDigits.MatchString(stem) || hexish.MatchString(stem) {
		return ""
	}
	words := strings.FieldsFunc(stem, func(r rune) bool { return r == '-' || r == '_' || r == '.' || r == '+' || unicode.IsSpace(r) })
	letters := 0
	for _, w := range words {
		if strings.ContainsFunc(w, unicode.IsLetter) {
			letters++
		}
	}
	switch {
	case letters == 0:
		return ""
	case len(words) == 1 && (generic[strings.ToLower(words[0])] || utf8.RuneCountInString(words[0]) < 3):
		return ""
	}
	for _, w := range words {
		if !strings.ContainsFunc(w, unicode.IsLetter) && len(w) > 2 {
			return "" // a number among the words: "cat 2 003", likely a counter
		}
	}
	s := strings.Join(words, " ")
	r, n := utf8.DecodeRuneInString(s)
	return clean(string(unicode.ToUpper(r)) + s[n:])
}
