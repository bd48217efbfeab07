package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"cotd/schedule"
)

// BenchmarkInspect is the check every snapshot gets after it is written
// (the morning run's backup) and before it is restored: a database of n
// photos, a year of days and deliveries.
func BenchmarkInspect(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "cotd.db")
			s, err := Open(path, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			err = s.Update(func(tx *Tx) error {
				for i := range n {
					hash := fmt.Sprintf("%064x", i)
					if err := tx.PutPhoto(Photo{Hash: hash, Path: fmt.Sprintf("photos/cat%05d.jpg", i), Width: 4032, Height: 3024}); err != nil {
						return err
					}
					if err := tx.PutFile(fmt.Sprintf("photos/cat%05d.jpg", i), File{Size: 2 << 20, ModTime: int64(i), Hash: hash}); err != nil {
						return err
					}
				}
				for i := range 365 {
					d := schedule.Day{Year: 2026, Month: 1, Day: 1}.AddDays(i)
					if err := tx.PutDay(Day{Day: d, Status: StatusOpen, Photo: fmt.Sprintf("%064x", i)}); err != nil {
						return err
					}
					for _, a := range []string{"a@example.test", "b@example.test", "c@example.test"} {
						if err := tx.PutDelivery(d, a, Delivery{At: time.Unix(int64(i), 0), MessageID: fmt.Sprintf("<%d@x>", i)}); err != nil {
							return err
						}
					}
				}
				return tx.RecordRun(time.Date(2026, 12, 31, 8, 0, 0, 0, time.UTC))
			})
			s.Close()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				c, err := Inspect(path)
				if err != nil || c.Photos != n || c.Days != 365 {
					b.Fatalf("inspect: %+v, %v", c, err)
				}
			}
		})
	}
}
