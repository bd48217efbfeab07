package images

import (
	"bytes"
	"compress/zlib"
	"hash/adler32"
	"io"
	"math/rand/v2"
	"testing"
)

// inflate decodes a whole stream into out, which it must fill exactly;
// the tests' way in, through the window PNG rows take, a byte a row so
// that a small chunk slides it often.
func inflate(segs [][]byte, out []byte, chunk int) error {
	i := 0
	return inflateRows(segs, 1, len(out), chunk, func(r []byte) { out[i] = r[0]; i++ })
}

// inflateCorpus is data of the kinds a PNG's rows are: noise, text-like
// runs, long repeats and near-repeats at every distance, with every zlib
// level (stored, Huffman only, fast, default, best), so stored, fixed and
// dynamic blocks, short and long codes and matches of every length and
// distance all occur.
func inflateCorpus(t testing.TB) (raw, z [][]byte) {
	rng := rand.New(rand.NewPCG(22, 1951))
	gen := []func(n int) []byte{
		func(n int) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return b
		},
		func(n int) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = "the quick brown fox jumps over the lazy cat "[rng.IntN(44)]
			}
			return b
		},
		func(n int) []byte { return bytes.Repeat([]byte{byte(rng.Uint32())}, n) },
		func(n int) []byte {
			// A photo-like row: small residuals, repeats 1..40000 back.
			b := make([]byte, n)
			for i := range b {
				switch d := 1 + rng.IntN(40000); {
				case i >= d && rng.IntN(3) == 0:
					b[i] = b[i-d]
				default:
					b[i] = byte(rng.NormFloat64() * 6)
				}
			}
			return b
		},
	}
	for _, n := range []int{0, 1, 7, 258, 259, 4096, 33000, 70000, 300000} {
		for _, g := range gen {
			for _, level := range []int{zlib.NoCompression, zlib.HuffmanOnly, zlib.BestSpeed, zlib.DefaultCompression, zlib.BestCompression} {
				d := g(n)
				var buf bytes.Buffer
				w, err := zlib.NewWriterLevel(&buf, level)
				if err != nil {
					t.Fatal(err)
				}
				w.Write(d)
				w.Close()
				raw, z = append(raw, d), append(z, buf.Bytes())
			}
		}
	}
	return raw, z
}

// split cuts b into segments of the given size (an IDAT chunk's), with an
// empty segment now and then, which PNG writers may emit.
func split(b []byte, size int) [][]byte {
	var segs [][]byte
	for len(b) > 0 {
		n := min(size, len(b))
		segs = append(segs, b[:n:n])
		if n%3 == 0 {
			segs = append(segs, nil)
		}
		b = b[n:]
	}
	return segs
}

// TestInflateMatchesCompressFlate: every stream in the corpus, cut into
// segments of 1 byte to the whole, inflates to exactly what was compressed;
// and every way the stream can disagree with the expected output fails.
func TestInflateMatchesCompressFlate(t *testing.T) {
	raw, z := inflateCorpus(t)
	for i := range raw {
		for _, size := range []int{1, 7, 8, 9, 8192, 1 << 30} {
			out := make([]byte, len(raw[i]))
			if err := inflate(split(z[i], size), out, 1+size%5000); err != nil {
				t.Fatalf("stream %d (%d bytes), segments of %d: %v", i, len(raw[i]), size, err)
			}
			if !bytes.Equal(out, raw[i]) {
				t.Fatalf("stream %d, segments of %d: output differs", i, size)
			}
		}
		bad := map[string]func() ([][]byte, []byte){
			"output one byte longer": func() ([][]byte, []byte) { return [][]byte{z[i]}, make([]byte, len(raw[i])+1) },
			"trailing byte":          func() ([][]byte, []byte) { return [][]byte{append(bytes.Clone(z[i]), 0)}, make([]byte, len(raw[i])) },
			"truncated":              func() ([][]byte, []byte) { return [][]byte{z[i][:len(z[i])-1]}, make([]byte, len(raw[i])) },
			"wrong checksum": func() ([][]byte, []byte) {
				c := bytes.Clone(z[i])
				c[len(c)-1] ^= 1
				return [][]byte{c}, make([]byte, len(raw[i]))
			},
		}
		if len(raw[i]) > 0 {
			bad["output one byte shorter"] = func() ([][]byte, []byte) { return [][]byte{z[i]}, make([]byte, len(raw[i])-1) }
		}
		for name, mk := range bad {
			segs, out := mk()
			if err := inflate(segs, out, 1000); err == nil {
				t.Errorf("stream %d: %s: inflated without an error", i, name)
			}
		}
	}
}

// TestAdler32Sum holds the eight-bytes-a-step checksum to hash/adler32 at
// every length around its steps and reductions, on the bytes that make the
// lane sums largest.
func TestAdler32Sum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, fill := range []func([]byte){
		func(b []byte) {},
		func(b []byte) {
			for i := range b {
				b[i] = 0xff
			}
		},
		func(b []byte) {
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
		},
	} {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 5552, 65535, 65536, 65537, 65543, 1<<20 + 3} {
			b := make([]byte, n)
			fill(b)
			if got, want := adler32Update(1, b), adler32.Checksum(b); got != want {
				t.Errorf("%d bytes: adler32Update %08x, hash/adler32 %08x", n, got, want)
			}
		}
	}
}

// FuzzInflate: inflate never accepts a stream compress/flate refuses, and
// never gives other bytes than it does.
func FuzzInflate(f *testing.F) {
	_, z := inflateCorpus(f)
	for i, s := range z {
		if len(s) < 4096 && i%3 == 0 {
			f.Add(s, uint16(8))
		}
	}
	f.Fuzz(func(t *testing.T, stream []byte, seg uint16) {
		r, err := zlib.NewReader(bytes.NewReader(stream))
		var want []byte
		if err == nil {
			want, err = io.ReadAll(io.LimitReader(r, 1<<20))
			if err == nil {
				err = r.Close()
			}
		}
		segs := split(stream, 1+int(seg%64))
		if err == nil {
			out := make([]byte, len(want))
			if ierr := inflate(segs, out, int(seg)); ierr == nil && !bytes.Equal(out, want) {
				t.Fatalf("inflate gave other bytes than compress/flate")
			}
			return
		}
		for _, n := range []int{len(want), len(want) + 1, max(0, len(want)-1)} {
			if inflate(segs, make([]byte, n), int(seg)) == nil {
				t.Fatalf("inflate accepted %d bytes of a stream compress/flate refuses (%v)", n, err)
			}
		}
	})
}
