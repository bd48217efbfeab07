package mail

import (
	"fmt"
	"strings"
	"sync"
	"time"

	gmlog "github.com/wneessen/go-mail/log"
)

// steps keeps the deadline of one SMTP connection: each read and write
// waits as long as the step it belongs to may take (RFC 5321 §4.5.3.2),
// never past the whole budget, and after SIGTERM never past StopGrace.
//
// go-mail gives a whole message one deadline. cotd learns which step is
// under way from go-mail's protocol log (each command is logged before
// it is written, each reply after it is read) and sets the deadline on
// the raw connection itself, beneath TLS; go-mail's own SetDeadline calls
// are ignored.
type steps struct {
	t   StepTimeouts
	end time.Time // the budget runs out

	mu     sync.Mutex
	step   string        // what the connection is waiting for
	wait   time.Duration // that step's timeout
	bound  string        // "" (the step), "budget" or "stop": what set the last deadline
	data   bool          // the message content is being written
	dot    bool          // the reply to the final dot is pending
	stopAt time.Time     // set on SIGTERM while a message is in flight
	first  string        // what the first step that ran out of time was
	tls    string        // "asked" once STARTTLS went out, "done" after the handshake
}

// tlsDone notes that the TLS handshake completed.
func (st *steps) tlsDone() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.tls = "done"
}

// inStartTLS reports whether STARTTLS went out and no TLS session
// followed (yet): a failure now is STARTTLS's.
func (st *steps) inStartTLS() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.tls == "asked"
}

// expired notes that the current step ran out of time; the first one is
// what the error names (go-mail's RSET after it would time out too).
func (st *steps) expired() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.first == "" {
		st.first = st.describeLocked()
	}
}

func newSteps(t StepTimeouts, end time.Time) *steps {
	st := &steps{t: t, end: end}
	st.set("greeting", t.Greeting)
	return st
}

// set starts a step with its timeout.
func (st *steps) set(step string, wait time.Duration) { st.step, st.wait = step, wait }

// deadline is the moment the current I/O must finish by. write says
// whether it is a write: during the content each write is a data block,
// and the first read after the content is the reply to the final dot.
func (st *steps) deadline(write bool) time.Time {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.data && write:
		st.set("data block", st.t.Block)
	case st.data && !write:
		st.data, st.dot = false, true
		st.set("reply to the final dot", st.t.FinalDot)
	}
	t := time.Now().Add(st.wait)
	st.bound = ""
	// The budget bounds everything but the wait for the final dot's
	// answer: cut there, the server may well have the message and cotd
	// would not know (cotd.service's TimeoutStartSec leaves room for
	// DefaultBudget plus RFC5321Timeouts.FinalDot).
	if t.After(st.end) && !st.dot {
		t, st.bound = st.end, "budget"
	}
	if !st.stopAt.IsZero() && t.After(st.stopAt) {
		t, st.bound = st.stopAt, "stop"
	}
	return t
}

// inFlight reports whether the message's content has started to go out:
// from then on the server may end up with it, so it must be finished.
func (st *steps) inFlight() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.data || st.dot
}

// begin starts a message: nothing of it is on its way yet.
func (st *steps) begin() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.data, st.dot = false, false
}

// awaitingDot reports whether the final dot went out and its answer is
// still pending: a message in doubt if the connection ends now.
func (st *steps) awaitingDot() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.dot
}

// stop bounds whatever is left of the message in flight by grace.
func (st *steps) stop(grace time.Duration) time.Time {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stopAt = time.Now().Add(grace)
	return st.stopAt
}

// current names the step under way ("reply to EHLO").
func (st *steps) current() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.step
}

// describe says what timed out, for the error message.
func (st *steps) describe() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.first != "" {
		return st.first
	}
	return st.describeLocked()
}

func (st *steps) describeLocked() string {
	switch st.bound {
	case "budget":
		return fmt.Sprintf("the run's time for sending ran out (%s)", st.step)
	case "stop":
		return fmt.Sprintf("stopping: the %s did not come within %s of SIGTERM", st.step, StopGrace)
	}
	return fmt.Sprintf("%s (%s)", st.wait, st.step)
}

// command notes a command cotd is about to send (or a reply it read).
func (st *steps) command(l gmlog.Log) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if l.Direction == gmlog.DirServerToClient {
		// DATA's 354: the content follows.
		if len(l.Messages) > 0 && fmt.Sprint(l.Messages[0]) == "354" {
			st.data = true
		}
		return
	}
	verb, _, _ := strings.Cut(strings.ToUpper(l.Format), " ")
	verb = strings.TrimRight(verb, ":")
	st.data, st.dot = false, false
	switch {
	case strings.HasPrefix(verb, "MAIL"):
		st.set("reply to MAIL FROM", st.t.Mail)
	case strings.HasPrefix(verb, "RCPT"):
		st.set("reply to RCPT TO", st.t.Rcpt)
	case verb == "DATA":
		st.set("reply to DATA", st.t.Data)
	case strings.HasPrefix(verb, "%"): // go-mail's redacted AUTH lines
		st.set("reply to AUTH", st.t.Greeting)
	case verb == "STARTTLS":
		st.tls = "asked"
		st.set("reply to STARTTLS", st.t.Greeting)
	case verb == "EHLO" && st.tls == "asked":
		// The handshake happens as this EHLO is written.
		st.set("TLS handshake after STARTTLS", st.t.Greeting)
	default:
		st.set("reply to "+verb, st.t.Greeting)
	}
}

// stepLog feeds go-mail's protocol log to steps; nothing is printed, and
// go-mail redacts the AUTH exchange before it gets here.
type stepLog struct{ st *steps }

func (l stepLog) Debugf(e gmlog.Log) { l.st.command(e) }
func (l stepLog) Infof(gmlog.Log)    {}
func (l stepLog) Warnf(gmlog.Log)    {}
func (l stepLog) Errorf(gmlog.Log)   {}
