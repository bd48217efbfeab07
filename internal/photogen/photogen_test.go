package photogen

import (
	"bytes"
	"image"
	"image/jpeg"
	_ "image/png"
	"testing"
)

func TestDistinct(t *testing.T) {
	seen := map[string]int{}
	for n := 0; n < 300; n++ {
		b := Distinct(n, 64, 48)
		if prev, dup := seen[string(b)]; dup {
			t.Fatalf("photos %d and %d are the same bytes", prev, n)
		}
		seen[string(b)] = n
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(Distinct(7, 1280, 960)))
	if err != nil || cfg.Width != 1280 || cfg.Height != 960 {
		t.Fatalf("DecodeConfig = %+v, %v", cfg, err)
	}
}

// A decoder reads PNGHeader's claimed size from the header alone.
func TestPNGHeader(t *testing.T) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(PNGHeader(100000, 7)))
	if err != nil || format != "png" || cfg.Width != 100000 || cfg.Height != 7 {
		t.Errorf("DecodeConfig: %v %q %dx%d, want png 100000x7", err, format, cfg.Width, cfg.Height)
	}
}
