package mail

import (
	"errors"
	"net/textproto"
	"regexp"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Step is the point of an SMTP session an answer (or its absence) came at.
type Step string

// The steps Classify tells apart.
const (
	StepSession Step = "session" // connect, greeting, EHLO, STARTTLS, AUTH
	StepMail    Step = "mail"    // MAIL FROM
	StepRcpt    Step = "rcpt"    // RCPT TO
	StepData    Step = "data"    // the DATA command
	StepDot     Step = "dot"     // the reply to the final dot
	StepOther   Step = "other"   // NOOP, RSET, QUIT, or before anything went out
)

// Class is what a failed delivery means for the next try.
type Class int

const (
	// Temporary: try this message again on a later run (4xx, no answer at
	// all, or an answer RFC 5321 asks to treat as temporary).
	Temporary Class = iota + 1
	// PermanentRecipient: the server refuses this address for good; try
	// it again tomorrow, not every run.
	PermanentRecipient
	// PermanentMessage: the server refuses this message (its content, its
	// size, its sender); sending it again every run would only upload it
	// again to be refused, so it is tried again tomorrow.
	PermanentMessage
	// SessionWide: the session itself was refused (greeting, TLS, login,
	// a 421 at any step): nothing about this message or address. A login
	// the server refuses is not retried at every run (see Backoff).
	SessionWide
)

func (c Class) String() string {
	switch c {
	case Temporary:
		return "temporary"
	case PermanentRecipient:
		return "permanent for this recipient"
	case PermanentMessage:
		return "permanent for this message"
	case SessionWide:
		return "session-wide"
	}
	return "none"
}

// Permanent reports whether the class is a refusal for good of this
// recipient or this message: the next try is tomorrow.
func (c Class) Permanent() bool { return c == PermanentRecipient || c == PermanentMessage }

// Classify is the one table from an SMTP answer to what it means: the step
// it came at, its reply code (0 for none) and its enhanced status code
// (RFC 3463, "" when the server gave none).
//
//   - No answer at all is temporary (the connection is another matter: see
//     usable).
//   - 421 at any step means the server is closing the session: SessionWide.
//   - Any answer before the transaction (greeting, EHLO, STARTTLS, AUTH),
//     and 530 (authentication required) at any step, is SessionWide.
//   - X.2.2 "mailbox full" is temporary wherever it comes (RFC 3463 lists it
//     as a persistent transient failure).
//   - 552 at RCPT and after the final dot is temporary (RFC 5321
//     §4.5.3.1.10: clients treat it as 452), unless its enhanced code is
//     X.3.4, "message too big": permanent for this message.
//   - Other 4xx are temporary; other 5xx at RCPT are permanent for the
//     recipient; at MAIL (the sender refused) session-wide, unless it is
//     about the size; at DATA or after the dot permanent for the message.
func Classify(step Step, code int, enhanced string) Class {
	switch {
	case code == 0:
		return Temporary
	case code == 421, code == 530, step == StepSession:
		return SessionWide
	case strings.HasSuffix(enhanced, ".2.2"):
		return Temporary
	case code >= 400 && code < 500:
		return Temporary
	case code == 552 && (step == StepRcpt || step == StepDot) && !strings.HasSuffix(enhanced, ".3.4"):
		return Temporary
	case code >= 500 && step == StepRcpt:
		return PermanentRecipient
	case code >= 500 && step == StepMail && code != 552 && !strings.HasSuffix(enhanced, ".3.4"):
		// The sender refused: every message's problem, and the owner's to
		// fix (--from); not a reason to hold any recipient back.
		return SessionWide
	case code >= 500:
		return PermanentMessage
	}
	return Temporary
}

// ClassOf classifies the error of one failed delivery: a nil error has no
// class (0).
func ClassOf(err error) Class {
	if err == nil {
		return 0
	}
	switch {
	case errors.Is(err, ErrTooLarge):
		return PermanentMessage
	case errors.Is(err, ErrAddressNotASCII):
		return PermanentRecipient
	}
	code := replyCode(err)
	return Classify(stepOf(err), code, enhancedCode(err))
}

// stepOf says at which step err came.
func stepOf(err error) Step {
	var ste *stepError
	if errors.As(err, &ste) {
		return ste.step
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		if replyCode(err) != 0 {
			return StepSession // a reply outside a message: greeting, EHLO, AUTH
		}
		return StepOther
	}
	switch se.Reason {
	case gomail.ErrSMTPMailFrom:
		return StepMail
	case gomail.ErrSMTPRcptTo:
		return StepRcpt
	case gomail.ErrSMTPData:
		return StepData
	case gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
		return StepDot
	}
	return StepOther
}

var enhancedRE = regexp.MustCompile(`^([245])\.\d{1,3}\.\d{1,3}\b`)

// enhancedCode is the RFC 3463 code at the start of the server's reply
// text, whether or not the server advertised ENHANCEDSTATUSCODES.
func enhancedCode(err error) string {
	var se *gomail.SendError
	if errors.As(err, &se) && se.EnhancedStatusCode() != "" {
		return se.EnhancedStatusCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return enhancedRE.FindString(strings.TrimSpace(te.Msg))
	}
	return ""
}

// IsPermanent reports whether err carries a 5xx answer from the server.
// What that means for the next try is Classify's: a 552 after the dot is
// 5xx but temporary.
func IsPermanent(err error) bool {
	code := replyCode(err)
	return code >= 500 && code < 600
}

// RecipientRefused reports whether the server refused the recipient's
// address for good (Classify: PermanentRecipient).
func RecipientRefused(err error) bool { return ClassOf(err) == PermanentRecipient }

// isTemporary reports whether the server answered 4xx.
func isTemporary(err error) bool {
	code := replyCode(err)
	return code >= 400 && code < 500
}

func replyCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// ErrLoginRefused means the server refused cotd's login for good (5xx to
// AUTH, 535 above all): the user or the password is wrong.
var ErrLoginRefused = errors.New("smtp login refused")

// LoginRefused reports whether err is the server refusing the login.
func LoginRefused(err error) bool {
	return errors.Is(err, ErrLoginRefused) || replyCode(err) == 535
}

// Attempted reports whether err is an answer the server gave inside a
// transaction (to MAIL, RCPT, DATA or the final dot): the message got as
// far as the server's judgement, as opposed to one that never started.
func Attempted(err error) bool {
	if replyCode(err) == 0 {
		return false
	}
	switch stepOf(err) {
	case StepMail, StepRcpt, StepData, StepDot:
		return true
	}
	return false
}
