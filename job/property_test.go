package job

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// The promise behind cotd, tested as a property: a seeded random sequence
// of runs, with recipients added and removed, the clock stepping forward,
// back and across daylight-saving changes, servers failing in every way a
// recipient's server can, and SIGTERM or SIGKILL at random points. After
// every run:
//
//   - no (day, recipient) was delivered twice, except once per in-doubt
//     message (a kill between the server's acceptance and the record, or a
//     connection lost after the server had the message);
//   - no day within the catch-up window was skipped by the schedule;
//   - every recipient whose server behaved this run, or refused or timed
//     out only digests (and who is not held back by a refusal earlier
//     today, by design), has every open day it is owed within the window:
//     one recipient's failure never delays another's morning, and old days
//     never hold today's cat hostage.
//
// COTD_PROPERTY_SEED and COTD_PROPERTY_STEPS replay or lengthen a run; a
// failure names the seed and the step.

// fault is how one recipient's server behaves during one run.
type fault int

const (
	healthy      fault = iota
	temporary          // 451 at RCPT
	refused            // 550 at RCPT
	tooLarge           // a digest is too large (552 5.3.4 / SIZE); one day fits
	tooLargeAll        // even one day is too large
	slowDigest         // a digest times out (a slow uplink); one day goes
	dropAfterDot       // the server takes the message, the connection drops before its reply
	faultKinds
)

var faultNames = [...]string{"healthy", "temporary", "refused", "too large", "too large even alone", "slow digest", "drop after dot"}

func (f fault) String() string { return faultNames[f] }

type pair struct {
	day schedule.Day
	to  string
}

// errKilled is the panic that plays SIGKILL.
var errKilled = errors.New("killed")

// propServer is every recipient's server at once: it keeps what each one
// really accepted, whatever cotd was told.
type propServer struct {
	noResend
	faults    map[string]fault
	days      map[string][]schedule.Day // Message-ID -> the days it carries
	delivered map[pair]int
	allowed   map[pair]int // extra copies allowed by in-doubt messages
	accepted  int          // messages accepted this run
	killAt    int          // kill after the N-th acceptance this run (0: never)
	killFirst bool         // kill before the first message
	termAt    int          // SIGTERM during the N-th acceptance (0: never)
	cancel    context.CancelFunc
}

func (s *propServer) SendEach(ctx context.Context, msgs []*gomail.Msg, done func(int, cmail.Result)) error {
	if s.killFirst {
		panic(errKilled)
	}
	for i, m := range msgs {
		if ctx.Err() != nil {
			done(i, cmail.Result{Err: fmt.Errorf("not attempted: %w", context.Cause(ctx))})
			continue
		}
		to := m.GetToString()[0]
		if a, err := mail.ParseAddress(to); err == nil {
			to = strings.ToLower(a.Address)
		}
		id := strings.Trim(m.GetMessageID(), "<>")
		days, ok := s.days[id]
		if !ok {
			panic("a message the hook did not see: " + id)
		}
		switch s.faults[to] {
		case temporary:
			done(i, cmail.Result{Err: smtpErr(451, "4.3.0 try later"), Temporary: true})
			continue
		case refused:
			done(i, cmail.Result{Err: smtpErr(550, "5.1.1 no such user")})
			continue
		case tooLargeAll:
			done(i, cmail.Result{Err: fmt.Errorf("552 5.3.4 message file too big: %w", cmail.ErrTooLarge)})
			continue
		case tooLarge:
			if len(days) > 1 {
				done(i, cmail.Result{Err: fmt.Errorf("552 5.3.4 message file too big: %w", cmail.ErrTooLarge)})
				continue
			}
		case slowDigest:
			if len(days) > 1 {
				done(i, cmail.Result{Err: fmt.Errorf("delivery timed out after 3m0s (data block): %w", os.ErrDeadlineExceeded)})
				continue
			}
		}
		// The server has the message.
		for _, d := range days {
			s.delivered[pair{d, to}]++
		}
		s.accepted++
		if s.faults[to] == dropAfterDot {
			for _, d := range days {
				s.allowed[pair{d, to}]++
			}
			done(i, cmail.Result{Err: errors.New("connection lost during delivery: EOF")})
			continue
		}
		if s.accepted == s.killAt {
			for _, d := range days {
				s.allowed[pair{d, to}]++
			}
			panic(errKilled) // after the server's acceptance, before the record
		}
		if s.accepted == s.termAt {
			s.cancel() // SIGTERM while the reply is pending: this one finishes
		}
		done(i, cmail.Result{Delivered: true})
	}
	return nil
}

func TestPropertyRunSequences(t *testing.T) {
	steps := 300
	if v := os.Getenv("COTD_PROPERTY_STEPS"); v != "" {
		steps, _ = strconv.Atoi(v)
	}
	seeds := []uint64{1, 2, 3}
	if v := os.Getenv("COTD_PROPERTY_SEED"); v != "" {
		n, _ := strconv.ParseUint(v, 10, 64)
		seeds = []uint64{n}
	}
	if testing.Short() {
		steps = 60
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runProperty(t, seed, steps) })
	}
}

func runProperty(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0x636f7464))
	srv := &propServer{days: map[string][]schedule.Day{}, delivered: map[pair]int{}, allowed: map[pair]int{}}
	testHookComposed = func(o outgoing) { srv.days[strings.Trim(o.id, "<>")] = slices.Clone(o.days) }
	t.Cleanup(func() { testHookComposed = nil })

	pool := []string{"a@example.test", "b@example.test", "c@example.test", "d@example.test"}
	j, c := newTestJob(t, 8, "a@example.test, b@example.test", srv)
	if rng.IntN(2) == 0 {
		j.Schedule.At = schedule.Clock{Hour: 2, Minute: 30} // inside the spring-forward gap
	}
	j.Schedule.CatchUp = []schedule.Mode{schedule.Digest, schedule.Digest, schedule.Each}[rng.IntN(3)]
	j.Schedule.MaxDays = 1 + rng.IntN(4)
	// Start just before Europe's spring-forward night (2026-03-29).
	c.t = time.Date(2026, 3, 26, 6, 0, 0, 0, berlin)
	latest := c.t // the newest clock any run saw
	var kills, terms, backwards, runs int

	for step := 0; step < steps; step++ {
		// Recipients come and go (at least one stays).
		if rng.IntN(8) == 0 {
			addr := pool[rng.IntN(len(pool))]
			var to []*mail.Address
			present := false
			for _, a := range j.To {
				if a.Address == addr {
					present = true
					continue
				}
				to = append(to, a)
			}
			if !present {
				to = append(to, mustAddr(t, addr))
			}
			if len(to) > 0 {
				j.To = to
			}
		}

		// The clock: mostly forward, sometimes back, sometimes far.
		switch r := rng.IntN(20); {
		case r < 8:
			c.t = latest.Add(15 * time.Minute)
		case r < 13:
			c.t = latest.Add(time.Duration(1+rng.IntN(6)) * time.Hour)
		case r < 17:
			c.t = latest.Add(time.Duration(1+rng.IntN(3)) * 24 * time.Hour)
		case r < 18:
			c.t = latest.Add(time.Duration(5+rng.IntN(10)) * 24 * time.Hour) // beyond the window
		default:
			c.t = latest.Add(-time.Duration(1+rng.IntN(120)) * time.Minute) // NTP steps back
		}

		where := fmt.Sprintf("seed %d step %d (%s, %s at %s, max %d)", seed, step, c.t.Format(time.RFC3339), j.Schedule.CatchUp, j.Schedule.At, j.Schedule.MaxDays)

		// Each recipient's server this run, and the process's fate.
		srv.faults = map[string]fault{}
		for _, a := range pool {
			f := healthy
			if rng.IntN(3) == 0 {
				f = fault(rng.IntN(int(faultKinds)))
			}
			srv.faults[a] = f
		}
		srv.accepted, srv.killAt, srv.killFirst, srv.termAt = 0, 0, false, 0
		switch r := rng.IntN(12); {
		case r == 0:
			srv.killAt = 1 + rng.IntN(3)
		case r == 1:
			srv.killFirst = true
		case r == 2:
			srv.termAt = 1 + rng.IntN(3)
		}
		ctx, cancel := context.WithCancel(context.Background())
		srv.cancel = cancel

		// Who is held back by design: refused earlier today.
		today := schedule.DayOf(c.t, berlin)
		heldBack := map[string]bool{}
		err := j.Store.View(func(tx *store.Tx) error {
			return tx.EachFailure(func(addr string, f store.Failure) error {
				if f.Permanent && schedule.DayOf(f.Last, berlin) == today {
					heldBack[addr] = true
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}

		sum, runErr, killed := runOnce(ctx, j)
		cancel()
		runs++
		if c.t.After(latest) {
			latest = c.t
		}
		switch {
		case killed:
			kills++
		case errors.Is(runErr, schedule.ErrClockBackwards):
			backwards++
			if sum.Sent != 0 {
				t.Fatalf("%s: a backwards clock sent %d messages", where, sum.Sent)
			}
			continue
		case runErr != nil && !errors.Is(runErr, ErrUndelivered):
			t.Fatalf("%s: run: %v", where, runErr)
		}
		if srv.termAt > 0 && srv.accepted >= srv.termAt {
			terms++
		}

		// Never twice, except in doubt.
		for p, n := range srv.delivered {
			if n > 1+srv.allowed[p] {
				t.Fatalf("%s: %s got %s %d times (in-doubt allowance %d)", where, p.to, p.day, n, srv.allowed[p])
			}
		}
		if killed || (srv.termAt > 0 && srv.accepted >= srv.termAt) {
			continue // the rest of that run never happened; the next one catches up
		}
		// Nothing deliverable within the window skipped by the schedule.
		window := schedule.Window(sum.Plan.Today, j.Schedule.MaxDays)
		for _, d := range sum.Plan.Skipped {
			if !d.Before(window) {
				t.Fatalf("%s: skipped %s, inside the window from %s", where, d, window)
			}
		}
		// One recipient's failure never delays another's morning.
		err = j.Store.View(func(tx *store.Tx) error {
			return tx.EachDay(window, func(d store.Day) error {
				owed, err := Owed(tx, j.To, d)
				if err != nil {
					return err
				}
				for _, a := range owed {
					k := key(a)
					// A server that refuses or times out only digests
					// takes every day alone: nothing may be left either.
					f := srv.faults[k]
					if (f == healthy || f == tooLarge || f == slowDigest) && !heldBack[k] {
						return fmt.Errorf("%s is still owed %s although its server was %s (servers: %v; failures %v)",
							k, d.Day, f, srv.faults, sum.Failures)
					}
				}
				return nil
			})
		})
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	}
	t.Logf("seed %d: %d runs, %d kills, %d SIGTERMs, %d backwards clocks, %d (day, recipient) deliveries",
		seed, runs, kills, terms, backwards, len(srv.delivered))
	if kills == 0 || backwards == 0 {
		t.Errorf("seed %d exercised %d kills and %d backwards clocks; want some of each", seed, kills, backwards)
	}
}

// runOnce is one run that may be killed (a panic of errKilled).
func runOnce(ctx context.Context, j *Job) (sum Summary, err error, killed bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != errKilled {
				panic(r)
			}
			killed = true
		}
	}()
	sum, err = j.Run(ctx)
	return sum, err, false
}
