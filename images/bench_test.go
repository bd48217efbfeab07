package images

import (
	"bytes"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"cotd/internal/needs"
)

// benchPhotos are the four phone photos of issue 7.
var benchPhotos = []string{
	"jpg_mobile_HMD_Nokia_8.3_5G.jpg",
	"jpg_mobile_jolla.jpg",
	"jpg_hdr_iphone_hdr_YES.jpg",
	"jpg_tests_42_IndexError.jpg",
}

func loadBenchPhotos(b *testing.B) map[string][]byte {
	b.Helper()
	dir := realworldDir(b)
	out := map[string][]byte{}
	for _, name := range benchPhotos {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatalf("read bench photo: %v", err)
		}
		out[name] = data
	}
	return out
}

// loadProgressivePhotos is loadBenchPhotos rewritten as progressive JPEGs
// by jpegtran (lossless: the same coefficients, sent in libjpeg's default
// progressive scans with DC and AC refinement), so the progressive rows
// differ from the baseline ones by the file's layout alone.
func loadProgressivePhotos(b *testing.B) map[string][]byte {
	b.Helper()
	jpegtran, err := exec.LookPath("jpegtran")
	if err != nil {
		needs.Missing(b, "jpegtran is missing", "apt install libjpeg-turbo-progs")
	}
	out := map[string][]byte{}
	for name, data := range loadBenchPhotos(b) {
		cmd := exec.Command(jpegtran, "-progressive", "-copy", "all")
		cmd.Stdin = bytes.NewReader(data)
		prog, err := cmd.Output()
		if err != nil {
			b.Fatalf("jpegtran -progressive %s: %v", name, err)
		}
		out[name] = prog
	}
	return out
}

// BenchmarkDecode is image/jpeg at full resolution: the floor of the pipeline.
func BenchmarkDecode(b *testing.B) {
	for _, name := range benchPhotos {
		data := loadBenchPhotos(b)[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeScaled is the shrink-on-load decode Render uses for them.
func BenchmarkDecodeScaled(b *testing.B) {
	for _, name := range benchPhotos {
		data := loadBenchPhotos(b)[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				decodeForBench(b, data)
			}
		})
	}
}

// BenchmarkDecodeScaledProgressive is BenchmarkDecodeScaled on the same
// photos as progressive files (jpegprog.go).
func BenchmarkDecodeScaledProgressive(b *testing.B) {
	photos := loadProgressivePhotos(b)
	for _, name := range benchPhotos {
		data := photos[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				decodeForBench(b, data)
			}
		})
	}
}

// BenchmarkResize is the box shrink plus Lanczos on the decoded planes.
func BenchmarkResize(b *testing.B) {
	for _, name := range benchPhotos {
		src := decodeForBench(b, loadBenchPhotos(b)[name])
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				tw, th := target(src.w, src.h, 1, Default.MaxSide)
				process(src, 1, tw, th)
			}
		})
	}
}

// BenchmarkOrient turns a 1280×960 rendition for Orientation=6.
func BenchmarkOrient(b *testing.B) {
	p := newPlane(1280, 960)
	for b.Loop() {
		orient(p, 6)
	}
}

// BenchmarkEncode writes a 1280 px rendition at quality 85 with the
// rendition encoder (jpegenc.go) and, for comparison, image/jpeg.
func BenchmarkEncode(b *testing.B) {
	for _, name := range benchPhotos {
		src := decodeForBench(b, loadBenchPhotos(b)[name])
		tw, th := target(src.w, src.h, 1, Default.MaxSide)
		img := process(src, 1, tw, th)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := encodeJPEG(img, Default.Quality); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/image-jpeg", func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: Default.Quality}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRender is the whole pipeline, as cotd runs it.
func BenchmarkRender(b *testing.B) {
	for _, name := range benchPhotos {
		data := loadBenchPhotos(b)[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Render(bytes.NewReader(data), Default); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderProgressive is BenchmarkRender on the same photos as
// progressive files.
func BenchmarkRenderProgressive(b *testing.B) {
	photos := loadProgressivePhotos(b)
	for _, name := range benchPhotos {
		data := photos[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Render(bytes.NewReader(data), Default); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// decodeForBench decodes the way Render does: scaled when the photo is big.
func decodeForBench(b *testing.B, data []byte) source {
	b.Helper()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	tw, th := target(cfg.Width, cfg.Height, 1, Default.MaxSide)
	src, err := decodeScaled(data, "jpeg", cfg.Width, cfg.Height, tw, th)
	if err != nil {
		b.Fatal(err)
	}
	return src
}
