package schedule

import "time"

// Candidate is a photo or quote that could go out.
type Candidate struct {
	ID    string
	Added time.Time // when cotd first saw it
	Sent  int       // how many times it went out
	Last  Day       // when it last went out; zero if never
}

// Pick returns the index of the candidate to send next, or -1 if there is
// none. Fewest sends win, so nothing repeats until everything has gone out;
// then the one that went out longest ago, so a round keeps its order; among
// never-sent ones the newest addition wins, so fresh photos go out first; the
// ID (a content hash) breaks ties, giving a stable order that looks shuffled.
func Pick(cs []Candidate) int {
	best := -1
	for i, c := range cs {
		if best < 0 || better(c, cs[best]) {
			best = i
		}
	}
	return best
}

func better(a, b Candidate) bool {
	if a.Sent != b.Sent {
		return a.Sent < b.Sent
	}
	if a.Last != b.Last {
		return a.Last.Before(b.Last)
	}
	if !a.Added.Equal(b.Added) {
		return a.Added.After(b.Added)
	}
	return a.ID < b.ID
}

// Left counts the candidates that can go out before something repeats.
func Left(cs []Candidate) int {
	if len(cs) == 0 {
		return 0
	}
	low := cs[0].Sent
	for _, c := range cs {
		low = min(low, c.Sent)
	}
	n := 0
	for _, c := range cs {
		if c.Sent == low {
			n++
		}
	}
	return n
}
