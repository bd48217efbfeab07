// Command quality prints how close renditions of one photo are to imaging's
// Lanczos-3 resize of the full-resolution, EXIF-oriented original (the naive
// pipeline cotd replaces), as luma PSNR and SSIM:
//
//	go run ./bench/quality PHOTO OUT.jpg [OUT.jpg...]
//
// With -de it prints the colour difference (CIEDE2000 of 8×8 block means,
// mean and largest) of each rendition against a reference rendition, such
// as vips' sRGB export, resized to the rendition's size if it differs:
//
//	go run ./bench/quality -de REF.jpg OUT.jpg [OUT.jpg...]
package main

import (
	"fmt"
	"image"
	"os"

	"cotd/bench/metric"

	"github.com/disintegration/imaging"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: quality PHOTO OUT.jpg [OUT.jpg...]")
		os.Exit(2)
	}
	if os.Args[1] == "-de" {
		colour(os.Args[2], os.Args[3:])
		return
	}
	orig, err := imaging.Open(os.Args[1], imaging.AutoOrientation(true))
	if err != nil {
		fmt.Fprintf(os.Stderr, "quality: error: %v\n", err)
		os.Exit(1)
	}
	refs := map[image.Point]image.Image{}
	for _, out := range os.Args[2:] {
		img, err := imaging.Open(out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "quality: error: %v\n", err)
			os.Exit(1)
		}
		size := img.Bounds().Size()
		ref, ok := refs[size]
		if !ok {
			ref = imaging.Resize(orig, size.X, size.Y, imaging.Lanczos)
			refs[size] = ref
		}
		fmt.Printf("%s\t%.2f\t%.4f\n", out, metric.PSNR(ref, img), metric.SSIM(ref, img))
	}
}

func colour(refPath string, outs []string) {
	ref, err := imaging.Open(refPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "quality: error: %v\n", err)
		os.Exit(1)
	}
	for _, out := range outs {
		img, err := imaging.Open(out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "quality: error: %v\n", err)
			os.Exit(1)
		}
		r := ref
		if size := img.Bounds().Size(); size != ref.Bounds().Size() {
			r = imaging.Resize(ref, size.X, size.Y, imaging.Lanczos)
		}
		mean, worst := metric.DeltaE2000(r, img)
		fmt.Printf("%s\tdE2000 mean %.2f max %.2f\n", out, mean, worst)
	}
}
