package smtppeer

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// SlowDot starts a Scripted SMTP server on loopback that accepts every
// message but answers the final dot only after delay, like a server whose
// content filter takes its time. dots receives the recipient of each
// message as soon as its final dot is read (it does not block the server
// when nobody reads it): from then on the server has the message, whatever
// the client does. had lists those recipients so far, in order.
func SlowDot(t testing.TB, delay time.Duration) (addr string, dots <-chan string, had func() []string) {
	t.Helper()
	ch := make(chan string, 64)
	var mu sync.Mutex
	var got []string
	p := Scripted(t, Script{SlowStep: AtDot, Slow: delay, SlowAll: true,
		OnDot: func(_ int, rcpts []string) {
			// cotd sends one message per recipient.
			rcpt := strings.Trim(strings.TrimSpace(rcpts[len(rcpts)-1]), "<>")
			mu.Lock()
			got = append(got, rcpt)
			mu.Unlock()
			select {
			case ch <- rcpt:
			default:
			}
		}})
	return p.Addr, ch, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}
