package clocksync

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// script answers Synced from a list, then repeats the last answer.
type script struct {
	answers []bool
	err     error
	asked   int
}

func (s *script) Synced() (bool, error) {
	s.asked++
	if s.err != nil {
		return false, s.err
	}
	i := min(s.asked-1, len(s.answers)-1)
	return s.answers[i], nil
}

// sleeper records the sleeps instead of sleeping.
type sleeper struct{ slept []time.Duration }

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.slept = append(s.slept, d)
	return ctx.Err()
}

func (s *sleeper) total() time.Duration {
	var t time.Duration
	for _, d := range s.slept {
		t += d
	}
	return t
}

func TestWaitSyncedAtOnceDoesNotSleep(t *testing.T) {
	c, z := &script{answers: []bool{true}}, &sleeper{}
	r := Wait(context.Background(), c, time.Minute, Interval, z.sleep)
	if !r.Synced || r.Err != nil || r.Waited != 0 || len(z.slept) != 0 {
		t.Fatalf("got %+v after sleeps %v, want synced at once", r, z.slept)
	}
}

func TestWaitUntilSynced(t *testing.T) {
	c, z := &script{answers: []bool{false, false, false, true}}, &sleeper{}
	r := Wait(context.Background(), c, time.Minute, 5*time.Second, z.sleep)
	if !r.Synced || r.Waited != 15*time.Second || c.asked != 4 {
		t.Fatalf("got %+v after %d questions, want synced after 15s and 4 questions", r, c.asked)
	}
}

// The fix for a Pi whose NTP is blocked: the wait ends, at the bound.
func TestWaitIsBounded(t *testing.T) {
	c, z := &script{answers: []bool{false}}, &sleeper{}
	r := Wait(context.Background(), c, 12*time.Second, 5*time.Second, z.sleep)
	if r.Synced || r.Err != nil {
		t.Fatalf("got %+v, want not synchronised and no error", r)
	}
	if r.Waited != 12*time.Second || z.total() != 12*time.Second {
		t.Fatalf("waited %s (slept %v), want exactly the bound, 12s", r.Waited, z.slept)
	}
	if want := []time.Duration{5 * time.Second, 5 * time.Second, 2 * time.Second}; len(z.slept) != len(want) || z.slept[2] != want[2] {
		t.Fatalf("slept %v, want %v", z.slept, want)
	}
	if c.asked != 4 {
		t.Fatalf("asked %d times, want 4 (before each sleep and once at the bound)", c.asked)
	}
}

func TestWaitZeroAsksOnce(t *testing.T) {
	c, z := &script{answers: []bool{false}}, &sleeper{}
	r := Wait(context.Background(), c, 0, Interval, z.sleep)
	if r.Synced || r.Waited != 0 || len(z.slept) != 0 || c.asked != 1 {
		t.Fatalf("got %+v, slept %v, asked %d; want one question and no sleep", r, z.slept, c.asked)
	}
}

func TestWaitErrorDoesNotWait(t *testing.T) {
	boom := errors.New("operation not permitted")
	c, z := &script{err: boom}, &sleeper{}
	r := Wait(context.Background(), c, time.Minute, Interval, z.sleep)
	if !errors.Is(r.Err, boom) || r.Synced || len(z.slept) != 0 {
		t.Fatalf("got %+v, slept %v; want the error at once", r, z.slept)
	}
	if line := Unsynced(r); !strings.Contains(line, "cannot tell") || !strings.Contains(line, "not permitted") {
		t.Fatalf("journal line %q does not say it cannot tell, and why", line)
	}
}

func TestWaitStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, z := &script{answers: []bool{false}}, &sleeper{}
	r := Wait(ctx, c, time.Hour, Interval, z.sleep)
	if r.Synced || len(z.slept) != 1 || r.Waited != 0 {
		t.Fatalf("got %+v after sleeps %v; want to stop at the first cancelled sleep", r, z.slept)
	}
}

func TestSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
}

func TestUnsyncedLine(t *testing.T) {
	line := Unsynced(Result{Waited: 3 * time.Minute})
	for _, want := range []string{"not synchronised after waiting 3m0s", "timedatectl timesync-status", "going on"} {
		if !strings.Contains(line, want) {
			t.Errorf("journal line %q lacks %q", line, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	if l := Describe(&script{answers: []bool{true}}, time.Minute); !l.OK || l.Msg != "synchronised (NTP)" || l.Hint != "" {
		t.Errorf("synced: %+v", l)
	}
	l := Describe(&script{answers: []bool{false}}, 3*time.Minute)
	if l.OK || !strings.Contains(l.Msg, "not synchronised") || !strings.Contains(l.Msg, "waits up to 3m0s") || !strings.Contains(l.Hint, "timedatectl") {
		t.Errorf("unsynced with a wait: %+v", l)
	}
	if l := Describe(&script{answers: []bool{false}}, 0); l.OK || !strings.Contains(l.Msg, "without waiting") {
		t.Errorf("unsynced without a wait: %+v", l)
	}
	if l := Describe(&script{err: errors.New("EPERM")}, time.Minute); l.OK || !strings.Contains(l.Msg, "cannot tell") {
		t.Errorf("error: %+v", l)
	}
}

// The real kernel answers (either way) without privileges.
func TestKernelAnswers(t *testing.T) {
	ok, err := Kernel{}.Synced()
	if err != nil {
		t.Fatalf("adjtimex: %v", err)
	}
	t.Logf("this machine's clock synchronised: %v", ok)
}
