package store

import (
	"bytes"
	"encoding/json"
	"time"

	"cotd/schedule"
)

// LoginRefusal is the SMTP server refusing cotd's login (535): runs wait
// before they try the same login again, so a wrong password is not tried
// 96 times a day (a lockout risk at the provider).
type LoginRefusal struct {
	// Login identifies the server, user and password that were refused
	// (mail.SMTPConfig.LoginID); another one is tried at once.
	Login    string    `json:"login"`
	Since    time.Time `json:"since"`
	Last     time.Time `json:"last"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
}

const keyLoginRefusal = "x:login-refused"

// LoginRefusal returns the stored refusal, if any.
func (t *Tx) LoginRefusal() (LoginRefusal, bool, error) {
	return getJSON[LoginRefusal](t, bMeta, keyLoginRefusal)
}

// PutLoginRefusal stores r.
func (t *Tx) PutLoginRefusal(r LoginRefusal) error { return putJSON(t, bMeta, keyLoginRefusal, r) }

// DeleteLoginRefusal forgets the refusal (a login worked).
func (t *Tx) DeleteLoginRefusal() error { return del(t.tx, bMeta, keyLoginRefusal) }

// InDoubt is a message whose final dot went out without an answer: the
// server probably has it. It is sent once more exactly as it was (Raw,
// same Message-ID), never folded into a new digest, and then its days
// count as delivered. Its days carry a Delivery with InDoubt set
// meanwhile, so nothing counts them as owed.
type InDoubt struct {
	To        string         `json:"to"` // the recipient's key
	MessageID string         `json:"message_id"`
	Days      []schedule.Day `json:"days"`
	At        time.Time      `json:"at"`
	Raw       []byte         `json:"raw"` // the message as it went out
	From      string         `json:"from"`
	Rcpt      string         `json:"rcpt"` // the envelope recipient
	// Unanswered: written just before the message went out (PutSending),
	// and the run ended (killed, the power cut) before the server's answer
	// was recorded. It may never have reached the final dot, so a refusal
	// of its resend makes its days owed again instead of delivered.
	Unanswered bool `json:"unanswered,omitempty"`
}

const inDoubtPrefix = "x:in-doubt:"

// PutInDoubt records m and marks its days as in doubt for its recipient.
func (t *Tx) PutInDoubt(m InDoubt) error {
	for _, d := range m.Days {
		if err := t.PutDelivery(d, m.To, Delivery{At: m.At, MessageID: m.MessageID, InDoubt: true}); err != nil {
			return err
		}
	}
	return putJSON(t, bMeta, inDoubtPrefix+m.To+"\x00"+m.MessageID, m)
}

// SettleInDoubt ends m's doubt: its days count as delivered at at (sent
// again, or given the benefit of the doubt).
func (t *Tx) SettleInDoubt(m InDoubt, at time.Time) error {
	for _, d := range m.Days {
		if err := t.PutDelivery(d, m.To, Delivery{At: at, MessageID: m.MessageID}); err != nil {
			return err
		}
	}
	return del(t.tx, bMeta, inDoubtPrefix+m.To+"\x00"+m.MessageID)
}

// GiveUpInDoubt ends m's doubt by giving its days up for its recipient,
// for why: a message the last run was cut off on, refused for good when
// sent again, may or may not have arrived the first time, and neither
// sending it anew (twice, perhaps) nor counting it delivered (lost,
// perhaps, and never told) is right.
func (t *Tx) GiveUpInDoubt(m InDoubt, at time.Time, why string) error {
	for _, d := range m.Days {
		if err := t.PutDelivery(d, m.To, Delivery{At: at, GaveUp: why}); err != nil {
			return err
		}
	}
	return del(t.tx, bMeta, inDoubtPrefix+m.To+"\x00"+m.MessageID)
}

const sendingPrefix = "x:sending:"

// PutSending records m just before it goes out (a write-ahead record):
// recording its outcome deletes it (DeleteSending) in the same
// transaction. One still there at the next run was cut off between the
// two, by a SIGKILL or a power cut while the server had the message or
// was about to answer; that run turns it into a message in doubt
// (TakeSending), so it is sent again byte for byte under its own
// Message-ID instead of being composed anew into another digest.
func (t *Tx) PutSending(m InDoubt) error {
	return putJSON(t, bMeta, sendingPrefix+m.To+"\x00"+m.MessageID, m)
}

// DeleteSending drops the write-ahead record of the message id to to.
func (t *Tx) DeleteSending(to, id string) error {
	return del(t.tx, bMeta, sendingPrefix+to+"\x00"+id)
}

// EachSending calls fn for every write-ahead record, in key order.
func (t *Tx) EachSending(fn func(m InDoubt) error) error { return t.eachMessage(sendingPrefix, fn) }

// TakeSending turns every write-ahead record left by a run that was cut
// off into a message in doubt marked Unanswered, and returns how many.
func (t *Tx) TakeSending() (int, error) {
	var left []InDoubt
	if err := t.EachSending(func(m InDoubt) error { left = append(left, m); return nil }); err != nil {
		return 0, err
	}
	for _, m := range left {
		m.Unanswered = true
		if err := t.PutInDoubt(m); err != nil {
			return 0, err
		}
		if err := t.DeleteSending(m.To, m.MessageID); err != nil {
			return 0, err
		}
	}
	return len(left), nil
}

// EachInDoubt calls fn for every message in doubt, in key order.
func (t *Tx) EachInDoubt(fn func(m InDoubt) error) error { return t.eachMessage(inDoubtPrefix, fn) }

// eachMessage calls fn for every message recorded under prefix in bMeta.
func (t *Tx) eachMessage(prefix string, fn func(m InDoubt) error) error {
	c := t.tx.Bucket(bMeta).Cursor()
	for k, raw := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, raw = c.Next() {
		var m InDoubt
		if err := json.Unmarshal(raw, &m); err != nil {
			return t.badRecord(bMeta, string(k), err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}
