//go:build ignore

// Command gen draws assets/cat.jpg, the sample cat that cotd mails when it
// runs on its embedded defaults. There is no stock photo we may ship, so the
// cat is drawn from signed-distance shapes and supersampled for smooth edges.
//
// Run from the repository root: go run assets/gen/main.go
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log"
	"math"
	"os"
)

const (
	width, height = 1280, 960
	ss            = 4 // samples per pixel side
	outPath       = "assets/cat.jpg"
)

type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec           { return vec{a.x - b.x, a.y - b.y} }
func (a vec) add(b vec) vec           { return vec{a.x + b.x, a.y + b.y} }
func (a vec) mul(k float64) vec       { return vec{a.x * k, a.y * k} }
func (a vec) dot(b vec) float64       { return a.x*b.x + a.y*b.y }
func (a vec) length() float64         { return math.Hypot(a.x, a.y) }
func (a vec) cross(b vec) float64     { return a.x*b.y - a.y*b.x }
func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// sdf is a signed distance: negative inside, positive outside.
type sdf func(p vec) float64

func ellipse(c vec, rx, ry float64) sdf {
	return func(p vec) float64 {
		d := p.sub(c)
		// Scaled-circle approximation; exact enough for outlines a few px wide.
		k := math.Hypot(d.x/rx, d.y/ry)
		return (k - 1) * math.Min(rx, ry)
	}
}

func segDist(p, a, b vec) float64 {
	pa, ba := p.sub(a), b.sub(a)
	h := clamp(pa.dot(ba)/ba.dot(ba), 0, 1)
	return pa.sub(ba.mul(h)).length()
}

func segment(a, b vec, r float64) sdf {
	return func(p vec) float64 { return segDist(p, a, b) - r }
}

// bezier strokes a quadratic Bézier curve by sampling it into segments.
func bezier(a, c, b vec, r float64) sdf {
	const n = 24
	var pts []vec
	lo, hi := vec{math.Inf(1), math.Inf(1)}, vec{math.Inf(-1), math.Inf(-1)}
	for i := 0; i <= n; i++ {
		t := float64(i) / n
		u := 1 - t
		q := a.mul(u * u).add(c.mul(2 * u * t)).add(b.mul(t * t))
		pts = append(pts, q)
		lo, hi = vec{math.Min(lo.x, q.x), math.Min(lo.y, q.y)}, vec{math.Max(hi.x, q.x), math.Max(hi.y, q.y)}
	}
	return func(p vec) float64 {
		// Far from the curve's box the distance to the box is a safe answer.
		dx := math.Max(math.Max(lo.x-p.x, p.x-hi.x), 0)
		dy := math.Max(math.Max(lo.y-p.y, p.y-hi.y), 0)
		if d := math.Hypot(dx, dy); d > r+20 {
			return d - r
		}
		best := math.Inf(1)
		for i := 0; i+1 < len(pts); i++ {
			best = math.Min(best, segDist(p, pts[i], pts[i+1]))
		}
		return best - r
	}
}

func triangle(a, b, c vec, round float64) sdf {
	return func(p vec) float64 {
		edge := func(u, v vec) float64 {
			pu, vu := p.sub(u), v.sub(u)
			h := clamp(pu.dot(vu)/vu.dot(vu), 0, 1)
			return pu.sub(vu.mul(h)).length()
		}
		d := math.Min(edge(a, b), math.Min(edge(b, c), edge(c, a)))
		s1, s2, s3 := b.sub(a).cross(p.sub(a)), c.sub(b).cross(p.sub(b)), a.sub(c).cross(p.sub(c))
		inside := (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0)
		if inside {
			d = -d
		}
		return d - round
	}
}

func union(fs ...sdf) sdf {
	return func(p vec) float64 {
		best := math.Inf(1)
		for _, f := range fs {
			best = math.Min(best, f(p))
		}
		return best
	}
}

func intersect(a, b sdf) sdf {
	return func(p vec) float64 { return math.Max(a(p), b(p)) }
}

type rgb struct{ r, g, b float64 }

func hex(v uint32) rgb {
	return rgb{float64(v>>16&0xff) / 255, float64(v>>8&0xff) / 255, float64(v&0xff) / 255}
}

func mix(a, b rgb, t float64) rgb {
	return rgb{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t}
}

// layer is one painted shape: an optional outline, then the fill.
type layer struct {
	shape   sdf
	fill    func(p vec) rgb
	outline float64 // outline width in px, 0 for none
}

func solid(c rgb) func(vec) rgb { return func(vec) rgb { return c } }

var (
	ink      = hex(0x4a2e23)
	fur      = hex(0xf4a259)
	furDark  = hex(0xd97b2b)
	cream    = hex(0xfff3e2)
	pink     = hex(0xf59bab)
	irisCol  = hex(0x7cc46a)
	pupilCol = hex(0x2b1d16)
)

func scene() []layer {
	var ls []layer
	add := func(s sdf, fill func(vec) rgb, outline float64) {
		ls = append(ls, layer{s, fill, outline})
	}
	cx := 640.0
	mirror := func(p vec) vec { return vec{2*cx - p.x, p.y} }

	// A rug under the cat.
	add(ellipse(vec{cx, 880}, 420, 70), func(p vec) rgb {
		if int(math.Floor((p.x-cx)/40+(p.y-880)/25))%2 == 0 {
			return hex(0x8fb8de)
		}
		return hex(0xa9c9e8)
	}, 0)

	// Ball of yarn with a loose thread.
	add(bezier(vec{1020, 850}, vec{930, 900}, vec{870, 870}, 4), solid(hex(0x5b8fc7)), 0)
	yarn := ellipse(vec{1060, 800}, 75, 75)
	add(yarn, func(p vec) rgb {
		d := p.sub(vec{1060, 800})
		t := math.Sin((d.x*0.7+d.y*0.7)/9) + math.Sin((d.x*0.7-d.y*0.7)/13)
		return mix(hex(0x6fa3db), hex(0x4a7fb8), clamp(t*0.5+0.5, 0, 1)*0.6)
	}, 5)

	// Tail, curling up to the right.
	add(bezier(vec{800, 820}, vec{1000, 820}, vec{930, 560}, 34), func(p vec) rgb {
		if p.y < 610 {
			return furDark
		}
		return fur
	}, 5)

	// Body with tabby stripes on the flanks.
	body := ellipse(vec{cx, 650}, 225, 215)
	add(body, func(p vec) rgb {
		dx := math.Abs(p.x - cx)
		if dx > 150 && math.Mod(p.y+20, 70) < 22 {
			return furDark
		}
		return fur
	}, 6)
	add(ellipse(vec{cx, 640}, 115, 170), solid(cream), 0)

	// Paws.
	for _, x := range []float64{560, 720} {
		add(ellipse(vec{x, 850}, 68, 42), solid(cream), 5)
		for _, dx := range []float64{-20, 20} {
			add(segment(vec{x + dx, 858}, vec{x + dx, 880}, 2), solid(ink), 0)
		}
	}

	// Ears (behind the head), pink inside.
	earL := [3]vec{{455, 285}, {450, 105}, {590, 215}}
	innerL := [3]vec{{485, 250}, {478, 150}, {565, 220}}
	for _, m := range []func(vec) vec{func(p vec) vec { return p }, mirror} {
		add(triangle(m(earL[0]), m(earL[1]), m(earL[2]), 10), solid(fur), 6)
		add(triangle(m(innerL[0]), m(innerL[1]), m(innerL[2]), 6), solid(pink), 0)
	}

	// Head with forehead stripes.
	head := ellipse(vec{cx, 375}, 215, 180)
	add(head, solid(fur), 6)
	for _, s := range []struct{ a, b vec }{
		{vec{cx, 205}, vec{cx, 265}},
		{vec{cx - 45, 212}, vec{cx - 35, 258}},
		{vec{cx + 45, 212}, vec{cx + 35, 258}},
	} {
		add(intersect(segment(s.a, s.b, 9), head), solid(furDark), 0)
	}
	// Cheek stripes.
	for _, y := range []float64{380, 410} {
		a, b := vec{430, y}, vec{475, y + 5}
		add(intersect(segment(a, b, 7), head), solid(furDark), 0)
		add(intersect(segment(mirror(a), mirror(b), 7), head), solid(furDark), 0)
	}

	// Muzzle.
	add(union(ellipse(vec{cx - 45, 445}, 62, 45), ellipse(vec{cx + 45, 445}, 62, 45)), solid(cream), 0)
	// Blush.
	for _, x := range []float64{505, 775} {
		add(ellipse(vec{x, 440}, 32, 18), solid(mix(fur, pink, 0.6)), 0)
	}

	// Eyes: white, iris, pupil, highlight.
	for _, x := range []float64{560, 720} {
		add(ellipse(vec{x, 350}, 42, 50), solid(hex(0xffffff)), 5)
		add(ellipse(vec{x, 356}, 33, 40), solid(irisCol), 0)
		add(ellipse(vec{x, 358}, 14, 30), solid(pupilCol), 0)
		add(ellipse(vec{x - 11, 340}, 10, 10), solid(hex(0xffffff)), 0)
		add(ellipse(vec{x + 12, 372}, 5, 5), solid(hex(0xffffff)), 0)
	}

	// Nose and smile.
	add(triangle(vec{cx - 24, 418}, vec{cx + 24, 418}, vec{cx, 442}, 5), solid(pink), 3)
	add(segment(vec{cx, 445}, vec{cx, 462}, 3), solid(ink), 0)
	add(bezier(vec{cx, 460}, vec{cx - 12, 482}, vec{cx - 38, 468}, 3.5), solid(ink), 0)
	add(bezier(vec{cx, 460}, vec{cx + 12, 482}, vec{cx + 38, 468}, 3.5), solid(ink), 0)

	// Whiskers.
	for i, y := range []float64{440, 458, 476} {
		dy := float64(i-1) * 22
		a, b := vec{575, y}, vec{410, y + dy - 8}
		add(bezier(a, vec{490, y + dy/2 - 10}, b, 2), solid(hex(0x6b5045)), 0)
		add(bezier(mirror(a), mirror(vec{490, y + dy/2 - 10}), mirror(b), 2), solid(hex(0x6b5045)), 0)
	}
	return ls
}

func background(p vec) rgb {
	if p.y > 780 {
		// Wooden floor with soft planks.
		c := hex(0xe2b985)
		if math.Mod(p.x+math.Floor((p.y-780)/60)*130, 260) < 3 || math.Mod(p.y-780, 60) < 2.5 {
			c = hex(0xc99d6a)
		}
		return c
	}
	t := p.y / 780
	c := mix(hex(0xbfe4f5), hex(0xfde7c8), t)
	// A few soft polka dots on the wall.
	gx, gy := math.Mod(p.x, 160)-80, math.Mod(p.y, 160)-80
	cell := vec{math.Floor(p.x/160)*160 + 80, math.Floor(p.y/160)*160 + 80}
	if math.Hypot(gx, gy) < 14 && cell.sub(vec{170, 150}).length() > 150 {
		c = mix(c, hex(0xffffff), 0.45)
	}
	// A little sun in the top left.
	if d := p.sub(vec{170, 150}).length(); d < 70 {
		c = hex(0xffd56b)
	} else if d < 95 {
		c = mix(hex(0xffe7a3), c, (d-70)/25)
	}
	return c
}

func shade(ls []layer, p vec) rgb {
	c := background(p)
	for _, l := range ls {
		d := l.shape(p)
		if d < 0 {
			c = l.fill(p)
		} else if d < l.outline {
			c = ink
		}
	}
	return c
}

func main() {
	ls := scene()
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			var sum rgb
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					p := vec{float64(x) + (float64(sx)+0.5)/ss, float64(y) + (float64(sy)+0.5)/ss}
					c := shade(ls, p)
					sum.r += c.r
					sum.g += c.g
					sum.b += c.b
				}
			}
			n := float64(ss * ss)
			img.Set(x, y, color.RGBA{
				R: uint8(math.Round(sum.r / n * 255)),
				G: uint8(math.Round(sum.g / n * 255)),
				B: uint8(math.Round(sum.b / n * 255)),
				A: 255,
			})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		log.Fatalf("encode cat: %v", err)
	}
	if buf.Len() > 150<<10 {
		log.Fatalf("cat is %d bytes, over the 150 KiB budget", buf.Len())
	}
	if err := os.WriteFile(outPath, buf.Bytes(), 0o644); err != nil {
		log.Fatalf("write cat: %v", err)
	}
	fmt.Printf("wrote %s (%d bytes)\n", outPath, buf.Len())
}
