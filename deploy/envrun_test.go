package deploy

import (
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cotd/internal/needs"
)

// The env template pi-setup.sh writes, unedited, is a configuration the real
// cotd accepts: with a photo in the folder it writes today's mail to the
// outbox (no SMTP host yet), reading the seeded quotes file.
func TestEnvTemplateRunsRealCotd(t *testing.T) {
	binary := cotdBinary(t)
	if binaryKind != "real" {
		needs.Absent(t, "the repository root does not build, so only the stand-in cotd is installed and it cannot read the env file", "fix the build: go build .")
	}
	s := newStaging(t, binary, "Europe/Berlin")
	s.mustRun(t)

	f, err := os.Create(s.path("/srv/cotd/photos/tabby.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// The settings as systemd's EnvironmentFile= hands them over, with the
	// Pi's paths moved into the staging root.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COTD_") && !strings.HasPrefix(kv, "CREDENTIALS_DIRECTORY=") {
			env = append(env, kv)
		}
	}
	for _, line := range strings.Split(s.read(t, "/etc/cotd/cotd.env"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.Trim(v, `"`)
		v = strings.NewReplacer("/srv/cotd", s.path("/srv/cotd"), "/var/lib/cotd", s.path("/var/lib/cotd"), "/etc/cotd", s.path("/etc/cotd")).Replace(v)
		env = append(env, k+"="+v)
	}
	env = append(env, "COTD_NOW=2026-03-10T08:00:00+01:00")

	cmd := exec.Command(filepath.Join(s.root, "usr/local/bin/cotd"), "run")
	cmd.Dir = s.path("/var/lib/cotd")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cotd run with the installed env file: %v\n%s", err, out)
	}
	mails, _ := filepath.Glob(filepath.Join(s.path("/var/lib/cotd/outbox"), "*.eml"))
	if len(mails) == 0 {
		t.Fatalf("cotd run wrote no .eml into the outbox:\n%s", out)
	}
	// The quote comes from the seeded /srv/cotd/quotes.txt, not the built-in list.
	raw, err := os.ReadFile(mails[0])
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(string(raw))
	seeded := false
	for _, author := range []string{"Pratchett", "Dickens", "Taine", "Hemingway", "da Vinci", "Mary Bly"} {
		seeded = seeded || strings.Contains(text, author)
	}
	if !seeded {
		t.Errorf("%s quotes none of the seeded quotes.txt:\n%s", mails[0], text)
	}
	if _, err := os.Stat(s.path("/var/lib/cotd/cotd.db")); err != nil {
		t.Errorf("no database where COTD_DB says: %v", err)
	}
	t.Logf("cotd run on the installed env file:\n%s", out)
}
