// Package mail turns a day's cat and quote into a message and delivers it,
// over SMTP or into an outbox folder of .eml files.
//
// It knows nothing about schedules or the database: callers decide which
// days go to whom and record what was delivered.
package mail

import (
	"crypto/x509"
	"time"
)

// Day is one calendar day's content.
type Day struct {
	// Date is the calendar day, as midnight in the owner's time zone.
	Date   time.Time
	Quote  string
	Author string // may be empty
	// Photo is the rendered JPEG (already oriented, resized and stripped).
	Photo       []byte
	PhotoWidth  int
	PhotoHeight int
	// Caption says who is in the picture ("Mochi on the radiator"); shown
	// under the photo, used as its alt text and in the subject. May be empty.
	Caption string
}

// Message is what one recipient gets: one day, or several days when a
// catch-up digest covers the days cotd was away.
type Message struct {
	From string // RFC 5322 address, display name allowed
	To   string // exactly one recipient, display name allowed
	// Owner receives List-Unsubscribe requests; empty means From.
	Owner string
	// Days holds the days in this message, newest first.
	Days []Day
	// SentAt is the newest day's scheduled send time: it decides which day
	// reads as "today". Zero means Days[0].Date.
	SentAt time.Time
	// Date is the Date header: the time the message is handed to the
	// server, from the caller's clock. A late or retried send must not
	// claim the morning's time (clients sort by it, and spam filters score
	// a Date hours before the Received line); the Message-ID, not the
	// Date, is what lets a resend be recognised. Zero means SentAt.
	Date time.Time
	// Skipped lists missed days that were not delivered (older than the
	// catch-up cap, or catch-up=skip), so a digest can say so. Optional.
	Skipped []time.Time
	// Test, when set, marks a `cotd send-test` message; pass something
	// unique (the time it is sent). Its Message-ID then never equals a real
	// delivery's: Gmail drops a second message whose Message-ID it holds,
	// and a test must not eat the owner's real morning.
	Test string
}

// Digest reports whether m carries several days: the one test of "is this
// a digest" for its subject, its Message-ID and its words.
func (m Message) Digest() bool { return len(m.Days) > 1 }

// Result is the outcome of one message handed to a Sender.
type Result struct {
	Delivered bool
	// Err is why the message was not delivered; nil when Delivered.
	Err error
	// Class is what the failure means for the next try (Classify); 0 when
	// delivered.
	Class Class
	// InDoubt is set when the message and its final dot went out and no
	// answer came (the connection dropped, the wait ran out, the run was
	// stopped): the server probably has it (RFC 1047). Send it again at
	// most once, byte for byte, then count it as delivered.
	InDoubt bool
	// Chain is the SMTP server's verified certificate chain (leaf first)
	// on the connection this message went over, or that refused it; nil
	// for the outbox, an unencrypted loopback server, or a connection
	// that never got as far as TLS. The run hands it to the monitor.
	Chain []*x509.Certificate
}

// Temporary reports whether the server answered 4xx: what the answer
// says, while Class says what to do about it.
func (r Result) Temporary() bool { return isTemporary(r.Err) }
