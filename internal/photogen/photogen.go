// Package photogen makes JPEG photos for tests and benchmarks: many of
// them, all different, without a folder of real photos; and the header of
// a decompression bomb (PNGHeader).
package photogen

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
)

// PNGHeader is a PNG whose header claims w×h pixels (8-bit RGB) but holds
// no data: a decompression bomb's promise without the bomb, a few dozen
// bytes that a decoder must refuse from the header alone.
func PNGHeader(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		c = append(append(c, typ...), data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

// Distinct returns a w×h JPEG (w ≥ 64, h ≥ 16) that differs from the one
// for any other n below 65,536: n is drawn as sixteen black or white 8×8
// blocks in the top-left corner, which survive JPEG compression where a
// few changed pixels would not. The rest is a gradient, so a rendition of
// a large one has a photo's size rather than a blank image's.
func Distinct(n, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 255), 255})
		}
	}
	for bit := 0; bit < 16; bit++ {
		c := color.RGBA{20, 20, 20, 255}
		if n>>bit&1 == 1 {
			c = color.RGBA{240, 240, 240, 255}
		}
		for y := 0; y < 8; y++ {
			for x := 0; x < 8; x++ {
				img.Set(bit%8*8+x, bit/8*8+y, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		panic(err) // encoding an in-memory RGBA image cannot fail
	}
	return buf.Bytes()
}
