package deadend

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// SlowDot starts a minimal SMTP server on loopback that accepts every
// message but answers the final dot only after delay, like a server whose
// content filter takes its time. dots receives the recipient of each
// message as soon as its final dot is read: from then on the server has
// the message, whatever the client does. had lists those recipients so
// far, in order.
func SlowDot(t testing.TB, delay time.Duration) (addr string, dots <-chan string, had func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 64)
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				r, w := bufio.NewReader(c), bufio.NewWriter(c)
				say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
				say("220 slowdot.test ESMTP")
				rcpt := ""
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					verb := strings.ToUpper(strings.Fields(line + " x")[0])
					switch verb {
					case "EHLO":
						w.WriteString("250-slowdot.test\r\n")
						say("250 8BITMIME")
					case "RCPT":
						rcpt = strings.Trim(strings.TrimSpace(line[strings.IndexByte(line, ':')+1:]), "<>")
						say("250 2.1.5 Ok")
					case "DATA":
						say("354 go on")
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
						}
						mu.Lock()
						got = append(got, rcpt)
						mu.Unlock()
						select {
						case ch <- rcpt:
						default:
						}
						time.Sleep(delay) // the content filter this server plays
						say("250 2.0.0 Ok: queued")
					case "QUIT":
						say("221 2.0.0 Bye")
						return
					default:
						say("250 2.0.0 Ok")
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), ch, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}
