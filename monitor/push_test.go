package monitor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cotd/job"
	"cotd/schedule"
	"cotd/store"
)

// The push is the channel for mail that is broken. A recipient's server
// refusing that one address while the alert mail reaches the owner is not
// broken mail: no "cotd cannot send mail" push, and so no "mail works
// again" when the address is removed (found by the VM test). Without an
// alert address the push is the owner's only news, so it still goes.
func TestPushOnlyWhenMailIsBroken(t *testing.T) {
	now := time.Date(2026, 12, 10, 7, 15, 0, 0, time.UTC)
	refused := job.Summary{Pending: 1, Failures: []job.Failure{{To: "bo@nowhere.test", Days: []schedule.Day{schedule.DayOf(now, time.UTC)},
		Err: errors.New("550 5.1.1 no such user")}}}
	down := job.Summary{Pending: 1, ConnErr: errors.New("smtp mail.test:587: connection refused")}
	for _, tc := range []struct {
		name    string
		alertTo string
		sum     job.Summary
		push    bool
	}{
		{"one address refused, the alert went", "owner@example.test", refused, false},
		{"one address refused, no alert address", "", refused, true},
		{"the server is down", "owner@example.test", down, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var pushes []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				pushes = append(pushes, r.Header.Get("Title"))
			}))
			defer srv.Close()
			c := Config{Settings: Settings{AlertTo: tc.alertTo, NotifyURL: srv.URL + "/cotd"}, From: "Cat of the Day <cotd@example.test>",
				Schedule: schedule.Settings{Loc: time.UTC}, Outbox: t.TempDir(), Now: func() time.Time { return now }}
			m := New(c, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			problems := m.problems(tc.sum, errors.New("not delivered"), store.Run{}, nil, now)
			m.alert(context.Background(), tc.sum, problems, store.AlertBook{}, now)
			mu.Lock()
			defer mu.Unlock()
			if got := len(pushes) > 0; got != tc.push {
				t.Errorf("pushed %q, want a push: %v", pushes, tc.push)
			}
		})
	}
}
