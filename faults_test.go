package main

// The fault suite of issue 6: the real binary (go build), killed with
// SIGKILL at named points, run twice at once, pointed at damaged
// databases, fed every bad photo we know of, and checked for leaked
// secrets and loose file modes. See RELIABILITY.md for what each test
// showed.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/pflag"
	bolt "go.etcd.io/bbolt"

	"cotd/images"
	"cotd/internal/mailpit"
	"cotd/internal/needs"
	"cotd/internal/photogen"
	"cotd/internal/tmpfs"
	"cotd/schedule"
	"cotd/store"
)

// chaos JSON: sets the script's Mailpit chaos triggers (mailpit.conf
// needs a "chaos" line); '{}' resets them.
func cmdChaos(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	if len(args) != 1 {
		ts.Fatalf("usage: chaos [-2] JSON")
	}
	s.SetChaos(tsTB{ts: ts}, args[0])
}

// exitcode N CMD ARGS...: runs CMD like exec and asserts its exit code is
// exactly N (exec only knows zero and non-zero).
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N CMD ARGS...")
	}
	want := 0
	fmt.Sscanf(args[0], "%d", &want)
	err := ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// TestFaults builds the real binary once and runs every fault case as a
// subtest against it: go test -run 'TestFaults/PowerCut'.
func TestFaults(t *testing.T) {
	// -tags crashpoints compiles in the kill points of internal/crash.
	bin := buildCotd(t, "crashpoints")
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, string)
	}{
		{"PowerCut", testPowerCut},
		{"TwoRunsAtOnce", testTwoRunsAtOnce},
		{"BadDatabase", testBadDatabase},
		{"DecompressionBomb", testDecompressionBomb},
		{"BadPhotos", testBadPhotos},
		{"Secrets", testSecrets},
		{"DiskFull", testDiskFull},
		{"UnreadablePasswordFile", testUnreadablePasswordFile},
		{"DatabaseOpen", testDatabaseOpen},
		{"SigtermAtFinalDot", testSigtermAtFinalDot},
		{"KillAtFinalDot", testKillAtFinalDot},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, bin) })
	}
}

// result is one finished run of the binary.
type result struct {
	stdout, stderr string
	code           int // -1 when killed by a signal
	signal         syscall.Signal
	maxRSS         int64 // peak resident memory in bytes
	elapsed        time.Duration
}

// runCotd runs the binary in dir with only the given COTD_* settings (the
// test process's own COTD_* variables are dropped).
func runCotd(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := cotdCommand(bin, dir, env, args...)
	return finish(t, cmd, stdout, stderr)
}

func finish(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %s: %v", cmd.Path, err)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	r.code = ws.ExitStatus()
	if ws.Signaled() {
		r.code, r.signal = -1, ws.Signal()
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss * 1024 // KiB on Linux
	}
	return r
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (signal %v)\nstdout:\n%s\nstderr:\n%s", r.code, r.signal, r.stdout, r.stderr)
}

// testJPEG is a small distinct photo: seed changes every pixel.
func testJPEG(t *testing.T, w, h, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(seed * 41), uint8(x * 255 / w), uint8(y * 255 / h), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func smtpEnv(s *mailpit.Server, to string) []string {
	return []string{
		"COTD_SMTP_HOST=127.0.0.1", fmt.Sprintf("COTD_SMTP_PORT=%d", s.Port), "COTD_SMTP_TLS=none",
		"COTD_FROM=Cat of the Day <cotd@example.test>", "COTD_TO=" + to, "COTD_PHOTOS=photos",
	}
}

var fiveRecipients = []string{"a@example.test", "b@example.test", "c@example.test", "d@example.test", "e@example.test"}

// testPowerCut pulls the plug (SIGKILL) at each crash point, then reruns:
// every recipient ends with the day's mail, at most one extra message per
// kill, every delivery recorded, and a third run sends nothing.
func testPowerCut(t *testing.T, bin string) {
	srv := mailpit.Start(t, mailpit.Options{})
	var photos [][]byte
	for i := range 12 {
		photos = append(photos, testJPEG(t, 320, 240, i+1))
	}
	day := schedule.Day{Year: 2026, Month: 3, Day: 2}
	now := "COTD_NOW=2026-03-02T08:00:00+01:00"
	cases := [][]string{
		{"index-file:1"},
		{"index-file:5"},
		{"index-commit:1"},
		{"opened:1"},
		{"delivered:1"},
		{"delivered:3"},
		{"delivered:5"},
		{"recorded:2"},
		{"recorded:5"},
		// Chained: the plug is pulled again during each recovery.
		{"index-file:3", "index-commit:1", "opened:1", "delivered:2", "delivered:1", "recorded:1"},
		{"delivered:1", "delivered:1", "delivered:1", "delivered:1", "delivered:1"},
	}
	for _, kills := range cases {
		t.Run(strings.Join(kills, ","), func(t *testing.T) {
			srv.DeleteAll(t)
			dir := t.TempDir()
			for i, p := range photos {
				writeFile(t, filepath.Join(dir, "photos", fmt.Sprintf("cat%02d.jpg", i)), p)
			}
			env := append(smtpEnv(srv, strings.Join(fiveRecipients, ", ")), now)
			for _, k := range kills {
				r := runCotd(t, bin, dir, append(env, "COTD_CRASH_AT="+k), "run")
				if r.signal != syscall.SIGKILL {
					t.Fatalf("COTD_CRASH_AT=%s: the run was not killed at that point: %v", k, r)
				}
			}
			r := runCotd(t, bin, dir, env, "run")
			if r.code != 0 {
				t.Fatalf("run after the kills: %v", r)
			}
			msgs := srv.Messages(t)
			per := map[string]int{}
			ids := map[string]string{}
			raws := map[string][]byte{}
			for _, m := range msgs {
				if len(m.To) != 1 {
					t.Fatalf("message to %v", m.To)
				}
				per[m.To[0]]++
				if prev, ok := ids[m.To[0]]; ok && prev != m.MessageID {
					t.Errorf("%s got two different messages: %s and %s (a resend must carry the same Message-ID)", m.To[0], prev, m.MessageID)
				}
				ids[m.To[0]] = m.MessageID
				// A copy after a kill is the message that was on its way,
				// sent again as it was (the write-ahead), not composed anew.
				raw := withoutReceived(srv.Raw(t, m.ID))
				if prev, ok := raws[m.To[0]]; ok && !bytes.Equal(prev, raw) {
					t.Errorf("%s got two copies that differ (a resend must be byte for byte the same):\n%.400s\n----\n%.400s", m.To[0], prev, raw)
				}
				raws[m.To[0]] = raw
			}
			for _, to := range fiveRecipients {
				if per[to] == 0 {
					t.Errorf("%s has no mail for %s: a delivery was lost", to, day)
				}
			}
			dups := len(msgs) - len(fiveRecipients)
			t.Logf("kills %v: %d messages, %d duplicates", kills, len(msgs), dups)
			if dups > len(kills) {
				t.Errorf("%d duplicates after %d kills, want at most one per kill", dups, len(kills))
			}
			if again := runCotd(t, bin, dir, env, "run"); again.code != 0 || !strings.Contains(again.stderr, "nothing due") {
				t.Errorf("third run: %v", again)
			}
			if n := len(srv.Messages(t)); n != len(msgs) {
				t.Errorf("third run sent %d more messages", n-len(msgs))
			}
			st, err := store.Open(filepath.Join(dir, "cotd.db"), time.Second)
			if err != nil {
				t.Fatalf("the database does not open after the kills: %v", err)
			}
			defer st.Close()
			var recorded, files int
			st.View(func(tx *store.Tx) error {
				recorded = tx.DeliveryCount(day)
				return tx.EachFile(func(string, store.File) error { files++; return nil })
			})
			if recorded != len(fiveRecipients) || files != len(photos) {
				t.Errorf("database records %d deliveries and %d files, want %d and %d", recorded, files, len(fiveRecipients), len(photos))
			}
		})
	}
}

// testTwoRunsAtOnce holds the database the way a running cotd does; a
// second run waits, then refuses with exit 3 naming the database.
func testTwoRunsAtOnce(t *testing.T, bin string) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cotd.db")
	st, err := store.Open(db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"COTD_DB=" + db, "COTD_NOW=2026-03-02T08:00:00+01:00"}
	r := runCotd(t, bin, dir, env, "run")
	st.Close()
	if r.code != 3 {
		t.Fatalf("second run: %v, want exit 3", r)
	}
	want := "cotd: error: another cotd run is using " + db
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "cotd: hint: wait for the other run") {
		t.Errorf("stderr %q lacks %q and the hint", r.stderr, want)
	}
	if r.elapsed < lockWait-time.Second/2 || r.elapsed > lockWait+5*time.Second {
		t.Errorf("the second run gave up after %s, want to wait about %s", r.elapsed, lockWait)
	}
	if _, err := os.Stat(filepath.Join(dir, "outbox")); err == nil {
		t.Error("the refused run wrote an outbox")
	}
	// Once the first run is done, the next one proceeds.
	if r := runCotd(t, bin, dir, env, "run"); r.code != 0 {
		t.Errorf("run after the lock was released: %v", r)
	}
}

// testBadDatabase: files that are not cotd's database are refused with
// exit 3, a message naming the file, a hint, and not a byte changed.
func testBadDatabase(t *testing.T, bin string) {
	good := filepath.Join(t.TempDir(), "good.db")
	if r := runCotd(t, bin, filepath.Dir(good), []string{"COTD_DB=" + good, "COTD_NOW=2026-03-02T08:00:00+01:00"}, "run"); r.code != 0 {
		t.Fatalf("making a real database: %v", r)
	}
	real, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(t.TempDir(), "newer.db")
	writeFile(t, newer, real)
	bdb, err := bolt.Open(newer, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	newerBytes, _ := os.ReadFile(newer)

	foreign := filepath.Join(t.TempDir(), "foreign.db")
	fdb, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	fdb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("someone-elses"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	fdb.Close()
	foreignBytes, _ := os.ReadFile(foreign)

	pageSize := int(binary.LittleEndian.Uint32(real[16+8:])) // meta: magic, version, page size
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"text file", []byte("these are my notes, not a database\n"), "not a cotd database, or damaged"},
		{"empty header", make([]byte, 8192), "not a cotd database, or damaged"},
		{"truncated to one page", real[:pageSize], "not a cotd database, or damaged"},
		{"truncated mid-file", real[:len(real)/2], "not a cotd database, or damaged"},
		{"zeroed meta pages", append(make([]byte, 2*pageSize), real[2*pageSize:]...), "not a cotd database, or damaged"},
		{"another program's bbolt file", foreignBytes, "not a cotd database, or damaged"},
		{"newer schema", newerBytes, "written by a newer cotd (schema 99, this cotd knows 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "cotd.db")
			writeFile(t, db, tt.data)
			before := sha256.Sum256(tt.data)
			r := runCotd(t, bin, dir, []string{"COTD_DB=" + db, "COTD_NOW=2026-03-03T08:00:00+01:00"}, "run")
			if r.code != 3 {
				t.Fatalf("%v, want exit 3", r)
			}
			if !strings.Contains(r.stderr, "cotd: error: database "+db) || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "cotd: hint: ") {
				t.Errorf("stderr %q, want the path, %q and a hint", r.stderr, tt.want)
			}
			after, err := os.ReadFile(db)
			if err != nil || sha256.Sum256(after) != before {
				t.Errorf("the database file changed (err %v)", err)
			}
			if ents, _ := os.ReadDir(filepath.Join(dir, "outbox")); len(ents) > 0 {
				t.Errorf("a refused run wrote %d outbox files", len(ents))
			}
		})
	}
}

// testDecompressionBomb: a 100000×100000 PNG is refused from its header;
// the whole run's peak memory (the child's rusage) stays under 100 MiB.
func testDecompressionBomb(t *testing.T, bin string) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "photos", "bomb.png"), photogen.PNGHeader(100000, 100000))
	writeFile(t, filepath.Join(dir, "photos", "cat.jpg"), testJPEG(t, 640, 480, 1))
	r := runCotd(t, bin, dir, []string{"COTD_PHOTOS=photos", "COTD_NOW=2026-03-02T08:00:00+01:00"}, "run")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	if !strings.Contains(r.stderr, `skipped photos/bomb.png: image is 100000×100000`) {
		t.Errorf("the bomb is not named with its size: %s", r.stderr)
	}
	t.Logf("peak RSS of the run with the bomb: %.1f MiB", float64(r.maxRSS)/(1<<20))
	if r.maxRSS == 0 || r.maxRSS >= 100<<20 {
		t.Errorf("peak RSS %d bytes, want below 100 MiB", r.maxRSS)
	}
}

// badFiles are the made-up photo files of issue 6, by name; nil data marks
// the ones made specially (links, unreadable).
type badFile struct {
	name   string
	data   []byte
	usable bool   // a photo cotd must send, not skip
	reason string // part of the skip reason
}

func madeUpFiles(t *testing.T) []badFile {
	good := testJPEG(t, 640, 480, 7)
	gray16 := image.NewGray16(image.Rect(0, 0, 120, 80))
	for y := range 80 {
		for x := range 120 {
			gray16.SetGray16(x, y, color.Gray16{Y: uint16(x * 500)})
		}
	}
	alpha := image.NewNRGBA(image.Rect(0, 0, 120, 80))
	for y := range 80 {
		for x := range 120 {
			alpha.SetNRGBA(x, y, color.NRGBA{200, 40, 40, uint8(x * 2)})
		}
	}
	encPNG := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	frame := func(c color.Color) *image.Paletted {
		p := image.NewPaletted(image.Rect(0, 0, 60, 40), palette.Plan9)
		for y := range 40 {
			for x := range 60 {
				p.Set(x, y, c)
			}
		}
		return p
	}
	var anim bytes.Buffer
	if err := gif.EncodeAll(&anim, &gif.GIF{Image: []*image.Paletted{frame(color.RGBA{255, 0, 0, 255}), frame(color.RGBA{0, 0, 255, 255})}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("images", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return []badFile{
		{name: "zero.jpg", data: []byte{}, reason: "empty file"},
		{name: "notes.jpg", data: []byte("shopping list: cat food, more cat food\n")},
		{name: "truncated.jpg", data: good[:len(good)/3]},
		{name: "bomb.png", data: photogen.PNGHeader(100000, 100000), reason: "100000×100000"},
		{name: "cmyk.jpg", data: fixture("cmyk.jpg"), usable: true},
		{name: "progressive.jpg", data: fixture("progressive.jpg"), usable: true},
		{name: "gray16.png", data: encPNG(gray16), usable: true},
		{name: "alpha.png", data: encPNG(alpha), usable: true},
		{name: "animated.gif", data: anim.Bytes(), usable: true},
		{name: "unreadable.jpg", reason: "permission denied"},
		{name: "loop.jpg", reason: "symbolic link loop"},
		{name: "dangling.jpg", reason: "it vanished or is a broken link"},
	}
}

// testBadPhotos runs over the whole real-world corpus plus the made-up
// bad files, as an unprivileged user so that a mode-000 file really is
// unreadable: every recipient gets a good cat, each unusable file is
// listed once, and the next run neither re-reads nor re-lists them until
// one changes.
func testBadPhotos(t *testing.T, bin string) {
	shared := sharedDir()
	if shared == "" {
		needs.Absent(t, "../shared/realworld-photos is absent", "put the shared folder beside the repository")
	}
	asNobody := os.Geteuid() == 0
	// A folder outside t.TempDir's private parent, so the unprivileged
	// user can reach it.
	dir, err := os.MkdirTemp("", "cotd-badphotos-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	photos := filepath.Join(dir, "photos")
	var corpus []string
	ents, err := os.ReadDir(shared)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "README.md" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(shared, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(photos, e.Name()), b)
		corpus = append(corpus, e.Name())
	}
	made := madeUpFiles(t)
	for _, f := range made {
		p := filepath.Join(photos, f.name)
		switch f.name {
		case "unreadable.jpg":
			writeFile(t, p, testJPEG(t, 100, 100, 3))
			os.Chmod(p, 0o000)
		case "loop.jpg":
			os.Symlink("loop2.jpg", p)
			os.Symlink("loop.jpg", filepath.Join(photos, "loop2.jpg"))
		case "dangling.jpg":
			os.Symlink("gone-for-good.jpg", p)
		default:
			writeFile(t, p, f.data)
		}
	}
	binCopy := copyBinary(t, bin, dir)
	if asNobody {
		os.Chmod(dir, 0o755)
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	srv := mailpit.Start(t, mailpit.Options{})
	to := []string{"a@example.test", "b@example.test", "c@example.test"}
	env := smtpEnv(srv, strings.Join(to, ", "))
	run := func(now string) result {
		return runBare(t, binCopy, dir, asNobody, append([]string{"COTD_TZ=Europe/Berlin", "COTD_NOW=" + now}, env...), "run")
	}
	skippedRe := regexp.MustCompile(`msg="skipped photos/([^:]+): ([^"]*)"`)
	skipped := func(r result) map[string][]string {
		out := map[string][]string{}
		for _, m := range skippedRe.FindAllStringSubmatch(r.stderr, -1) {
			out[m[1]] = append(out[m[1]], m[2])
		}
		return out
	}

	r1 := run("2026-03-02T08:00:00+01:00")
	if r1.code != 0 {
		t.Fatalf("first run: %v", r1)
	}
	t.Logf("first run over %d corpus + %d made-up files: %s, peak RSS %.1f MiB", len(corpus), len(made), r1.elapsed.Round(time.Millisecond), float64(r1.maxRSS)/(1<<20))
	sk := skipped(r1)
	for name, reasons := range sk {
		if len(reasons) != 1 {
			t.Errorf("%s listed %d times: %q", name, len(reasons), reasons)
		}
		t.Logf("skipped %s: %s", name, reasons[0])
	}
	for _, f := range made {
		rs, listed := sk[f.name]
		switch {
		case f.usable && listed:
			t.Errorf("%s is a usable photo but was skipped: %s", f.name, rs[0])
		case !f.usable && !listed && (f.name != "unreadable.jpg" || asNobody):
			t.Errorf("%s was not listed as skipped", f.name)
		case listed && f.reason != "" && !strings.Contains(rs[0], f.reason):
			t.Errorf("%s skipped because %q, want it to say %q", f.name, rs[0], f.reason)
		}
	}
	// HEIC photos are photos when heif-convert is installed; without it
	// each is skipped with how to install it, and read again next run.
	_, noHEIFHelper := exec.LookPath(images.HEIFHelper)
	for _, name := range corpus {
		if strings.HasPrefix(name, "heic_") {
			rs := sk[name]
			switch {
			case noHEIFHelper == nil && len(rs) > 0:
				t.Errorf("%s: skipped although heif-convert is installed (%q)", name, rs)
			case noHEIFHelper != nil && (len(rs) == 0 || !strings.Contains(rs[0], "apt-get install libheif-examples")):
				t.Errorf("%s: not skipped with how to install heif-convert (%q)", name, rs)
			}
		}
	}
	// The database agrees with the log: every file is a photo or has the
	// reason that was listed.
	st, err := store.Open(filepath.Join(dir, "cotd.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	usable := 0
	st.View(func(tx *store.Tx) error {
		return tx.EachFile(func(path string, f store.File) error {
			switch {
			case f.Hash != "":
				usable++
				if _, listed := sk[path]; listed {
					t.Errorf("%s is indexed as a photo and was listed as skipped", path)
				}
			case len(sk[path]) == 0:
				t.Errorf("%s is unusable (%s) but was not listed", path, f.Err)
			}
			return nil
		})
	})
	st.Close()
	t.Logf("%d usable photo files, %d skipped", usable, len(sk))

	msgs := srv.Messages(t)
	if len(msgs) != len(to) {
		t.Fatalf("first run: %d messages, want %d", len(msgs), len(to))
	}
	for _, m := range msgs {
		if err := checkMessage(srv.Raw(t, m.ID), false, 1); err != nil {
			t.Errorf("message to %v: %v", m.To, err)
		}
	}

	// The next morning: a cat for everyone, and not one file listed again.
	r2 := run("2026-03-03T08:00:00+01:00")
	if r2.code != 0 {
		t.Fatalf("second run: %v", r2)
	}
	again := skipped(r2)
	for name := range again {
		if strings.HasPrefix(name, "heic_") && noHEIFHelper != nil {
			delete(again, name) // read again in case heif-convert was installed
		}
	}
	if len(again) > 0 {
		t.Errorf("second run listed unchanged bad files again: %v", again)
	}
	if n := len(srv.Messages(t)); n != 2*len(to) {
		t.Errorf("after the second run Mailpit holds %d messages, want %d", n, 2*len(to))
	}

	// A bad file that changes is read and listed once more.
	notes := filepath.Join(photos, "notes.jpg")
	writeFile(t, notes, []byte("now a longer shopping list: cat food, more cat food, a laser pointer\n"))
	r3 := run("2026-03-04T08:00:00+01:00")
	if r3.code != 0 {
		t.Fatalf("third run: %v", r3)
	}
	if again := skipped(r3); len(again) != 1 || len(again["notes.jpg"]) != 1 {
		t.Errorf("third run listed %v, want only the changed notes.jpg", again)
	}
}

// testSecrets: the password stays in its file. Not in the options (so not
// in argv or the environment), not in logs (right or wrong), and every
// file cotd creates is private.
func testSecrets(t *testing.T, bin string) {
	// The options are checked in config (TestNoPasswordOption); here
	// every command's flags of its own.
	for _, c := range commands {
		fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
		if c.flags != nil {
			c.flags(fs)
		}
		fs.VisitAll(func(o *pflag.Flag) {
			if strings.Contains(o.Name, "password") && o.Name != "smtp-password-file" {
				t.Errorf("option --%s would put a password on the command line", o.Name)
			}
		})
	}
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "photos", "cat.jpg"), testJPEG(t, 640, 480, 1))
	wrong := filepath.Join(dir, "wrong-password")
	writeFile(t, wrong, []byte("Wr0ng-Pa55word-77\n"))
	env := []string{
		"COTD_SMTP_HOST=127.0.0.1", fmt.Sprintf("COTD_SMTP_PORT=%d", srv.Port), "COTD_SMTP_CA_FILE=" + srv.CAFile,
		"COTD_SMTP_USER=" + srv.User, "COTD_FROM=cotd@example.test", "COTD_TO=a@example.test",
		"COTD_PHOTOS=photos", "COTD_DB=state/cotd.db",
	}
	bad := runCotd(t, bin, dir, append(env, "COTD_SMTP_PASSWORD_FILE="+wrong, "COTD_NOW=2026-03-02T08:00:00+01:00"), "run")
	if bad.code != 1 || !strings.Contains(bad.stderr, srv.User) || !strings.Contains(bad.stderr, "127.0.0.1") {
		t.Errorf("wrong password: %v, want exit 1 naming the user and host", bad)
	}
	if strings.Count(bad.stderr, "cotd: error:") != 1 {
		t.Errorf("wrong password: want exactly one error line: %s", bad.stderr)
	}
	good := runCotd(t, bin, dir, append(env, "COTD_SMTP_PASSWORD_FILE="+srv.PasswordFile, "COTD_NOW=2026-03-02T09:00:00+01:00"), "run")
	if good.code != 0 {
		t.Fatalf("right password: %v", good)
	}
	for _, secret := range []string{"Wr0ng-Pa55word-77", srv.Password} {
		for what, s := range map[string]string{"stderr (wrong)": bad.stderr, "stdout (wrong)": bad.stdout, "stderr": good.stderr, "stdout": good.stdout} {
			if strings.Contains(s, secret) {
				t.Errorf("%s contains the password", what)
			}
		}
		for _, m := range srv.Messages(t) {
			if bytes.Contains(srv.Raw(t, m.ID), []byte(secret)) {
				t.Errorf("the mail to %v contains the password", m.To)
			}
		}
	}
	// An outbox run next to it, to see the outbox's modes too.
	if r := runCotd(t, bin, dir, []string{"COTD_PHOTOS=photos", "COTD_DB=state2/cotd.db", "COTD_OUTBOX=out", "COTD_NOW=2026-03-02T09:00:00+01:00"}, "run"); r.code != 0 {
		t.Fatalf("outbox run: %v", r)
	}
	checked := 0
	for _, root := range []string{"state", "state2", "out"} {
		filepath.WalkDir(filepath.Join(dir, root), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Error(err)
				return nil
			}
			fi, _ := d.Info()
			want := fs.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
			}
			if !d.IsDir() {
				if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(srv.Password)) {
					t.Errorf("%s contains the password", path)
				}
			}
			checked++
			return nil
		})
	}
	if checked < 6 {
		t.Errorf("checked only %d paths; did the runs create the database, cache and outbox?", checked)
	}
}

// mailparts [-2] QUERY [TYPE]: writes to stdout, for each message
// matching QUERY, its header block exactly as received, then each text
// part (or only those of TYPE, e.g. text/html) decoded after a "--- TYPE"
// line, so a script can check both the encoded headers and the escaped
// HTML.
func cmdMailparts(ts *testscript.TestScript, neg bool, args []string) {
	s := server(ts, &args)
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: mailparts [-2] QUERY [TYPE]")
	}
	only := ""
	if len(args) == 2 {
		only = args[1]
	}
	out := ts.Stdout()
	for _, sum := range s.Search(tsTB{ts: ts}, args[0]) {
		raw := s.Raw(tsTB{ts: ts}, sum.ID)
		head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		fmt.Fprintf(out, "%s\n", bytes.ReplaceAll(head, []byte("\r\n"), []byte("\n")))
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			ts.Fatalf("%v", err)
		}
		err = eachPart(textproto.MIMEHeader(m.Header), m.Body, func(mt string, _ textproto.MIMEHeader, b []byte) error {
			if strings.HasPrefix(mt, "text/") && (only == "" || mt == only) {
				fmt.Fprintf(out, "--- %s\n%s\n", mt, strings.ReplaceAll(string(b), "\r\n", "\n"))
			}
			return nil
		})
		if err != nil {
			ts.Fatalf("%v", err)
		}
	}
}

// testDiskFull puts the database, cache and outbox on a 1 MiB tmpfs
// (mounted by the test, as root), fills it after a good run, and runs the
// next morning: exit 1 with the disk named and a hint; once there is room
// the day goes out and the earlier day's records are all there.
func testDiskFull(t *testing.T, bin string) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	tmpfs.Mount(t, state, "1m")
	writeFile(t, filepath.Join(dir, "photos", "a.jpg"), testJPEG(t, 640, 480, 1))
	writeFile(t, filepath.Join(dir, "photos", "b.jpg"), testJPEG(t, 640, 480, 2))
	env := []string{"COTD_PHOTOS=photos", "COTD_DB=state/cotd.db", "COTD_OUTBOX=state/outbox"}
	if r := runCotd(t, bin, dir, append(env, "COTD_NOW=2026-03-02T08:00:00+01:00"), "run"); r.code != 0 {
		t.Fatalf("first run: %v", r)
	}
	filler := filepath.Join(state, "filler")
	if err := os.WriteFile(filler, make([]byte, 2<<20), 0o600); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the tmpfs: %v, want ENOSPC", err)
	}
	r := runCotd(t, bin, dir, append(env, "COTD_NOW=2026-03-03T08:00:00+01:00"), "run")
	if r.code != 1 || !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, "cotd: hint: ") {
		t.Fatalf("run on a full disk: %v, want exit 1 naming the full disk, with a hint", r)
	}
	t.Logf("full disk:\n%s", r.stderr)
	os.Remove(filler)
	if r := runCotd(t, bin, dir, append(env, "COTD_NOW=2026-03-03T09:00:00+01:00"), "run"); r.code != 0 {
		t.Fatalf("run with room again: %v", r)
	}
	st, err := store.Open(filepath.Join(state, "cotd.db"), time.Second)
	if err != nil {
		t.Fatalf("database after the full disk: %v", err)
	}
	defer st.Close()
	st.View(func(tx *store.Tx) error {
		for _, d := range []schedule.Day{{Year: 2026, Month: 3, Day: 2}, {Year: 2026, Month: 3, Day: 3}} {
			if n := tx.DeliveryCount(d); n != 1 {
				t.Errorf("%s: %d deliveries recorded, want 1", d, n)
			}
		}
		return nil
	})
	if ents, _ := os.ReadDir(filepath.Join(state, "outbox")); len(ents) != 2 {
		t.Errorf("outbox holds %d files, want 2 (no half-written ones)", len(ents))
	}
}

// testUnreadablePasswordFile: a password file the cotd user may not read
// (mode 0600, someone else's) is a configuration error, exit 2, naming the
// file and the fix, before anything is sent. Root reads every file, so the
// run is made as nobody (uid 65534).
func testUnreadablePasswordFile(t *testing.T, bin string) {
	needs.Root(t, "running cotd as another user")
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // testing makes the parent 0700
	os.Chmod(dir, 0o755)
	binCopy := copyBinary(t, bin, dir)
	pw := filepath.Join(dir, "smtp-password")
	writeFile(t, pw, []byte("s3cret-pw\n"))
	os.Chmod(pw, 0o600) // root's
	work := filepath.Join(dir, "work")
	os.Mkdir(work, 0o755)
	os.Chown(work, nobody, nobody)
	r := runBare(t, binCopy, work, true, nil, "run", "--smtp-host", "mail.example.test", "--smtp-user", "cotd",
		"--smtp-password-file", pw, "--to", "a@example.test", "--from", "cotd@example.test")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "cotd: error: smtp password file: open "+pw+": permission denied") ||
		!strings.Contains(r.stderr, "cotd: hint: check the path and that the cotd user may read it") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "s3cret-pw") {
		t.Error("the password leaked into the error")
	}
	if ents, _ := os.ReadDir(work); len(ents) != 0 {
		t.Errorf("a configuration error left files behind: %v", ents)
	}
}

// TestShippedBinaryHasNoCrashPoints: built as users build it (no
// -tags crashpoints), COTD_CRASH_AT is ignored and the run completes.
func TestShippedBinaryHasNoCrashPoints(t *testing.T) {
	bin := buildCotd(t)
	dir := t.TempDir()
	for _, point := range []string{"opened:1", "delivered:1", "recorded:1"} {
		r := runCotd(t, bin, dir, []string{"COTD_CRASH_AT=" + point, "COTD_NOW=2026-03-02T08:00:00+01:00"}, "run")
		if r.code != 0 || r.signal != 0 {
			t.Errorf("COTD_CRASH_AT=%s: %v, want a normal run", point, r)
		}
	}
}

// withoutReceived drops the Return-Path: and Received: headers the server
// prepends, the part of a stored message that is the server's, not cotd's.
func withoutReceived(raw []byte) []byte {
	for bytes.HasPrefix(raw, []byte("Received:")) || bytes.HasPrefix(raw, []byte("Return-Path:")) {
		i := bytes.Index(raw, []byte("\r\n"))
		for i >= 0 && i+2 < len(raw) && (raw[i+2] == ' ' || raw[i+2] == '\t') {
			j := bytes.Index(raw[i+2:], []byte("\r\n"))
			if j < 0 {
				return raw
			}
			i += 2 + j
		}
		if i < 0 {
			return raw
		}
		raw = raw[i+2:]
	}
	return raw
}
