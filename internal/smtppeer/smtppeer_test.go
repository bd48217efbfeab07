package smtppeer

import (
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// dial opens a raw SMTP conversation with addr and reads the greeting.
func dial(t *testing.T, addr string) *textproto.Conn {
	t.Helper()
	c, err := textproto.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, _, err := c.ReadResponse(220); err != nil {
		t.Fatalf("greeting: %v", err)
	}
	return c
}

// cmd sends one command and fails unless the reply has code want.
func cmd(t *testing.T, c *textproto.Conn, want int, format string, args ...any) string {
	t.Helper()
	id, err := c.Cmd(format, args...)
	if err != nil {
		t.Fatal(err)
	}
	c.StartResponse(id)
	defer c.EndResponse(id)
	_, msg, err := c.ReadResponse(want)
	if err != nil {
		t.Fatalf("%s: %v, want %d", strings.Fields(format)[0], err, want)
	}
	return msg
}

// The zero Script is a working server for the standard library's client,
// and Results counts the connection and names what it accepted.
func TestScriptedAcceptsAll(t *testing.T) {
	p := Scripted(t, Script{})
	for _, to := range []string{"ann@example.test", "bob@example.test"} {
		if err := smtp.SendMail(p.Addr, nil, "cotd@example.test", []string{to}, []byte("Subject: hi\r\n\r\nmeow\r\n")); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
	}
	conns, accepted, problems := p.Results()
	if conns != 2 || !slices.Equal(accepted, []string{"<ann@example.test>", "<bob@example.test>"}) || len(problems) != 0 {
		t.Errorf("Results: %d conns, accepted %q, problems %q; want 2, both, none", conns, accepted, problems)
	}
}

// A refusal at DATA keeps the transaction open, as Postfix does: a client
// that starts the next message without RSET gets 503 and is recorded.
func TestScriptedRefusedDataNeedsRset(t *testing.T) {
	p := Scripted(t, Script{Step: AtData, Reply: "452 4.3.1 insufficient system storage"})
	c := dial(t, p.Addr)
	cmd(t, c, 250, "EHLO client.test")
	cmd(t, c, 250, "MAIL FROM:<cotd@example.test>")
	cmd(t, c, 250, "RCPT TO:<ann@example.test>")
	if msg := cmd(t, c, 452, "DATA"); !strings.Contains(msg, "insufficient system storage") {
		t.Errorf("DATA: %q, want the scripted reply", msg)
	}
	cmd(t, c, 503, "MAIL FROM:<cotd@example.test>")
	cmd(t, c, 250, "RSET")
	cmd(t, c, 250, "MAIL FROM:<cotd@example.test>")
	cmd(t, c, 221, "QUIT")
	_, accepted, problems := p.Results()
	if len(accepted) != 0 || len(problems) != 1 || !strings.Contains(problems[0], "without RSET") {
		t.Errorf("accepted %q, problems %q; want none accepted and the missing RSET recorded", accepted, problems)
	}
}

// A refused greeting other than 421 leaves the connection open but
// answers 503 to everything except QUIT.
func TestScriptedRefusedGreeting(t *testing.T) {
	p := Scripted(t, Script{Greeting: "554-5.7.1 no service\n554 5.7.1 see elsewhere"})
	c, err := textproto.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, msg, err := c.ReadResponse(220); err == nil || !strings.Contains(msg, "see elsewhere") {
		t.Fatalf("greeting %q (%v), want the two-line 554", msg, err)
	}
	cmd(t, c, 503, "EHLO client.test")
	cmd(t, c, 221, "QUIT")
}

// SlowDot reports a message as soon as its final dot is read, before its
// slow reply, and records its recipient.
func TestSlowDotReportsBeforeTheReply(t *testing.T) {
	addr, dots, had := SlowDot(t, 200*time.Millisecond)
	c := dial(t, addr)
	cmd(t, c, 250, "EHLO client.test")
	cmd(t, c, 250, "MAIL FROM:<cotd@example.test>")
	cmd(t, c, 250, "RCPT TO:<ann@example.test>")
	cmd(t, c, 354, "DATA")
	if err := c.PrintfLine("Subject: hi\r\n\r\nmeow\r\n."); err != nil {
		t.Fatal(err)
	}
	select {
	case to := <-dots:
		if to != "ann@example.test" {
			t.Errorf("dots gave %q, want ann@example.test", to)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no dot reported")
	}
	if got := had(); !slices.Equal(got, []string{"ann@example.test"}) {
		t.Errorf("had %q before the reply, want ann's message", got)
	}
	if _, _, err := c.ReadResponse(250); err != nil {
		t.Errorf("reply to the dot: %v, want 250", err)
	}
}

// Silent accepts, signals and never says a word.
func TestSilentNeverAnswers(t *testing.T) {
	addr, accepted := Silent(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("no accept reported")
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := c.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read %d bytes, %v; want nothing until the deadline", n, err)
	}
}

// When a test ends, Serve closes the connections its handlers still hold
// and waits for them: no handler outlives its test.
func TestServeEndsHandlersWithTheTest(t *testing.T) {
	var client net.Conn
	returned := make(chan struct{})
	t.Run("inner", func(t *testing.T) {
		started := make(chan struct{})
		addr := Serve(t, func(c net.Conn) {
			defer close(returned)
			close(started)
			c.Read(make([]byte, 1)) // blocks until the clean-up closes c
		})
		var err error
		if client, err = net.Dial("tcp", addr.String()); err != nil {
			t.Fatal(err)
		}
		<-started
	})
	defer client.Close()
	select {
	case <-returned:
	default:
		t.Fatal("the handler was still running after its test ended")
	}
}
