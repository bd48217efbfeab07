package mail

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// Mailpit's chaos can only refuse at MAIL, RCPT and AUTH, so the refusals
// at the greeting and at DATA come from scriptedPeer: a loopback SMTP
// server that speaks just enough of the protocol and answers one chosen
// step of one chosen message with a chosen reply.

// peerScript says how scriptedPeer misbehaves; the zero value is a server
// that accepts everything.
type peerScript struct {
	// greeting replaces "220 ..." when set. A 421 greeting is followed by
	// closing the connection; after any other refusal the peer answers 503
	// to everything but QUIT, as RFC 5321 3.1 asks.
	greeting string
	// step ("mail", "data" or "dot") is answered with reply instead of
	// the usual success, for the message number victim (0-based, counted
	// by MAIL commands).
	step   string
	victim int
	reply  string
	// closeAfter closes the connection after reply is sent (a 421).
	closeAfter bool
	// drop closes the connection at step instead of answering.
	drop bool
	// slowStep ("mail", "rcpt", "dot") is answered as usual, but only
	// after slow: a busy server or a content filter. It applies to the
	// message number victim, or to every message with slowAll.
	slowStep string
	slow     time.Duration
	slowAll  bool
	// dotSeen, when set, gets the message number of each final dot read.
	dotSeen chan int
	// auth ("PLAIN" or "LOGIN") is offered, and every login is refused
	// with a 535 that echoes what the client sent, as some servers do.
	auth string
	// size is advertised as EHLO SIZE; a larger message gets 552 5.3.4
	// after the dot, as Postfix's message_size_limit does.
	size int
}

// scriptedPeer records what it accepted with 250 after the final dot.
type scriptedPeer struct {
	t      *testing.T
	script peerScript
	port   int

	mu       sync.Mutex
	conns    int
	accepted []string // RCPT addresses of each message accepted after the dot
	problems []string // protocol errors the client made
}

func startScriptedPeer(t *testing.T, script peerScript) *scriptedPeer {
	t.Helper()
	return startScriptedPeerOn(t, "127.0.0.1:0", script)
}

// startScriptedPeerOn listens on addr (e.g. [::1]:0).
func startScriptedPeerOn(t *testing.T, addr string, script peerScript) *scriptedPeer {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &scriptedPeer{t: t, script: script, port: l.Addr().(*net.TCPAddr).Port}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			p.mu.Lock()
			p.conns++
			p.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				p.serve(c)
			}()
		}
	}()
	return p
}

func (p *scriptedPeer) problem(format string, args ...any) {
	p.mu.Lock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

// serve runs one SMTP session. Like Postfix, it keeps the transaction open
// after a refused DATA command, so a client that starts the next message
// without RSET gets "503 nested MAIL command".
func (p *scriptedPeer) serve(c net.Conn) {
	// A bound on the whole session, so a confused client cannot hang the
	// test; the client's own timeout is shorter.
	c.SetDeadline(time.Now().Add(15 * time.Second))
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	say := func(lines ...string) bool {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	s := p.script
	refusedGreeting := false
	if s.greeting != "" {
		if !say(strings.Split(s.greeting, "\n")...) || strings.HasPrefix(s.greeting, "421") {
			return
		}
		refusedGreeting = true
	} else if !say("220 refusal.test ESMTP scripted") {
		return
	}

	msgNo := -1 // number of the current or last MAIL command
	inTx := false
	var rcpts []string
	scripted := false // the reply about to go out is the script's
	// at answers the scripted step; cont is false when the session is over.
	at := func(step, normal string) (reply string, cont bool) {
		if s.slowStep == step && (s.slowAll || msgNo == s.victim) {
			time.Sleep(s.slow) // the slow server this script plays
		}
		if s.step != step || msgNo != s.victim {
			return normal, true
		}
		if s.drop {
			return "", false
		}
		scripted = true
		return s.reply, true
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(line)
		if i := strings.IndexByte(verb, ' '); i >= 0 {
			verb = verb[:i]
		}
		if refusedGreeting && verb != "QUIT" {
			if !say("503 5.5.1 no service") {
				return
			}
			continue
		}
		reply := ""
		scripted = false
		switch verb {
		case "EHLO":
			if s.size > 0 {
				say("250-refusal.test", "250-8BITMIME", fmt.Sprintf("250-SIZE %d", s.size), "250 ENHANCEDSTATUSCODES")
				continue
			}
			if s.auth != "" {
				say("250-refusal.test", "250-AUTH "+s.auth, "250 ENHANCEDSTATUSCODES")
				continue
			}
			say("250-refusal.test", "250-8BITMIME", "250 ENHANCEDSTATUSCODES")
			continue
		case "AUTH":
			echo := strings.TrimSpace(strings.TrimPrefix(line, "AUTH"))
			if strings.EqualFold(echo, "LOGIN") {
				say("334 VXNlcm5hbWU6")
				u, _ := r.ReadString('\n')
				say("334 UGFzc3dvcmQ6")
				pw, _ := r.ReadString('\n')
				echo = strings.TrimSpace(u) + " " + strings.TrimSpace(pw)
			}
			reply = "535 5.7.8 authentication failed for " + echo
		case "HELO", "NOOP":
			reply = "250 2.0.0 Ok"
		case "RSET":
			inTx, rcpts = false, nil
			reply = "250 2.0.0 Ok"
		case "QUIT":
			say("221 2.0.0 Bye")
			return
		case "MAIL":
			if inTx {
				p.problem("MAIL without RSET after a refused transaction: %q", line)
				reply = "503 5.5.1 Error: nested MAIL command"
				break
			}
			msgNo++
			var cont bool
			if reply, cont = at("mail", "250 2.1.0 Ok"); !cont {
				return
			}
			inTx = strings.HasPrefix(reply, "250")
		case "RCPT":
			if !inTx {
				reply = "503 5.5.1 Error: need MAIL command"
				break
			}
			rcpts = append(rcpts, strings.TrimPrefix(line, "RCPT TO:"))
			var cont bool
			if reply, cont = at("rcpt", "250 2.1.5 Ok"); !cont {
				return
			}
		case "DATA":
			if len(rcpts) == 0 {
				reply = "503 5.5.1 Error: need RCPT command"
				break
			}
			var cont bool
			if reply, cont = at("data", "354 End data with <CR><LF>.<CR><LF>"); !cont {
				return
			}
			if !strings.HasPrefix(reply, "354") {
				break
			}
			if !say(reply) {
				return
			}
			n := 0
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				n += len(l)
			}
			if s.dotSeen != nil {
				s.dotSeen <- msgNo
			}
			// The transaction ends at the dot whatever the answer.
			got := strings.Join(rcpts, ",")
			inTx, rcpts = false, nil
			normal := "250 2.0.0 Ok: queued"
			if s.size > 0 && n > s.size {
				normal = "552 5.3.4 Error: message file too big"
			}
			if reply, cont = at("dot", normal); !cont {
				return
			}
			if strings.HasPrefix(reply, "250") {
				p.mu.Lock()
				p.accepted = append(p.accepted, got)
				p.mu.Unlock()
			}
		default:
			reply = "502 5.5.2 Error: command not recognized"
		}
		if !say(strings.Split(reply, "\n")...) {
			return
		}
		if scripted && s.closeAfter {
			return
		}
	}
}

func (p *scriptedPeer) results() (conns int, accepted, problems []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns, append([]string(nil), p.accepted...), append([]string(nil), p.problems...)
}

// oneReadableLine fails when an error's text is empty or holds a line
// break or another control character: it goes into one journal line.
func oneReadableLine(t *testing.T, what string, err error) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Errorf("%s: empty error text", what)
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Errorf("%s: error text has control character %q at %d, want one line: %q", what, msg[i], i, msg)
	}
}

func TestRefusals(t *testing.T) {
	tos := []string{"ann@example.test", "bob@example.test", "cee@example.test"}
	const victim = 1 // bob's message is the one refused

	cases := []struct {
		name   string
		script peerScript
		code   int // the reply code the error must carry; 0: no reply at all
		// want is the error text for the refused message(s), besides the
		// address and the code.
		want []string
		// wholeSession: the refusal is for the session, all three fail
		// with the same error and SendEach returns it.
		wholeSession bool
		// lost: after the refusal the connection is gone, so the messages
		// after the victim are not attempted.
		lost bool
	}{
		{name: "421 at greeting", script: peerScript{greeting: "421 4.3.2 refusal.test Service not available, closing channel"},
			code: 421, wholeSession: true, want: []string{"refused the session", "Service not available"}},
		{name: "554 at greeting", script: peerScript{greeting: "554 5.7.1 refusal.test no SMTP service here"},
			code: 554, wholeSession: true, want: []string{"refused the session", "no SMTP service here"}},
		{name: "554 multi-line at greeting", script: peerScript{greeting: "554-5.7.1 refusal.test does not talk to you\n554 5.7.1 see https://refusal.test/why"},
			code: 554, wholeSession: true, want: []string{"does not talk to you", "see https://refusal.test/why"}},
		{name: "451 at MAIL FROM", script: peerScript{step: "mail", reply: "451 4.3.0 local problem, try later"},
			code: 451, want: []string{"bob@example.test", "local problem", "temporary"}},
		{name: "550 at MAIL FROM", script: peerScript{step: "mail", reply: "550 5.7.1 sender rejected"},
			code: 550, want: []string{"bob@example.test", "sender rejected", "check --from"}},
		{name: "421 at MAIL FROM then hang up", script: peerScript{step: "mail", reply: "421 4.3.2 shutting down", closeAfter: true},
			code: 421, lost: true, want: []string{"bob@example.test", "shutting down"}},
		{name: "452 at DATA command", script: peerScript{step: "data", reply: "452 4.3.1 insufficient system storage"},
			code: 452, want: []string{"bob@example.test", "insufficient system storage", "temporary"}},
		{name: "554 at DATA command", script: peerScript{step: "data", reply: "554 5.5.1 no valid recipients"},
			code: 554, want: []string{"bob@example.test", "no valid recipients", "permanent, check the address"}},
		{name: "451 after the final dot", script: peerScript{step: "dot", reply: "451 4.7.1 greylisted, try again later"},
			code: 451, want: []string{"bob@example.test", "greylisted", "temporary"}},
		{name: "552 after the final dot", script: peerScript{step: "dot", reply: "552 5.3.4 message too big"},
			code: 552, want: []string{"bob@example.test", "message too big", "permanent, the server refused the message itself"}},
		{name: "550 multi-line after the final dot", script: peerScript{step: "dot", reply: "550-5.7.1 this message looks like spam\n550 5.7.1 see https://refusal.test/spam"},
			code: 550, want: []string{"bob@example.test", "looks like spam", "see https://refusal.test/spam", "refused the message itself"}},
		{name: "connection dropped after the final dot", script: peerScript{step: "dot", drop: true},
			code: 0, lost: true, want: []string{"bob@example.test", "connection lost"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.script.victim = victim
			p := startScriptedPeer(t, tc.script)
			addr := "127.0.0.1:" + strconv.Itoa(p.port)
			s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.port, TLS: TLSNone, Timeout: 5 * time.Second})
			// The deadline bounds the whole batch; a hang fails with "stopped".
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			results := make([]Result, len(tos))
			var order []int
			err := s.SendEach(ctx, testMsgs(t, tos...), func(i int, r Result) {
				order = append(order, i)
				results[i] = r
			})
			if ctx.Err() != nil {
				t.Fatalf("SendEach did not finish before its deadline: %v", err)
			}
			if len(order) != len(tos) {
				t.Fatalf("done called for %v, want once for each of %d messages", order, len(tos))
			}
			conns, accepted, problems := p.results()
			for _, pr := range problems {
				t.Errorf("server saw a protocol error: %s", pr)
			}
			if conns != 1 {
				t.Errorf("connections: got %d, want 1 (no retry within a run)", conns)
			}

			// Delivered exactly for what the server accepted with 250
			// after the dot.
			for i, to := range tos {
				took := false
				for _, a := range accepted {
					took = took || strings.Contains(a, "<"+to+">")
				}
				if results[i].Delivered != took {
					t.Errorf("%s: Delivered=%v, but the server accepted it: %v (accepted %q)", to, results[i].Delivered, took, accepted)
				}
				if results[i].Delivered && results[i].Err != nil {
					t.Errorf("%s: delivered with an error: %v", to, results[i].Err)
				}
			}

			checkRefused := func(i int, r Result) {
				t.Helper()
				if r.Delivered || r.Err == nil {
					t.Fatalf("%s: %+v, want refused with an error", tos[i], r)
				}
				t.Logf("%s: %v", tos[i], r.Err)
				oneReadableLine(t, tos[i], r.Err)
				want := append([]string{addr}, tc.want...)
				if tc.code != 0 {
					want = append(want, strconv.Itoa(tc.code))
				}
				for _, w := range want {
					if !strings.Contains(r.Err.Error(), w) {
						t.Errorf("%s: error %q does not contain %q", tos[i], r.Err, w)
					}
				}
				if got := replyCode(r.Err); got != tc.code {
					t.Errorf("%s: reply code in the error chain %d, want %d", tos[i], got, tc.code)
				}
				if temp := tc.code >= 400 && tc.code < 500; r.Temporary != temp {
					t.Errorf("%s: Temporary=%v, want %v for code %d", tos[i], r.Temporary, temp, tc.code)
				}
				if perm := tc.code >= 500 && tc.code < 600; IsPermanent(r.Err) != perm {
					t.Errorf("%s: IsPermanent=%v, want %v for code %d", tos[i], IsPermanent(r.Err), perm, tc.code)
				}
			}

			switch {
			case tc.wholeSession:
				if err == nil {
					t.Fatal("SendEach returned nil after the server refused the session")
				}
				for i, r := range results {
					if r.Err != err {
						t.Errorf("%s: error %v, want the session error %v", tos[i], r.Err, err)
					}
					checkRefused(i, r)
				}
				if len(accepted) != 0 {
					t.Errorf("server accepted %q after refusing the session", accepted)
				}
			default:
				if err != nil {
					t.Errorf("SendEach: %v, want nil (the session itself worked)", err)
				}
				if !results[0].Delivered {
					t.Errorf("%s: %+v, want delivered (before the refusal)", tos[0], results[0])
				}
				checkRefused(victim, results[victim])
				for i := victim + 1; i < len(tos); i++ {
					r := results[i]
					switch {
					case tc.lost:
						if r.Delivered || r.Err == nil || r.Temporary || IsPermanent(r.Err) {
							t.Errorf("%s: %+v, want not delivered, neither temporary nor permanent", tos[i], r)
						} else {
							t.Logf("%s: %v", tos[i], r.Err)
							oneReadableLine(t, tos[i], r.Err)
							if !strings.Contains(r.Err.Error(), addr) {
								t.Errorf("%s: error %q does not name %s", tos[i], r.Err, addr)
							}
						}
					case !r.Delivered || r.Err != nil:
						t.Errorf("%s: %+v, want delivered (only %s was refused)", tos[i], r, tos[victim])
					}
				}
			}
		})
	}
}

// TestRefusalPeerAcceptsAll proves the scripted peer is a working SMTP
// server, so the refusals above come from the script and not from a
// peer the client cannot talk to.
func TestRefusalPeerAcceptsAll(t *testing.T) {
	p := startScriptedPeer(t, peerScript{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	results, err := collect(NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: p.port, TLS: TLSNone, Timeout: 5 * time.Second}),
		ctx, testMsgs(t, "ann@example.test", "bob@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if !r.Delivered || r.Err != nil {
			t.Errorf("result %d: %+v, want delivered", i, r)
		}
	}
	if _, accepted, problems := p.results(); len(accepted) != 2 || len(problems) != 0 {
		t.Errorf("peer accepted %q with problems %q, want 2 messages and no problems", accepted, problems)
	}
}
