package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"cotd/internal/mailpit"
	"cotd/internal/postfix"
)

// A script that holds a postfix.conf runs against a private Postfix
// smarthost on loopback (STARTTLS required, a Cyrus SASL sasldb login)
// that relays to the script's own Mailpit, where `mails` and `mailcheck`
// look. The file's lines:
//
//	size N    message_size_limit = N (Postfix then advertises SIZE N)
//
// and these variables: SMTP_PORT, SMTP_USER, PASSWORD_FILE, CA_FILE (the
// Postfix's). `postfixdrain` waits until Postfix has relayed everything it
// accepted. Such a script starts with
//
//	[!exec:postfix-ready] skip 'REASON'
//
// postfix-ready is on the script's PATH only when Postfix can run here
// (root, postfix, sasl2-bin, libsasl2-modules); with CI=true a missing
// piece fails the script instead.
//
// postfixdrain waits until Postfix has relayed every queued message.
func cmdPostfixDrain(ts *testscript.TestScript, neg bool, args []string) {
	p, _ := ts.Value("postfix").(*postfix.Server)
	if p == nil {
		ts.Fatalf("this script has no postfix.conf")
	}
	p.Drain(tsTB{ts: ts})
}

func setupPostfix(t *testing.T, e *testscript.Env) error {
	conf, err := os.ReadFile(filepath.Join(e.WorkDir, "postfix.conf"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var o postfix.Options
	for _, line := range strings.Split(string(conf), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case f[0] == "size" && len(f) == 2:
			if o.SizeLimit, err = strconv.Atoi(f[1]); err != nil {
				return fmt.Errorf("postfix.conf: %q: %v", line, err)
			}
		default:
			return fmt.Errorf("postfix.conf: unknown line %q", line)
		}
	}
	if why := postfix.Available(); why != "" {
		if os.Getenv("CI") != "" {
			return fmt.Errorf("postfix.conf: %s; install it: %s", why, postfix.Install)
		}
		return nil // the script skips itself: no postfix-ready on its PATH
	}
	bin := filepath.Join(e.WorkDir, ".postfix-bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bin, "postfix-ready"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		return err
	}
	e.Setenv("PATH", bin+string(os.PathListSeparator)+e.Getenv("PATH"))
	m := mailpit.Start(t, mailpit.Options{})
	o.RelayPort = m.Port
	p := postfix.Start(t, o)
	e.Values["mailpit"] = m
	e.Values["postfix"] = p
	e.Setenv("SMTP_PORT", strconv.Itoa(p.Port))
	e.Setenv("SMTP_USER", p.User)
	e.Setenv("PASSWORD_FILE", p.PasswordFile)
	e.Setenv("CA_FILE", p.CAFile)
	return nil
}
