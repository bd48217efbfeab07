package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Alert is a plain-text mail to the owner about cotd itself (the monitor
// writes the words; this package owns the headers).
type Alert struct {
	From, To      string
	Subject, Body string
	Date          time.Time
	// ID is the Message-ID, angle brackets included (AlertID).
	ID string
	// Refs are the Message-IDs it replies to: In-Reply-To the first,
	// References all.
	Refs []string
}

// AlertID is the Message-ID of an alert with this content, sent at date
// from the address from: "cotd-alert." never starts a cat mail's ID.
func AlertID(from, subject, body string, date time.Time) string {
	sum := sha256.Sum256([]byte(date.String() + subject + body))
	return "<cotd-alert." + date.UTC().Format("20060102T150405") + "." + hex.EncodeToString(sum[:6]) + "@" + senderDomain(from) + ">"
}

// ComposeAlert builds the alert mail, marked Auto-Submitted so that
// vacation responders stay quiet.
func ComposeAlert(a Alert) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from, err := ParseAddress(a.From)
	if err != nil {
		return nil, fmt.Errorf("alert mail: from: %w", err)
	}
	to, err := ParseAddress(a.To)
	if err != nil {
		return nil, fmt.Errorf("alert mail: to: %w", err)
	}
	if strings.EqualFold(from.Address, to.Address) {
		// An owner who sends the cats as themself would get alerts with
		// To = From, which spam filters score (SpamAssassin's
		// TO_EQ_FM_DIRECT_MX, +1.0). The header comes from their "+cotd"
		// subaddress, which delivers to the same mailbox and sorts well;
		// the envelope keeps the account's own address, the one the
		// server lets them send as.
		if err := msg.EnvelopeFrom(from.Address); err != nil {
			return nil, fmt.Errorf("alert mail: envelope from: %w", err)
		}
		from = &netmail.Address{Name: "cotd", Address: Subaddress(from.Address, "cotd")}
	}
	for _, ad := range []*netmail.Address{from, to} {
		ad.Address, _ = asciiDomain(ad.Address) // as Compose: servers without SMTPUTF8 take it
	}
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.Subject(encodeSubject(a.Subject))
	msg.SetDateWithValue(a.Date)
	msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(a.ID, "<"), ">"))
	if len(a.Refs) > 0 {
		msg.SetGenHeader(gomail.HeaderInReplyTo, a.Refs[0])
		msg.SetGenHeader(gomail.HeaderReferences, strings.Join(a.Refs, " "))
	}
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderUserAgent, "cotd") // one of User-Agent/X-Mailer is enough
	msg.SetBodyString(gomail.TypeTextPlain, a.Body)
	return msg, nil
}

// Subaddress is addr with "+tag" added to its local part (RFC 5233), or
// addr itself when its local part is quoted or already carries the tag.
func Subaddress(addr, tag string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || strings.HasPrefix(addr, `"`) || strings.HasSuffix(addr[:at], "+"+tag) {
		return addr
	}
	return addr[:at] + "+" + tag + addr[at:]
}
