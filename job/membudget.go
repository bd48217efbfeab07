package job

import (
	"os"
	"runtime/debug"
	"sync"
)

// DefaultIndexMemory is the peak memory the index keeps the whole process
// under when IndexOptions.Memory is not set: a Pi Zero 2 W has 512 MB.
const DefaultIndexMemory = 256 << 20

// indexReserve is the part of the memory budget that is not for renders:
// the runtime, the binary, bbolt's pages and the garbage collector's slack.
const indexReserve = 72 << 20

// memBudget admits renders by their estimated cost so their sum stays
// within the budget; one costlier than the whole budget runs alone.
type memBudget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	total int64 // bytes for renders
	used  int64
	limit int64 // the whole process's target, for the garbage collector
}

func newMemBudget(limit int64) *memBudget {
	if limit <= 0 {
		limit = DefaultIndexMemory
	}
	m := &memBudget{total: max(limit-indexReserve, limit/2), limit: limit}
	m.cond = sync.NewCond(&m.mu)
	return m
}

func (m *memBudget) acquire(cost int64) (release func()) {
	if m == nil {
		return func() {} // a single render outside the index
	}
	cost = min(max(cost, 1), m.total)
	m.mu.Lock()
	for m.used+cost > m.total {
		m.cond.Wait()
	}
	m.used += cost
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		m.used -= cost
		m.mu.Unlock()
		m.cond.Broadcast()
	}
}

// limitHeap tells the garbage collector about the budget for the length of
// the index (unless GOMEMLIMIT says otherwise): without it the heap may
// grow to twice what the renders hold before a collection. It returns the
// function that restores the previous limit.
func (m *memBudget) limitHeap() func() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(m.limit - m.limit/8) // RSS has non-heap parts too
	return func() { debug.SetMemoryLimit(old) }
}
