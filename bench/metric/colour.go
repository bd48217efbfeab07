package metric

import (
	"image"
	"math"
)

// DeltaE2000 compares the colours of two pictures of one size as CIEDE2000
// between their 8×8 block means (both read as sRGB): the block means keep
// what a viewer sees as the picture's colour and drop the codecs' and
// resamplers' pixel-level differences, which are not colour errors. It
// returns the mean and the largest block difference.
func DeltaE2000(a, b image.Image) (mean, worst float64) {
	la, lb := blockLab(a), blockLab(b)
	n := min(len(la), len(lb))
	for i := range n {
		d := CIEDE2000(la[i], lb[i])
		mean += d
		worst = max(worst, d)
	}
	if n == 0 {
		return 0, 0
	}
	return mean / float64(n), worst
}

func blockLab(img image.Image) [][3]float64 {
	r := img.Bounds()
	var out [][3]float64
	for y := r.Min.Y; y+8 <= r.Max.Y; y += 8 {
		for x := r.Min.X; x+8 <= r.Max.X; x += 8 {
			var s [3]float64
			for j := range 8 {
				for i := range 8 {
					cr, cg, cb, _ := img.At(x+i, y+j).RGBA()
					s[0] += srgbLinear(float64(cr) / 65535)
					s[1] += srgbLinear(float64(cg) / 65535)
					s[2] += srgbLinear(float64(cb) / 65535)
				}
			}
			out = append(out, linearToLab(s[0]/64, s[1]/64, s[2]/64))
		}
	}
	return out
}

func srgbLinear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// linearToLab converts linear sRGB to CIELAB (D65 white).
func linearToLab(r, g, b float64) [3]float64 {
	X := 0.4124564*r + 0.3575761*g + 0.1804375*b
	Y := 0.2126729*r + 0.7151522*g + 0.0721750*b
	Z := 0.0193339*r + 0.1191920*g + 0.9503041*b
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	fx, fy, fz := f(X/0.95047), f(Y), f(Z/1.08883)
	return [3]float64{116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)}
}

// CIEDE2000 is the colour difference of two CIELAB colours (Sharma, Wu and
// Dalal's formulation, kL = kC = kH = 1).
func CIEDE2000(p, q [3]float64) float64 {
	rad := math.Pi / 180
	L1, a1, b1 := p[0], p[1], p[2]
	L2, a2, b2 := q[0], q[1], q[2]
	C1, C2 := math.Hypot(a1, b1), math.Hypot(a2, b2)
	Cm := (C1 + C2) / 2
	G := 0.5 * (1 - math.Sqrt(math.Pow(Cm, 7)/(math.Pow(Cm, 7)+math.Pow(25, 7))))
	a1p, a2p := (1+G)*a1, (1+G)*a2
	C1p, C2p := math.Hypot(a1p, b1), math.Hypot(a2p, b2)
	hue := func(b, a float64) float64 {
		if a == 0 && b == 0 {
			return 0
		}
		h := math.Atan2(b, a) / rad
		if h < 0 {
			h += 360
		}
		return h
	}
	h1p, h2p := hue(b1, a1p), hue(b2, a2p)
	dLp, dCp := L2-L1, C2p-C1p
	var dhp float64
	switch {
	case C1p*C2p == 0:
	case math.Abs(h2p-h1p) <= 180:
		dhp = h2p - h1p
	case h2p-h1p > 180:
		dhp = h2p - h1p - 360
	default:
		dhp = h2p - h1p + 360
	}
	dHp := 2 * math.Sqrt(C1p*C2p) * math.Sin(dhp/2*rad)
	Lm, Cmp := (L1+L2)/2, (C1p+C2p)/2
	var hm float64
	switch {
	case C1p*C2p == 0:
		hm = h1p + h2p
	case math.Abs(h1p-h2p) <= 180:
		hm = (h1p + h2p) / 2
	case h1p+h2p < 360:
		hm = (h1p + h2p + 360) / 2
	default:
		hm = (h1p + h2p - 360) / 2
	}
	T := 1 - 0.17*math.Cos((hm-30)*rad) + 0.24*math.Cos(2*hm*rad) + 0.32*math.Cos((3*hm+6)*rad) - 0.20*math.Cos((4*hm-63)*rad)
	dTheta := 30 * math.Exp(-((hm-275)/25)*((hm-275)/25))
	Rc := 2 * math.Sqrt(math.Pow(Cmp, 7)/(math.Pow(Cmp, 7)+math.Pow(25, 7)))
	Sl := 1 + 0.015*(Lm-50)*(Lm-50)/math.Sqrt(20+(Lm-50)*(Lm-50))
	Sc := 1 + 0.045*Cmp
	Sh := 1 + 0.015*Cmp*T
	Rt := -math.Sin(2*dTheta*rad) * Rc
	return math.Sqrt((dLp/Sl)*(dLp/Sl) + (dCp/Sc)*(dCp/Sc) + (dHp/Sh)*(dHp/Sh) + Rt*(dCp/Sc)*(dHp/Sh))
}
