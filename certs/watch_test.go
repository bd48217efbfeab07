package certs

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"cotd/internal/mailpit"
	"cotd/internal/needs"
)

func TestParseSpec(t *testing.T) {
	ep := func(item, host, port string) Target {
		return Target{Kind: Endpoint, Item: item, Host: host, Port: port}
	}
	file := func(item string) Target { return Target{Kind: File, Item: item} }
	glob := func(item string) Target { return Target{Kind: Glob, Item: item} }
	tests := []struct {
		spec    string
		want    []Target
		nErr    int
		errSays []string // substrings of the errors, joined
	}{
		{"", nil, 0, nil},
		{" , ,", nil, 0, nil},
		{"127.0.0.1:6443", []Target{ep("127.0.0.1:6443", "127.0.0.1", "6443")}, 0, nil},
		{"[::1]:443", []Target{ep("[::1]:443", "::1", "443")}, 0, nil},
		{"mail.example.test:465", []Target{ep("mail.example.test:465", "mail.example.test", "465")}, 0, nil},
		{"/var/lib/rancher/k3s/server/tls/server-ca.crt", []Target{file("/var/lib/rancher/k3s/server/tls/server-ca.crt")}, 0, nil},
		{"/var/lib/rancher/k3s/server/tls/*.crt", []Target{glob("/var/lib/rancher/k3s/server/tls/*.crt")}, 0, nil},
		{"cert.pem", []Target{file("cert.pem")}, 0, nil},
		{"certs/ca?.pem", []Target{glob("certs/ca?.pem")}, 0, nil},
		// A slash means a path even with a port-like tail.
		{"./name:123", []Target{file("./name:123")}, 0, nil},
		{"dir/host:443", []Target{file("dir/host:443")}, 0, nil},
		// Not digits after the last colon: a file.
		{"host:", []Target{file("host:")}, 0, nil},
		{"weird:name.pem", []Target{file("weird:name.pem")}, 0, nil},
		{
			" /a.pem , 127.0.0.1:6443,/a.pem,  /tls/*.crt ,",
			[]Target{file("/a.pem"), ep("127.0.0.1:6443", "127.0.0.1", "6443"), glob("/tls/*.crt")},
			0, nil,
		},
		{"::1:443", nil, 1, []string{`"::1:443"`, "[::1]:443"}},
		{":443", nil, 1, []string{`":443"`, "no host"}},
		{"host:0", nil, 1, []string{"port 0 is out of range"}},
		{"host:99999", nil, 1, []string{"port 99999 is out of range"}},
		{"host:0443000000000000000000", nil, 1, []string{"out of range"}},
		{"[0]:1", nil, 1, []string{"brackets like [::1]:443"}},
		{"[fe80::1%eth0]:443", []Target{ep("[fe80::1%eth0]:443", "fe80::1%eth0", "443")}, 0, nil},
		{"/tls/[.crt", nil, 1, []string{`"/tls/[.crt"`, "pattern"}},
		{"ok.pem,host:70000,[::1]:8443", []Target{file("ok.pem"), ep("[::1]:8443", "::1", "8443")}, 1, []string{"70000"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, errs := ParseSpec(tt.spec)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets = %+v, want %+v", got, tt.want)
			}
			if len(errs) != tt.nErr {
				t.Fatalf("errors = %v, want %d", errs, tt.nErr)
			}
			joined := errors.Join(errs...)
			for _, want := range tt.errSays {
				if !strings.Contains(joined.Error(), want) {
					t.Errorf("errors %q lack %q", joined, want)
				}
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"", "127.0.0.1:6443", "[::1]:443", "/etc/ssl/*.pem,a.crt", "::1:443", "host:99999",
		"a,,b", " x : 1 ", "[fe80::1%eth0]:443", "/tls/[.crt", "[]:1", "a]:1", "ü:1,é/*",
		"smtp://mail:587", "smtp://[::1]", "smtp://h", "smtp://:1", "mail:25",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		targets, errs := ParseSpec(spec)
		if len(targets)+len(errs) > strings.Count(spec, ",")+1 {
			t.Fatalf("%d targets and %d errors from %d items", len(targets), len(errs), strings.Count(spec, ",")+1)
		}
		seen := map[string]bool{}
		for _, tg := range targets {
			if tg.Item == "" || tg.Item != strings.TrimSpace(tg.Item) || strings.Contains(tg.Item, ",") {
				t.Fatalf("bad item %q", tg.Item)
			}
			if seen[tg.Item] {
				t.Fatalf("item %q twice", tg.Item)
			}
			seen[tg.Item] = true
			switch tg.Kind {
			case Endpoint:
				addr := tg.Item
				if rest, ok := strings.CutPrefix(tg.Item, smtpScheme); ok {
					if !tg.StartTLS {
						t.Fatalf("smtp:// endpoint without STARTTLS: %+v", tg)
					}
					addr = rest
					if tg.Port == "587" && net.JoinHostPort(tg.Host, tg.Port) == net.JoinHostPort(strings.Trim(addr, "[]"), "587") {
						addr = net.JoinHostPort(tg.Host, tg.Port) // "smtp://host": the default port
					}
				} else if tg.StartTLS != (tg.Port == "25" || tg.Port == "587") {
					t.Fatalf("STARTTLS is for ports 25 and 587 without a scheme: %+v", tg)
				}
				if strings.Contains(addr, "/") || tg.Host == "" {
					t.Fatalf("endpoint %+v", tg)
				}
				if net.JoinHostPort(tg.Host, tg.Port) != addr {
					t.Fatalf("endpoint %+v does not rejoin to its item", tg)
				}
				if _, err := net.ResolveTCPAddr("tcp", "127.0.0.1:"+tg.Port); err != nil {
					t.Fatalf("endpoint port %q: %v", tg.Port, err)
				}
			case File, Glob:
				if tg.Host != "" || tg.Port != "" {
					t.Fatalf("file with host: %+v", tg)
				}
				if _, err := filepath.Match(tg.Item, ""); tg.Kind == Glob && err != nil {
					t.Fatalf("glob %q passed parsing but does not compile: %v", tg.Item, err)
				}
			default:
				t.Fatalf("kind %v", tg.Kind)
			}
		}
		for _, err := range errs {
			if !strings.Contains(err.Error(), "watch-certs item") {
				t.Fatalf("error does not name the item: %v", err)
			}
		}
	})
}

func TestWatchFiles(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "Home CA", now.AddDate(5, 0, 0))
	mk := func(name string, notAfter time.Time) *x509.Certificate {
		return leaf(t, ca, leafOpts{cn: name, dns: []string{name}, notAfter: notAfter}).Leaf
	}
	expired := mk("expired.test", now.AddDate(0, 0, -5))
	five := mk("five.test", now.AddDate(0, 0, 5))
	ten := mk("ten.test", now.AddDate(0, 0, 10))
	far := mk("far.test", now.AddDate(1, 0, 0))

	tls := filepath.Join(dir, "tls")
	if err := os.Mkdir(tls, 0o755); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "expired.pem"), expired)
	writePEM(t, filepath.Join(dir, "ten.pem"), ten)
	// A full chain expires with its earliest certificate, wherever it sits.
	writePEM(t, filepath.Join(dir, "fullchain.pem"), far, five, ca.cert)
	if err := os.WriteFile(filepath.Join(dir, "server.der"), far.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(tls, "server-ca.crt"), ca.cert)
	writePEM(t, filepath.Join(tls, "client.crt"), five)
	if err := os.Mkdir(filepath.Join(tls, "sub.crt"), 0o755); err != nil { // a directory the glob must skip
		t.Fatal(err)
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("secret key bytes")})
	if err := os.WriteFile(filepath.Join(dir, "server.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not der")})
	if err := os.WriteFile(filepath.Join(dir, "broken.pem"), broken, 0o644); err != nil {
		t.Fatal(err)
	}

	p := func(name string) string { return filepath.Join(dir, name) }
	spec := strings.Join([]string{
		p("expired.pem"), p("ten.pem"), p("fullchain.pem"), p("server.der"), filepath.Join(tls, "*.crt"),
		p("missing.pem"), p("server.key"), p("notes.txt"), p("broken.pem"), p("nothing-*.pem"),
	}, ",")
	got, errs := Watch(context.Background(), spec, nil, time.Second, now)

	want := map[string]time.Time{
		p("expired.pem"):                    expired.NotAfter,
		p("ten.pem"):                        ten.NotAfter,
		p("fullchain.pem"):                  five.NotAfter,
		p("server.der"):                     far.NotAfter,
		filepath.Join(tls, "client.crt"):    five.NotAfter,
		filepath.Join(tls, "server-ca.crt"): ca.cert.NotAfter,
	}
	if len(got) != len(want) {
		t.Errorf("got %d expiries, want %d: %+v", len(got), len(want), got)
	}
	for _, e := range got {
		w, ok := want[e.Source]
		if !ok {
			t.Errorf("unexpected source %q", e.Source)
			continue
		}
		if !e.NotAfter.Equal(w) {
			t.Errorf("%s: NotAfter %v, want %v", e.Source, e.NotAfter, w)
		}
	}
	// The 10-days-left file is a warning at the default window.
	for _, e := range got {
		if e.Source == p("ten.pem") {
			if st := Classify(e, now, 21); st.Level != Warn || st.DaysLeft != 10 || !strings.Contains(st.Message, "ten.pem") {
				t.Errorf("ten.pem classified %+v", st)
			}
		}
	}

	wantErrs := []struct{ item, says string }{
		{p("missing.pem"), "no such file; check the path in --watch-certs"},
		{p("server.key"), "only EC PRIVATE KEY; list certificate files"},
		{p("notes.txt"), "no PEM or DER certificate"},
		{p("broken.pem"), "does not parse as a certificate"},
		{p("nothing-*.pem"), "no certificate files match"},
	}
	if len(errs) != len(wantErrs) {
		t.Fatalf("errors = %v, want %d", errs, len(wantErrs))
	}
	for i, w := range wantErrs {
		msg := errs[i].Error()
		if !strings.Contains(msg, w.item) || !strings.Contains(msg, w.says) {
			t.Errorf("error %q should name %s and say %q", msg, w.item, w.says)
		}
		if strings.Contains(msg, "secret") {
			t.Errorf("error %q leaks file content", msg)
		}
	}
}

// Root reads any file, so as root (CI) the test runs as nobody.
func TestWatchUnreadableFile(t *testing.T) {
	if !needs.Unprivileged(t) {
		return
	}
	ca := newCA(t, "Home CA", now.AddDate(5, 0, 0))
	path := tempFile(t, "ca.crt")
	writePEM(t, path, ca.cert)
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, errs := Watch(context.Background(), path, nil, time.Second, now)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "permission denied; let the user cotd runs as read it") {
		t.Errorf("errors = %v", errs)
	}
}

func TestWatchEndpoints(t *testing.T) {
	ca := newCA(t, "Home CA", now.AddDate(5, 0, 0))
	loop := []net.IP{net.IPv4(127, 0, 0, 1)}
	fiveDays := now.AddDate(0, 0, 5)

	good := serveTLS(t, leaf(t, ca, leafOpts{cn: "k3s", ips: loop, notAfter: fiveDays}))
	wrongHost := serveTLS(t, leaf(t, ca, leafOpts{cn: "k3s", dns: []string{"kubernetes.default.svc"}, notAfter: fiveDays}))
	expired := serveTLS(t, leaf(t, ca, leafOpts{cn: "old", ips: loop, notAfter: now.AddDate(0, 0, -5)}))
	strangerCA := newCA(t, "Stranger CA", now.AddDate(5, 0, 0))
	unknown := serveTLS(t, leaf(t, strangerCA, leafOpts{cn: "k3s", ips: loop, notAfter: fiveDays}))

	tests := []struct {
		name      string
		addr      string
		notAfter  time.Time // zero: no expiry reported
		errSays   []string  // empty: no error
		errAs     func(*testing.T, error)
		wantLevel Level
	}{
		{name: "verified, 5 days left", addr: good, notAfter: fiveDays, wantLevel: Warn},
		{name: "wrong host", addr: wrongHost, notAfter: fiveDays, wantLevel: Warn,
			errSays: []string{"is for kubernetes.default.svc, not for 127.0.0.1"}, errAs: mustAs[x509.HostnameError]},
		{name: "expired", addr: expired, notAfter: now.AddDate(0, 0, -5), wantLevel: Expired,
			errSays: []string{"expired on 2026-11-20 (5 days ago); renew it on the server"}, errAs: mustAs[x509.CertificateInvalidError]},
		{name: "unknown CA", addr: unknown, notAfter: fiveDays, wantLevel: Warn,
			errSays: []string{"signed by an unknown authority (issuer CN=Stranger CA)", "--smtp-ca-file"}, errAs: mustAs[x509.UnknownAuthorityError]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := Watch(context.Background(), tt.addr, ca.pool, 5*time.Second, now)
			if len(got) != 1 {
				t.Fatalf("got %d expiries, want 1 (errors %v)", len(got), errs)
			}
			e := got[0]
			if e.Source != tt.addr || !e.NotAfter.Equal(tt.notAfter) {
				t.Errorf("expiry %+v, want source %s until %v", e, tt.addr, tt.notAfter)
			}
			if st := Classify(e, now, 21); st.Level != tt.wantLevel {
				t.Errorf("Classify = %+v, want %v", st, tt.wantLevel)
			}
			if len(tt.errSays) == 0 {
				if len(errs) != 0 {
					t.Errorf("unexpected errors %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want 1", errs)
			}
			msg := errs[0].Error()
			if !strings.Contains(msg, tt.addr) {
				t.Errorf("error %q does not name %s", msg, tt.addr)
			}
			if strings.Contains(msg, "cotd will not send") {
				t.Errorf("error %q talks about mail for a watched endpoint", msg)
			}
			for _, s := range tt.errSays {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q lacks %q", msg, s)
				}
			}
			tt.errAs(t, errs[0])
		})
	}

	t.Run("verified chain includes the root", func(t *testing.T) {
		shortCA := newCA(t, "Short CA", now.AddDate(0, 0, 2))
		addr := serveTLS(t, leaf(t, shortCA, leafOpts{cn: "x", ips: loop, notAfter: now.AddDate(0, 0, 1).Add(time.Hour)}))
		got, errs := Watch(context.Background(), addr, shortCA.pool, 5*time.Second, now)
		if len(errs) != 0 || len(got) != 1 {
			t.Fatalf("got %v, errors %v", got, errs)
		}
		if got[0].Subject != "CN=x" {
			t.Errorf("earliest should be the leaf, got %q", got[0].Subject)
		}
	})
}

func TestWatchUnreachable(t *testing.T) {
	t.Run("port closed", func(t *testing.T) {
		addr := closedPort(t)
		got, errs := Watch(context.Background(), addr, nil, 2*time.Second, now)
		if len(got) != 0 || len(errs) != 1 {
			t.Fatalf("got %v, errors %v", got, errs)
		}
		if msg := errs[0].Error(); !strings.Contains(msg, addr) || !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "that the service is running") {
			t.Errorf("error %q", msg)
		}
	})
	t.Run("server never answers", func(t *testing.T) {
		addr := silentListener(t)
		const timeout = 300 * time.Millisecond
		start := time.Now()
		got, errs := Watch(context.Background(), addr, nil, timeout, now)
		elapsed := time.Since(start)
		if len(got) != 0 || len(errs) != 1 {
			t.Fatalf("got %v, errors %v", got, errs)
		}
		if msg := errs[0].Error(); !strings.Contains(msg, addr) || !strings.Contains(msg, "no TLS handshake within 300ms") {
			t.Errorf("error %q", msg)
		}
		if !errors.Is(errs[0], context.DeadlineExceeded) {
			t.Errorf("error does not wrap the deadline: %v", errs[0])
		}
		if elapsed > 5*time.Second {
			t.Errorf("Watch took %v with a %v timeout", elapsed, timeout)
		}
	})
	t.Run("not TLS", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "220 mail.example.test ESMTP\r\n") // plain SMTP, not TLS
			buf := make([]byte, 512)
			c.Read(buf)
			c.Close()
		}()
		_, errs := Watch(context.Background(), ln.Addr().String(), nil, 5*time.Second, now)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), ln.Addr().String()) {
			t.Errorf("errors = %v", errs)
		}
	})
}

// TestFileErrorMessages covers the hints the unreadable-file test cannot
// provoke when the suite runs as root.
func TestFileErrorMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/k3s/ca.crt", Err: fs.ErrPermission}, "watch /k3s/ca.crt: permission denied; let the user cotd runs as read it"},
		{&fs.PathError{Op: "open", Path: "/k3s/ca.crt", Err: fs.ErrNotExist}, "watch /k3s/ca.crt: no such file; check the path in --watch-certs"},
		{&fs.PathError{Op: "read", Path: "/k3s/ca.crt", Err: errors.New("i/o error")}, "watch /k3s/ca.crt: read /k3s/ca.crt: i/o error"},
	}
	for _, tt := range tests {
		if got := fileError("/k3s/ca.crt", tt.err).Error(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("fileError = %q, want prefix %q", got, tt.want)
		}
	}
}

func TestParseSpecSMTP(t *testing.T) {
	tests := []struct {
		item string
		want Target
	}{
		{"mail.example.test:587", Target{Kind: Endpoint, Item: "mail.example.test:587", Host: "mail.example.test", Port: "587", StartTLS: true}},
		{"10.0.0.2:25", Target{Kind: Endpoint, Item: "10.0.0.2:25", Host: "10.0.0.2", Port: "25", StartTLS: true}},
		{"smtp://mail.example.test:2525", Target{Kind: Endpoint, Item: "smtp://mail.example.test:2525", Host: "mail.example.test", Port: "2525", StartTLS: true}},
		{"smtp://mail.example.test", Target{Kind: Endpoint, Item: "smtp://mail.example.test", Host: "mail.example.test", Port: "587", StartTLS: true}},
		{"smtp://[::1]:587", Target{Kind: Endpoint, Item: "smtp://[::1]:587", Host: "::1", Port: "587", StartTLS: true}},
		{"smtp://[::1]", Target{Kind: Endpoint, Item: "smtp://[::1]", Host: "::1", Port: "587", StartTLS: true}},
		// Implicit TLS stays implicit.
		{"mail.example.test:465", Target{Kind: Endpoint, Item: "mail.example.test:465", Host: "mail.example.test", Port: "465"}},
	}
	for _, tt := range tests {
		got, errs := ParseSpec(tt.item)
		if len(errs) != 0 || len(got) != 1 || got[0] != tt.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", tt.item, got, errs, tt.want)
		}
	}
	for _, bad := range []string{"smtp://", "smtp://host:x", "smtp://host:99999", "smtp://host/path:587", "smtp://:587"} {
		if got, errs := ParseSpec(bad); len(errs) != 1 || len(got) != 0 {
			t.Errorf("ParseSpec(%q) = %+v, %v; want one error", bad, got, errs)
		} else if !strings.Contains(errs[0].Error(), bad) {
			t.Errorf("error %q does not name %q", errs[0], bad)
		}
	}
}

// A real SMTP server with STARTTLS (Mailpit): its certificate is watched
// through the STARTTLS upgrade, the way cotd's own SMTP connection sees it.
func TestWatchSTARTTLS(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{StartTLS: true})
	item := "smtp://" + mp.Addr
	got, errs := Watch(context.Background(), item, mp.CAPool, 10*time.Second, time.Now())
	if len(errs) != 0 || len(got) != 1 {
		t.Fatalf("Watch(%s) = %v, errors %v; want one verified expiry", item, got, errs)
	}
	if got[0].Source != item || !got[0].NotAfter.Equal(mp.Cert.NotAfter) {
		t.Errorf("expiry %+v, want source %s until %v (the server's certificate)", got[0], item, mp.Cert.NotAfter)
	}

	// The same port without the scheme is taken as implicit TLS, which
	// an SMTP port does not speak: an error, not a hang.
	_, errs = Watch(context.Background(), mp.Addr, mp.CAPool, 5*time.Second, time.Now())
	if len(errs) != 1 {
		t.Fatalf("implicit TLS to a STARTTLS port: errors %v, want 1", errs)
	}

	// A server without STARTTLS is named as such.
	plain := mailpit.Start(t, mailpit.Options{})
	_, errs = Watch(context.Background(), "smtp://"+plain.Addr, nil, 5*time.Second, time.Now())
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "does not offer STARTTLS") {
		t.Fatalf("errors %v, want one saying the server does not offer STARTTLS", errs)
	}
}

// A silent SMTP peer cannot hold the watch past its timeout.
func TestWatchSTARTTLSSilent(t *testing.T) {
	item := "smtp://" + silentListener(t)
	_, errs := Watch(context.Background(), item, nil, 200*time.Millisecond, time.Now())
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "no TLS handshake within 200ms") || !strings.Contains(errs[0].Error(), "STARTTLS") {
		t.Fatalf("errors %v, want one timeout naming STARTTLS", errs)
	}
}
