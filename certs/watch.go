package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Kind is what a --watch-certs item names.
type Kind int

const (
	// File is one PEM (or DER) certificate file.
	File Kind = iota
	// Glob is a filepath.Glob pattern of certificate files.
	Glob
	// Endpoint is a host:port that speaks TLS from the first byte.
	Endpoint
)

func (k Kind) String() string { return name(k, "kind", "file", "glob", "endpoint") }

// Target is one item of a --watch-certs list.
type Target struct {
	Kind Kind
	// Item is the item as written, trimmed of spaces; it is also the
	// Source of what the item yields (a glob's files use their own paths).
	Item string
	// Host and Port are set for an Endpoint; Host has no IPv6 brackets.
	Host, Port string
	// StartTLS is set for an SMTP endpoint that starts in plain text and
	// upgrades with STARTTLS: "smtp://host:port", or port 25 or 587.
	StartTLS bool
}

// smtpScheme marks an endpoint that speaks SMTP with STARTTLS on any port.
const smtpScheme = "smtp://"

// DefaultTimeout bounds one endpoint's dial and handshake when Watch is
// given no timeout.
const DefaultTimeout = 10 * time.Second

// maxFileSize keeps a mistaken item (a disk image, a log) from being read
// whole into memory; a CA bundle is a few hundred kB.
const maxFileSize = 16 << 20

// ParseSpec splits a --watch-certs list into targets. Items are separated
// by commas; spaces around them and empty items are ignored, and repeated
// items are kept once.
//
// An item is an endpoint when it contains no "/" and the part after its last
// ":" is a port number ("127.0.0.1:6443", "[::1]:443", "mail.example:465");
// otherwise it is a glob when it contains one of * ? [, and a file path when
// not. A file literally named "name:123" is written "./name:123". Ports 25
// and 587 are SMTP with STARTTLS (as is any "smtp://host:port", and
// "smtp://host" means port 587); every other endpoint speaks TLS at once.
func ParseSpec(spec string) ([]Target, []error) {
	var targets []Target
	var errs []error
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" || seen[item] {
			continue
		}
		seen[item] = true
		t, err := parseItem(item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		targets = append(targets, t)
	}
	return targets, errs
}

func parseItem(item string) (Target, error) {
	if rest, ok := strings.CutPrefix(item, smtpScheme); ok {
		if !strings.Contains(rest, ":") || strings.HasSuffix(rest, "]") {
			rest = net.JoinHostPort(strings.Trim(rest, "[]"), "587")
		}
		if strings.Contains(rest, "/") || !looksLikeEndpoint(rest) {
			return Target{}, fmt.Errorf("watch-certs item %q: write smtp://host:port, like smtp://mail.example.test:587", item)
		}
		t, err := parseEndpoint(item, rest)
		t.StartTLS = true
		return t, err
	}
	if looksLikeEndpoint(item) {
		t, err := parseEndpoint(item, item)
		t.StartTLS = t.Port == "25" || t.Port == "587"
		return t, err
	}
	if strings.ContainsAny(item, "*?[") {
		if _, err := filepath.Match(item, ""); err != nil {
			return Target{}, fmt.Errorf("watch-certs item %q: %w; check the brackets and escapes of the pattern", item, err)
		}
		return Target{Kind: Glob, Item: item}, nil
	}
	return Target{Kind: File, Item: item}, nil
}

// parseEndpoint checks addr, the host:port of item.
func parseEndpoint(item, addr string) (Target, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Target{}, fmt.Errorf("watch-certs item %q: %w; write host:port, with IPv6 addresses in brackets like [::1]:443", item, err)
	}
	if host == "" {
		return Target{}, fmt.Errorf("watch-certs item %q: no host before the port; write host:port, like 127.0.0.1:6443", item)
	}
	if strings.ContainsAny(host, " \t[]") || net.JoinHostPort(host, port) != addr {
		return Target{}, fmt.Errorf("watch-certs item %q: %q is not a host name; write host:port, with IPv6 addresses in brackets like [::1]:443", item, host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return Target{}, fmt.Errorf("watch-certs item %q: port %s is out of range; use a port from 1 to 65535", item, port)
	}
	return Target{Kind: Endpoint, Item: item, Host: host, Port: port}, nil
}

// looksLikeEndpoint: no "/" and digits after the last ":". Long digit runs
// still count, so "host:99999" gets a port error instead of "no such file".
func looksLikeEndpoint(item string) bool {
	if strings.Contains(item, "/") {
		return false
	}
	i := strings.LastIndexByte(item, ':')
	if i < 0 || i == len(item)-1 {
		return false
	}
	for _, r := range item[i+1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Watch checks the --watch-certs list spec: PEM files, globs and host:port
// TLS endpoints. Endpoints are dialled one after another, each bounded by
// timeout (DefaultTimeout when zero), and their chains verified against
// roots (the system roots when nil) at time now. An endpoint whose chain
// does not verify is still reported with its expiry, plus an error saying
// why. Every other problem is an error naming the item and the fix; one bad
// item does not stop the others.
func Watch(ctx context.Context, spec string, roots *x509.CertPool, timeout time.Duration, now time.Time) ([]Expiry, []error) {
	targets, errs := ParseSpec(spec)
	out, werrs := WatchTargets(ctx, targets, roots, timeout, now)
	return out, append(errs, werrs...)
}

// WatchTargets is Watch for a list ParseSpec already read (the settings
// parse --watch-certs once).
func WatchTargets(ctx context.Context, targets []Target, roots *x509.CertPool, timeout time.Duration, now time.Time) ([]Expiry, []error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var errs []error
	var out []Expiry
	for _, t := range targets {
		switch t.Kind {
		case File:
			e, err := readFile(t.Item)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, e)
		case Glob:
			es, gerrs := readGlob(t.Item)
			out = append(out, es...)
			errs = append(errs, gerrs...)
		case Endpoint:
			e, err := dial(ctx, t, roots, timeout, now)
			if !e.NotAfter.IsZero() {
				out = append(out, e)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return out, errs
}

func readGlob(pattern string) ([]Expiry, []error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, []error{fmt.Errorf("watch %s: %w; check the pattern in --watch-certs", pattern, err)}
	}
	var out []Expiry
	var errs []error
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && fi.IsDir() {
			continue
		}
		e, err := readFile(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 && len(errs) == 0 {
		// Silence here would hide exactly the certificate the owner meant
		// to watch (a moved directory, a directory cotd may not list).
		errs = append(errs, fmt.Errorf("watch %s: no certificate files match; check the pattern in --watch-certs and that the user cotd runs as can list the directory", pattern))
	}
	return out, errs
}

// readFile returns the earliest expiry among the certificates in a PEM
// file (a chain or bundle expires with its first certificate), or in a DER
// file when there is no PEM at all.
func readFile(path string) (Expiry, error) {
	f, err := os.Open(path)
	if err != nil {
		return Expiry{}, fileError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return Expiry{}, fileError(path, err)
	}
	if len(data) > maxFileSize {
		return Expiry{}, fmt.Errorf("watch %s: larger than %d MiB, not a certificate file; check the path in --watch-certs", path, maxFileSize>>20)
	}
	var chain []*x509.Certificate
	var others []string
	rest := data
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			others = append(others, block.Type)
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return Expiry{}, fmt.Errorf("watch %s: PEM block %d does not parse as a certificate: %w; replace the file with a valid certificate", path, n, err)
		}
		chain = append(chain, c)
	}
	if n == 0 {
		if der, err := x509.ParseCertificates(data); err == nil && len(der) > 0 {
			chain = der
		}
	}
	if len(chain) == 0 {
		if len(others) > 0 {
			// Name the block types, never their content: it may be a key.
			return Expiry{}, fmt.Errorf("watch %s: no certificate in it, only %s; list certificate files (.crt, .pem), not keys, in --watch-certs", path, strings.Join(others, ", "))
		}
		return Expiry{}, fmt.Errorf("watch %s: no PEM or DER certificate in it; list certificate files (.crt, .pem) in --watch-certs", path)
	}
	return Earliest(path, chain), nil
}

func fileError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("watch %s: no such file; check the path in --watch-certs", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("watch %s: permission denied; let the user cotd runs as read it (for example through a group) or remove it from --watch-certs", path)
	}
	return fmt.Errorf("watch %s: %w", path, err)
}

// dial connects to an endpoint, takes the chain it presents and verifies it
// separately, so that an expired or untrusted chain still yields its dates.
func dial(ctx context.Context, t Target, roots *x509.CertPool, timeout time.Duration, now time.Time) (Expiry, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := &tls.Config{
		ServerName: t.Host,
		MinVersion: tls.VersionTLS12,
		// Verification happens below with x509.Verify at time now; the
		// handshake itself must succeed even for a broken chain so its
		// dates can be reported.
		InsecureSkipVerify: true,
	}
	var state tls.ConnectionState
	var err error
	if t.StartTLS {
		state, err = startTLS(ctx, t, cfg)
	} else {
		d := tls.Dialer{Config: cfg}
		var conn net.Conn
		if conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(t.Host, t.Port)); err == nil {
			state = conn.(*tls.Conn).ConnectionState()
			conn.Close()
		}
	}
	if err != nil {
		speaks := "speaks TLS on that port"
		if t.StartTLS {
			speaks = "speaks SMTP with STARTTLS on that port"
		}
		// The connection's deadline is the context's, so a read can time
		// out a moment before ctx itself reports it: either is the timeout.
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Expiry{}, fmt.Errorf("watch %s: no TLS handshake within %s: %w; check that the service is up and %s", t.Item, timeout, err, speaks)
		}
		var noTLS errNoStartTLS
		if errors.As(err, &noTLS) {
			return Expiry{}, fmt.Errorf("watch %s: %w; for a port that speaks TLS at once, use one other than 25 and 587, or watch the server's certificate file", t.Item, err)
		}
		return Expiry{}, fmt.Errorf("watch %s: %w; check the address in --watch-certs and that the service is running and %s", t.Item, err, speaks)
	}
	peer := state.PeerCertificates
	if len(peer) == 0 {
		return Expiry{}, fmt.Errorf("watch %s: the server sent no certificate; check that this port serves TLS with a certificate", t.Item)
	}
	inter := x509.NewCertPool()
	for _, c := range peer[1:] {
		inter.AddCert(c)
	}
	chains, verr := peer[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		DNSName:       t.Host,
		CurrentTime:   now,
	})
	if verr != nil {
		err := explain(t.Item, verr, now, false)
		if err == verr {
			err = fmt.Errorf("watch %s: the certificate does not verify: %w; fix the certificate the server sends", t.Item, verr)
		}
		return Earliest(t.Item, peer), err
	}
	return Earliest(t.Item, chains[0]), nil
}

// errNoStartTLS is an SMTP server that does not offer STARTTLS.
type errNoStartTLS struct{ host string }

func (e errNoStartTLS) Error() string {
	return "the SMTP server " + e.host + " does not offer STARTTLS"
}

// startTLS speaks just enough SMTP (greeting, EHLO, STARTTLS) to get the
// certificate of a submission (587) or relay (25) port, then quits. The
// whole exchange is bounded by ctx's deadline.
func startTLS(ctx context.Context, t Target, cfg *tls.Config) (tls.ConnectionState, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(t.Host, t.Port))
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// Cancelling ctx (a signal) unblocks a read as the deadline does.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, t.Host)
	if err != nil {
		return tls.ConnectionState{}, fmt.Errorf("SMTP greeting: %w", err)
	}
	if err := c.Hello("localhost"); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("SMTP EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		c.Quit()
		return tls.ConnectionState{}, errNoStartTLS{t.Host}
	}
	if err := c.StartTLS(cfg); err != nil {
		return tls.ConnectionState{}, fmt.Errorf("STARTTLS: %w", err)
	}
	state, _ := c.TLSConnectionState()
	c.Quit()
	return state, nil
}
