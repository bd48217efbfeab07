package monitor

import (
	"strings"
	"testing"

	"cotd/mail"
	"cotd/store"
)

// The password is scrubbed from everything the monitor sends out, even if
// a server echoed it into an error.
func TestScrubPassword(t *testing.T) {
	c := &mail.SMTPConfig{Password: "Sw0rdf1sh"}
	rec := store.Run{ExitCode: 1, Error: "smtp login failed: server said Sw0rdf1sh is wrong", Summary: "sent 0 of 1 messages"}
	got := Scrub(c, reportText("pi", rec))
	if strings.Contains(got, "Sw0rdf1sh") || !strings.Contains(got, "server said *** is wrong") {
		t.Errorf("scrubbed report:\n%s", got)
	}
	if !strings.HasPrefix(got, "cotd on pi: FAILED (exit 1)\n") {
		t.Errorf("report starts %q", got)
	}
	short := &mail.SMTPConfig{Password: "ab"}
	if got := Scrub(short, "about abc"); got != "about abc" {
		t.Errorf("a 2-character password mangles text: %q", got)
	}
}
