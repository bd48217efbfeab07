package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTP delivers messages to one SMTP server.
type SMTP struct {
	cfg SMTPConfig
	end time.Time // the budget runs out

	mu       sync.Mutex
	certOK   bool
	notAfter time.Time
	chain    []*x509.Certificate
}

// NewSMTP returns a sender for c. It does not connect; call Validate
// first to report configuration errors early (Send and Check do too).
func NewSMTP(c SMTPConfig) *SMTP {
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	// [::1] and ::1 are the same host; brackets belong to host:port only.
	if strings.HasPrefix(c.Host, "[") && strings.HasSuffix(c.Host, "]") {
		c.Host = c.Host[1 : len(c.Host)-1]
	}
	if c.Budget == 0 {
		c.Budget = DefaultBudget
	}
	if c.Steps == (StepTimeouts{}) {
		c.Steps = RFC5321Timeouts
	}
	if c.Timeout > 0 {
		t := c.Timeout
		c.Steps = StepTimeouts{Greeting: t, Mail: t, Rcpt: t, Data: t, Block: t, FinalDot: t}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &SMTP{cfg: c, end: time.Now().Add(c.Budget)}
}

// outOfTime reports whether the budget for starting messages is spent.
func (s *SMTP) outOfTime() bool { return !time.Now().Before(s.end) }

func (s *SMTP) addr() string {
	return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
}

// Cert returns the earliest NotAfter of the server's verified certificate
// chain on the last connection, and that chain (leaf first). ok is false
// when the last connection was not encrypted or never got that far.
func (s *SMTP) Cert() (notAfter time.Time, chain []*x509.Certificate, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notAfter, slices.Clone(s.chain), s.certOK
}

// Check connects, negotiates TLS, logs in and says goodbye without
// sending anything.
func (s *SMTP) Check(ctx context.Context) error {
	sess, client, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer sess.close()
	if err := client.Quit(); err != nil {
		return sess.describe(ctx, fmt.Errorf("QUIT: %w", err))
	}
	return nil
}

// session is the state of one connection.
type session struct {
	s    *SMTP
	ctx  context.Context // the caller's; go-mail dials with a shorter-lived one
	gm   *gomail.Client
	auth *loginAuth

	st *steps

	// after is an error that followed the last message (its RSET): the
	// session is not used again.
	after error

	mu      sync.Mutex
	conn    *watchConn
	stopCtx func() bool
}

func (sess *session) close() {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.stopCtx != nil {
		sess.stopCtx()
	}
	if sess.conn != nil {
		sess.conn.Close()
	}
}

// ioErr returns the first read or write error on the connection.
func (sess *session) ioErr() error {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.conn == nil {
		return nil
	}
	return sess.conn.err()
}

// dial connects, negotiates TLS and logs in.
func (s *SMTP) dial(ctx context.Context) (*session, *smtp.Client, error) {
	if err := s.cfg.Validate(); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	s.certOK, s.notAfter, s.chain = false, time.Time{}, nil
	s.mu.Unlock()

	sess := &session{s: s, ctx: ctx, st: newSteps(s.cfg.Steps, s.end)}
	tlsConfig := &tls.Config{
		ServerName: strings.Trim(s.cfg.Host, "[]"),
		RootCAs:    s.cfg.RootCAs,
		MinVersion: tls.VersionTLS12,
		// Runs after the normal chain and host name verification (which
		// stays on), so only verified chains are recorded.
		VerifyConnection: func(cs tls.ConnectionState) error {
			sess.st.tlsDone()
			return s.recordCert(cs)
		},
	}
	// go-mail's own deadlines are ignored (see steps); this one bounds its
	// dial context only, which the budget bounds anyway.
	connTimeout := max(s.cfg.Steps.Greeting, s.cfg.Steps.FinalDot)
	opts := []gomail.Option{
		gomail.WithTimeout(connTimeout),
		gomail.WithDebugLog(),
		gomail.WithLogger(stepLog{sess.st}),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(sess.dialFunc(tlsConfig)),
		gomail.WithPort(s.cfg.Port),
	}
	switch s.cfg.TLS {
	case TLSImplicit:
		// The dial function does the TLS handshake; WithSSL only tells
		// go-mail not to try STARTTLS on top.
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.User != "" {
		sess.auth = &loginAuth{
			user: s.cfg.User, pass: s.cfg.Password, host: s.cfg.Host,
			allowPlain: s.cfg.TLS == TLSNone && isLoopbackHost(s.cfg.Host),
		}
		opts = append(opts, gomail.WithSMTPAuthCustom(sess.auth))
	}
	gm, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("smtp %s: %w", s.addr(), err)
	}
	sess.gm = gm
	client, err := gm.DialToSMTPClientWithContext(ctx)
	if err != nil {
		err = sess.describe(ctx, err)
		sess.close()
		return nil, nil, err
	}
	return sess, client, nil
}

// dialFunc connects, remembers the connection (to read its I/O errors and
// to cut it when ctx ends) and does the handshake for implicit TLS.
func (sess *session) dialFunc(tlsConfig *tls.Config) gomail.DialContextFunc {
	s := sess.s
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{Deadline: sess.st.deadline(false)}
		// go-mail joins host and port with a bare colon, which breaks an
		// IPv6 literal (::1:587 has "too many colons"); dial the address
		// joined properly instead.
		raw, err := d.DialContext(ctx, network, s.addr())
		if err != nil {
			return nil, err
		}
		if s.cfg.TLS == TLSNone {
			if ta, ok := raw.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
				raw.Close()
				return nil, fmt.Errorf("%w: %s resolved to %s", errNotLoopback, s.cfg.Host, raw.RemoteAddr())
			}
		}
		conn := &watchConn{Conn: raw, st: sess.st}
		sess.mu.Lock()
		sess.conn = conn
		// Cancelling ctx (SIGTERM from systemd) cuts the connection, so
		// no read waits for its full timeout, unless a message's content
		// is already on its way: that one is finished (within StopGrace)
		// and recorded, or the server would hold a message the next run
		// sends again.
		sess.stopCtx = context.AfterFunc(sess.ctx, func() {
			if sess.st.inFlight() {
				_ = raw.SetDeadline(sess.st.stop(StopGrace))
				return
			}
			conn.Close()
		})
		sess.mu.Unlock()
		if s.cfg.TLS != TLSImplicit {
			return conn, nil
		}
		tc := tls.Client(conn, tlsConfig)
		hctx, cancel := context.WithDeadline(ctx, sess.st.deadline(false))
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

var errNotLoopback = errors.New("--smtp-tls=none is allowed only to this machine")

// recordCert keeps the verified chain whose earliest expiry is latest:
// that is the chain the connection actually depends on.
func (s *SMTP) recordCert(cs tls.ConnectionState) error {
	var best []*x509.Certificate
	var bestNotAfter time.Time
	for _, chain := range cs.VerifiedChains {
		var earliest time.Time
		for _, c := range chain {
			if earliest.IsZero() || c.NotAfter.Before(earliest) {
				earliest = c.NotAfter
			}
		}
		if best == nil || earliest.After(bestNotAfter) {
			best, bestNotAfter = chain, earliest
		}
	}
	if best == nil {
		return nil
	}
	s.mu.Lock()
	s.certOK, s.notAfter, s.chain = true, bestNotAfter, best
	s.mu.Unlock()
	return nil
}

// watchConn remembers the first I/O error, which go-mail's errors do not
// always carry (a failed NOOP becomes "no active connection"), and gives
// each read and write the deadline of its step.
type watchConn struct {
	net.Conn
	st    *steps
	mu    sync.Mutex
	first error
}

// SetDeadline and friends ignore go-mail's deadlines (one per message);
// steps sets them per read and write instead.
func (c *watchConn) SetDeadline(time.Time) error      { return nil }
func (c *watchConn) SetReadDeadline(time.Time) error  { return nil }
func (c *watchConn) SetWriteDeadline(time.Time) error { return nil }

func (c *watchConn) note(err error) {
	if err == nil {
		return
	}
	if isTimeout(err) {
		c.st.expired()
	}
	c.mu.Lock()
	if c.first == nil {
		c.first = err
	}
	c.mu.Unlock()
}

func (c *watchConn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

func (c *watchConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetDeadline(c.st.deadline(false)); err != nil {
		c.note(err)
		return 0, err
	}
	n, err := c.Conn.Read(b)
	c.note(err)
	return n, err
}

func (c *watchConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetDeadline(c.st.deadline(true)); err != nil {
		c.note(err)
		return 0, err
	}
	n, err := c.Conn.Write(b)
	c.note(err)
	return n, err
}
