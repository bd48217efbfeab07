// Package certs finds out when the certificates cotd depends on expire and
// says so in words an owner can act on.
//
// It inspects certificate chains (from an SMTP connection, PEM files or TLS
// endpoints listed in --watch-certs), classifies each expiry against a
// warning window, and rewrites raw x509 verification errors into one line
// naming the host, the date and the fix.
//
// It is not a TLS client for cotd's mail and it does not alert anyone: the
// mail package dials SMTP and hands the chain to Earliest; the health
// package turns the results into metrics and alerts.
package certs

import (
	"crypto/x509"
	"fmt"
	"time"

	"cotd/internal/text"
)

// Expiry is one certificate seen by cotd.
type Expiry struct {
	// Source says where the certificate was seen, e.g.
	// "smtp mail.example.test:587", "/var/lib/rancher/k3s/server/tls/server-ca.crt"
	// or "127.0.0.1:6443".
	Source string
	// Subject is the certificate's subject in RFC 2253 form ("CN=example.test").
	Subject   string
	NotBefore time.Time
	NotAfter  time.Time
}

// Earliest returns the certificate of chain that expires first, as an
// Expiry for source. A chain stops working when any of its certificates
// expires, so that is the date that matters. An empty chain gives an Expiry
// with only Source set (zero times).
func Earliest(source string, chain []*x509.Certificate) Expiry {
	e := Expiry{Source: source}
	var first *x509.Certificate
	for _, c := range chain {
		if c == nil {
			continue
		}
		if first == nil || c.NotAfter.Before(first.NotAfter) {
			first = c
		}
	}
	if first == nil {
		return e
	}
	e.Subject = subjectName(first)
	e.NotBefore = first.NotBefore
	e.NotAfter = first.NotAfter
	return e
}

// subjectName is the subject as text, falling back to the first SAN for
// certificates with an empty subject (allowed, and common with ACME).
func subjectName(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return s
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	if len(c.IPAddresses) > 0 {
		return c.IPAddresses[0].String()
	}
	return ""
}

// Level is how urgent an expiry is.
type Level int

const (
	// OK means valid now and for longer than the warning window.
	OK Level = iota
	// Warn means valid now but expiring within the warning window.
	Warn
	// Expired means NotAfter has passed.
	Expired
	// NotYetValid means NotBefore is still ahead (often a wrong clock on
	// the Pi or on the server).
	NotYetValid
)

func (l Level) String() string { return name(l, "level", "ok", "warn", "expired", "not-yet-valid") }

// name is the name of an enum value numbered from 0 (Level, Kind), or
// what(N) for a value outside names.
func name[T ~int](v T, what string, names ...string) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", what, int(v))
}

// Status is the verdict on one Expiry at one moment.
type Status struct {
	Level Level
	// DaysLeft is the number of whole days until NotAfter, negative once
	// expired (-3 means expired 3 days ago, 0 within the day either side).
	DaysLeft int
	// Message is one lower-case line for a log, an alert or `cotd check`.
	Message string
}

const day = 24 * time.Hour

// Classify says whether e is expired, not yet valid, expiring within
// warnDays days of now, or fine. Dates are shown in now's location, so pass
// now in the owner's time zone.
func Classify(e Expiry, now time.Time, warnDays int) Status {
	left := e.NotAfter.Sub(now)
	st := Status{DaysLeft: int(left / day)}
	what := describe(e)
	switch {
	case e.NotAfter.IsZero():
		st.Level, st.DaysLeft = Expired, 0
		st.Message = fmt.Sprintf("%s: no certificate was found", e.Source)
	case !now.Before(e.NotAfter):
		st.Level = Expired
		st.Message = expired(what, e.NotAfter, now)
	case now.Before(e.NotBefore):
		st.Level = NotYetValid
		st.Message = notYetValid(what, e.NotBefore, now)
	case left <= time.Duration(warnDays)*day:
		st.Level = Warn
		st.Message = fmt.Sprintf("%s expires on %s (%s); renew it before then",
			what, date(e.NotAfter, now), ahead(left))
	default:
		st.Level = OK
		st.Message = fmt.Sprintf("%s is valid until %s (%s)",
			what, date(e.NotAfter, now), ahead(left))
	}
	return st
}

func describe(e Expiry) string {
	if e.Subject == "" {
		return "the certificate of " + e.Source
	}
	return fmt.Sprintf("the certificate of %s (%s)", e.Source, e.Subject)
}

// expired and notYetValid are cotd's one wording of a certificate outside
// its dates, for an expiry Classify judges and for a verification error
// Describe explains: what, the day, how long ago or ahead, and the fix.
func expired(what string, notAfter, now time.Time) string {
	return fmt.Sprintf("%s expired on %s (%s); renew it", what, date(notAfter, now), daysAgo(notAfter, now))
}

func notYetValid(what string, notBefore, now time.Time) string {
	return fmt.Sprintf("%s is not valid until %s (%s); check the clock of this machine (timedatectl) and of the server",
		what, date(notBefore, now), ahead(notBefore.Sub(now)))
}

// date formats t as a calendar day in now's location.
// daysAgo words how long ago t was in calendar days, the same days date
// shows: a certificate that expired at 23:00 yesterday was "1 day ago" at
// 08:00 today (by whole 24-hour periods it was "today", beside
// yesterday's date: issue 21 §3).
func daysAgo(t, now time.Time) string {
	y1, m1, d1 := t.In(now.Location()).Date()
	y2, m2, d2 := now.Date()
	n := int(time.Date(y2, m2, d2, 12, 0, 0, 0, time.UTC).Sub(time.Date(y1, m1, d1, 12, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	return text.DaysAgo(time.Duration(n) * 24 * time.Hour)
}

func date(t, now time.Time) string {
	return t.In(now.Location()).Format("2006-01-02")
}

func ahead(d time.Duration) string {
	n := int(d / day)
	switch n {
	case 0:
		return "in less than a day"
	case 1:
		return "in 1 day"
	}
	return fmt.Sprintf("in %d days", n)
}
