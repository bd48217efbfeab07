package mail

import (
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/mailpit"
)

// htmlCheck is Mailpit's caniemail-based report of how well mail clients
// support a message's HTML.
type htmlCheck struct {
	Total struct {
		Supported, Partial, Unsupported float64
		Nodes                           int
	}
	Warnings []struct {
		Title    string
		Category string
		Results  []struct {
			Family, Platform, Version, Support string
		}
		Score struct {
			Found                           int
			Supported, Partial, Unsupported float64
		}
	}
}

// sendToMailpit empties srv, sends msg to it and returns the ID Mailpit
// gives the one message it then holds.
func sendToMailpit(t *testing.T, srv *mailpit.Server, msg *gomail.Msg) string {
	t.Helper()
	srv.DeleteAll(t)
	c, err := gomail.NewClient(srv.Host, gomail.WithPort(srv.Port), gomail.WithTLSPolicy(gomail.NoTLS))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DialAndSend(msg); err != nil {
		t.Fatalf("send to mailpit: %v", err)
	}
	list := srv.Messages(t)
	if len(list) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", len(list))
	}
	return list[0].ID
}

// mailpitHTMLCheck sends msg to srv and returns Mailpit's HTML check.
func mailpitHTMLCheck(t *testing.T, srv *mailpit.Server, msg *gomail.Msg) htmlCheck {
	t.Helper()
	var check htmlCheck
	mailpitJSON(t, srv.API+"/message/"+sendToMailpit(t, srv, msg)+"/html-check", &check)
	return check
}

// Mailpit's HTML compatibility check is at least 90 % supported for every
// kind of cat mail: one day with a caption, a digest with captions and
// skipped days, and the mail as composed in any recipient's zone.
func TestHTMLCheckSupported(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{})
	type tc struct {
		name string
		m    Message
	}
	single := singleMessage(t)
	single.Days[0].Caption = "Mochi on the radiator"
	digest := digestMessage(t)
	digest.Days[0].Caption = "Mochi on the radiator"
	digest.Days[2].Caption = "Tom in the garden"
	cases := []tc{{"day", singleMessage(t)}, {"day with caption", single}, {"digest", digestMessage(t)}, {"digest with captions", digest}}
	for _, zone := range []string{"Asia/Tokyo", "America/New_York", "Pacific/Honolulu", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		m := singleMessage(t)
		m.Days[0].Caption = "Mochi on the radiator"
		m.Days[0].Date = time.Date(2026, 12, 7, 0, 0, 0, 0, loc)
		m.SentAt = time.Date(2026, 12, 7, 7, 30, 0, 0, loc)
		m.Date = m.SentAt.Add(3 * time.Minute)
		cases = append(cases, tc{"day in " + zone, m})
	}
	for _, c := range cases {
		msg, err := Compose(c.m)
		if err != nil {
			t.Fatal(err)
		}
		check := mailpitHTMLCheck(t, srv, msg)
		t.Logf("%s: %.2f%% supported, %.2f%% partial, %.2f%% unsupported", c.name, check.Total.Supported, check.Total.Partial, check.Total.Unsupported)
		if check.Total.Supported < 90 {
			// The total is 100 less the worst feature's partial and
			// unsupported shares, each weighted by how often it is used
			// per HTML node: these are the ones to look at.
			for _, w := range check.Warnings {
				n := float64(check.Total.Nodes)
				t.Logf("  %s: found %d of %d nodes, partial %.1f%% (weighs %.2f), unsupported %.1f%% (weighs %.2f)",
					w.Title, w.Score.Found, check.Total.Nodes, w.Score.Partial, w.Score.Partial*float64(w.Score.Found)/n, w.Score.Unsupported, w.Score.Unsupported*float64(w.Score.Found)/n)
			}
			t.Errorf("%s: Mailpit's HTML check %.2f%% supported, want at least 90%%", c.name, check.Total.Supported)
		}
	}
}
