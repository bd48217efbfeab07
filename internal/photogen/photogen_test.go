package photogen

import (
	"bytes"
	"image/jpeg"
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
