package mail

import (
	"errors"
	"slices"

	"github.com/wneessen/go-mail/smtp"
)

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
