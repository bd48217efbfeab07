package job

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"os"
	"regexp"
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
// of runs, with the recipients file edited between them (recipients
// removed and re-added, their zone or send time changed east or west and
// across midnight, paused, unpaused), each recipient in their own zone at
// their own time, the clock stepping forward, back and across
// daylight-saving changes, servers failing in every way a recipient's
// server can, and SIGTERM or SIGKILL at random points. After every run:
//
//   - no (day, recipient) was delivered twice, except once per in-doubt
//     message (a kill between the server's acceptance and the record, or a
//     connection lost after the server had the message);
//   - nobody got a day they were not owed: not in the file, before their
//     send time in their zone, before they joined, or while paused;
//   - no day within anyone's catch-up window was skipped by the schedule;
//   - every recipient whose server behaved this run, or refused or timed
//     out only digests (and who is not held back by a refusal earlier
//     today, their time, by design), has every day the test's own model
//     (propModel) says they are owed within their window: one recipient's
//     failure, zone or pause never delays another's morning, and old days
//     never hold today's cat hostage.
//
// propServer, propRoster and propModel are the pieces to reuse: a test
// through the real SMTP client drives the same roster edits and asks the
// same model.
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
	faults    map[string]fault
	days      map[string][]schedule.Day // Message-ID -> the days it carries
	delivered map[pair]int
	allowed   map[pair]int  // extra copies allowed by in-doubt messages
	seen      map[pair]bool // deliveries the test has judged
	accepted  int           // messages accepted this run
	killAt    int           // kill after the N-th acceptance this run (0: never)
	killFirst bool          // kill before the first message
	termAt    int           // SIGTERM during the N-th acceptance (0: never)
	cancel    context.CancelFunc
}

func (s *propServer) SendEach(ctx context.Context, msgs []*gomail.Msg, before func(int) error, done func(int, cmail.Result)) error {
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
		if before != nil {
			if err := before(i); err != nil {
				done(i, cmail.Result{Err: err})
				continue
			}
		}
		done(i, s.answer(to, strings.Trim(m.GetMessageID(), "<>")))
	}
	return nil
}

// Resend is a message in doubt (or cut off by a kill) sent again byte
// for byte: the same server, the same faults, the same days.
func (s *propServer) Resend(ctx context.Context, raw cmail.Raw) cmail.Result {
	if ctx.Err() != nil {
		return cmail.Result{Err: fmt.Errorf("not attempted: %w", context.Cause(ctx))}
	}
	m := regexp.MustCompile(`(?mi)^Message-ID: *<([^>]+)>`).FindSubmatch(raw.Data)
	if m == nil {
		panic("a resend without a Message-ID")
	}
	to := raw.To
	if a, err := mail.ParseAddress(to); err == nil {
		to = a.Address
	}
	return s.answer(strings.ToLower(to), string(m[1]))
}

// answer is what the server of to does with the message id.
func (s *propServer) answer(to, id string) cmail.Result {
	days, ok := s.days[id]
	if !ok {
		panic("a message the hook did not see: " + id)
	}
	switch s.faults[to] {
	case temporary:
		return cmail.Result{Err: smtpErr(451, "4.3.0 try later")}
	case refused:
		return cmail.Result{Err: smtpErr(550, "5.1.1 no such user")}
	case tooLargeAll:
		return cmail.Result{Err: fmt.Errorf("552 5.3.4 message file too big: %w", cmail.ErrTooLarge)}
	case tooLarge:
		if len(days) > 1 {
			return cmail.Result{Err: fmt.Errorf("552 5.3.4 message file too big: %w", cmail.ErrTooLarge)}
		}
	case slowDigest:
		if len(days) > 1 {
			return cmail.Result{Err: fmt.Errorf("delivery timed out after 3m0s (data block): %w", os.ErrDeadlineExceeded)}
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
		return cmail.Result{Err: errors.New("connection lost during delivery: EOF")}
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
	return cmail.Result{Delivered: true}
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

// propZones are the recipients' zones: west and east of the owner's, with
// daylight saving on both sides and none, less than a day apart so that
// no two local dates differ by more than one.
var propZones = []string{"Europe/Berlin", "Asia/Tokyo", "America/New_York", "Pacific/Honolulu"}

// propTimes are their send times: the owner's, early and late (a zone
// change then crosses midnight), and one inside Europe's spring-forward gap.
var propTimes = []schedule.Clock{{Hour: 7}, {Hour: 0, Minute: 10}, {Hour: 23, Minute: 45}, {Hour: 2, Minute: 30}, {Hour: 7, Minute: 30}}

// propRoster is the recipients file between runs: who is in it, with what
// morning. editRoster changes it the ways an owner does.
type propRoster struct {
	pool     []string
	present  map[string]bool
	mornings map[string]schedule.Morning
}

func newPropRoster(t *testing.T, pool []string, first ...string) *propRoster {
	r := &propRoster{pool: pool, present: map[string]bool{}, mornings: map[string]schedule.Morning{}}
	for _, a := range pool {
		r.mornings[a] = schedule.Morning{At: schedule.Clock{Hour: 7}, Loc: mustLoad(t, propZones[0])}
	}
	for _, a := range first {
		r.present[a] = true
	}
	return r
}

func mustLoad(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// edit changes the file the ways an owner does, sometimes: a recipient
// removed or (re-)added, their zone or send time changed (east or west,
// across midnight), a pause added, lifted or shortened. At least one
// recipient stays. It returns what it did, for the failure message.
func (r *propRoster) edit(t *testing.T, rng *rand.Rand, now time.Time) string {
	a := r.pool[rng.IntN(len(r.pool))]
	m := r.mornings[a]
	switch k := rng.IntN(6); {
	case k == 0:
		if r.present[a] && len(r.present) > 1 {
			delete(r.present, a)
			return "removed " + a
		}
		r.present[a] = true
		return "added " + a
	case k == 1:
		m.Loc = mustLoad(t, propZones[rng.IntN(len(propZones))])
	case k == 2:
		m.At = propTimes[rng.IntN(len(propTimes))]
	case k == 3:
		m.PausedUntil = m.Today(now).AddDays(1 + rng.IntN(6))
	case k == 4:
		m.PausedUntil = schedule.Day{}
	default:
		return ""
	}
	r.mornings[a] = m
	return fmt.Sprintf("%s now %s at %s paused-until %s", a, m.Loc, m.At, m.PausedUntil)
}

// apply puts the file into j as a run reads it.
func (r *propRoster) apply(t *testing.T, j *Job) {
	j.To, j.Mornings = nil, map[string]schedule.Morning{}
	for _, a := range r.pool {
		if r.present[a] {
			j.To = append(j.To, mustAddr(t, a))
			j.Mornings[a] = r.mornings[a]
		}
	}
}

// propModel is what each recipient is owed, kept by the test from the
// promise, not from the job's records: a recipient is owed every date from
// the day they joined (or their pause ended, or it was lifted), through
// their newest due date in their zone, that never fell out of their
// catch-up window at a run; the days while a run saw them paused are never
// owed.
type propModel struct {
	from  map[string]schedule.Day // owed from this date; absent: not a member
	floor map[string]schedule.Day // the newest window start any run gave them
	// start is the oldest local date of anyone in the file at the first
	// run: nothing before the first run ever is owed, even to a recipient
	// who later moves west of it.
	start schedule.Day
}

func newPropModel() *propModel {
	return &propModel{from: map[string]schedule.Day{}, floor: map[string]schedule.Day{}}
}

func later(a, b schedule.Day) schedule.Day {
	if a.Before(b) {
		return b
	}
	return a
}

// observe is a run at now reading the roster (any run the clock lets
// start: it records who is in the file before it sends).
func (pm *propModel) observe(r *propRoster, now time.Time, maxDays int) {
	if pm.start.IsZero() {
		for _, a := range r.pool {
			if t := r.mornings[a].Today(now); r.present[a] && (pm.start.IsZero() || t.Before(pm.start)) {
				pm.start = t
			}
		}
	}
	for _, a := range r.pool {
		if !r.present[a] {
			delete(pm.from, a)
			delete(pm.floor, a)
			continue
		}
		m := r.mornings[a]
		today := m.Today(now)
		from, ok := pm.from[a]
		if !ok {
			from = today
		}
		switch {
		case m.Paused(now):
			from = later(from, m.PausedUntil)
		case today.Before(from):
			from = today // lifted early, or moved west of the day they joined
		}
		pm.from[a] = from
		pm.floor[a] = later(pm.floor[a], m.Window(now, maxDays))
	}
}

// owed lists the days a is owed by now, oldest first.
func (pm *propModel) owed(r *propRoster, a string, now time.Time) []schedule.Day {
	from, ok := pm.from[a]
	m := r.mornings[a]
	if !ok || m.Paused(now) {
		return nil
	}
	var out []schedule.Day
	for d := later(later(from, pm.floor[a]), pm.start); !m.Latest(now).Before(d); d = d.AddDays(1) {
		out = append(out, d)
	}
	return out
}

func runProperty(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0x636f7464))
	srv := &propServer{days: map[string][]schedule.Day{}, delivered: map[pair]int{}, allowed: map[pair]int{}, seen: map[pair]bool{}}
	testHookComposed = func(o outgoing) { srv.days[strings.Trim(o.id, "<>")] = slices.Clone(o.days) }
	t.Cleanup(func() { testHookComposed = nil })

	pool := []string{"a@example.test", "b@example.test", "c@example.test", "d@example.test"}
	j, c := newTestJob(t, 8, "a@example.test, b@example.test", srv)
	if rng.IntN(2) == 0 {
		j.Schedule.At = schedule.Clock{Hour: 2, Minute: 30} // inside the spring-forward gap
	}
	j.Schedule.CatchUp = []schedule.Mode{schedule.Digest, schedule.Digest, schedule.Each}[rng.IntN(3)]
	j.Schedule.MaxDays = 1 + rng.IntN(4)
	roster := newPropRoster(t, pool, "a@example.test", "b@example.test")
	for _, a := range pool {
		roster.mornings[a] = schedule.Morning{At: j.Schedule.At, Loc: berlin}
	}
	model := newPropModel()
	// Start just before Europe's spring-forward night (2026-03-29).
	c.t = time.Date(2026, 3, 26, 6, 0, 0, 0, berlin)
	latest := c.t // the newest clock any run saw
	var kills, terms, backwards, runs, edits, checked int
	var history []string

	for step := 0; step < steps; step++ {
		// The owner edits the recipients file now and then.
		if rng.IntN(4) == 0 {
			if e := roster.edit(t, rng, c.t); e != "" {
				edits++
				history = append(history, fmt.Sprintf("step %d: %s", step, e))
			}
		}
		roster.apply(t, j)

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

		// Who is held back by design: refused earlier today, their time.
		heldBack := map[string]bool{}
		err := j.Store.View(func(tx *store.Tx) error {
			return tx.EachFailure(func(addr string, f store.Failure) error {
				m := roster.mornings[addr]
				if f.Permanent && schedule.DayOf(f.Last, m.Loc) == m.Today(c.t) {
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
		case errors.Is(runErr, schedule.ErrClockBackwards):
			backwards++
			if sum.Sent != 0 {
				t.Fatalf("%s: a backwards clock sent %d messages", where, sum.Sent)
			}
			continue
		case killed:
			kills++
		case runErr != nil && !errors.Is(runErr, ErrUndelivered):
			t.Fatalf("%s: run: %v", where, runErr)
		}
		model.observe(roster, c.t, j.Schedule.MaxDays)
		if srv.termAt > 0 && srv.accepted >= srv.termAt {
			terms++
		}

		// Never twice, except in doubt.
		for p, n := range srv.delivered {
			if n > 1+srv.allowed[p] {
				t.Fatalf("%s: %s got %s %d times (in-doubt allowance %d)\nedits:\n%s", where, p.to, p.day, n, srv.allowed[p], strings.Join(history, "\n"))
			}
		}
		// Nobody is sent a day they are not owed: before they joined,
		// while paused, or not yet due in their own zone.
		for p := range srv.delivered {
			if srv.seen[p] {
				continue
			}
			srv.seen[p] = true
			m := roster.mornings[p.to]
			if !roster.present[p.to] {
				t.Fatalf("%s: %s got %s but is not in the file", where, p.to, p.day)
			}
			if m.Latest(c.t).Before(p.day) {
				t.Fatalf("%s: %s got %s before its send time %s in %s", where, p.to, p.day, m.At, m.Loc)
			}
			if from := model.from[p.to]; p.day.Before(from) {
				t.Fatalf("%s: %s got %s, a day before they were owed anything (%s: joined, or paused)\nedits:\n%s", where, p.to, p.day, from, strings.Join(history, "\n"))
			}
		}
		if killed || (srv.termAt > 0 && srv.accepted >= srv.termAt) {
			continue // the rest of that run never happened; the next one catches up
		}
		// Nothing deliverable within anyone's window skipped by the schedule.
		for _, d := range sum.Plan.Skipped {
			for _, a := range j.To {
				if !d.Before(j.Morning(a).Window(c.t, j.Schedule.MaxDays)) {
					t.Fatalf("%s: skipped %s, inside %s's window", where, d, a.Address)
				}
			}
		}
		// Never lost within the window, and nobody delayed by another:
		// every recipient whose server behaved has every day the model
		// says they are owed, whatever the others' servers did.
		err = j.Store.View(func(tx *store.Tx) error {
			for _, a := range pool {
				f := srv.faults[a]
				if !roster.present[a] || heldBack[a] || (f != healthy && f != tooLarge && f != slowDigest) {
					continue
				}
				for _, d := range model.owed(roster, a, c.t) {
					checked++
					if srv.delivered[pair{d, a}] > 0 {
						continue
					}
					dl, ok, err := tx.Delivery(d, a)
					if err != nil {
						return err
					}
					if ok && strings.Contains(dl.GaveUp, "too large") {
						continue // given up on a server that would not take it (its own test)
					}
					return fmt.Errorf("%s never got %s although its server was %s (%s at %s, owed from %s, window from %s; servers %v; failures %v)\nedits:\n%s",
						a, d, f, roster.mornings[a].Loc, roster.mornings[a].At, model.from[a], model.floor[a], srv.faults, sum.Failures, strings.Join(history, "\n"))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	}
	t.Logf("seed %d: %d runs, %d kills, %d SIGTERMs, %d backwards clocks, %d file edits, %d (day, recipient) deliveries, %d owed pairs checked",
		seed, runs, kills, terms, backwards, edits, len(srv.delivered), checked)
	if kills == 0 || backwards == 0 || edits == 0 {
		t.Errorf("seed %d exercised %d kills, %d backwards clocks and %d edits; want some of each", seed, kills, backwards, edits)
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
