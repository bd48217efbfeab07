package mail

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cotd/internal/needs"
)

// A client that reads the HTML as text (w3m, as mutt and text browsers
// do; a reply quoting the mail as plain text) sees what a reader of the
// page sees: no hidden line, no spacer characters, and each caption and
// quote said once, with images off.
func TestTextOnlyClients(t *testing.T) {
	w3m, ok := lookTool("w3m")
	if !ok {
		needs.Missing(t, "the text-only client test needs w3m", "apt install w3m")
	}
	single := singleMessage(t)
	single.Days[0].Caption = "Mochi on the radiator"
	digest := digestMessage(t)
	digest.Days[0].Caption = "Mochi on the radiator"
	digest.Days[2].Caption = "Tom in the garden"
	for name, m := range map[string]Message{"day": single, "digest": digest} {
		p := parseMail(t, eml(t, m))
		file := filepath.Join(t.TempDir(), name+".html")
		if err := os.WriteFile(file, []byte(p.html), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(w3m, "-dump", "-T", "text/html", "-I", "UTF-8", "-O", "UTF-8", "-cols", "100", file).Output()
		if err != nil {
			t.Fatalf("w3m: %v", err)
		}
		text := string(out)
		if i := strings.IndexAny(text, "\u034f\u200c\u200b\u2060\ufeff\u00ad"); i >= 0 {
			t.Errorf("%s: w3m shows invisible filler characters (at %q):\n%s", name, text[i:min(len(text), i+20)], text)
		}
		if !strings.HasPrefix(strings.TrimSpace(text), "Cat of the Day") {
			t.Errorf("%s: w3m's text does not start with the mail's header:\n%s", name, text)
		}
		for _, d := range m.Days {
			for _, s := range []string{typeset(d.Quote, true), d.Caption} {
				if s == "" {
					continue
				}
				if n := strings.Count(text, s); n != 1 {
					t.Errorf("%s: w3m shows %q %d times, want once:\n%s", name, s, n, text)
				}
			}
		}
	}
}
