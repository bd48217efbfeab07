// Package mailpit starts a real Mailpit SMTP server on loopback for tests.
//
// Each Server gets its own ports, database, certificate authority and
// password, so tests can run in parallel and never see each other's mail.
// It is a test helper only: nothing in the cotd binary imports it.
package mailpit

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cotd/internal/needs"
	"cotd/internal/smtppeer"
	"cotd/internal/testcert"
)

// Install is the command that installs the Mailpit version these tests use.
const Install = "go install github.com/axllent/mailpit@v1.27.11"

// Options choose how the Mailpit server is started.
type Options struct {
	// StartTLS serves a certificate made by the helper and requires
	// STARTTLS before MAIL (--smtp-require-starttls).
	StartTLS bool
	// ImplicitTLS makes the listener speak TLS from the first byte
	// (--smtp-require-tls), as on port 465.
	ImplicitTLS bool
	// Auth requires SMTP AUTH with a generated user and password.
	Auth bool
	// CertNotBefore and CertNotAfter bound the server certificate's
	// validity; zero values mean valid from an hour ago for a year. The
	// CA is always valid for longer, so only the leaf expires.
	CertNotBefore, CertNotAfter time.Time
	// CertHosts are the certificate's SANs (IP addresses or DNS names);
	// default 127.0.0.1 and localhost.
	CertHosts []string
	// AllowedRecipients is a Go regexp; other recipients get 550.
	AllowedRecipients string
	// Chaos enables the chaos API (see SetChaos).
	Chaos bool
	// Args are extra command-line flags.
	Args []string
}

// Server is a running Mailpit.
type Server struct {
	Host string // 127.0.0.1
	Port int    // SMTP port
	Addr string // Host:Port of SMTP
	API  string // base URL of the REST API, e.g. http://127.0.0.1:PORT/api/v1

	// CAFile is a PEM file holding the CA that signed the server
	// certificate; CAPool holds the same CA. Empty/nil without TLS.
	CAFile string
	CAPool *x509.CertPool
	// Cert is the server (leaf) certificate; nil without TLS.
	Cert *x509.Certificate

	// User and Password are the SMTP credentials when Options.Auth is set;
	// PasswordFile holds Password followed by a newline.
	User, Password string
	PasswordFile   string

	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	stop    sync.Once
}

// Summary is one message as listed by the Mailpit API.
type Summary struct {
	ID        string
	To        []string // bare addresses
	Subject   string
	MessageID string
}

// Binary returns the path of the mailpit executable: $MAILPIT, else
// mailpit on $PATH, else $(go env GOPATH)/bin/mailpit. When none exists
// the test is skipped, or fails when $CI is set.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MAILPIT"); p != "" {
		if _, err := os.Stat(p); err != nil {
			missing(t, fmt.Sprintf("MAILPIT=%s: %v", p, err))
		}
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := ""
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopath = strings.TrimSpace(strings.SplitN(string(out), string(os.PathListSeparator), 2)[0])
	}
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	p := filepath.Join(gopath, "bin", "mailpit")
	if _, err := os.Stat(p); err != nil {
		missing(t, "mailpit not found in $MAILPIT, $PATH or "+p)
	}
	return p
}

func missing(t testing.TB, why string) { needs.Missing(t, why, Install) }

// Start runs a Mailpit configured by o and waits until its SMTP port and
// API answer. The server is stopped when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	s := &Server{Host: "127.0.0.1"}

	var args []string
	if o.StartTLS || o.ImplicitTLS {
		certFile, keyFile := s.makeCert(t, dir, o)
		args = append(args, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile)
		if o.StartTLS {
			args = append(args, "--smtp-require-starttls")
		}
		if o.ImplicitTLS {
			args = append(args, "--smtp-require-tls")
		}
	}
	if o.Auth {
		s.User = "cotd"
		s.Password = rand.Text()
		authFile := filepath.Join(dir, "smtp-auth")
		writeFile(t, authFile, s.User+":"+s.Password+"\n")
		s.PasswordFile = filepath.Join(dir, "smtp-password")
		writeFile(t, s.PasswordFile, s.Password+"\n")
		args = append(args, "--smtp-auth-file", authFile)
	}
	if o.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", o.AllowedRecipients)
	}
	if o.Chaos {
		args = append(args, "--enable-chaos")
	}
	args = append(args, o.Args...)

	// Free ports are found by binding and closing, so another process can
	// take one in between: retry with fresh ports when Mailpit exits early.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		lastErr = s.launch(t, bin, dir, attempt, args)
		if lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("start mailpit: %v", lastErr)
	return nil
}

func (s *Server) launch(t testing.TB, bin, dir string, attempt int, extra []string) error {
	t.Helper()
	smtpPort, httpPort := smtppeer.Port(t), smtppeer.Port(t)
	s.Port = smtpPort
	s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(smtpPort))
	httpAddr := net.JoinHostPort(s.Host, strconv.Itoa(httpPort))
	s.API = "http://" + httpAddr + "/api/v1"
	s.logPath = filepath.Join(dir, fmt.Sprintf("mailpit-%d.log", attempt))

	args := []string{
		"--smtp", s.Addr,
		"--listen", httpAddr,
		"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", attempt)),
		"--disable-version-check",
		"--smtp-disable-rdns",
		"--max", "0",
	}
	args = append(args, extra...)
	logf, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()

	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.ready() {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("mailpit exited early: %s", s.logTail())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("mailpit not ready after 30s: %s", s.logTail())
		}
	}
}

func (s *Server) ready() bool {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := http.Get(s.API + "/messages?limit=1")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Stop kills Mailpit at once (for "the server went down" tests). It is
// safe to call more than once.
func (s *Server) Stop() {
	s.stop.Do(s.kill)
}

// Messages returns every stored message, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	return s.list(t, "/messages", nil)
}

// Search returns the messages matching a Mailpit search query such as
// "to:bob@example.test".
func (s *Server) Search(t testing.TB, query string) []Summary {
	t.Helper()
	return s.list(t, "/search", url.Values{"query": {query}})
}

func (s *Server) list(t testing.TB, path string, q url.Values) []Summary {
	t.Helper()
	const page = 200
	var all []Summary
	for start := 0; ; start += page {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("start", strconv.Itoa(start))
		v.Set("limit", strconv.Itoa(page))
		var resp struct {
			MessagesCount int `json:"messages_count"`
			Messages      []struct {
				ID        string
				MessageID string
				Subject   string
				To        []struct{ Address string }
			}
		}
		s.call(t, http.MethodGet, path+"?"+v.Encode(), nil, &resp)
		for _, m := range resp.Messages {
			sum := Summary{ID: m.ID, Subject: m.Subject, MessageID: m.MessageID}
			for _, to := range m.To {
				sum.To = append(sum.To, to.Address)
			}
			all = append(all, sum)
		}
		if len(resp.Messages) < page || start+page >= resp.MessagesCount {
			return all
		}
	}
}

// Raw returns the message exactly as Mailpit received it.
func (s *Server) Raw(t testing.TB, id string) []byte {
	t.Helper()
	var b bytes.Buffer
	s.call(t, http.MethodGet, "/message/"+url.PathEscape(id)+"/raw", nil, &b)
	return b.Bytes()
}

// SetChaos sets the chaos triggers (the server must run with
// Options.Chaos), e.g. `{"Recipient":{"ErrorCode":451,"Probability":100}}`;
// `{}` resets them.
func (s *Server) SetChaos(t testing.TB, triggers string) {
	t.Helper()
	s.call(t, http.MethodPut, "/chaos", strings.NewReader(triggers), nil)
}

// DeleteAll deletes every stored message.
func (s *Server) DeleteAll(t testing.TB) {
	t.Helper()
	s.call(t, http.MethodDelete, "/messages", strings.NewReader("{}"), nil)
}

// call does one API request; out is a *bytes.Buffer for the raw body or
// a pointer to decode JSON into.
func (s *Server) call(t testing.TB, method, path string, body io.Reader, out any) {
	t.Helper()
	req, err := http.NewRequest(method, s.API+path, body)
	if err != nil {
		t.Fatalf("mailpit api: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("mailpit api %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("mailpit api %s %s: read body: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit api %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	switch o := out.(type) {
	case nil:
	case *bytes.Buffer:
		o.Write(b)
	default:
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("mailpit api %s %s: decode: %v", method, path, err)
		}
	}
}

// makeCert creates a CA and a server certificate signed by it, writes the
// CA and the server's cert and key into dir and returns their paths.
func (s *Server) makeCert(t testing.TB, dir string, o Options) (certFile, keyFile string) {
	t.Helper()
	notBefore, notAfter := o.CertNotBefore, o.CertNotAfter
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	hosts := o.CertHosts
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "localhost"}
	}

	ca := testcert.NewCA(t, "cotd test CA "+rand.Text()[:8],
		earliest(notBefore, time.Now()).Add(-24*time.Hour), latest(notAfter, time.Now()).Add(2*365*24*time.Hour))
	leaf := ca.Issue(t, testcert.Server{CN: hosts[0], Hosts: hosts, NotBefore: notBefore, NotAfter: notAfter})
	s.Cert = leaf.Leaf
	s.CAFile = filepath.Join(dir, "ca.pem")
	testcert.WriteCerts(t, s.CAFile, ca.Cert)
	s.CAPool = ca.Pool
	certFile = filepath.Join(dir, "server.pem")
	testcert.WriteCerts(t, certFile, leaf.Leaf)
	keyFile = filepath.Join(dir, "server.key")
	testcert.WriteKey(t, keyFile, leaf)
	return certFile, keyFile
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
