package mail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/mailpit"
)

// BenchmarkSendMailpit sends one morning (a 90 KB cat, one message per
// recipient) over one STARTTLS+AUTH connection to a real Mailpit and
// reports messages per second. Run:
//
//	go test -run XXX -bench SendMailpit -benchtime 1x ./mail
func BenchmarkSendMailpit(b *testing.B) {
	photo, err := os.ReadFile(filepath.Join("..", "assets", "cat.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			srv := mailpit.Start(b, mailpit.Options{StartTLS: true, Auth: true})
			smtp := NewSMTP(SMTPConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password,
				TLS: TLSStartTLS, RootCAs: srv.CAPool})
			day := Day{Date: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Quote: "Be kind.", Author: "Anon",
				Photo: photo, PhotoWidth: 1280, PhotoHeight: 960}
			msgs := make([]*gomail.Msg, n)
			for i := range msgs {
				m, err := Compose(Message{From: "cotd@example.test", To: fmt.Sprintf("r%d@example.test", i), Days: []Day{day}})
				if err != nil {
					b.Fatal(err)
				}
				msgs[i] = m
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				delivered := 0
				err := smtp.SendEach(context.Background(), msgs, nil, func(_ int, r Result) {
					if r.Delivered {
						delivered++
					}
				})
				if err != nil || delivered != n {
					b.Fatalf("delivered %d of %d: %v", delivered, n, err)
				}
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
			}
		})
	}
}
