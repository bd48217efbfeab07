package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cotd/internal/needs"
)

// TestPreviewInBrowser runs `cotd preview` as a user would and opens the
// .html it wrote in headless Chromium (playwright-core drives the system
// Chromium, as in mail/browser_test.go) at 375 and 1024 px, light and dark:
// no sideways scroll, the cat loaded and inside the viewport, the quote on
// the page, a dark page in dark mode.
func TestPreviewInBrowser(t *testing.T) {
	need := func(ok bool, what string) {
		t.Helper()
		if !ok {
			needs.Absent(t, "this test drives a real browser", "install "+what)
		}
	}
	chromium, err := exec.LookPath("chromium")
	need(err == nil, "Chromium (Debian: apt install chromium)")
	node, err := exec.LookPath("node")
	need(err == nil, "Node.js")
	browserDir, _ := filepath.Abs(filepath.Join("mail", "testdata", "browser"))
	_, err = os.Stat(filepath.Join(browserDir, "node_modules", "playwright-core"))
	need(err == nil, "playwright-core (npm ci --prefix mail/testdata/browser)")

	dir := t.TempDir()
	quote := "Un chat qui dort est un poème. — Zoë Ångström"
	os.WriteFile(filepath.Join(dir, "quotes.txt"), []byte(quote+"\n"), 0o644)
	vars := map[string]string{"COTD_TZ": "Europe/Berlin", "COTD_NOW": "2026-03-02T08:00:00+01:00"}
	var stdout, stderr bytes.Buffer
	code := cli([]string{"preview", "--db", filepath.Join(dir, "cotd.db"), "--quotes", filepath.Join(dir, "quotes.txt"),
		"--to", "Cee <c@example.test>", "--date", "2026-03-05", "--out", filepath.Join(dir, "preview")},
		env{&stdout, &stderr, func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if code != 0 {
		t.Fatalf("cotd preview exit %d: %s", code, stderr.String())
	}
	var page string
	for _, p := range strings.Fields(stdout.String()) {
		if strings.HasSuffix(p, ".html") {
			page = p
		}
	}
	if page == "" {
		t.Fatalf("cotd preview printed no .html path: %q", stdout.String())
	}

	cfg, _ := json.Marshal(map[string]any{
		"chromium": chromium, "outDir": dir,
		"pages": []map[string]string{{"name": "preview", "file": page}},
		"viewports": []map[string]any{
			{"name": "phone", "width": 375, "height": 667, "mobile": true, "scale": 2},
			{"name": "desktop", "width": 1024, "height": 768},
		},
		"schemes": []string{"light", "dark"},
	})
	cfgFile := filepath.Join(dir, "config.json")
	os.WriteFile(cfgFile, cfg, 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(browserDir, "check.mjs"), cfgFile)
	cmd.Dir = browserDir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("check.mjs: %v\n%s", err, errOut.String())
	}
	var results []struct {
		Viewport, Scheme string
		Width            int
		ScrollWidth      int    `json:"scrollWidth"`
		InnerWidth       int    `json:"innerWidth"`
		DarkMatches      bool   `json:"darkMatches"`
		PageBackground   string `json:"pageBackground"`
		Quotes           []string
		Requests         []string
		Images           []struct {
			Complete     bool    `json:"complete"`
			NaturalWidth int     `json:"naturalWidth"`
			Visible      bool    `json:"visible"`
			Left         float64 `json:"left"`
			Right        float64 `json:"right"`
		} `json:"images"`
	}
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("check.mjs output: %v\n%s", err, out.String())
	}
	if len(results) != 4 {
		t.Fatalf("%d renderings, want 4", len(results))
	}
	for _, r := range results {
		name := r.Viewport + "/" + r.Scheme
		if w := max(r.ScrollWidth, r.InnerWidth); w > r.Width {
			t.Errorf("%s: page is %d px wide in a %d px viewport", name, w, r.Width)
		}
		if len(r.Images) != 1 || !r.Images[0].Complete || r.Images[0].NaturalWidth == 0 || !r.Images[0].Visible {
			t.Errorf("%s: the cat is not shown: %+v", name, r.Images)
		} else if r.Images[0].Left < 0 || r.Images[0].Right > float64(r.Width)+0.5 {
			t.Errorf("%s: the cat spans %.0f..%.0f px in a %d px viewport", name, r.Images[0].Left, r.Images[0].Right, r.Width)
		}
		if len(r.Requests) > 0 {
			t.Errorf("%s: the page fetched %v", name, r.Requests)
		}
		if len(r.Quotes) != 1 || !strings.Contains(r.Quotes[0], "Un chat qui dort est un poème.") {
			t.Errorf("%s: quote on the page %q", name, r.Quotes)
		}
		if r.Scheme == "dark" && !r.DarkMatches {
			t.Errorf("%s: dark mode did not apply (background %s)", name, r.PageBackground)
		}
	}
}
