// Package job is one cotd run: index the photos and quotes, decide which
// days are due, give each new day its cat and quote, deliver to every
// recipient what they have not had, and record each delivery as it lands.
//
// It owns the order of those steps and the bookkeeping between them; the
// decisions themselves live in schedule, the bytes in images and mail, and
// the state in store.
package job

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"cotd/images"
	cmail "cotd/mail"
	"cotd/quotes"
	"cotd/recipients"
	"cotd/schedule"
	"cotd/store"
)

// Sender delivers composed messages, reporting each outcome as soon as it
// is known so the delivery can be recorded before the next message goes;
// mail.NewSender makes the real one.
type Sender = cmail.Sender

// Config is what the owner configured.
type Config struct {
	// Photos is the photo folder; empty means the built-in Sample.
	Photos string
	Sample []byte
	// Quotes is the quotes file; empty means DefaultQuotes.
	Quotes        string
	DefaultQuotes []byte
	From          string
	Owner         string
	To            []*mail.Address
	// Mornings are the recipients' own send times, zones and pauses, by
	// lower-case address (the recipients file); a recipient without one
	// has the owner's (Schedule.At in Schedule.Loc).
	Mornings map[string]schedule.Morning
	// RecipientProblems are lines of the recipients file that could not
	// be used: those recipients get nothing until they are fixed.
	RecipientProblems []recipients.Problem
	// RecipientsFile is the recipients file; empty with --to.
	RecipientsFile string
	Schedule       schedule.Settings
	// CacheDir holds the rendered photos.
	CacheDir string
	Render   images.Options
	Indexing IndexOptions
	// Login identifies the SMTP login (mail.SMTPConfig.LoginID), so a
	// refused one is not tried at every run; "" without one.
	Login string
}

// Job runs cotd once. Now is the only clock it reads.
type Job struct {
	Config
	Store    *store.Store
	Sender   Sender
	Now      func() time.Time
	Log      *slog.Logger
	Progress func(done, total int) // optional, during indexing
	// Stopwatch measures durations (index rate and budget); Now may be a
	// fixed time.
	Stopwatch func() time.Time
	// KeepCache leaves the rendition cache unpruned: `cotd check` indexes
	// into a copy of the database that may be older than a run's
	// renditions.
	KeepCache bool

	realRoot string // the photo folder with its links resolved, during a scan
}

// ErrUndelivered means something due was not delivered; it will be retried.
var ErrUndelivered = errors.New("not delivered")

// ErrNoPhotos means there is no usable photo to send.
var ErrNoPhotos = errors.New("no usable photo")

func (j *Job) now() time.Time { return j.Now() }

func (j *Job) log() *slog.Logger {
	if j.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Log
}

// Failure is a recipient that did not get its mail this run.
type Failure struct {
	To    string
	Days  []schedule.Day
	Err   error
	Class cmail.Class // what the failure means for the next try
}

// Undelivered is a day given up for good for some recipients: data, so
// that whoever prints it (the journal, the alert mail) words it.
type Undelivered struct {
	Day    schedule.Day
	To     []string // addresses
	Reason string   // why it was dropped; "" for a day older than the window
}

// QuotesProblem is something wrong with the quotes that the owner should
// fix: the facts (which file, which line, what is wrong), so that whoever
// prints it (the journal, the alert mail, `cotd check`) words it.
type QuotesProblem struct {
	Kind QuotesProblemKind
	File string // the quotes file; "" for the built-in quotes
	Line int    // the line, from 1, for a BadQuote
	// Reason is what is wrong: why the file could not be read
	// (QuotesUnreadable) or what is wrong with the line (BadQuote).
	Reason string
}

// QuotesProblemKind says which of the quotes problems it is.
type QuotesProblemKind int

const (
	// QuotesUnreadable is a quotes file that could not be opened or read;
	// the run uses the built-in quotes until it is fixed.
	QuotesUnreadable QuotesProblemKind = iota
	// BadQuote is a line that could not be used; it is skipped.
	BadQuote
	// NoQuote is a quotes file without one usable quote; the run uses
	// the built-in quotes until it has one.
	NoQuote
)

// Summary is what one run did.
type Summary struct {
	Now      time.Time
	Plan     schedule.Plan
	Index    IndexStats
	Problems []QuotesProblem // things wrong with the quotes, for the owner to fix
	// RecipientProblems are the recipients file's unusable lines: those
	// recipients got nothing.
	RecipientProblems []recipients.Problem
	RecipientsFile    string
	Sent              int
	Messages          []string // Message-IDs delivered
	Failures          []Failure
	// ConnErr is set when no message could be attempted (connect, TLS, login).
	ConnErr error
	// InDoubt are messages that went out whole without an answer: the
	// server probably has them; they are sent once more on the next run,
	// unchanged, and then count as delivered (not failures).
	InDoubt []Failure
	// Resent are the Message-IDs of messages in doubt sent again this run.
	Resent []string
	// ServerChain is the SMTP server's verified certificate chain (leaf
	// first) from this run's last connection that got as far as TLS; nil
	// when there was none (the outbox, nothing due, no TLS).
	ServerChain []*x509.Certificate
	GaveUp      []Undelivered // days older than the window, left undelivered for good
	// ClockJump is a jump of the clock far beyond the catch-up window since
	// the last run (likely a wrong clock); nil if none.
	ClockJump *ClockJump
	// Dropped are days given up inside the window, each with its reason;
	// already logged by the job.
	Dropped []Undelivered
	Pending int // messages that were due this run
	// BeforeFirstMorning is a run before any day was ever due: a fresh
	// install run before today's send time, which sends nothing yet.
	BeforeFirstMorning bool
	// Tried is what the run set out to deliver, by day, with the
	// recipients (the retry of a failed recipient among them).
	Tried                    []Undelivered
	PhotosLeft, QuotesLeft   int
	PhotosTotal, QuotesTotal int
}

// Run does one run.
func (j *Job) Run(ctx context.Context) (Summary, error) {
	now := j.now()
	sum := Summary{Now: now, RecipientProblems: j.RecipientProblems, RecipientsFile: j.RecipientsFile}
	var st schedule.State
	if err := j.Store.View(func(tx *store.Tx) (err error) { st, err = tx.State(); return }); err != nil {
		return sum, err
	}
	plan, err := schedule.DecideFor(st, now, j.Schedule, j.MorningsOf())
	if err != nil {
		return sum, err
	}
	sum.Plan = plan
	sum.BeforeFirstMorning = st.Last.IsZero() && len(plan.Open) == 0 && len(plan.Skipped) == 0
	if jump := clockJump(st, now, j.Schedule, len(plan.Skipped)); jump != nil {
		sum.ClockJump = jump
		j.log().Warn(jump.String())
	}

	budget := j.Indexing.Budget
	if d := j.Indexing.DueBudget; len(plan.Open) > 0 && d > 0 && (budget == 0 || d < budget) {
		budget = d
	}
	idx, err := j.IndexWithin(ctx, budget)
	sum.Index = idx
	if err != nil {
		return sum, err
	}
	qs, problems, err := j.indexQuotes()
	if err != nil {
		return sum, err
	}
	sum.Problems = append(sum.Problems, problems...)

	if err := j.openDays(plan, qs, &sum); err != nil {
		return sum, err
	}
	point("opened")
	if err := j.deliver(ctx, &sum); err != nil {
		return sum, err
	}
	if sum.ConnErr != nil {
		return sum, fmt.Errorf("%w: %w", ErrUndelivered, sum.ConnErr)
	}
	if len(sum.Failures) > 0 {
		var names []string
		for _, f := range sum.Failures {
			names = append(names, f.To)
		}
		return sum, fmt.Errorf("%w to %s", ErrUndelivered, strings.Join(names, ", "))
	}
	return sum, nil
}

// openDays records the run, the skipped days, and gives each newly due day
// its own cat and quote, all in one commit.
func (j *Job) openDays(plan schedule.Plan, current []quotes.Quote, sum *Summary) error {
	now := sum.Now
	return j.Store.Update(func(tx *store.Tx) error {
		// The rotation's compact records: a morning decodes only the
		// chosen cat's record, not the library's.
		photos := make([]schedule.Candidate, 0, sum.Index.Photos) // the index counted them
		var quotes []store.Quote
		err := tx.EachRotation(func(r store.Rotation) error {
			photos = append(photos, schedule.Candidate{ID: r.Hash, Added: r.Added, Sent: r.Sent, Last: r.Last})
			return nil
		})
		if err != nil {
			return err
		}
		live, err := liveQuotes(tx, current)
		if err != nil {
			return err
		}
		quotes = live
		if len(plan.Open) > 0 && len(photos) == 0 {
			where := "the photo folder " + j.Photos
			return fmt.Errorf("%w in %s; add JPEG or PNG photos there", ErrNoPhotos, where)
		}
		if err := tx.RecordRun(now); err != nil {
			return err
		}
		for _, d := range plan.Skipped {
			if err := tx.PutDay(store.Day{Day: d, Status: store.StatusSkipped, Decided: now, Why: "missed while cotd was not running"}); err != nil {
				return err
			}
		}
		for _, d := range plan.Open {
			pi, p, jpeg, err := j.pickPhoto(tx, photos, d)
			if err != nil {
				return err
			}
			qi := schedule.Pick(quoteCandidates(quotes))
			q := &quotes[qi]
			p.Sent++
			p.Last = d
			photos[pi].Sent, photos[pi].Last = p.Sent, p.Last
			q.Sent++
			q.Last = d
			if err := tx.PutPhoto(p); err != nil {
				return err
			}
			if err := tx.PutQuote(*q); err != nil {
				return err
			}
			if err := tx.PutDayPhoto(d, jpeg); err != nil {
				return err
			}
			err = tx.PutDay(store.Day{Day: d, Status: store.StatusOpen, Photo: p.Hash, PhotoWidth: p.Width, PhotoHeight: p.Height, Caption: p.Caption,
				Quote: q.ID, Text: q.Text, Author: q.Author, Decided: now})
			if err != nil {
				return err
			}
		}
		sum.PhotosTotal, sum.PhotosLeft = len(photos), schedule.Left(photos)
		sum.QuotesTotal, sum.QuotesLeft = len(quotes), schedule.Left(quoteCandidates(quotes))
		return nil
	})
}

// liveQuotes returns the stored records of the quotes in the current file.
func liveQuotes(tx *store.Tx, qs []quotes.Quote) ([]store.Quote, error) {
	var out []store.Quote
	for _, q := range qs {
		sq, ok, err := tx.Quote(q.ID())
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, sq)
		}
	}
	return out, nil
}

func photoCandidates(ps []store.Photo) []schedule.Candidate {
	cs := make([]schedule.Candidate, len(ps))
	for i, p := range ps {
		cs[i] = schedule.Candidate{ID: p.Hash, Added: p.Added, Sent: p.Sent, Last: p.Last}
	}
	return cs
}

func quoteCandidates(qs []store.Quote) []schedule.Candidate {
	cs := make([]schedule.Candidate, len(qs))
	for i, q := range qs {
		cs[i] = schedule.Candidate{ID: q.ID, Added: q.Added, Sent: q.Sent, Last: q.Last}
	}
	return cs
}
