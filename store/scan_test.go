package store

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"cotd/schedule"
)

// The compact file keys and rotation follow every write of the records
// they copy, and a schema-1 database (JSON records only, as cotd wrote it
// before) gets them built when it is opened.
func TestCompactRecordsFollowTheRecords(t *testing.T) {
	added := time.Date(2026, 3, 2, 7, 30, 0, 123, time.FixedZone("CET", 3600))
	files := map[string]File{
		"a.jpg":     {Size: 1234, ModTime: 1700000000123456789, Hash: "0123456789abcdef0123456789abcdef"},
		"sub/b.png": {Size: 1 << 40, ModTime: -5, Err: "unsupported"},
		"c.heic":    {Size: 77, ModTime: 9, Err: "HEIC photos need the heif-convert program", NeedsHelper: true},
	}
	photos := []Photo{
		{Hash: "0123456789abcdef0123456789abcdef", Path: "a.jpg", Added: added, Sent: 3, Last: schedule.Day{Year: 2026, Month: 3, Day: 4}},
		{Hash: "ffff", Path: "c.jpg"}, // zero Added and Last
	}
	check := func(t *testing.T, s *Store) {
		t.Helper()
		s.View(func(tx *Tx) error {
			got := map[string]FileKey{}
			var order []string
			if err := tx.EachFileKey(func(p string, k FileKey) error { got[p] = k; order = append(order, p); return nil }); err != nil {
				t.Fatal(err)
			}
			for p, f := range files {
				if want := (FileKey{f.Size, f.ModTime, f.Hash, f.NeedsHelper}); got[p] != want {
					t.Errorf("file key %s = %+v, want %+v", p, got[p], want)
				}
			}
			if len(got) != len(files) || order[0] != "a.jpg" {
				t.Errorf("file keys %v in order %v", got, order)
			}
			var rs []Rotation
			if err := tx.EachRotation(func(r Rotation) error { rs = append(rs, r); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(rs) != len(photos) {
				t.Fatalf("rotation %+v, want %d", rs, len(photos))
			}
			for i, r := range rs {
				p := photos[i]
				if r.Hash != p.Hash || !r.Added.Equal(p.Added) || r.Added.IsZero() != p.Added.IsZero() || r.Sent != p.Sent || r.Last != p.Last {
					t.Errorf("rotation %+v, want %+v", r, p)
				}
			}
			if n := tx.PhotoCount(); n != len(photos) {
				t.Errorf("PhotoCount %d, want %d", n, len(photos))
			}
			return nil
		})
	}

	t.Run("written", func(t *testing.T) {
		s, _ := openTemp(t)
		s.Update(func(tx *Tx) error {
			for p, f := range files {
				tx.PutFile(p, f)
			}
			tx.PutFile("gone.jpg", File{Size: 1})
			tx.DeleteFile("gone.jpg")
			for _, p := range photos {
				tx.PutPhoto(p)
			}
			tx.PutPhoto(Photo{Hash: "dead"})
			return tx.DeletePhoto("dead")
		})
		check(t, s)
	})

	t.Run("migrated from schema 1", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bMeta, bFiles, bPhotos, bQuotes, bDays, bDayPhotos, bDeliveries, bFailures, bAlerts} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			for p, f := range files {
				raw, _ := json.Marshal(f)
				tx.Bucket(bFiles).Put([]byte(p), raw)
			}
			for _, p := range photos {
				raw, _ := json.Marshal(p)
				tx.Bucket(bPhotos).Put([]byte(p.Hash), raw)
			}
			return tx.Bucket(bMeta).Put([]byte("schema"), []byte("1"))
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check(t, s)
	})
}
