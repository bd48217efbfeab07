package mail

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
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

// DefaultBudget bounds the start of sending through one SMTP value,
// counted from NewSMTP: no message starts after it, and every step up to a
// message's final dot ends by it. The answer to a final dot already sent is
// never cut by it (the server may be holding the message: RFC 5321 gives
// it 10 minutes), so a run ends by DefaultBudget + RFC5321Timeouts.FinalDot;
// cotd.service's TimeoutStartSec=30min covers that, NTP's wait before and
// the alert after.
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

// LoginID identifies the server, user and password of c without holding
// the password: a run that remembers a refused login tries it again at once
// when any of them changes.
func (c SMTPConfig) LoginID() string {
	if c.User == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(c.Host + "\x00" + strconv.Itoa(c.Port) + "\x00" + c.User + "\x00" + c.Password))
	return hex.EncodeToString(sum[:12])
}
