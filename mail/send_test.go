package mail

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/mailpit"

	"cotd/internal/smtppeer"
)

var testDay = time.Date(2026, 3, 4, 7, 0, 0, 0, time.FixedZone("CET", 3600))

// testMsg builds a message the way compose does in spirit: one To, a
// stable Message-ID and a Date.
func testMsg(t *testing.T, to, subject string) *gomail.Msg {
	t.Helper()
	m := gomail.NewMsg()
	if err := m.From("Cat of the Day <cotd@example.test>"); err != nil {
		t.Fatal(err)
	}
	if err := m.To(to); err != nil {
		t.Fatal(err)
	}
	m.Subject(subject)
	m.SetDateWithValue(testDay)
	m.SetMessageIDWithValue(strings.NewReplacer("@", ".", " ", "-").Replace(subject+"."+to) + "@cotd.example.test")
	m.SetBodyString(gomail.TypeTextPlain, "meow\n")
	return m
}

func testMsgs(t *testing.T, tos ...string) []*gomail.Msg {
	t.Helper()
	var ms []*gomail.Msg
	for _, to := range tos {
		ms = append(ms, testMsg(t, to, "Cat of the Day "+testDay.Format(time.DateOnly)))
	}
	return ms
}

func configFor(s *mailpit.Server, mode TLSMode) SMTPConfig {
	return SMTPConfig{
		Host: s.Host, Port: s.Port, User: s.User, Password: s.Password,
		TLS: mode, RootCAs: s.CAPool, Timeout: 10 * time.Second,
	}
}

// checkErr fails when an error leaks the password or is empty.
func checkErr(t *testing.T, err error, password string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	t.Logf("error: %v", err)
	if password != "" && strings.Contains(err.Error(), password) {
		t.Errorf("error contains the password: %v", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func assertNoneDelivered(t *testing.T, results []Result, n int) {
	t.Helper()
	if len(results) != n {
		t.Fatalf("got %d results, want %d", len(results), n)
	}
	for i, r := range results {
		if r.Delivered || r.Err == nil {
			t.Errorf("result %d: %+v, want undelivered with an error", i, r)
		}
	}
}

// proxy forwards TCP to target and records what the client sent and how
// many connections it made, to see the wire from the outside.
type proxy struct {
	Addr string
	Port int
	// cut, when set, is asked before forwarding client data; true drops
	// both connections (the server "goes away").
	cut   func(sentSoFar string) bool
	conns atomic.Int32
	mu    sync.Mutex
	sent  bytes.Buffer
}

func startProxy(t *testing.T, target string, cut func(string) bool) *proxy {
	t.Helper()
	p := &proxy{cut: cut}
	addr := smtppeer.Serve(t, func(c net.Conn) {
		p.conns.Add(1)
		defer c.Close()
		up, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer up.Close()
		go func() { io.Copy(c, up); c.Close() }()
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				p.mu.Lock()
				p.sent.Write(buf[:n])
				cut := p.cut != nil && p.cut(p.sent.String())
				p.mu.Unlock()
				if cut {
					up.Close()
					return
				}
				if _, werr := up.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	p.Addr, p.Port = addr.String(), addr.Port
	return p
}

func (p *proxy) clientSent() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.String()
}

func TestSendStartTLSAuthOneConnection(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true})
	p := startProxy(t, srv.Addr, nil)
	cfg := configFor(srv, TLSStartTLS)
	cfg.Port = p.Port
	tos := []string{"ann@example.test", "Bob Example <bob@example.test>", "cee@example.test", "dee@example.test"}
	msgs := testMsgs(t, tos...)

	s := NewSMTP(cfg)
	results, err := collect(s, context.Background(), msgs)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i, r := range results {
		if !r.Delivered || r.Err != nil || r.Temporary() {
			t.Errorf("result %d (%s): %+v, want delivered", i, tos[i], r)
		}
	}
	if n := p.conns.Load(); n != 1 {
		t.Errorf("connections: got %d, want 1", n)
	}
	if sent := p.clientSent(); strings.Contains(sent, srv.Password) {
		t.Errorf("password visible on the wire (should be inside TLS)")
	}
	got := srv.Messages(t)
	if len(got) != len(tos) {
		t.Fatalf("mailpit holds %d messages, want %d", len(got), len(tos))
	}
	for _, m := range got {
		if len(m.To) != 1 {
			t.Errorf("message %s has To %v, want exactly one recipient", m.MessageID, m.To)
		}
	}
	for _, addr := range []string{"ann@example.test", "bob@example.test", "cee@example.test", "dee@example.test"} {
		if n := len(srv.Search(t, "to:"+addr)); n != 1 {
			t.Errorf("%s got %d messages, want 1", addr, n)
		}
	}
	notAfter, chain, ok := s.Cert()
	if !ok || !notAfter.Equal(srv.Cert.NotAfter) || len(chain) != 2 || !chain[0].Equal(srv.Cert) {
		t.Errorf("Cert() = %v, %d certs, %v; want the server cert's NotAfter %v and a chain of 2", notAfter, len(chain), ok, srv.Cert.NotAfter)
	}
}

func TestSendWrongPassword(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true})
	cfg := configFor(srv, TLSStartTLS)
	cfg.Password = "not-" + srv.Password
	results, err := collect(NewSMTP(cfg), context.Background(), testMsgs(t, "ann@example.test", "bob@example.test"))
	checkErr(t, err, cfg.Password, "smtp login as "+srv.User+" at "+srv.Host+" failed: 535", "check the user and the password file")
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 535 {
		t.Errorf("errors.As *textproto.Error: got %v, want code 535", te)
	}
	if IsPermanent(err) != true {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
	assertNoneDelivered(t, results, 2)
	if n := len(srv.Messages(t)); n != 0 {
		t.Errorf("mailpit holds %d messages, want 0", n)
	}
}

func TestSendRefusesWithoutSTARTTLS(t *testing.T) {
	// The server offers AUTH in the clear but no STARTTLS: the password
	// must not leave this machine.
	srv := mailpit.Start(t, mailpit.Options{Auth: true, Args: []string{"--smtp-auth-allow-insecure"}})
	p := startProxy(t, srv.Addr, nil)
	cfg := configFor(srv, TLSStartTLS)
	cfg.Host = "localhost" // loopback, yet starttls mode must still insist
	cfg.Port = p.Port
	s := NewSMTP(cfg)
	results, err := collect(s, context.Background(), testMsgs(t, "ann@example.test"))
	checkErr(t, err, srv.Password, "smtp localhost:"+strconv.Itoa(p.Port)+" does not offer STARTTLS", "--smtp-tls=tls")
	assertNoneDelivered(t, results, 1)
	sent := p.clientSent()
	if !strings.Contains(sent, "EHLO") {
		t.Fatalf("proxy saw no EHLO, so the test proves nothing: %q", sent)
	}
	for _, bad := range []string{"AUTH", "MAIL FROM", srv.Password} {
		if strings.Contains(sent, bad) {
			t.Errorf("client sent %q without TLS: %q", bad, sent)
		}
	}
	if n := len(srv.Messages(t)); n != 0 {
		t.Errorf("mailpit holds %d messages, want 0", n)
	}
	if _, _, ok := s.Cert(); ok {
		t.Error("Cert() ok without TLS")
	}
	if err := s.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("Check: got %v, want the STARTTLS error", err)
	}
}

func TestSendConnectionLostMidBatch(t *testing.T) {
	// In the clear to loopback so the proxy can see the commands: it hangs
	// up when the second message starts.
	srv := mailpit.Start(t, mailpit.Options{})
	p := startProxy(t, srv.Addr, func(sent string) bool { return strings.Count(sent, "MAIL FROM") >= 2 })
	cfg := configFor(srv, TLSNone)
	cfg.Port = p.Port
	results, err := collect(NewSMTP(cfg), context.Background(), testMsgs(t, "ann@example.test", "bob@example.test", "cee@example.test"))
	if err != nil {
		t.Fatalf("Send: %v (the first message went through)", err)
	}
	if !results[0].Delivered {
		t.Errorf("ann: %+v, want delivered", results[0])
	}
	checkErr(t, results[1].Err, "", "bob@example.test")
	checkErr(t, results[2].Err, "", "not attempted")
	for _, r := range results[1:] {
		if r.Delivered {
			t.Errorf("delivered after the connection was cut: %+v", r)
		}
	}
	if got := srv.Messages(t); len(got) != 1 || got[0].To[0] != "ann@example.test" {
		t.Errorf("mailpit holds %+v, want only ann's message", got)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{ImplicitTLS: true, Auth: true})
	s := NewSMTP(configFor(srv, TLSImplicit))
	results, err := collect(s, context.Background(), testMsgs(t, "ann@example.test", "bob@example.test"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i, r := range results {
		if !r.Delivered {
			t.Errorf("result %d: %+v, want delivered", i, r)
		}
	}
	if n := len(srv.Messages(t)); n != 2 {
		t.Errorf("mailpit holds %d messages, want 2", n)
	}
	if _, _, ok := s.Cert(); !ok {
		t.Error("Cert() not ok after implicit TLS")
	}
}

func TestSendImplicitTLSToSTARTTLSPort(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true})
	results, err := collect(NewSMTP(configFor(srv, TLSImplicit)), context.Background(), testMsgs(t, "ann@example.test"))
	checkErr(t, err, srv.Password, "does not speak TLS from the start", "--smtp-tls=starttls")
	assertNoneDelivered(t, results, 1)
}

func TestSendTLSNoneToLoopback(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{Auth: true, Args: []string{"--smtp-auth-allow-insecure"}})
	s := NewSMTP(configFor(srv, TLSNone))
	results, err := collect(s, context.Background(), testMsgs(t, "ann@example.test"))
	if err != nil || !results[0].Delivered {
		t.Fatalf("Send: %v, %+v; want delivered in the clear to loopback", err, results)
	}
	if _, _, ok := s.Cert(); ok {
		t.Error("Cert() ok with --smtp-tls=none")
	}
}

func TestSendCertificateProblems(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		opts mailpit.Options
		cfg  func(*SMTPConfig)
		as   func(error) bool
		want []string
	}{
		{
			name: "untrusted CA",
			cfg:  func(c *SMTPConfig) { c.RootCAs = x509.NewCertPool() },
			as:   func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) },
			want: []string{"signed by an unknown authority", "--smtp-ca-file"},
		},
		{
			name: "expired",
			opts: mailpit.Options{CertNotBefore: now.Add(-90 * 24 * time.Hour), CertNotAfter: now.Add(-3 * 24 * time.Hour)},
			as: func(err error) bool {
				var p *x509.CertificateInvalidError
				var v x509.CertificateInvalidError
				return errors.As(err, &p) && p.Reason == x509.Expired && errors.As(err, &v) && v.Reason == x509.Expired
			},
			want: []string{"expired on " + now.Add(-3*24*time.Hour).UTC().Format(time.DateOnly), "3 days ago", "renew it on the server"},
		},
		{
			name: "not yet valid",
			opts: mailpit.Options{CertNotBefore: now.Add(48 * time.Hour), CertNotAfter: now.Add(90 * 24 * time.Hour)},
			as: func(err error) bool {
				var p *x509.CertificateInvalidError
				var v x509.CertificateInvalidError
				return errors.As(err, &p) && p.Reason == x509.Expired && errors.As(err, &v) && v.Reason == x509.Expired
			},
			want: []string{"not valid until " + now.Add(48*time.Hour).UTC().Format(time.DateOnly), "check the clock"},
		},
		{
			name: "wrong host",
			opts: mailpit.Options{CertHosts: []string{"mail.example.test"}},
			as:   func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) },
			want: []string{"not for 127.0.0.1", "mail.example.test", "--smtp-host"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.StartTLS, tt.opts.Auth = true, true
			srv := mailpit.Start(t, tt.opts)
			cfg := configFor(srv, TLSStartTLS)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := NewSMTP(cfg)
			results, err := collect(s, context.Background(), testMsgs(t, "ann@example.test"))
			checkErr(t, err, srv.Password, append([]string{"smtp 127.0.0.1:" + strconv.Itoa(srv.Port)}, tt.want...)...)
			if !tt.as(err) {
				t.Errorf("errors.As did not find the x509 error in %v", err)
			}
			assertNoneDelivered(t, results, 1)
			if n := len(srv.Messages(t)); n != 0 {
				t.Errorf("mailpit holds %d messages, want 0", n)
			}
			if _, _, ok := s.Cert(); ok {
				t.Error("Cert() ok although verification failed")
			}
		})
	}
}

func TestCertExpiringSoon(t *testing.T) {
	notAfter := time.Now().Add(5 * 24 * time.Hour).Truncate(time.Second)
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true, CertNotAfter: notAfter})
	s := NewSMTP(configFor(srv, TLSStartTLS))
	if _, _, ok := s.Cert(); ok {
		t.Fatal("Cert() ok before any connection")
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	got, chain, ok := s.Cert()
	if !ok || !got.Equal(notAfter) {
		t.Errorf("Cert() = %v, %v; want %v", got, ok, notAfter)
	}
	if len(chain) == 0 || !chain[0].NotAfter.Equal(notAfter) {
		t.Errorf("chain[0] is not the expiring leaf: %v", chain)
	}
	if n := len(srv.Messages(t)); n != 0 {
		t.Errorf("Check sent %d messages, want 0", n)
	}
}

func TestSendAllowedRecipients(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true, AllowedRecipients: `^(ann|cee)@example\.test$`})
	tos := []string{"ann@example.test", "bob@example.test", "cee@example.test"}
	results, err := collect(NewSMTP(configFor(srv, TLSStartTLS)), context.Background(), testMsgs(t, tos...))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i, want := range []bool{true, false, true} {
		if results[i].Delivered != want {
			t.Errorf("%s: Delivered = %v, want %v (%v)", tos[i], results[i].Delivered, want, results[i].Err)
		}
	}
	bob := results[1]
	checkErr(t, bob.Err, srv.Password, "bob@example.test", "550", "permanent")
	var se *gomail.SendError
	if !errors.As(bob.Err, &se) || se.ErrorCode() != 550 || se.IsTemp() {
		t.Errorf("errors.As *gomail.SendError: %v, want a permanent 550", se)
	}
	if bob.Temporary() || !IsPermanent(bob.Err) {
		t.Errorf("bob: Temporary=%v IsPermanent=%v, want false, true", bob.Temporary(), IsPermanent(bob.Err))
	}
	got := srv.Messages(t)
	if len(got) != 2 {
		t.Fatalf("mailpit holds %d messages, want 2", len(got))
	}
	for _, m := range got {
		if m.To[0] == "bob@example.test" {
			t.Error("bob got a message")
		}
	}
}

func TestSendChaosTemporaryRecipient(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true, Chaos: true})
	srv.SetChaos(t, `{"Recipient":{"ErrorCode":451,"Probability":100}}`)
	results, err := collect(NewSMTP(configFor(srv, TLSStartTLS)), context.Background(), testMsgs(t, "ann@example.test", "bob@example.test"))
	if err != nil {
		t.Fatalf("Send: %v (a refused recipient must not fail the whole batch)", err)
	}
	for i, r := range results {
		if r.Delivered || !r.Temporary() {
			t.Errorf("result %d: %+v, want a temporary failure", i, r)
		}
		checkErr(t, r.Err, srv.Password, "451", "temporary")
		if IsPermanent(r.Err) {
			t.Errorf("IsPermanent(451) = true")
		}
	}
	if n := len(srv.Messages(t)); n != 0 {
		t.Errorf("mailpit holds %d messages, want 0", n)
	}
}

func TestSendServerDown(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true})
	cfg := configFor(srv, TLSStartTLS)
	srv.Stop()
	results, err := collect(NewSMTP(cfg), context.Background(), testMsgs(t, "ann@example.test", "bob@example.test"))
	checkErr(t, err, srv.Password, "smtp "+srv.Addr+": connection refused; is the server running and the port right (--smtp-port)?")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("errors.Is ECONNREFUSED: false for %v", err)
	}
	assertNoneDelivered(t, results, 2)
	for _, r := range results {
		if r.Err != err {
			t.Errorf("result error %v, want the Send error", r.Err)
		}
	}
}

// silentServer accepts connections and never says a word; accepted
// receives once per connection.
func silentServer(t *testing.T) (port int, accepted <-chan struct{}) {
	addr, acc := smtppeer.Silent(t)
	_, p, _ := net.SplitHostPort(addr)
	port, _ = strconv.Atoi(p)
	return port, acc
}

func TestSendSilentServerTimesOut(t *testing.T) {
	for _, mode := range []TLSMode{TLSStartTLS, TLSImplicit} {
		t.Run(string(mode), func(t *testing.T) {
			port, _ := silentServer(t)
			cfg := SMTPConfig{Host: "127.0.0.1", Port: port, User: "bob", Password: "s3cret-pw", TLS: mode, Timeout: 300 * time.Millisecond}
			s := NewSMTP(cfg)
			results, err := collect(s, context.Background(), testMsgs(t, "ann@example.test"))
			checkErr(t, err, cfg.Password, "smtp 127.0.0.1:"+strconv.Itoa(port)+" timed out after 300ms")
			if !isTimeout(err) {
				t.Errorf("error does not wrap a timeout: %v", err)
			}
			assertNoneDelivered(t, results, 1)
			checkErr(t, s.Check(context.Background()), cfg.Password, "timed out after 300ms")
		})
	}
}

func TestSendCancelledWhileWaiting(t *testing.T) {
	port, accepted := silentServer(t)
	// A minute-long timeout: only the cancellation can end this quickly.
	s := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSStartTLS, Timeout: time.Minute})
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-accepted // connected and waiting for a greeting
		cancel(errors.New("shutting down"))
	}()
	results, err := collect(s, ctx, testMsgs(t, "ann@example.test"))
	checkErr(t, err, "", "stopped: shutting down")
	assertNoneDelivered(t, results, 1)
}

func TestValidate(t *testing.T) {
	ok := SMTPConfig{Host: "mail.example.test", Port: 587, User: "bob", Password: "pw-123", TLS: TLSStartTLS}
	tests := []struct {
		name string
		edit func(*SMTPConfig)
		want string // empty: valid
	}{
		{"starttls", func(c *SMTPConfig) {}, ""},
		{"implicit", func(c *SMTPConfig) { c.TLS, c.Port = TLSImplicit, 465 }, ""},
		{"none to localhost", func(c *SMTPConfig) { c.TLS, c.Host = TLSNone, "localhost" }, ""},
		{"none to 127.0.0.2", func(c *SMTPConfig) { c.TLS, c.Host = TLSNone, "127.0.0.2" }, ""},
		{"none to ::1", func(c *SMTPConfig) { c.TLS, c.Host = TLSNone, "::1" }, ""},
		{"none to remote with password", func(c *SMTPConfig) { c.TLS = TLSNone }, "would send the password for bob to mail.example.test unencrypted: use --smtp-tls=starttls"},
		{"none to remote without login", func(c *SMTPConfig) { c.TLS, c.User, c.Password = TLSNone, "", "" }, "allowed only to this machine"},
		{"none to localhost.evil.test", func(c *SMTPConfig) { c.TLS, c.Host = TLSNone, "localhost.evil.test" }, "unencrypted"},
		{"no host", func(c *SMTPConfig) { c.Host = "" }, "--smtp-host"},
		{"port 0", func(c *SMTPConfig) { c.Port = 0 }, "--smtp-port"},
		{"port too big", func(c *SMTPConfig) { c.Port = 70000 }, "out of range"},
		{"user without password", func(c *SMTPConfig) { c.Password = "" }, "--smtp-password-file"},
		{"password without user", func(c *SMTPConfig) { c.User = "" }, "--smtp-user"},
		{"bad mode", func(c *SMTPConfig) { c.TLS = "ssl" }, `unknown smtp tls mode "ssl"`},
		{"host with newline", func(c *SMTPConfig) { c.Host = "a\nb" }, "not a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkErr(t, err, c.Password, tt.want)
			// Send refuses the same config without connecting.
			results, serr := collect(NewSMTP(c), context.Background(), testMsgs(t, "ann@example.test"))
			if serr == nil || serr.Error() != err.Error() {
				t.Errorf("Send: got %v, want %v", serr, err)
			}
			assertNoneDelivered(t, results, 1)
		})
	}
}

func TestParseTLSMode(t *testing.T) {
	tests := []struct {
		in   string
		want TLSMode
		err  bool
	}{
		{"", TLSStartTLS, false},
		{"starttls", TLSStartTLS, false},
		{"STARTTLS", TLSStartTLS, false},
		{"tls", TLSImplicit, false},
		{" none ", TLSNone, false},
		{"ssl", "", true},
		{"off", "", true},
	}
	for _, tt := range tests {
		got, err := ParseTLSMode(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseTLSMode(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSendEachReportsBeforeTheNextMessage(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{StartTLS: true, Auth: true})
	tos := []string{"ann@example.test", "bob@example.test", "cee@example.test"}
	var order []int
	err := NewSMTP(configFor(srv, TLSStartTLS)).SendEach(context.Background(), testMsgs(t, tos...), nil, func(i int, r Result) {
		order = append(order, i)
		if !r.Delivered {
			t.Errorf("result %d: %+v, want delivered", i, r)
		}
		// The server holds this message and none after it yet.
		if n := len(srv.Messages(t)); n != i+1 {
			t.Errorf("when message %d was reported, mailpit held %d messages, want %d", i, n, i+1)
		}
	})
	if err != nil {
		t.Fatalf("SendEach: %v", err)
	}
	if !slices.Equal(order, []int{0, 1, 2}) {
		t.Errorf("done called for %v, want 0, 1, 2", order)
	}
}

func TestSendLoginProblems(t *testing.T) {
	tests := []struct {
		name     string
		opts     mailpit.Options
		chaos    string
		password string
		want     []string
		temp     bool
	}{
		{
			name:     "server offers no login",
			opts:     mailpit.Options{StartTLS: true},
			password: "pw-123",
			want:     []string{"does not offer a login (AUTH)", "remove --smtp-user"},
		},
		{
			name:  "temporary login failure",
			opts:  mailpit.Options{StartTLS: true, Auth: true, Chaos: true},
			chaos: `{"Authentication":{"ErrorCode":454,"Probability":100}}`,
			want:  []string{"smtp login as cotd at 127.0.0.1 failed: 454", "try again later"},
			temp:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailpit.Start(t, tt.opts)
			if tt.chaos != "" {
				srv.SetChaos(t, tt.chaos)
			}
			cfg := configFor(srv, TLSStartTLS)
			if tt.password != "" {
				cfg.User, cfg.Password = "cotd", tt.password
			}
			results, err := collect(NewSMTP(cfg), context.Background(), testMsgs(t, "ann@example.test"))
			checkErr(t, err, cfg.Password, tt.want...)
			assertNoneDelivered(t, results, 1)
			if results[0].Temporary() != tt.temp {
				t.Errorf("Temporary = %v, want %v", results[0].Temporary(), tt.temp)
			}
			if n := len(srv.Messages(t)); n != 0 {
				t.Errorf("mailpit holds %d messages, want 0", n)
			}
		})
	}
}
