package images

// HEIC and AVIF pictures are decoded by heif-convert from Debian's
// libheif-examples (pi-setup.sh installs it), run as a child process:
// cotd stays a static, cgo-free binary, and the service keeps
// MemoryDenyWriteExecute= (a WebAssembly build of libheif needs a JIT to
// be fast enough; BENCHMARKS.md has the measurements). The child gets the
// photo in a private temporary directory, an empty environment, no
// stdin, a wall-clock timeout, and an address-space and CPU limit set by
// util-linux's prlimit before heif-convert starts; under the service it
// also inherits the unit's sandbox (no network but IPv4/IPv6 sockets it
// never opens, read-only system, no devices).
//
// Debian 12's heif-convert (libheif 1.15) applies irot and imir, assembles
// the tile grid, and writes the HEIF's ICC profile into the JPEG it makes;
// it also copies the photo's EXIF, whose Orientation must then be ignored
// (the pixels are already upright: HEIF says irot wins). An nclx colour
// description is not carried over; see heifColour.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// HEIFHelper is the program that decodes HEIC and AVIF photos, found in
// PATH; tests replace it.
var HEIFHelper = "heif-convert"

// HelperInstalled reports whether HEIFHelper is found: a photo refused for
// want of it (ErrNoHelper) is worth reading again.
func HelperInstalled() bool {
	_, err := exec.LookPath(HEIFHelper)
	return err == nil
}

// heifTimeout bounds one decode: a 12 MP iPhone photo takes about a
// second of CPU on this machine, a few on a Pi.
var heifTimeout = 2 * time.Minute

// heifQuality is the quality of the JPEG heif-convert hands back: high
// enough that its second generation costs nothing visible at 1280 px.
const heifQuality = 95

// MaxHEIFPixels bounds a HEIC or AVIF photo: heif-convert holds about 6.5
// bytes a pixel (a 16 MP photo peaks at 100 MB), so 25 MP (iPhone 15's
// default 24 MP) keeps the child near 170 MB. A 48 MP "HEIF Max" photo is
// refused by its header.
const MaxHEIFPixels = 25_000_000

// heifMemory is the child's address-space limit for a photo of px pixels.
// Address space is not memory: heif-convert maps about 170 MB before it
// reads a byte (its codec libraries, thread stacks), and a 16 MP photo
// peaks at 242 MB. The limit is that with room to spare, and malloc is held
// to two arenas so threads do not reserve space they never touch; a limit
// too tight makes libde265 wait forever for a thread it could not start,
// which only the timeout ends.
func heifMemory(px int64) int64 { return 384<<20 + 8*px }

// heifCost is the memory the child takes for px pixels, for [Cost].
func heifCost(px int64) int64 { return 24<<20 + 7*px }

// heifHint says how to get HEIC photos rendered: install the helper, or
// convert them, or stop them arriving.
const heifHint = " (on the Pi: sudo apt-get install libheif-examples, which pi-setup.sh installs;" +
	" or convert it: heif-convert IN.heic OUT.jpg; on an iPhone, Settings → Camera → Formats → Most Compatible takes JPEGs)"

// heifFix is what to do about a HEIC that cannot be decoded.
const heifFix = " (on an iPhone, Settings → Camera → Formats → Most Compatible takes JPEGs)"

// heifToJPEG decodes a HEIC/AVIF file with the helper and returns the
// upright picture as a JPEG carrying the photo's ICC profile, if any.
func heifToJPEG(data []byte, px int64, label string) ([]byte, error) {
	helper, err := exec.LookPath(HEIFHelper)
	if err != nil {
		return nil, &reasonError{ErrUnsupported, fmt.Sprintf("%s photos need the heif-convert program to decode, and it is not installed%s", label, heifHint), ErrNoHelper}
	}
	dir, err := os.MkdirTemp("", "cotd-heif-")
	if err != nil {
		return nil, fmt.Errorf("decode %s: temporary directory: %w", label, err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.heic"), filepath.Join(dir, "out.jpg")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		return nil, fmt.Errorf("decode %s: %w", label, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), heifTimeout)
	defer cancel()
	args := []string{"--quiet", "-q", strconv.Itoa(heifQuality), in, out}
	name := helper
	if prlimit, err := exec.LookPath("prlimit"); err == nil {
		cpu := int(heifTimeout / time.Second)
		args = append([]string{"--as=" + strconv.FormatInt(heifMemory(px), 10), "--cpu=" + strconv.Itoa(cpu), "--core=0", "--", helper}, args...)
		name = prlimit
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "MALLOC_ARENA_MAX=2", "TMPDIR=" + dir}
	var stderr bytes.Buffer
	lw := &limited{&stderr, 4 << 10} // one writer for both: exec writes to it from one goroutine
	cmd.Stdout, cmd.Stderr = lw, lw
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return nil, corrupt("%s took longer than %v to decode; re-export the photo as JPEG%s", label, heifTimeout, heifFix)
	case err != nil:
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, corrupt("%s could not be decoded (heif-convert: %s); re-export the photo as JPEG%s", label, msg, heifFix)
	}
	st, err := os.Stat(out)
	if err != nil || st.Size() > maxFileBytes || st.Size() == 0 {
		return nil, corrupt("%s could not be decoded (heif-convert wrote no picture); re-export the photo as JPEG%s", label, heifFix)
	}
	return os.ReadFile(out)
}

// limited keeps the first n bytes written to it and drops the rest.
type limited struct {
	b *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func lastLine(s string) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	return string(bytes.TrimSpace(lines[len(lines)-1]))
}
