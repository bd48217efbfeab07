package smtppeer

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Step names the point of a mail transaction whose reply a Script
// changes.
type Step string

// The steps a Script can answer differently.
const (
	AtMail Step = "mail" // the reply to MAIL FROM
	AtRcpt Step = "rcpt" // the reply to RCPT TO
	AtData Step = "data" // the reply to the DATA command
	AtDot  Step = "dot"  // the reply after the final dot
)

// Script says how a Scripted peer misbehaves; the zero Script is a server
// that accepts every message.
type Script struct {
	// Greeting, when set, is a refusal sent instead of the 220 greeting
	// ("\n" separates the lines of a multi-line reply). A 421 greeting is
	// followed by closing the connection; after any other refusal the peer
	// answers 503 to everything but QUIT, as RFC 5321 3.1 asks.
	Greeting string
	// Step is answered with Reply ("\n" separates lines) instead of the
	// usual success, for the message number Victim (0-based, counted by
	// MAIL commands).
	Step   Step
	Victim int
	Reply  string
	// CloseAfter closes the connection after Reply is sent (a 421).
	CloseAfter bool
	// Drop closes the connection at Step instead of answering.
	Drop bool
	// Hang never answers Step: the connection stays open, unanswered, until
	// the client goes away or the test ends (a server that takes the final
	// dot and then says nothing while the client is killed).
	Hang bool
	// SlowStep is answered as usual, but only after Slow: a busy server
	// or a content filter. It applies to the message number Victim, or to
	// every message with SlowAll.
	SlowStep Step
	Slow     time.Duration
	SlowAll  bool
	// OnDot, when set, is called with the message number and its RCPT TO
	// arguments as sent (e.g. "<ann@example.test>") as soon as the final
	// dot is read, before any slow reply: from then on the server has the
	// message, whatever the client does. It runs on the peer's goroutine.
	OnDot func(msg int, rcpts []string)
	// Auth ("PLAIN" or "LOGIN") is offered, and every login is refused
	// with a 535 that echoes what the client sent, as some servers do.
	Auth string
	// Size is advertised as EHLO SIZE; a larger message gets 552 5.3.4
	// after the dot, as Postfix's message_size_limit does.
	Size int
}

// Peer is a running scripted SMTP server. It speaks just enough of the
// protocol for an SMTP client, keeps Postfix's transaction rules and
// records what it accepted and the protocol errors the client made.
type Peer struct {
	Addr string // host:port to dial
	Port int

	script Script

	mu       sync.Mutex
	conns    int
	accepted []string // RCPT TO arguments of each message accepted after the dot
	problems []string // protocol errors the client made
}

// Scripted starts a peer playing s on 127.0.0.1. It stops, and closes
// every connection, when the test ends.
func Scripted(t testing.TB, s Script) *Peer {
	t.Helper()
	return ScriptedOn(t, "127.0.0.1:0", s)
}

// ScriptedOn is Scripted listening on addr, e.g. "[::1]:0".
func ScriptedOn(t testing.TB, addr string, s Script) *Peer {
	t.Helper()
	p := &Peer{script: s}
	ln := serve(t, addr, func(c net.Conn) {
		defer c.Close()
		p.mu.Lock()
		p.conns++
		p.mu.Unlock()
		p.session(c)
	})
	p.Addr = ln.Addr().String()
	p.Port = ln.Addr().(*net.TCPAddr).Port
	return p
}

// Results returns how many connections the peer took, the RCPT TO
// arguments of each message it accepted with 250 after the final dot
// (joined with ","), and the protocol errors the client made.
func (p *Peer) Results() (conns int, accepted, problems []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns, append([]string(nil), p.accepted...), append([]string(nil), p.problems...)
}

func (p *Peer) problem(format string, args ...any) {
	p.mu.Lock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

// session runs one SMTP session. Like Postfix, it keeps the transaction
// open after a refused DATA command, so a client that starts the next
// message without RSET gets "503 nested MAIL command".
func (p *Peer) session(c net.Conn) {
	// A bound on the whole session, so a confused client cannot hang the
	// test; the clients' own timeouts are shorter.
	c.SetDeadline(time.Now().Add(30 * time.Second))
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
	if s.Greeting != "" {
		if !say(strings.Split(s.Greeting, "\n")...) || strings.HasPrefix(s.Greeting, "421") {
			return
		}
		refusedGreeting = true
	} else if !say("220 peer.test ESMTP scripted") {
		return
	}

	msgNo := -1 // number of the current or last MAIL command
	inTx := false
	var rcpts []string
	scripted := false // the reply about to go out is the script's
	// at answers the scripted step; cont is false when the session is over.
	at := func(step Step, normal string) (reply string, cont bool) {
		if s.SlowStep == step && (s.SlowAll || msgNo == s.Victim) {
			time.Sleep(s.Slow) // the slow server this script plays
		}
		if s.Step != step || msgNo != s.Victim {
			return normal, true
		}
		if s.Drop {
			return "", false
		}
		if s.Hang {
			io.Copy(io.Discard, r) // until the client closes, or the test
			return "", false
		}
		scripted = true
		return s.Reply, true
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
			if s.Size > 0 {
				say("250-peer.test", "250-8BITMIME", fmt.Sprintf("250-SIZE %d", s.Size), "250 ENHANCEDSTATUSCODES")
				continue
			}
			if s.Auth != "" {
				say("250-peer.test", "250-AUTH "+s.Auth, "250 ENHANCEDSTATUSCODES")
				continue
			}
			say("250-peer.test", "250-8BITMIME", "250 ENHANCEDSTATUSCODES")
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
			if reply, cont = at(AtMail, "250 2.1.0 Ok"); !cont {
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
			if reply, cont = at(AtRcpt, "250 2.1.5 Ok"); !cont {
				return
			}
		case "DATA":
			if len(rcpts) == 0 {
				reply = "503 5.5.1 Error: need RCPT command"
				break
			}
			var cont bool
			if reply, cont = at(AtData, "354 End data with <CR><LF>.<CR><LF>"); !cont {
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
			if s.OnDot != nil {
				s.OnDot(msgNo, append([]string(nil), rcpts...))
			}
			// The transaction ends at the dot whatever the answer.
			got := strings.Join(rcpts, ",")
			inTx, rcpts = false, nil
			normal := "250 2.0.0 Ok: queued"
			if s.Size > 0 && n > s.Size {
				normal = "552 5.3.4 Error: message file too big"
			}
			if reply, cont = at(AtDot, normal); !cont {
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
		if scripted && s.CloseAfter {
			return
		}
	}
}
