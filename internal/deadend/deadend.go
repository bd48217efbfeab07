// Package deadend gives tests the network peers that fail on purpose: a
// server on loopback that accepts connections and never says a word (the
// hung mail server, ping endpoint or TLS service that timeout tests need),
// and a loopback address nobody listens on. It is for tests only.
package deadend

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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acc := make(chan struct{}, 64)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case acc <- struct{}{}:
			default:
			}
		}
	}()
	return ln.Addr().String(), acc
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
