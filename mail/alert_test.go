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

// An owner who sends as themself gets alerts from their +cotd subaddress,
// not from their own address (To = From is a spam sign: SpamAssassin's
// TO_EQ_FM_DIRECT_MX); the envelope keeps the account's address, the one
// the server lets them send as.
func TestAlertFromIsNotTheOwner(t *testing.T) {
	now := time.Date(2026, 3, 2, 7, 5, 0, 0, time.UTC)
	for _, tc := range []struct{ from, to, header, envelope string }{
		{"Ana Lima <ana@example.test>", "Ana Lima <Ana@Example.test>", `"cotd" <ana+cotd@example.test>`, "ana@example.test"},
		{"Cat of the Day <cotd@example.test>", "ana@example.test", `"Cat of the Day" <cotd@example.test>`, "cotd@example.test"},
		{"ana+cotd@example.test", "ana+cotd@example.test", `"cotd" <ana+cotd@example.test>`, "ana+cotd@example.test"}, // already the subaddress
	} {
		msg, err := ComposeAlert(Alert{From: tc.from, To: tc.to, Subject: "cotd on pi: x", Body: "x\n", Date: now, ID: "<a@example.test>"})
		if err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		if err := WriteEML(&raw, msg); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(raw.String(), "\r\nFrom: "+tc.header+"\r\n") {
			t.Errorf("From %q to %q: header From is not %s:\n%s", tc.from, tc.to, tc.header, raw.String())
		}
		if env, err := msg.GetSender(false); err != nil || env != "<"+tc.envelope+">" {
			t.Errorf("From %q to %q: envelope sender %q (%v), want %q", tc.from, tc.to, env, err, tc.envelope)
		}
	}
}
