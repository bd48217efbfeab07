package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	if err := msg.From(a.From); err != nil {
		return nil, fmt.Errorf("alert mail: from: %w", err)
	}
	if err := msg.To(a.To); err != nil {
		return nil, fmt.Errorf("alert mail: to: %w", err)
	}
	msg.Subject(a.Subject)
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
