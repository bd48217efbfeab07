package job

import (
	"fmt"

	cmail "cotd/mail"
	"cotd/schedule"
	"cotd/store"
)

// Preview returns the message each recipient would get for day d, without
// opening the day or recording anything: a day already decided shows its
// own cat and quote, a future day the ones the rotation would pick next.
// It refreshes the photo index (a cache), which is all it writes.
func (j *Job) Preview(d schedule.Day) ([]cmail.Message, error) {
	if _, err := j.Index(); err != nil {
		return nil, err
	}
	qs, _, err := j.indexQuotes()
	if err != nil {
		return nil, err
	}
	var day cmail.Day
	err = j.Store.View(func(tx *store.Tx) error {
		rec, ok, err := tx.Day(d)
		if err != nil {
			return err
		}
		// A decided day shows its own cat, found as delivery finds it; when
		// that is gone (no kept copy, the photo no longer in the folder)
		// the rotation's next one stands in.
		if ok && rec.Status == store.StatusOpen {
			if b := j.dayPhoto(tx, rec); b != nil {
				day = cmail.Day{Quote: rec.Text, Author: rec.Author, Photo: b, PhotoWidth: rec.PhotoWidth, PhotoHeight: rec.PhotoHeight, Caption: rec.Caption}
				return nil
			}
		}
		var photos []store.Photo
		if err := tx.EachPhoto(func(p store.Photo) error { photos = append(photos, p); return nil }); err != nil {
			return err
		}
		quotes, err := liveQuotes(tx, qs)
		if err != nil {
			return err
		}
		if len(photos) == 0 {
			return fmt.Errorf("%w in the photo folder %s; add JPEG or PNG photos there", ErrNoPhotos, j.Photos)
		}
		p := photos[schedule.Pick(photoCandidates(photos))]
		q := quotes[schedule.Pick(quoteCandidates(quotes))]
		jpeg, err := j.loadRendition(p)
		if err != nil {
			return err
		}
		day = cmail.Day{Quote: q.Text, Author: q.Author, Photo: jpeg, PhotoWidth: p.Width, PhotoHeight: p.Height, Caption: p.Caption}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []cmail.Message
	for _, to := range j.To {
		m := j.Morning(to) // each recipient's own date and send time
		day.Date = d.Midnight(m.Loc)
		out = append(out, cmail.Message{From: j.From, To: to.String(), Owner: j.Owner,
			Days: []cmail.Day{day}, SentAt: m.Due(d)})
	}
	return out, nil
}
