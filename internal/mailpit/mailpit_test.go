package mailpit

import (
	"crypto/tls"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// send delivers one message with the standard library's client, so the
// helper is tested independently of cotd's own SMTP code.
func send(t *testing.T, s *Server, c *smtp.Client, to, subject string) {
	t.Helper()
	if err := c.Mail("cotd@example.test"); err != nil {
		t.Fatalf("MAIL: %v", err)
	}
	if err := c.Rcpt(to); err != nil {
		t.Fatalf("RCPT: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	msg := "From: cotd@example.test\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + subject + "@example.test>\r\n\r\nmeow\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("end of DATA: %v", err)
	}
}

func TestStartTLSAuth(t *testing.T) {
	s := Start(t, Options{StartTLS: true, Auth: true})
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("cotd@example.test"); err == nil || !strings.HasPrefix(err.Error(), "530") {
		t.Fatalf("MAIL before STARTTLS: got %v, want 530", err)
	}
	if err := c.StartTLS(&tls.Config{ServerName: s.Host, RootCAs: s.CAPool}); err != nil {
		t.Fatalf("STARTTLS with the helper's CA: %v", err)
	}
	if err := c.Auth(smtp.PlainAuth("", s.User, s.Password, s.Host)); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	send(t, s, c, "bob@example.test", "one")
	send(t, s, c, "cee@example.test", "two")
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}

	// net/smtp hangs up after a failed AUTH, so try it on its own connection.
	bad, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.StartTLS(&tls.Config{ServerName: s.Host, RootCAs: s.CAPool}); err != nil {
		t.Fatal(err)
	}
	if err := bad.Auth(smtp.PlainAuth("", s.User, "wrong", s.Host)); err == nil || !strings.HasPrefix(err.Error(), "535") {
		t.Fatalf("AUTH with a wrong password: got %v, want 535", err)
	}

	msgs := s.Messages(t)
	if len(msgs) != 2 {
		t.Fatalf("Messages: got %d, want 2: %+v", len(msgs), msgs)
	}
	got := s.Search(t, "to:bob@example.test")
	if len(got) != 1 || got[0].Subject != "one" || got[0].MessageID != "one@example.test" ||
		len(got[0].To) != 1 || got[0].To[0] != "bob@example.test" {
		t.Fatalf("Search to:bob: got %+v", got)
	}
	raw := s.Raw(t, got[0].ID)
	if !strings.Contains(string(raw), "\r\n\r\nmeow") {
		t.Fatalf("Raw: body missing in %q", raw)
	}
	s.DeleteAll(t)
	if n := len(s.Messages(t)); n != 0 {
		t.Fatalf("after DeleteAll: %d messages", n)
	}
}

func TestImplicitTLSAndCertValidity(t *testing.T) {
	notAfter := time.Now().Add(5 * 24 * time.Hour).Truncate(time.Second)
	s := Start(t, Options{ImplicitTLS: true, CertNotAfter: notAfter, CertHosts: []string{"localhost"}})
	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{ServerName: "localhost", RootCAs: s.CAPool})
	if err != nil {
		t.Fatalf("implicit TLS: %v", err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	if !leaf.NotAfter.Equal(notAfter) {
		t.Errorf("NotAfter: got %v, want %v", leaf.NotAfter, notAfter)
	}
	if len(leaf.IPAddresses) != 0 || len(leaf.DNSNames) != 1 {
		t.Errorf("SANs: got %v %v, want only localhost", leaf.IPAddresses, leaf.DNSNames)
	}
	c, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		t.Fatalf("greeting over TLS: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

func TestChaosAndStop(t *testing.T) {
	s := Start(t, Options{Chaos: true})
	s.SetChaos(t, `{"Recipient":{"ErrorCode":451,"Probability":100}}`)
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("cotd@example.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@example.test"); err == nil || !strings.HasPrefix(err.Error(), "451") {
		t.Fatalf("RCPT under chaos: got %v, want 451", err)
	}
	c.Close()

	s.Stop()
	s.Stop() // idempotent
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("SMTP port still accepts after Stop")
	}
}
