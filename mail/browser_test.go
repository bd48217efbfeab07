package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cotd/internal/needs"
)

var (
	browserOut = flag.String("browser-out", "", "keep every page and screenshot of the browser test in this directory")
)

func lookTool(name string, fallbacks ...string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, f := range fallbacks {
		if _, err := os.Stat(f); err == nil {
			return f, true
		}
	}
	return "", false
}

// browserPhotos returns three JPEGs that look like real mail: the sample cat
// from assets/ when it is there (a plain gradient otherwise), a mirrored
// copy and a portrait crop, so the digest shows a tall picture too.
func browserPhotos(t *testing.T) [3][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "assets", "cat.jpg"))
	if err != nil {
		raw = testJPEG(t, 1280, 960, color.RGBA{230, 140, 60, 255})
	}
	src, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("decode sample cat: %v", err)
	}
	b := src.Bounds()
	mirror := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			mirror.Set(b.Max.X-1-(x-b.Min.X), y, src.At(x, y))
		}
	}
	w := b.Dy() * 3 / 4
	x0 := b.Min.X + (b.Dx()-w)/2
	portrait := image.NewRGBA(image.Rect(0, 0, w, b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < w; x++ {
			portrait.Set(x, y, src.At(x0+x, b.Min.Y+y))
		}
	}
	enc := func(img image.Image) []byte {
		var out bytes.Buffer
		if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	return [3][]byte{raw, enc(mirror), enc(portrait)}
}

type browserResult struct {
	Page       string `json:"page"`
	Viewport   string `json:"viewport"`
	Width      int    `json:"width"`
	Scheme     string `json:"scheme"`
	Screenshot string `json:"screenshot"`
	Requests   []string
	InnerWidth int `json:"innerWidth"`
	// ScrollWidth > viewport width means the reader has to scroll sideways.
	ScrollWidth    int      `json:"scrollWidth"`
	DarkMatches    bool     `json:"darkMatches"`
	PageBackground string   `json:"pageBackground"`
	Quotes         []string `json:"quotes"`
	Headings       []struct {
		Level string `json:"level"`
		Text  string `json:"text"`
	} `json:"headings"`
	Preheader struct {
		Text    string `json:"text"`
		Spacers int    `json:"spacers"`
		Hidden  bool   `json:"hidden"`
	} `json:"preheader"`
	Images []struct {
		Alt           string  `json:"alt"`
		Background    string  `json:"background"`
		Complete      bool    `json:"complete"`
		NaturalWidth  int     `json:"naturalWidth"`
		NaturalHeight int     `json:"naturalHeight"`
		Left          float64 `json:"left"`
		Right         float64 `json:"right"`
		Width         float64 `json:"width"`
		Height        float64 `json:"height"`
		Visible       bool    `json:"visible"`
	} `json:"images"`
	Texts []struct {
		Class      string  `json:"cls"`
		Text       string  `json:"text"`
		Color      string  `json:"color"`
		Background string  `json:"background"`
		Contrast   float64 `json:"contrast"`
	} `json:"texts"`
}

// TestBrowserRendering opens the preview HTML of a single day and of a
// digest in headless Chromium at phone (375 px) and desktop (1024 px) width,
// light and dark, and checks what a reader would notice: sideways scrolling,
// a missing or overflowing cat, a missing quote, text that fades into its
// background. Chromium's --window-size cannot go below 500 px, so
// playwright-core (npm, in testdata/browser) drives the system Chromium.
func TestBrowserRendering(t *testing.T) {
	chromium, ok := lookTool("chromium", "/usr/bin/chromium")
	if !ok {
		needs.Missing(t, "the browser test needs Chromium", "apt install chromium")
	}
	node, ok := lookTool("node")
	if !ok {
		needs.Missing(t, "the browser test needs Node.js", "apt install nodejs npm")
	}
	script, err := filepath.Abs(filepath.Join("testdata", "browser", "check.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join("testdata", "browser", "node_modules", "playwright-core", "package.json"))
	if err != nil {
		needs.Missing(t, "the browser test needs playwright-core", "npm ci --prefix mail/testdata/browser")
	}

	photos := browserPhotos(t)
	single := singleMessage(t)
	single.Days[0].Photo, single.Days[0].PhotoWidth, single.Days[0].PhotoHeight = photos[0], 0, 0
	digest := digestMessage(t)
	for i := range digest.Days {
		digest.Days[i].Photo, digest.Days[i].PhotoWidth, digest.Days[i].PhotoHeight = photos[i], 0, 0
	}
	// hostile: a quote with a live-looking script and a word longer than a
	// phone is wide, and a long owner address in the footer.
	hostile := singleMessage(t)
	hostile.Days[0].Photo, hostile.Days[0].PhotoWidth, hostile.Days[0].PhotoHeight = photos[2], 0, 0
	hostile.Days[0].Quote = "<script>document.title='pwned'</script> Meowmeowmeowmeowmeowmeowmeowmeowmeowmeowmeowmeowmeowmeowmeowmeow!"
	hostile.Days[0].Author = "Dr. Archibald Whiskerton-Fluffington-Purrington III"
	hostile.Owner = "the.owner.with.a.remarkably.long.mailbox.name@subdomain.example.test"
	msgs := map[string]Message{"single": single, "digest": digest, "hostile": hostile}

	dir := t.TempDir()
	if *browserOut != "" {
		dir, _ = filepath.Abs(*browserOut)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	type pageCfg struct {
		Name string `json:"name"`
		File string `json:"file"`
	}
	var pages []pageCfg
	for _, name := range []string{"single", "digest", "hostile"} {
		page, err := HTML(msgs[name])
		if err != nil {
			t.Fatalf("HTML(%s): %v", name, err)
		}
		file := filepath.Join(dir, name+".html")
		if err := os.WriteFile(file, page, 0o644); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, pageCfg{name, file})
	}
	cfg, _ := json.Marshal(map[string]any{
		"chromium": chromium,
		"outDir":   dir,
		"pages":    pages,
		"viewports": []map[string]any{
			{"name": "phone", "width": 375, "height": 667, "mobile": true, "scale": 2},
			{"name": "desktop", "width": 1024, "height": 768},
		},
		"schemes": []string{"light", "dark"},
	})
	cfgFile := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, cfgFile)
	cmd.Dir = filepath.Join("testdata", "browser")
	cmd.Env = append(os.Environ(), "HOME="+dir) // Chromium writes its profile under HOME
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node check.mjs: %v\n%s", err, stderr.String())
	}
	var results []browserResult
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatalf("check.mjs printed no JSON: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if len(results) != len(pages)*2*2 {
		t.Fatalf("got %d renderings, want %d (%d pages x 2 widths x 2 schemes)", len(results), len(pages)*4, len(pages))
	}

	for _, r := range results {
		m := msgs[r.Page]
		t.Run(fmt.Sprintf("%s/%s/%s", r.Page, r.Viewport, r.Scheme), func(t *testing.T) {
			// A phone browser widens its layout viewport to fit content that
			// overflows (and zooms out), so overflow shows in either number.
			if wide := max(r.ScrollWidth, r.InnerWidth); wide > r.Width {
				t.Fatalf("page is %d px wide in a %d px viewport: readers would scroll sideways or squint", wide, r.Width)
			}
			if r.InnerWidth < r.Width {
				t.Fatalf("laid out at %d px, want %d (is the viewport real?)", r.InnerWidth, r.Width)
			}
			if len(r.Requests) > 0 {
				t.Errorf("page fetched remote resources: %v", r.Requests)
			}
			if len(r.Images) != len(m.Days) {
				t.Fatalf("%d images on the page, want %d", len(r.Images), len(m.Days))
			}
			column := float64(min(r.Width, contentWidth))
			for i, img := range r.Images {
				if !img.Complete || img.NaturalWidth == 0 || !img.Visible {
					t.Errorf("image %d not shown: complete=%v naturalWidth=%d visible=%v", i, img.Complete, img.NaturalWidth, img.Visible)
					continue
				}
				if img.Left < 0 || img.Right > float64(r.Width)+0.5 {
					t.Errorf("image %d spans %.0f..%.0f px, outside the %d px viewport", i, img.Left, img.Right, r.Width)
				}
				if img.Width < 0.85*column {
					t.Errorf("image %d is %.0f px wide; the cat should fill the %0.f px column", i, img.Width, column)
				}
				want := img.Width * float64(img.NaturalHeight) / float64(img.NaturalWidth)
				if d := img.Height - want; d > 2 || d < -2 {
					t.Errorf("image %d is %.0fx%.0f, distorted from %dx%d", i, img.Width, img.Height, img.NaturalWidth, img.NaturalHeight)
				}
				if img.Alt == "" {
					t.Errorf("image %d has no alt text", i)
				}
				// With images blocked the box shows its background: dark
				// in dark mode, not a pale slab in a dark inbox.
				if l := rgbLuminance(t, img.Background); r.Scheme == "dark" && l > 0.1 {
					t.Errorf("image %d placeholder %s is light (luminance %.2f) in dark mode", i, img.Background, l)
				}
			}
			checkHeadings(t, r, m)
			// No hidden preheader: the first thing in the body is what
			// the reader sees, and no spacer characters follow it.
			if r.Preheader.Hidden || r.Preheader.Spacers > 0 || !strings.Contains(r.Preheader.Text, "Cat of the Day") {
				t.Errorf("the body's first element: hidden=%v, %d spacers, text %q: want the visible header, no spacers",
					r.Preheader.Hidden, r.Preheader.Spacers, shorten(r.Preheader.Text, 60))
			}
			if len(r.Quotes) != len(m.Days) {
				t.Fatalf("%d quotes on the page, want %d", len(r.Quotes), len(m.Days))
			}
			for i, d := range m.Days {
				if want := typeset(d.Quote, true); !strings.Contains(r.Quotes[i], want) {
					t.Errorf("quote %d reads %q, want it to contain %q", i, r.Quotes[i], want)
				}
			}
			if len(r.Texts) < 4 {
				t.Fatalf("only %d text elements checked for contrast", len(r.Texts))
			}
			for _, tx := range r.Texts {
				// WCAG AA for body text.
				if tx.Contrast < 4.5 {
					t.Errorf("%q (%s) is %s on %s: contrast %.2f, want >= 4.5", tx.Text, tx.Class, tx.Color, tx.Background, tx.Contrast)
				}
			}
			bg := rgbLuminance(t, r.PageBackground)
			if r.Scheme == "dark" && (!r.DarkMatches || bg > 0.05) {
				t.Errorf("dark scheme: page background %s (luminance %.2f), dark media matched=%v: the mail stays light", r.PageBackground, bg, r.DarkMatches)
			}
			if r.Scheme == "light" && bg < 0.6 {
				t.Errorf("light scheme: page background %s is dark", r.PageBackground)
			}
			checkScreenshot(t, r.Screenshot, r.Width)
		})
	}
}

// checkHeadings: one heading per day a screen reader can jump to: a
// digest's days are h2 under the h1, a single day's date is the h1.
func checkHeadings(t *testing.T, r browserResult, m Message) {
	t.Helper()
	var h1, h2 []string
	for _, h := range r.Headings {
		switch h.Level {
		case "h1":
			h1 = append(h1, h.Text)
		case "h2":
			h2 = append(h2, h.Text)
		}
	}
	if len(h1) != 1 {
		t.Errorf("h1 headings %q, want exactly one", h1)
	}
	if len(m.Days) == 1 {
		if len(h1) == 1 && h1[0] != m.Days[0].Date.Format("Monday, 2 January 2006") {
			t.Errorf("single day's h1 is %q, want its date", h1[0])
		}
		return
	}
	if len(h2) != len(m.Days) {
		t.Fatalf("day headings (h2) %q, want one per day (%d)", h2, len(m.Days))
	}
	for i, d := range m.Days {
		if !strings.Contains(h2[i], d.Date.Format("Monday 2 January")) {
			t.Errorf("heading %d reads %q, want day %s", i, h2[i], d.Date.Format(time.DateOnly))
		}
	}
}

func checkScreenshot(t *testing.T, path string, cssWidth int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("no screenshot: %v", err)
		return
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Errorf("screenshot %s is not a PNG: %v", path, err)
		return
	}
	if cfg.Width%cssWidth != 0 || cfg.Height < cfg.Width/2 {
		t.Errorf("screenshot %s is %dx%d, not a full page at %d px", path, cfg.Width, cfg.Height, cssWidth)
	}
}

var rgbRe = regexp.MustCompile(`rgba?\((\d+),\s*(\d+),\s*(\d+)`)

// rgbLuminance is the WCAG relative luminance of a CSS rgb() colour.
func rgbLuminance(t *testing.T, css string) float64 {
	t.Helper()
	m := rgbRe.FindStringSubmatch(css)
	if m == nil {
		t.Fatalf("cannot read colour %q", css)
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.Atoi(m[i+1])
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}
