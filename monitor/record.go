package monitor

import (
	"time"

	"cotd/certs"
	"cotd/health"
	"cotd/store"
)

// The run record and the alert book are typed in the store, under its
// schema version; these convert between them and the monitor's types.

func expiry(c store.Cert) certs.Expiry {
	return certs.Expiry{Source: c.Source, Subject: c.Subject, NotBefore: c.NotBefore, NotAfter: c.NotAfter}
}

func storedCert(e certs.Expiry, seen time.Time) store.Cert {
	return store.Cert{Source: e.Source, Subject: e.Subject, NotBefore: e.NotBefore, NotAfter: e.NotAfter, Seen: seen}
}

func storedProblems(ps []Problem) []store.Problem {
	var out []store.Problem
	for _, p := range ps {
		out = append(out, store.Problem{Key: string(p.Key), Severity: string(p.Severity), Summary: p.Summary, Detail: p.Detail, Recipients: p.Recipients})
	}
	return out
}

func alertStates(as []store.Alert) []health.AlertState {
	var out []health.AlertState
	for _, a := range as {
		out = append(out, health.AlertState(a))
	}
	return out
}

func storedAlerts(states []health.AlertState) []store.Alert {
	var out []store.Alert
	for _, s := range states {
		out = append(out, store.Alert(s))
	}
	return out
}
