package mail

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/net/idna"
)

// ErrAddressNotASCII means an address has non-ASCII characters where the
// server cannot take them: in the local part, to a server without
// SMTPUTF8 (RFC 6531).
var ErrAddressNotASCII = errors.New("address cannot be sent to this server as written")

// asciiDomain returns addr with its domain in the ASCII (IDNA, RFC 5891)
// form every server takes: "anna@müller.test" becomes
// "anna@xn--mller-kva.test". It refuses a domain that is no DNS name: a
// label that is empty, longer than 63 bytes, or starts or ends with '-'.
func asciiDomain(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, nil
	}
	local, domain := addr[:at], addr[at+1:]
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		return addr, nil // an address literal, [192.0.2.1]
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("the domain %q is not a valid DNS name (%v)", domain, strings.TrimPrefix(err.Error(), "idna: "))
	}
	if len(ascii) > 253 {
		return "", fmt.Errorf("the domain %q is longer than a DNS name may be (253 characters)", domain)
	}
	for _, l := range strings.Split(strings.TrimSuffix(ascii, "."), ".") {
		switch {
		case l == "":
			return "", fmt.Errorf("the domain %q has an empty label (two dots in a row)", domain)
		case len(l) > 63:
			return "", fmt.Errorf("the domain %q has a label longer than 63 characters", domain)
		case strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-"):
			return "", fmt.Errorf("the domain %q has a label that starts or ends with '-'", domain)
		}
	}
	return local + "@" + ascii, nil
}

// envelopeFits refuses a message whose envelope addresses the server
// cannot take as written: a non-ASCII local part needs SMTPUTF8 (the
// domain is already in IDNA form, see Compose).
func envelopeFits(client *smtp.Client, m *gomail.Msg) error {
	if ok, _ := client.Extension("SMTPUTF8"); ok {
		return nil
	}
	from, _ := m.GetSender(false)
	rcpts, _ := m.GetRecipients()
	for _, a := range append([]string{from}, rcpts...) {
		if !isASCII(a) {
			return fmt.Errorf("%w: %q has non-ASCII characters before the @ and the server does not offer SMTPUTF8; ask for an ASCII address", ErrAddressNotASCII, a)
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
