// Package postfix runs a private Postfix smarthost on loopback for tests:
// Debian's postfix with its own configuration directory (`postfix -c DIR
// start`), STARTTLS required, Cyrus SASL logins checked against a sasldb,
// and a relayhost (a Mailpit) where the mail lands. It is what a new user
// of cotd most often points it at, and it is stricter than Mailpit: it
// advertises SIZE and refuses larger messages with 552 5.3.4.
//
// It is not a Postfix manager: one instance per test, stopped at cleanup.
// It needs root (Postfix's master runs as root and drops to the postfix
// user) and the Debian packages postfix, sasl2-bin and libsasl2-modules;
// without them the test is skipped, or fails when $CI is set.
package postfix

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cotd/internal/needs"
	"cotd/internal/smtppeer"
	"cotd/internal/testcert"
)

// Install says how to get what this package needs.
const Install = "apt-get install postfix sasl2-bin libsasl2-modules (and run the test as root)"

// Options configure the instance.
type Options struct {
	// RelayPort is the loopback port of the relayhost (a Mailpit).
	RelayPort int
	// SizeLimit is message_size_limit in bytes; 0 leaves Postfix's default.
	SizeLimit int
}

// Server is a running Postfix.
type Server struct {
	Host string // 127.0.0.1
	Port int    // the submission port (STARTTLS required)
	// User and Password are the SASL login; PasswordFile holds Password
	// followed by a newline.
	User, Password, PasswordFile string
	// CAFile is the PEM of the CA that signed the server's certificate.
	CAFile string
	// Dir is the configuration directory (main.cf, master.cf, maillog).
	Dir string
}

func missing(t testing.TB, why string) { needs.Missing(t, why, Install) }

// Available returns "" when a private Postfix can run here, else why not.
func Available() string {
	if os.Geteuid() != 0 {
		return "a private Postfix needs root"
	}
	for _, bin := range []string{"postfix", "saslpasswd2"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " not found"
		}
	}
	if m, _ := filepath.Glob("/usr/lib/*/sasl2/libsasldb.so*"); len(m) == 0 {
		return "the Cyrus SASL sasldb plugin (libsasl2-modules) not found"
	}
	if _, err := user.Lookup("postfix"); err != nil {
		return "no postfix user"
	}
	return ""
}

// Start configures and starts a Postfix and waits until its port answers.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if why := Available(); why != "" {
		missing(t, why)
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pf.Uid)

	dir := t.TempDir()
	// The postfix user must reach the sasldb and the data directory.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	s := &Server{Host: "127.0.0.1", Port: smtppeer.Port(t), User: "cotd", Password: "pf-" + rand.Text(), Dir: dir}
	for _, d := range []string{"queue", "data", "sasl"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "data"), uid, -1); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := s.makeCert(t)
	s.PasswordFile = filepath.Join(dir, "smtp-password")
	write(t, s.PasswordFile, s.Password+"\n", 0o600)

	size := ""
	if o.SizeLimit > 0 {
		size = fmt.Sprintf("message_size_limit = %d\n", o.SizeLimit)
	}
	write(t, filepath.Join(dir, "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = smarthost.test
mydomain = smarthost.test
myorigin = smarthost.test
mydestination =
mynetworks = 127.0.0.2/32
relayhost = [127.0.0.1]:%[2]d
smtp_tls_security_level = none
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_tls_cert_file = %[3]s
smtpd_tls_key_file = %[4]s
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = %[1]s/sasl
smtpd_sasl_local_domain = smarthost.test
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
%[5]s`, dir, o.RelayPort, certFile, keyFile, size), 0o644)
	// No chroot (the test's files are outside any), no local delivery.
	write(t, filepath.Join(dir, "master.cf"), fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, s.Port), 0o644)
	write(t, filepath.Join(dir, "sasl", "smtpd.conf"), fmt.Sprintf(`pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: %s/sasldb2
`, dir), 0o644)
	cmd := exec.Command("saslpasswd2", "-c", "-p", "-f", filepath.Join(dir, "sasldb2"), "-u", "smarthost.test", s.User)
	cmd.Stdin = strings.NewReader(s.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("saslpasswd2: %v: %s", err, out)
	}
	if err := os.Chown(filepath.Join(dir, "sasldb2"), uid, -1); err != nil {
		t.Fatal(err)
	}

	if out, err := exec.Command("postfix", "-c", dir, "start").CombinedOutput(); err != nil {
		t.Fatalf("postfix -c %s start: %v: %s\n%s", dir, err, out, s.LogTail())
	}
	t.Cleanup(func() { exec.Command("postfix", "-c", dir, "stop").Run() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix did not listen on %d: %v\n%s", s.Port, err, s.LogTail())
		}
		time.Sleep(50 * time.Millisecond) // polling a port that is not open yet
	}
	return s
}

// Queued counts the messages in Postfix's queue (not yet relayed).
func (s *Server) Queued() (int, error) {
	n := 0
	for _, q := range []string{"maildrop", "incoming", "active", "deferred", "hold"} {
		err := filepath.WalkDir(filepath.Join(s.Dir, "queue", q), func(_ string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				n++
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return 0, err
		}
	}
	return n, nil
}

// Drain asks Postfix to deliver its queue now and waits until it is empty,
// i.e. every accepted message has reached the relayhost.
func (s *Server) Drain(t testing.TB) {
	t.Helper()
	exec.Command("postfix", "-c", s.Dir, "flush").Run()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := s.Queued()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix still holds %d messages after 30 s:\n%s", n, s.LogTail())
		}
		time.Sleep(50 * time.Millisecond) // polling the queue until the relay is done
	}
}

// LogTail is the end of Postfix's log, for failure messages.
func (s *Server) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "maillog"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// makeCert writes a CA and a server certificate for 127.0.0.1.
func (s *Server) makeCert(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	now := time.Now()
	ca := testcert.NewCA(t, "cotd postfix test CA "+rand.Text()[:8], now.Add(-time.Hour), now.Add(2*365*24*time.Hour))
	leaf := ca.Issue(t, testcert.Server{CN: "127.0.0.1", Hosts: []string{"127.0.0.1"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)})
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	testcert.WriteCerts(t, s.CAFile, ca.Cert)
	certFile = filepath.Join(s.Dir, "server.pem")
	testcert.WriteCerts(t, certFile, leaf.Leaf)
	keyFile = filepath.Join(s.Dir, "server.key")
	testcert.WriteKey(t, keyFile, leaf)
	return certFile, keyFile
}

func write(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}
