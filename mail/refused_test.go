package mail

import (
	"errors"
	"fmt"
	"net/textproto"
	"testing"

	gomail "github.com/wneessen/go-mail"
)

func TestRecipientRefused(t *testing.T) {
	at := func(reason gomail.SendErrReason, code int) error {
		return fmt.Errorf("smtp: %w", errors.Join(&gomail.SendError{Reason: reason}, &textproto.Error{Code: code, Msg: "no"}))
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"550 at RCPT: the address is refused", at(gomail.ErrSMTPRcptTo, 550), true},
		{"451 at RCPT: try again soon", at(gomail.ErrSMTPRcptTo, 451), false},
		{"554 at MAIL FROM: the sender's problem", at(gomail.ErrSMTPMailFrom, 554), false},
		{"552 after DATA: the message's problem", at(gomail.ErrSMTPDataClose, 552), false},
		{"a bare 550 with no stage", &textproto.Error{Code: 550, Msg: "no"}, false},
		{"no error", nil, false},
	}
	for _, tt := range tests {
		if got := RecipientRefused(tt.err); got != tt.want {
			t.Errorf("%s: RecipientRefused = %v, want %v", tt.name, got, tt.want)
		}
	}
}
