// Package smtppeer gives tests the network peers that fail on purpose: a
// server on loopback that accepts connections and never says a word (the
// hung mail server, ping endpoint or TLS service that timeout tests need),
// a loopback address nobody listens on, and a scripted SMTP server that
// refuses, stalls or hangs up at the step a test chooses (Scripted), which
// Mailpit's chaos cannot do at the greeting or at DATA. It is for tests
// only.
package smtppeer

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

// Silent starts the silent server and returns its address (127.0.0.1:PORT)
// and a channel that receives once per accepted connection (it does not
// block the server when nobody reads it). Everything closes when the test
// ends.
func Silent(t testing.TB) (addr string, accepted <-chan struct{}) {
	t.Helper()
	acc := make(chan struct{}, 64)
	ln := serve(t, "127.0.0.1:0", func(net.Conn) {
		// The connection stays open, unanswered, until the test ends.
		select {
		case acc <- struct{}{}:
		default:
		}
	})
	return ln.Addr().String(), acc
}

// Serve starts a loopback server of the test's own (a TLS server with a
// chosen certificate, a proxy that cuts the line) on 127.0.0.1 and returns
// its address: handle runs for each connection, with the same clean-up as
// the peers above.
func Serve(t testing.TB, handle func(net.Conn)) *net.TCPAddr {
	t.Helper()
	return serve(t, "127.0.0.1:0", handle).Addr().(*net.TCPAddr)
}

// serve listens on addr and hands each accepted connection to handle, in a
// goroutine of its own; handle need not close it. When the test ends, serve
// stops accepting, closes every connection it accepted (so a handler
// blocked on one returns) and waits for the handlers.
func serve(t testing.TB, addr string, handle func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn // only the accept loop writes it, until accepting closes
	var handlers sync.WaitGroup
	accepting := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-accepting
		for _, c := range conns {
			c.Close()
		}
		handlers.Wait()
	})
	go func() {
		defer close(accepting)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			handlers.Go(func() { handle(c) })
		}
	}()
	return ln
}

// Closed returns a loopback address (127.0.0.1:PORT) nobody listens on.
func Closed(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Port returns a loopback port nobody listens on, for a test server that
// must be told its port before it starts (Mailpit, Postfix).
func Port(t testing.TB) int {
	t.Helper()
	_, port, _ := net.SplitHostPort(Closed(t))
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
