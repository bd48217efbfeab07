package images

// Progressive JPEG, decoded scaled. A progressive file sends every block's
// coefficients in several scans (DC first, then bands of AC coefficients,
// then refinement bits), so all blocks must be held until the last scan.
// image/jpeg holds 64 int32 per block (256 bytes: about 6 bytes per pixel
// of a 4:2:0 photo, 72 MiB for 12 MP) and then a full-size YCbCr image.
// Here a block keeps only what the 3/4, 1/2, 1/4 or 1/8 scale output reads (its
// low n×n coefficients, as int16) and one bit per coefficient saying
// whether it is non-zero yet, which is all a refinement scan needs to know
// about the others: 8+2n² bytes per block, 40 at 1/2 scale. The reduced
// IDCT then writes the small planes directly, as for baseline files.

type progComp struct {
	bw, bh int      // blocks across and down in the stored grid (MCU-padded)
	cw, ch int      // blocks that carry the component's own pixels (non-interleaved scans)
	low    []int16  // n×n coefficients per block, natural order within the n×n square
	nz     []uint64 // per block: bit k set when zig-zag coefficient k is non-zero
}

type progState struct {
	n      int
	slot   [64]int8 // zig-zag index → index in the n×n square, or -1
	comps  []progComp
	eobrun int32
}

func newProgState(comps []jcomp, width, height, n int) *progState {
	p := &progState{n: n, slot: *lowSlots(n), comps: progGrids(comps, width, height)}
	for i := range p.comps {
		pc := &p.comps[i]
		pc.low = make([]int16, pc.bw*pc.bh*n*n)
		pc.nz = make([]uint64, pc.bw*pc.bh)
	}
	return p
}

// progGrids is each component's block grid, without its coefficients.
func progGrids(comps []jcomp, width, height int) []progComp {
	hmax, vmax, mcusX, mcusY := mcuGrid(comps, width, height)
	grids := make([]progComp, 0, len(comps))
	for _, c := range comps {
		pc := progComp{bw: mcusX * c.h, bh: mcusY * c.v}
		if len(comps) == 1 {
			pc.bw, pc.bh = (width+7)/8, (height+7)/8
		}
		pc.cw = ((width*c.h+hmax-1)/hmax + 7) / 8
		pc.ch = ((height*c.v+vmax-1)/vmax + 7) / 8
		grids = append(grids, pc)
	}
	return grids
}

// progBytes is what newProgState allocates for the frame at n×n samples
// per block: n² int16 coefficients and one uint64 of non-zero bits for
// every stored block. [Cost] charges it for a progressive file.
func progBytes(comps []jcomp, width, height, n int) int64 {
	var b int64
	for _, pc := range progGrids(comps, width, height) {
		b += int64(pc.bw) * int64(pc.bh) * int64(2*n*n+8)
	}
	return b
}

// scan decodes one scan whose entropy-coded data starts entropy, and
// returns how many bytes of it the scan took (up to the next marker).
func (p *progState) scan(entropy, sos []byte, comps []jcomp, width, height, restartN int, dc, ac *[4]huffman) (int, bool) {
	if len(sos) < 1 {
		return 0, false
	}
	ns := int(sos[0])
	if ns < 1 || ns > len(comps) || len(sos) < 1+2*ns+3 {
		return 0, false
	}
	idx := make([]int, ns)
	for s := range ns {
		id, tables := int(sos[1+2*s]), sos[2+2*s]
		idx[s] = -1
		for ci := range comps {
			if comps[ci].id == id {
				idx[s] = ci
			}
		}
		if idx[s] < 0 {
			return 0, false
		}
		c := &comps[idx[s]]
		c.td, c.ta = int(tables>>4), int(tables&15)
		if c.td > 3 || c.ta > 3 {
			return 0, false
		}
	}
	q := sos[1+2*ns:]
	ss, se, ah, al := int(q[0]), int(q[1]), uint(q[2]>>4), uint(q[2]&15)
	dcScan := ss == 0
	if (dcScan && se != 0) || (!dcScan && (se < ss || se > 63 || ns != 1)) || al > 13 {
		return 0, false
	}
	for _, ci := range idx {
		if dcScan && ah == 0 && !dc[comps[ci].td].defined || !dcScan && !ac[comps[ci].ta].defined {
			return 0, false
		}
	}
	r := bitReader{data: entropy}
	p.eobrun = 0
	for ci := range comps {
		comps[ci].pred = 0
	}
	nn := p.n * p.n
	block := func(ci, bx, by int) bool {
		c, pc := &comps[ci], &p.comps[ci]
		b := by*pc.bw + bx
		low := pc.low[b*nn : b*nn+nn]
		switch {
		case dcScan && ah == 0:
			t, ok := r.decode(&dc[c.td])
			if !ok || t > 16 {
				return false
			}
			c.pred += r.receive(uint(t))
			low[0] = int16(c.pred << al)
		case dcScan:
			if r.bits(1) != 0 {
				low[0] |= 1 << al
			}
		case ah == 0:
			return p.acFirst(&r, &ac[c.ta], low, &pc.nz[b], ss, se, al)
		default:
			return p.acRefine(&r, &ac[c.ta], low, &pc.nz[b], ss, se, al)
		}
		return true
	}

	unit := 0 // MCUs, or blocks of a one-component scan, for restarts
	next := func() bool {
		if restartN > 0 && unit > 0 && unit%restartN == 0 {
			if !r.restart() {
				return false
			}
			p.eobrun = 0
			for ci := range comps {
				comps[ci].pred = 0
			}
		}
		unit++
		return true
	}
	if ns == 1 {
		ci := idx[0]
		pc := &p.comps[ci]
		for by := range pc.ch {
			for bx := range pc.cw {
				if !next() || !block(ci, bx, by) {
					return 0, false
				}
			}
			if r.eof {
				return 0, false
			}
		}
	} else {
		_, _, mcusX, mcusY := mcuGrid(comps, width, height)
		for my := range mcusY {
			for mx := range mcusX {
				if !next() {
					return 0, false
				}
				for _, ci := range idx {
					c := &comps[ci]
					for v := range c.v {
						for h := range c.h {
							if !block(ci, mx*c.h+h, my*c.v+v) {
								return 0, false
							}
						}
					}
				}
			}
			if r.eof {
				return 0, false
			}
		}
	}
	if r.eof {
		return 0, false
	}
	// Where the next marker starts: the reader stops at it, but may have
	// taken the bytes of whole fill words up to it.
	end := r.pos
	for end < len(entropy) && !(entropy[end] == 0xff && end+1 < len(entropy) && entropy[end+1] != 0 && (entropy[end+1] < 0xd0 || entropy[end+1] > 0xd7)) {
		end++
	}
	return end, true
}

func (p *progState) set(low []int16, k int, v int32) {
	if s := p.slot[k]; s >= 0 {
		low[s] = int16(v)
	}
}

// acFirst is the first scan of a band of AC coefficients (G.1.2.2).
func (p *progState) acFirst(r *bitReader, h *huffman, low []int16, nz *uint64, ss, se int, al uint) bool {
	if p.eobrun > 0 {
		p.eobrun--
		return true
	}
	for k := ss; k <= se; k++ {
		rs, ok := r.decode(h)
		if !ok {
			return false
		}
		run, size := int(rs>>4), uint(rs&15)
		if size == 0 {
			if run < 15 {
				p.eobrun = 1<<run - 1
				if run > 0 {
					p.eobrun += r.bits(uint(run))
				}
				return true
			}
			k += 15
			continue
		}
		k += run
		if k > se {
			return false
		}
		p.set(low, k, r.receive(size)<<al)
		*nz |= 1 << k
	}
	return true
}

// acRefine is a refinement scan of a band of AC coefficients (G.1.2.3):
// one more bit of every coefficient already non-zero, and new ones of
// magnitude 1<<al among those still zero.
func (p *progState) acRefine(r *bitReader, h *huffman, low []int16, nz *uint64, ss, se int, al uint) bool {
	delta := int32(1) << al
	k := ss
	if p.eobrun == 0 {
		for ; k <= se; k++ {
			rs, ok := r.decode(h)
			if !ok {
				return false
			}
			run, size := int(rs>>4), rs&15
			var z int32
			switch size {
			case 0:
				if run != 15 {
					p.eobrun = 1 << run
					if run > 0 {
						p.eobrun += r.bits(uint(run))
					}
					goto eob
				}
			case 1:
				z = delta
				if r.bits(1) == 0 {
					z = -z
				}
			default:
				return false
			}
			k = p.refine(r, low, *nz, k, se, run, delta)
			if k > se {
				return false
			}
			if z != 0 {
				p.set(low, k, z)
				*nz |= 1 << k
			}
		}
		return true
	}
eob:
	p.eobrun--
	p.refine(r, low, *nz, k, se, -1, delta)
	return true
}

// refine reads a correction bit for each non-zero coefficient from k on,
// until it has passed zeros zero coefficients (all of them for -1), and
// returns where it stopped: the zero coefficient a new value goes to.
func (p *progState) refine(r *bitReader, low []int16, nz uint64, k, se, zeros int, delta int32) int {
	for ; k <= se; k++ {
		if nz&(1<<k) == 0 {
			if zeros == 0 {
				break
			}
			zeros--
			continue
		}
		if r.bits(1) == 0 {
			continue
		}
		if s := p.slot[k]; s >= 0 {
			if low[s] >= 0 {
				low[s] += int16(delta)
			} else {
				low[s] -= int16(delta)
			}
		}
	}
	return k
}

// finish dequantizes the kept coefficients and writes the planes.
func (p *progState) finish(comps []jcomp, width, height int, quant *[4][64]int32, qDefined [4]bool) (source, error) {
	n := p.n
	nn := n * n
	var cf [64]int32
	for ci := range comps {
		c, pc := &comps[ci], &p.comps[ci]
		if !qDefined[c.tq] {
			return source{}, errFallback
		}
		var q [64]int32 // quantizer of each slot
		for k := range 64 {
			if s := p.slot[k]; s >= 0 {
				q[s] = quant[c.tq][k]
			}
		}
		c.out = newPlane(pc.bw*n, pc.bh*n)
		for by := range pc.bh {
			for bx := range pc.bw {
				b := by*pc.bw + bx
				low := pc.low[b*nn : b*nn+nn]
				onlyDC := true
				for s := range nn {
					cf[s] = int32(low[s]) * q[s]
					if s > 0 && low[s] != 0 {
						onlyDC = false
					}
				}
				putBlock(&c.out, bx, by, n, &cf, onlyDC)
			}
		}
		pc.low, pc.nz = nil, nil // the planes are all that is needed now
	}
	return planesSource(comps, width, height, n)
}
