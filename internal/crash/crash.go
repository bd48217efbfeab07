//go:build crashpoints

// Package crash pulls the plug at named points of a run, for the tests
// that prove a power cut loses nothing: with COTD_CRASH_AT=POINT:N the
// process sends itself SIGKILL the N-th time it passes POINT. It is
// compiled in only with -tags crashpoints (the fault tests build the
// binary so); the shipped binary gets the empty Point of off.go and
// cannot be made to kill itself.
package crash

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var (
	target string
	nth    int
	mu     sync.Mutex
	hits   int
)

func init() {
	spec := os.Getenv("COTD_CRASH_AT")
	name, n, ok := strings.Cut(spec, ":")
	if !ok {
		return
	}
	if v, err := strconv.Atoi(n); err == nil && v > 0 {
		target, nth = name, v
	}
}

// Point marks a place where a test may kill the process.
func Point(name string) {
	if target == "" || name != target {
		return
	}
	mu.Lock()
	hits++
	kill := hits == nth
	mu.Unlock()
	if kill {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
