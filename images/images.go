// Package images turns one photo from the owner's folder into the picture
// that cotd mails: decoded, turned upright by its EXIF orientation, fitted
// within a square, and re-encoded as a baseline JPEG that carries no metadata
// at all (no EXIF, GPS, XMP, ICC profile or comment), so a photo taken at home
// never mails the home's coordinates.
//
// It is built for a Raspberry Pi. A big baseline JPEG is decoded straight
// to a half, quarter or eighth of its size from its low DCT coefficients
// (shrink-on-load, see jpegscale.go); other images go through the standard
// decoders. Pixels stay in YCbCr planes from decode to encode (no full-size
// RGBA copy), an exact box reduction and a Lanczos-3 filter bring them to the
// target, and orientation is applied to the small result. Pixel counts are
// checked from the header before anything is decoded.
//
// It is not a general image library: it does not cache renditions (the caller
// does, keyed by [Options.Key]), read metadata other than orientation, or
// write anything but JPEG.
package images

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Pipeline is bumped whenever a change to this package changes the picture
// it renders, so renditions cached under [Options.Key] are made again. (The
// rendition encoder of jpegenc.go writes other bytes than image/jpeg did for
// the same picture, within 0.01 dB of it: a cached rendition stays as good,
// so it did not bump, and no owner re-renders a library for it.)
const pipeline = 2 // 2: photos with an ICC profile are converted to sRGB (icc.go)

// MaxPixels is the largest image cotd will decode, checked from the file's
// header before decoding so that a decompression bomb (a tiny file claiming
// enormous dimensions) cannot take the Pi's memory. 64 MP covers every phone
// and most cameras (a 61 MP full-frame sensor fits); a 64 MP 4:2:0 JPEG
// decodes to about 96 MiB of planes.
const MaxPixels = 64_000_000

// MaxFullDecodePixels is the limit for images that must be decoded at full
// size before they can be shrunk: every format but baseline JPEG and the
// progressive JPEGs the scaled decoder reads (so PNG, GIF, WebP, TIFF, BMP,
// and progressive JPEGs with an Adobe segment or unusual sampling). Their decoders hold 4–8 bytes per pixel
// (a 48 MP progressive JPEG or PNG takes about 480 MiB), so the limit keeps
// one render under about 200 MiB on a 512 MB Pi. Phones write baseline JPEG.
const MaxFullDecodePixels = 16_000_000

// MaxFileBytes bounds how much of one file is read into memory: callers
// refuse a larger file by its size before reading it (a 3 GB video renamed
// .jpg, a link to a disk image). 64 MiB is far above any phone photo or a
// 64 MP camera JPEG, and keeps a render within the index's memory budget.
const MaxFileBytes = 64 << 20

const maxFileBytes = MaxFileBytes

// Options are the render settings.
type Options struct {
	MaxSide int // the output fits within MaxSide×MaxSide pixels; never upscaled
	Quality int // JPEG quality, 1..100
}

// Default is what cotd mails: 1280 px, quality 85.
var Default = Options{MaxSide: 1280, Quality: 85}

// Key names the render settings and the pipeline version, for cache keys:
// two renders with equal keys of the same photo give the same bytes.
func (o Options) Key() string {
	o = o.normalized()
	return fmt.Sprintf("v%d-%dpx-q%d", pipeline, o.MaxSide, o.Quality)
}

func (o Options) normalized() Options {
	if o.MaxSide <= 0 {
		o.MaxSide = Default.MaxSide
	}
	if o.Quality <= 0 {
		o.Quality = Default.Quality
	}
	if o.Quality > 100 {
		o.Quality = 100
	}
	return o
}

// Result is one rendered photo.
type Result struct {
	JPEG                      []byte // baseline JPEG, no metadata segments
	Width, Height             int    // of JPEG, upright
	SourceWidth, SourceHeight int    // of the photo as stored, before orientation
	Format                    string // decoder that read it: jpeg, png, gif, webp, tiff, bmp, heic, avif
	// Note is for the log: why the photo's colour profile was not
	// converted to sRGB (it was rendered anyway). Empty when all is well.
	Note string
}

// The sentinel errors of Render. Errors returned by Render wrap exactly one of
// them (test with errors.Is); their text is the reason alone, short enough to
// print after the file's name, e.g. "skipped photos/x.heic: HEIC is not
// supported, convert it to JPEG".
var (
	// ErrUnsupported: a file that is not an image cotd can read (HEIC, RAW,
	// text, an unknown format, a JPEG feature the decoder lacks).
	ErrUnsupported = errors.New("unsupported image")
	// ErrTooLarge: more than MaxPixels pixels, or a file too big to read.
	ErrTooLarge = errors.New("image too large")
	// ErrCorrupt: a known format whose data is damaged or truncated.
	ErrCorrupt = errors.New("corrupt image")
	// ErrNoHelper also wraps the ErrUnsupported of a HEIC or AVIF photo
	// whose decoder (heif-convert) is not installed: installing it makes
	// the photo usable, so a caller should try it again on a later run.
	ErrNoHelper = errors.New("decoder program not installed")
)

// reasonError carries a user-facing reason and the sentinel it belongs to.
type reasonError struct {
	kind   error
	reason string
	also   error // ErrNoHelper, or nil
}

func (e *reasonError) Error() string { return e.reason }
func (e *reasonError) Unwrap() []error {
	if e.also != nil {
		return []error{e.kind, e.also}
	}
	return []error{e.kind}
}

func unsupported(format string, args ...any) error {
	return &reasonError{kind: ErrUnsupported, reason: fmt.Sprintf(format, args...)}
}
func tooLarge(format string, args ...any) error {
	return &reasonError{kind: ErrTooLarge, reason: fmt.Sprintf(format, args...)}
}
func corrupt(format string, args ...any) error {
	return &reasonError{kind: ErrCorrupt, reason: fmt.Sprintf(format, args...)}
}

var supportedExt = map[string]bool{
	".jpg": true, ".jpeg": true, ".jpe": true, ".jfif": true,
	".png": true, ".gif": true, ".webp": true,
	".tif": true, ".tiff": true, ".bmp": true,
	".heic": true, ".heif": true, ".hif": true, ".avif": true, // with heif-convert (heifconvert.go)
}

// knownUnsupported are image types people keep in photo folders that pure Go
// cannot decode, with what to do about them.
var knownUnsupported = map[string]string{
	".jxl": "JPEG XL is not supported, convert it to JPEG",
	".jp2": "JPEG 2000 is not supported, convert it to JPEG",
	".psd": "Photoshop files are not supported, export a JPEG",
	".svg": "SVG drawings are not supported, export a JPEG or PNG",
	".ico": "icons are not supported, use a JPEG or PNG",
}

var rawExt = []string{".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2",
	".orf", ".rw2", ".raf", ".pef", ".srw", ".raw", ".3fr", ".erf", ".kdc", ".mrw", ".x3f"}

func init() {
	for _, e := range rawExt {
		knownUnsupported[e] = "camera RAW files are not supported, export a JPEG"
	}
}

// Supported reports whether a file name's extension is one cotd indexes
// (jpg jpeg png gif webp tif tiff bmp heic heif hif avif, any case). For known image types it
// cannot read it returns a reason to show the owner; for anything else (a
// .txt, a .mov) ok is false and reason is empty, meaning "not a photo, ignore".
func Supported(name string) (ok bool, reason string) {
	ext := strings.ToLower(filepath.Ext(name))
	if supportedExt[ext] {
		return true, ""
	}
	return false, knownUnsupported[ext]
}

// RenderFile renders the photo at path; see [Render]. Errors from reading the
// file name the path; errors about its content are Render's reasons alone.
func RenderFile(path string, o Options) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > maxFileBytes {
		return Result{}, tooLarge("file is %d MiB, larger than the %d MiB limit; shrink it first", st.Size()>>20, maxFileBytes>>20)
	}
	return Render(f, o)
}

// Render decodes one photo, applies its EXIF orientation (all 8 values), fits
// it within MaxSide×MaxSide (never upscales), and encodes a baseline JPEG
// with no metadata. Errors wrap ErrUnsupported, ErrTooLarge or ErrCorrupt
// (or are the reader's own errors) and read as a reason for the owner.
func Render(r io.Reader, o Options) (Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("read photo: %w", err)
	}
	if len(data) > maxFileBytes {
		return Result{}, tooLarge("file is larger than the %d MiB limit; shrink it first", maxFileBytes>>20)
	}
	return render(data, o.normalized())
}
