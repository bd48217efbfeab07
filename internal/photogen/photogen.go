// Package photogen makes JPEG photos for tests and benchmarks: many of
// them, all different, without a folder of real photos.
package photogen

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
)

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
