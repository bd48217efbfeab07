package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"cotd/certs"
)

// TLSMode says how the SMTP connection is encrypted.
type TLSMode string

const (
	// TLSStartTLS upgrades a plain connection (usually port 587) with
	// STARTTLS and refuses to go on when the server does not offer it.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (usually port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone sends in the clear; allowed only to loopback hosts.
	TLSNone TLSMode = "none"
)

// DefaultTimeout is a short fixed wait for callers that want one
// (SMTPConfig.Timeout); cotd run waits RFC5321Timeouts instead.
const DefaultTimeout = 30 * time.Second

// StepTimeouts are how long each step of an SMTP session may take.
type StepTimeouts struct {
	Greeting time.Duration // the 220 greeting, and EHLO, STARTTLS, AUTH, RSET, QUIT
	Mail     time.Duration // MAIL FROM
	Rcpt     time.Duration // RCPT TO
	Data     time.Duration // the DATA command's 354
	Block    time.Duration // each block of the message's content
	FinalDot time.Duration // the reply to the final dot
}

// RFC5321Timeouts are the waits RFC 5321 §4.5.3.2 asks of a client. A
// server may take minutes at each step (a content filter after the final
// dot, a busy queue at MAIL) and still accept the message; giving up
// sooner means the server has the message, cotd records nothing, and the
// next run sends it again.
var RFC5321Timeouts = StepTimeouts{
	Greeting: 5 * time.Minute, Mail: 5 * time.Minute, Rcpt: 5 * time.Minute,
	Data: 2 * time.Minute, Block: 3 * time.Minute, FinalDot: 10 * time.Minute,
}

// DefaultBudget bounds everything one SMTP value sends, from NewSMTP on:
// the run's whole time with the server. cotd.service has
// TimeoutStartSec=15min; 12 minutes leaves room for indexing before and
// the alert after, so systemd never kills a run mid-message.
const DefaultBudget = 12 * time.Minute

// StopGrace is how long a message whose content is already on its way
// may still take to be answered after SIGTERM (systemd's stop timeout is
// 90 s): cutting it then would leave the server holding a message cotd
// did not record, and the next run would send it twice.
const StopGrace = 30 * time.Second

// ParseTLSMode parses a --smtp-tls value; empty means starttls.
func ParseTLSMode(s string) (TLSMode, error) {
	switch m := TLSMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return TLSStartTLS, nil
	case TLSStartTLS, TLSImplicit, TLSNone:
		return m, nil
	}
	return "", fmt.Errorf("unknown smtp tls mode %q: use starttls (port 587), tls (port 465) or none (loopback only)", s)
}

// SMTPConfig says where and how to deliver.
type SMTPConfig struct {
	Host     string
	Port     int
	User     string
	Password string // never printed
	TLS      TLSMode
	// RootCAs are the trusted roots: the system roots plus the owner's
	// --smtp-ca-file. Nil means the system roots. Verification is never
	// disabled.
	RootCAs *x509.CertPool
	// Timeout, when set, is the wait for every step (dial, TLS handshake,
	// each SMTP command, each data block, the final dot): for `cotd check`,
	// the alert mail and tests. 0 means RFC 5321's per-step timeouts.
	Timeout time.Duration
	// Steps are the per-step waits when Timeout is 0; the zero value
	// means RFC5321Timeouts.
	Steps StepTimeouts
	// Budget bounds all sending through one SMTP value, counted from
	// NewSMTP; 0 means DefaultBudget.
	Budget time.Duration
	// Now is the clock used to describe certificate dates in errors;
	// nil means time.Now.
	Now func() time.Time
}

// Validate reports a configuration that cotd must refuse, with the fix.
func (c SMTPConfig) Validate() error {
	if c.Host == "" {
		return errors.New("smtp host is empty: set --smtp-host, or leave it unset to write an outbox")
	}
	if strings.ContainsAny(c.Host, " \t\r\n/") {
		return fmt.Errorf("smtp host %q is not a host name: set --smtp-host to a name or address only", c.Host)
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("smtp port %d is out of range: set --smtp-port to 587 (starttls) or 465 (tls)", c.Port)
	}
	if _, err := ParseTLSMode(string(c.TLS)); err != nil {
		return err
	}
	if c.TLS == TLSNone && !isLoopbackHost(c.Host) {
		if c.Password != "" {
			return fmt.Errorf("--smtp-tls=none would send the password for %s to %s unencrypted: use --smtp-tls=starttls (port 587) or tls (port 465)", c.User, c.Host)
		}
		return fmt.Errorf("--smtp-tls=none is allowed only to this machine (127.0.0.1, ::1, localhost), not %s: use --smtp-tls=starttls (port 587) or tls (port 465)", c.Host)
	}
	if c.User != "" && c.Password == "" {
		return fmt.Errorf("smtp user %s has no password: set --smtp-password-file", c.User)
	}
	if c.User == "" && c.Password != "" {
		return errors.New("smtp password given without a user: set --smtp-user")
	}
	if strings.ContainsAny(c.User, "\r\n\x00") {
		return errors.New("smtp user contains a line break or NUL: check --smtp-user")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("smtp timeout %s is negative", c.Timeout)
	}
	return nil
}

// isLoopbackHost reports whether host names this machine without a DNS
// lookup: 127.0.0.0/8, ::1 or localhost.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

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

// SendEach delivers msgs over one connection, one message after the
// other, reporting each result through done as soon as it is known
// (before the next message goes out), so the caller can record a delivery
// at once and a crash mid-batch costs at most one duplicate. A refused
// recipient fails only its own message. The error is non-nil only when
// nothing could be attempted (config, connect, TLS, login); then every
// result carries it.
// done is called exactly once per message, in order, on the calling
// goroutine.
func (s *SMTP) SendEach(ctx context.Context, msgs []*gomail.Msg, done func(i int, r Result)) error {
	if len(msgs) == 0 {
		return nil
	}
	sess, client, err := s.dial(ctx)
	if err != nil {
		for i := range msgs {
			done(i, Result{Err: err, Temporary: isTemporary(err)})
		}
		return err
	}
	defer sess.close()

	defer func() { sess.close() }() // sess changes on a reconnect

	var broken error // set once the connection is unusable
	redial := false  // the connection timed out: try the rest on a fresh one
	for i, m := range msgs {
		if broken != nil && redial && m != nil && ctx.Err() == nil && !sess.st.outOfTime() {
			// One slow message must not cost the others their morning.
			sess.close()
			ns, nc, err := s.dial(ctx)
			if err != nil {
				broken, redial = err, false
				done(i, Result{Err: err, Temporary: isTemporary(err)})
				continue
			}
			sess, client, broken, redial = ns, nc, nil, false
		}
		switch {
		case m == nil:
			done(i, Result{Err: errors.New("no message")})
			continue
		case sess.st.outOfTime():
			done(i, Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: the run's time for sending (%s) ran out",
				s.addr(), strings.Join(m.GetToString(), ", "), s.cfg.Budget))})
			continue
		case broken != nil:
			done(i, Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: the connection was lost",
				s.addr(), strings.Join(m.GetToString(), ", ")), broken)})
			continue
		case ctx.Err() != nil:
			done(i, Result{Err: fmt.Errorf("smtp %s: delivery to %s not attempted: %w",
				s.addr(), strings.Join(m.GetToString(), ", "), context.Cause(ctx))})
			continue
		}
		if ok, param := client.Extension("SIZE"); ok {
			if limit, err := strconv.ParseInt(strings.TrimSpace(param), 10, 64); err == nil && limit > 0 {
				if size := Size(m); size > limit {
					// Sending it would only waste the uplink's time and
					// end in 552; the caller sends smaller pieces.
					done(i, Result{Err: sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s not attempted: %v",
						s.addr(), strings.Join(m.GetToString(), ", "), &sizeError{size, limit}), &sizeError{size, limit})})
					continue
				}
			}
		}
		sendErr := sess.gm.SendWithSMTPClient(client, m)
		if m.IsDelivered() {
			// An error after the server accepted DATA (at RSET) does not
			// undo the delivery; the next message will find out whether
			// the connection survived.
			done(i, Result{Delivered: true})
			continue
		}
		if sendErr == nil {
			sendErr = m.SendError()
		}
		if sendErr == nil {
			sendErr = errors.New("not delivered, no reason given")
		}
		err := sess.describeSend(ctx, m, sendErr)
		done(i, Result{Err: err, Temporary: isTemporary(err)})
		if connectionBroken(sendErr) {
			broken = err
			redial = isTimeout(err) && !sess.st.outOfTime()
		} else if refusedAtData(sendErr) {
			// go-mail resets after a refused MAIL or RCPT but not after a
			// refused DATA, which leaves the transaction open: Postfix
			// would answer the next MAIL with "503 nested MAIL command".
			// A failed RSET shows up at the next message's NOOP.
			_ = client.Reset()
		}
	}
	// QUIT errors do not change any result: every message already has its
	// answer.
	_ = client.Quit()
	return nil
}

// IsPermanent reports whether err carries a 5xx answer from the server,
// i.e. resending the same message will fail the same way.
func IsPermanent(err error) bool {
	code := replyCode(err)
	return code >= 500 && code < 600
}

// RecipientRefused reports whether the server refused the recipient's
// address for good (5xx at RCPT TO): worth trying again tomorrow, not every
// few minutes. A 5xx at MAIL FROM or after DATA is about the sender or the
// message, and tells nothing about the address.
func RecipientRefused(err error) bool {
	var se *gomail.SendError
	return IsPermanent(err) && errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo
}

// isTemporary reports whether the server answered 4xx.
func isTemporary(err error) bool {
	code := replyCode(err)
	return code >= 400 && code < 500
}

func replyCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// connectionBroken reports whether a per-message failure means the
// connection is gone (no SMTP reply at all), so later messages would only
// wait for timeouts.
func connectionBroken(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return true
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		return false // a problem of this message only
	}
	return se.ErrorCode() == 0
}

// refusedAtData reports whether the server refused the DATA command
// itself (before any content was sent).
func refusedAtData(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.Reason == gomail.ErrSMTPData
}

// session is the state of one connection.
type session struct {
	s    *SMTP
	ctx  context.Context // the caller's; go-mail dials with a shorter-lived one
	gm   *gomail.Client
	auth *loginAuth

	st *steps

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
		VerifyConnection: s.recordCert,
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

// loginAuth logs in with PLAIN or LOGIN, whichever the server offers, and
// refuses to send the password over a connection that is not encrypted
// (unless cotd was told --smtp-tls=none to a loopback host).
type loginAuth struct {
	user, pass, host string
	allowPlain       bool

	started bool     // the password was about to go out
	offered []string // mechanisms the server offered
	login   smtp.Auth
}

var (
	errAuthUnencrypted = errors.New("refusing to send the password over an unencrypted connection")
	errAuthNoMechanism = errors.New("server offers no PLAIN or LOGIN login")
)

func (a *loginAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	a.offered = si.Auth
	if !si.TLS && !a.allowPlain {
		return "", nil, errAuthUnencrypted
	}
	switch {
	case slices.Contains(si.Auth, "PLAIN"):
		a.started = true
		return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
	case slices.Contains(si.Auth, "LOGIN"):
		a.started = true
		// Encryption was checked above.
		a.login = smtp.LoginAuth(a.user, a.pass, si.Name, true)
		return a.login.Start(si)
	}
	return "", nil, errAuthNoMechanism
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if a.login != nil {
		return a.login.Next(fromServer, more)
	}
	if more {
		return nil, errors.New("unexpected server challenge after AUTH PLAIN")
	}
	return nil, nil
}

// userError is an error whose text is written for the owner, while the
// causes stay reachable with errors.Is and errors.As.
type userError struct {
	msg    string
	causes []error
}

func (e *userError) Error() string   { return e.msg }
func (e *userError) Unwrap() []error { return e.causes }

// oneLine joins the lines of a multi-line server reply, so an error is
// one line in the journal.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// newUserError builds the message and scrubs the password from it, in
// case a server or library ever echoes it.
func (sess *session) newUserError(msg string, causes ...error) error {
	msg = sess.s.cfg.scrub(oneLine.Replace(msg))
	var cs []error
	for _, c := range causes {
		if c != nil {
			// The server's reply travels on as a cause (for its code);
			// a server that echoes the AUTH argument put the password in
			// it, encoded.
			cs = append(cs, sess.s.cfg.scrubCause(c))
		}
	}
	return &userError{msg: msg, causes: cs}
}

// secrets are the password and every encoding of it cotd itself sends:
// AUTH PLAIN's base64 of "\0user\0password" and AUTH LOGIN's base64 of
// the password, padded or not. A server that echoes its input in a 535
// would otherwise put them into the journal, cotd.db and status --json.
func (c SMTPConfig) secrets() []string {
	if c.Password == "" {
		return nil
	}
	var out []string
	for _, raw := range []string{"\x00" + c.User + "\x00" + c.Password, c.User + "\x00" + c.User + "\x00" + c.Password, c.Password} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			out = append(out, enc.EncodeToString([]byte(raw)))
		}
	}
	out = append(out, c.Password)
	// Longest first, so an encoding is replaced whole before a shorter
	// secret inside it could be.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// scrub replaces every secret in s with ***.
func (c SMTPConfig) scrub(s string) string {
	for _, p := range c.secrets() {
		s = strings.ReplaceAll(s, p, "***")
	}
	return s
}

// scrubCause returns c, or, when its text holds a secret, an error with
// the scrubbed text that keeps only the server's reply (scrubbed too)
// reachable: the wrappers go-mail built have their text fixed inside.
func (c SMTPConfig) scrubCause(err error) error {
	text := err.Error()
	clean := c.scrub(text)
	var te *textproto.Error
	if !errors.As(err, &te) {
		if clean == text {
			return err
		}
		return errors.New(clean)
	}
	te.Msg = c.scrub(te.Msg)
	if clean == text {
		return err
	}
	return &scrubbedError{msg: clean, reply: te}
}

// scrubbedError is a cause whose text had a secret in it.
type scrubbedError struct {
	msg   string
	reply *textproto.Error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.reply }

// Scrub removes the password and its AUTH encodings from text that did
// not come through this package's errors (the monitor's reports).
func (c SMTPConfig) Scrub(text string) string { return c.scrub(text) }

// describe turns an error from connecting, TLS or login into one that
// says what happened and what to do.
func (sess *session) describe(ctx context.Context, err error) error {
	s := sess.s
	addr := s.addr()
	ioe := sess.ioErr()
	if ioe != nil && errors.Is(err, ioe) {
		ioe = nil // already in the chain
	}
	mk := func(format string, args ...any) error {
		return sess.newUserError(fmt.Sprintf(format, args...), err, ioe)
	}
	both := errors.Join(err, ioe)

	// The certificate's troubles are worded by certs, as for a watched
	// endpoint, with the advice about sending mail; dates in UTC, as they
	// always were here (mail does not know the owner's time zone).
	certMsg := certs.Describe(s.cfg.Host, both, s.cfg.Now().UTC(), true)
	var (
		dnsErr      *net.DNSError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		textErr     *textproto.Error
		loginFailed = sess.auth != nil && sess.auth.started
	)
	switch {
	case ctx.Err() != nil:
		return mk("smtp %s: stopped: %v", addr, context.Cause(ctx))
	case errors.Is(both, errNotLoopback):
		return mk("smtp %s: %v; use --smtp-tls=starttls or tls for other hosts", addr, err)
	case errors.As(both, &dnsErr):
		return mk("smtp host %s cannot be resolved (%v); check --smtp-host and this machine's DNS", s.cfg.Host, dnsErr)
	case errors.Is(both, syscall.ECONNREFUSED):
		return mk("smtp %s: connection refused; is the server running and the port right (--smtp-port)?", addr)
	case errors.Is(both, syscall.EHOSTUNREACH), errors.Is(both, syscall.ENETUNREACH):
		return mk("smtp %s: host unreachable; check --smtp-host and this machine's network", addr)
	case certMsg != "":
		causes := []error{err, ioe}
		if errors.As(both, &invalidErr) {
			// crypto/x509 returns the value type; also offer a pointer
			// so errors.As finds it with either target.
			causes = append(causes, &invalidErr)
		}
		return sess.newUserError("smtp "+addr+": "+certMsg, causes...)
	case errors.As(both, &recordErr) && s.cfg.TLS == TLSImplicit:
		return mk("smtp %s does not speak TLS from the start; for port 587 use --smtp-tls=starttls", addr)
	case isTimeout(both):
		hint := ""
		if s.cfg.TLS == TLSStartTLS && s.cfg.Port == 465 {
			hint = "; port 465 usually needs --smtp-tls=tls"
		}
		return mk("smtp %s timed out after %s; is the server overloaded or the port wrong?%s", addr, sess.st.describe(), hint)
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return mk("smtp %s does not offer STARTTLS; cotd never sends a password unencrypted (use --smtp-tls=tls for port 465)", addr)
	case errors.Is(both, errAuthUnencrypted):
		return mk("smtp %s: %v; use --smtp-tls=starttls or tls", addr, errAuthUnencrypted)
	case errors.Is(both, errAuthNoMechanism):
		if len(sess.auth.offered) == 0 {
			return mk("smtp %s does not offer a login (AUTH); remove --smtp-user if the server needs none, or check the port", addr)
		}
		return mk("smtp %s offers no login cotd supports (it offers %s; cotd speaks PLAIN and LOGIN)", addr, strings.Join(sess.auth.offered, " "))
	case loginFailed && errors.As(both, &textErr):
		what := "check the user and the password file"
		if textErr.Code >= 400 && textErr.Code < 500 {
			what = "the server says to try again later"
		}
		return mk("smtp login as %s at %s failed: %d %s; %s", s.cfg.User, s.cfg.Host, textErr.Code, textErr.Msg, what)
	case loginFailed:
		return mk("smtp login as %s at %s failed: %v", s.cfg.User, s.cfg.Host, err)
	case errors.As(both, &textErr):
		return mk("smtp %s refused the session: %d %s", addr, textErr.Code, textErr.Msg)
	}
	return mk("smtp %s: %v", addr, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// describeSend explains why one message was not delivered.
func (sess *session) describeSend(ctx context.Context, m *gomail.Msg, err error) error {
	addr := sess.s.addr()
	to := strings.Join(m.GetToString(), ", ")
	ioe := sess.ioErr()
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return sess.describe(ctx, err)
	}
	code := se.ErrorCode()
	switch {
	case ctx.Err() != nil:
		return sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s stopped: %v", addr, to, context.Cause(ctx)), err, ioe)
	case code == 0 && ioe != nil && isTimeout(ioe):
		return sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s timed out after %s", addr, to, sess.st.describe()), err, ioe)
	case code == 0 && ioe != nil:
		return sess.newUserError(fmt.Sprintf("smtp %s: connection lost during delivery to %s: %v", addr, to, ioe), err, ioe)
	}
	hint := ""
	switch {
	case code >= 400 && code < 500:
		hint = "; temporary, it will be retried"
	case code >= 500:
		hint = "; permanent, check the address"
		switch se.Reason {
		case gomail.ErrSMTPMailFrom:
			hint = "; permanent, check --from"
		case gomail.ErrSMTPDataClose:
			// Refused after the content was read: a size limit or a
			// filter, not the address.
			hint = "; permanent, the server refused the message itself"
		}
	}
	return sess.newUserError(fmt.Sprintf("smtp %s: delivery to %s failed: %v%s", addr, to, se, hint), err, ioe)
}

// ErrTooLarge means a message is larger than the server accepts: its EHLO
// SIZE is smaller (cotd then does not send it at all), or it answered 552
// or an enhanced x.3.4 code.
var ErrTooLarge = errors.New("message too large for the server")

// sizeError is a message cotd did not send because the server's SIZE is
// smaller.
type sizeError struct{ size, limit int64 }

func (e *sizeError) Error() string {
	return fmt.Sprintf("the message is %d bytes and the server accepts at most %d (EHLO SIZE)", e.size, e.limit)
}
func (e *sizeError) Unwrap() error { return ErrTooLarge }

// TooLarge reports whether err says the message was too large for the
// server, with the server's advertised limit when it gave one (else 0).
func TooLarge(err error) (limit int64, ok bool) {
	if err == nil {
		return 0, false
	}
	var se *sizeError
	if errors.As(err, &se) {
		return se.limit, true
	}
	if errors.Is(err, ErrTooLarge) {
		return 0, true
	}
	var ge *gomail.SendError
	if errors.As(err, &ge) {
		if strings.HasSuffix(ge.EnhancedStatusCode(), ".3.4") {
			return 0, true
		}
		if ge.ErrorCode() == 552 && (ge.Reason == gomail.ErrSMTPDataClose || ge.Reason == gomail.ErrSMTPMailFrom) {
			return 0, true
		}
	}
	var te *textproto.Error
	if errors.As(err, &te) && (strings.Contains(te.Msg, "5.3.4") || strings.Contains(te.Msg, "4.3.4")) {
		return 0, true
	}
	return 0, false
}

// TimedOut reports whether err is a step that ran out of time.
func TimedOut(err error) bool { return err != nil && isTimeout(err) }

// Size is the number of bytes msg takes on the wire (before dot-stuffing).
func Size(msg *gomail.Msg) int64 {
	n, err := msg.WriteTo(io.Discard)
	if err != nil {
		return -1
	}
	return n
}
