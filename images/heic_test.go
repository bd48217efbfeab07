package images

import (
	"bytes"
	"strings"
	"testing"
)

// TestHEICHint: a HEIC or HEIF photo (by name or by content) is skipped
// with how to avoid it on an iPhone and how to convert it on the Pi
// (issue 14 item 11).
func TestHEICHint(t *testing.T) {
	_, byName := Supported("IMG_0001.HEIC")
	_, heifName := Supported("a.heif")
	_, err := Render(bytes.NewReader([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic\x00\x00\x00\x00")), Default)
	for what, reason := range map[string]string{"name": byName, "heif name": heifName, "content": err.Error()} {
		for _, want := range []string{"heif-convert IN.heic OUT.jpg", "libheif-examples", "Settings → Camera → Formats → Most Compatible"} {
			if !strings.Contains(reason, want) {
				t.Errorf("by %s: %q lacks %q", what, reason, want)
			}
		}
	}
}
