package mail

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The alert's Message-ID takes the sender's domain as the cat mail's
// does, never starts like a cat mail's, and the mail is marked
// Auto-Submitted and threaded to the first alert.
func TestComposeAlert(t *testing.T) {
	now := time.Date(2026, 3, 2, 7, 5, 0, 0, time.UTC)
	id := AlertID("Cat of the Day <cotd@Example.TEST>", "s", "b", now)
	if !strings.HasPrefix(id, "<cotd-alert.20260302T070500.") || !strings.HasSuffix(id, "@example.test>") {
		t.Errorf("AlertID = %q", id)
	}
	if other := AlertID("not an address", "s", "b", now); !strings.HasSuffix(other, "@cotd.invalid>") {
		t.Errorf("AlertID of a bad From = %q", other)
	}
	msg, err := ComposeAlert(Alert{From: "cotd@example.test", To: "me@example.test", Subject: "cotd on pi: x", Body: "x\n",
		Date: now, ID: id, Refs: []string{"<first@example.test>", "<second@example.test>"}})
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := WriteEML(&raw, msg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Message-ID: " + id, "Auto-Submitted: auto-generated", "In-Reply-To: <first@example.test>",
		"References: <first@example.test> <second@example.test>"} {
		if !strings.Contains(raw.String(), want) {
			t.Errorf("alert mail lacks %q:\n%s", want, raw.String())
		}
	}
	if _, err := ComposeAlert(Alert{From: "bad\naddress", To: "me@example.test"}); err == nil {
		t.Error("a From with a line break was accepted")
	}
}
