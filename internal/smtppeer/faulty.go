package smtppeer

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// The steps of a session a Faulty peer can fail at, besides AtMail,
// AtRcpt, AtData and AtDot.
const (
	AtGreeting Step = "greeting" // the 220 greeting
	AtEHLO     Step = "ehlo"     // the reply to EHLO
	AtStartTLS Step = "starttls" // the reply to STARTTLS and the handshake
	AtAuth     Step = "auth"     // the reply to AUTH
	AtBlock    Step = "block"    // while the message's content is read
	AtQuit     Step = "quit"     // the reply to QUIT
)

// AllSteps are every step of a session, in order.
var AllSteps = []Step{AtGreeting, AtEHLO, AtStartTLS, AtAuth, AtMail, AtRcpt, AtData, AtBlock, AtDot, AtQuit}

// Kind is how a Faulty peer behaves at a step.
type Kind int

// The kinds of behaviour.
const (
	Pass     Kind = iota // the normal answer
	Drop                 // close the connection without a word
	Temp                 // a 4xx answer
	Perm                 // a 5xx answer
	Stall                // never answer (the connection stays open until the client gives up)
	Garbage              // a line that is not SMTP (after STARTTLS: plain text instead of a TLS handshake)
	Close421             // 421, then close
	kinds
)

// AllKinds are every kind of failure (Pass excluded).
var AllKinds = []Kind{Drop, Temp, Perm, Stall, Garbage, Close421}

func (k Kind) String() string {
	return [...]string{"pass", "drop", "4xx", "5xx", "stall", "garbage", "421+close"}[k]
}

// Hit is where a Faulty peer is when it asks its plan what to do: the
// connection (from 0), the message (from 0, counted by MAIL over all
// connections; -1 before the first), the transaction's recipient (the
// RCPT TO argument without brackets; "" outside one) and the step.
type Hit struct {
	Conn, Msg int
	Rcpt      string
	Step      Step
}

// Options configure a Faulty peer.
type Options struct {
	// Plan says what to do at each step; nil passes everything.
	Plan func(Hit) Kind
	// TLS, when set, is offered as STARTTLS (and AUTH only after it).
	TLS *tls.Config
	// User and Password, when User is set, are the one login accepted
	// (AUTH PLAIN); any other gets 535.
	User, Password string
	// Session bounds each connection (0: 30 s), in case a client hangs.
	Session time.Duration
	// Discard keeps only the recipient of each held message, not its
	// content: for benchmarks that send gigabytes.
	Discard bool
}

// Held is a message the server ended up with: its content was read to the
// final dot, and no refusal followed (the answer was 250, or none came).
type Held struct {
	Rcpt     string
	Data     string
	Answered bool // 250 went out
}

// Faulty is a running peer whose plan decides every answer.
type Faulty struct {
	Addr string
	Port int

	opt Options

	mu        sync.Mutex
	conns     int
	msgs      int
	held      []Held
	fired     []Hit // the hits at which the plan said anything but Pass
	firedKind []Kind
}

// NewFaulty starts a Faulty peer on 127.0.0.1; it stops with the test.
func NewFaulty(t testing.TB, o Options) *Faulty {
	t.Helper()
	p := &Faulty{opt: o}
	ln := serve(t, "127.0.0.1:0", func(c net.Conn) {
		defer c.Close()
		p.mu.Lock()
		n := p.conns
		p.conns++
		p.mu.Unlock()
		p.session(c, n)
	})
	p.Addr = ln.Addr().String()
	p.Port = ln.Addr().(*net.TCPAddr).Port
	return p
}

// Take returns what happened since the last Take: the connections, the
// messages the server ended up with, and the hits where the plan failed
// something.
func (p *Faulty) Take() (conns int, held []Held, fired []Hit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	conns, held, fired = p.conns, p.held, p.fired
	p.conns, p.held, p.fired, p.firedKind = 0, nil, nil, nil
	return
}

func (p *Faulty) plan(h Hit) Kind {
	if p.opt.Plan == nil {
		return Pass
	}
	k := p.opt.Plan(h)
	if k != Pass {
		p.mu.Lock()
		p.fired = append(p.fired, h)
		p.firedKind = append(p.firedKind, k)
		p.mu.Unlock()
	}
	return k
}

// replies are the answers of each kind at each step.
func replies(step Step) (ok, temp, perm string) {
	switch step {
	case AtGreeting:
		return "220 faulty.test ESMTP", "421 4.3.2 faulty.test not now", "554 5.7.1 faulty.test no service"
	case AtStartTLS:
		return "220 2.0.0 ready to start TLS", "454 4.7.0 TLS not available now", "554 5.7.0 no TLS for you"
	case AtAuth:
		return "235 2.7.0 authenticated", "454 4.7.0 temporary authentication failure", "535 5.7.8 authentication credentials invalid"
	case AtMail:
		return "250 2.1.0 Ok", "451 4.3.0 try again later", "553 5.7.1 sender refused"
	case AtRcpt:
		return "250 2.1.5 Ok", "450 4.2.1 mailbox busy", "550 5.1.1 no such user"
	case AtData:
		return "354 End data with <CR><LF>.<CR><LF>", "451 4.3.0 not now", "554 5.5.1 no valid recipients"
	case AtDot:
		return "250 2.0.0 Ok: queued", "452 4.3.1 insufficient system storage", "554 5.7.1 message refused as spam"
	case AtQuit:
		return "221 2.0.0 Bye", "421 4.3.2 bye anyway", "554 5.0.0 bye anyway"
	}
	return "250 2.0.0 Ok", "451 4.3.0 not now", "554 5.5.0 no"
}

func (p *Faulty) session(raw net.Conn, connNo int) {
	limit := p.opt.Session
	if limit == 0 {
		limit = 30 * time.Second
	}
	raw.SetDeadline(time.Now().Add(limit)) // a bound in case the client hangs
	var c net.Conn = raw
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	say := func(lines ...string) bool {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	stall := func() {
		// Never answer: wait for the client to give up and close.
		var b [512]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
	}
	msg, rcpt := -1, ""
	// act answers step with its normal reply unless the plan says
	// otherwise; cont is false when the session is over.
	act := func(step Step) (reply string, cont bool) {
		ok, temp, perm := replies(step)
		switch p.plan(Hit{Conn: connNo, Msg: msg, Rcpt: rcpt, Step: step}) {
		case Drop:
			return "", false
		case Stall:
			stall()
			return "", false
		case Temp:
			return temp, true
		case Perm:
			return perm, true
		case Garbage:
			return "hello? this is not SMTP", true
		case Close421:
			say("421 4.3.2 faulty.test closing connection")
			return "", false
		}
		return ok, true
	}

	greet, cont := act(AtGreeting)
	if !cont || !say(greet) || strings.HasPrefix(greet, "421") {
		return
	}
	refused := !strings.HasPrefix(greet, "220")
	tlsOn, authed := false, p.opt.User == ""
	inTx, haveRcpt := false, false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if refused && verb != "QUIT" {
			if !say("503 5.5.1 no service") {
				return
			}
			continue
		}
		var reply string
		switch verb {
		case "EHLO", "HELO":
			if reply, cont = act(AtEHLO); !cont {
				return
			}
			if strings.HasPrefix(reply, "250") && verb == "EHLO" {
				lines := []string{"250-faulty.test", "250-8BITMIME", "250-ENHANCEDSTATUSCODES"}
				if p.opt.TLS != nil && !tlsOn {
					lines = append(lines, "250-STARTTLS")
				}
				if p.opt.User != "" && (tlsOn || p.opt.TLS == nil) {
					lines = append(lines, "250-AUTH PLAIN")
				}
				if !say(append(lines, "250 SMTPUTF8")...) {
					return
				}
				continue
			}
		case "STARTTLS":
			if p.opt.TLS == nil || tlsOn {
				reply = "502 5.5.1 no STARTTLS here"
				break
			}
			k := p.plan(Hit{Conn: connNo, Msg: msg, Step: AtStartTLS})
			ok, temp, perm := replies(AtStartTLS)
			switch k {
			case Drop:
				return
			case Stall:
				stall()
				return
			case Temp:
				reply = temp
			case Perm:
				reply = perm
			case Close421:
				say("421 4.3.2 faulty.test closing connection")
				return
			case Garbage:
				// Says yes, then speaks plain text where TLS should start.
				say(ok, "hello? this is not TLS")
				stall()
				return
			default:
				if !say(ok) {
					return
				}
				tc := tls.Server(raw, p.opt.TLS)
				if err := tc.Handshake(); err != nil {
					return
				}
				c, tlsOn = tc, true
				r, w = bufio.NewReader(c), bufio.NewWriter(c)
				continue
			}
		case "AUTH":
			if reply, cont = act(AtAuth); !cont {
				return
			}
			if strings.HasPrefix(reply, "235") {
				want := "PLAIN " + plain(p.opt.User, p.opt.Password)
				if arg != want {
					_, _, reply = replies(AtAuth)
				} else {
					authed = true
				}
			}
		case "NOOP":
			reply = "250 2.0.0 Ok"
		case "RSET":
			inTx, haveRcpt, rcpt = false, false, ""
			reply = "250 2.0.0 Ok"
		case "QUIT":
			if reply, cont = act(AtQuit); !cont {
				return
			}
			say(reply)
			return
		case "MAIL":
			switch {
			case !authed:
				reply = "530 5.7.0 authentication required"
			case inTx:
				reply = "503 5.5.1 nested MAIL command"
			default:
				p.mu.Lock()
				msg = p.msgs
				p.msgs++
				p.mu.Unlock()
				if reply, cont = act(AtMail); !cont {
					return
				}
				inTx = strings.HasPrefix(reply, "250")
			}
		case "RCPT":
			if !inTx {
				reply = "503 5.5.1 need MAIL command"
				break
			}
			_, a, _ := strings.Cut(arg, ":")
			rcpt = strings.Trim(strings.Fields(a + " ")[0], "<>")
			if reply, cont = act(AtRcpt); !cont {
				return
			}
			haveRcpt = haveRcpt || strings.HasPrefix(reply, "250")
		case "DATA":
			if !haveRcpt {
				reply = "503 5.5.1 need RCPT command"
				break
			}
			if reply, cont = act(AtData); !cont {
				return
			}
			if !strings.HasPrefix(reply, "354") {
				break
			}
			if !say(reply) {
				return
			}
			var data strings.Builder
			for first := true; ; first = false {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				if first {
					switch p.plan(Hit{Conn: connNo, Msg: msg, Rcpt: rcpt, Step: AtBlock}) {
					case Pass:
					case Stall:
						stall()
						return
					default:
						return // cut mid-content: the server discards it
					}
				}
				if !p.opt.Discard {
					data.WriteString(strings.TrimPrefix(l, "."))
				}
			}
			inTx, haveRcpt = false, false
			h := Held{Rcpt: rcpt, Data: data.String()}
			reply, cont = act(AtDot)
			switch {
			case !cont && p.last(AtDot) == Close421:
				return // refused: the server does not keep it
			case !cont || strings.HasPrefix(reply, "hello"):
				// The server has the message; the client never learns it.
				p.keep(h)
				if !cont {
					return
				}
			case strings.HasPrefix(reply, "250"):
				h.Answered = true
				p.keep(h)
			}
			rcpt = ""
		default:
			reply = "502 5.5.2 command not recognized"
		}
		if !say(reply) {
			return
		}
	}
}

// last is the kind the plan gave at the last fired hit of step.
func (p *Faulty) last(step Step) Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.fired) - 1; i >= 0; i-- {
		if p.fired[i].Step == step {
			return p.firedKind[i]
		}
	}
	return Pass
}

func (p *Faulty) keep(h Held) {
	p.mu.Lock()
	p.held = append(p.held, h)
	p.mu.Unlock()
}

// MessageID is the Message-ID header of a held message, or "".
func (h Held) MessageID() string {
	for _, l := range strings.Split(h.Data, "\r\n") {
		if l == "" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Message-ID") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}
