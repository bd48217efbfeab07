package monitor

import (
	"encoding/json"
	"errors"
	"os"

	"cotd/internal/atomicfile"
	"cotd/store"
)

// When the database cannot keep the monitor's records (it is damaged,
// empty while cotd's traces say it had a history, or could not be opened
// at all), they go to a small side file beside it, so a broken database
// is told once a day like any other problem, not on every run. The next
// run that can write the database takes the open alerts over (so their
// resolved note comes) and removes the file.

type sideRecord struct {
	Run  store.Run       `json:"run"`
	Book store.AlertBook `json:"book"`
}

func (m *Monitor) usable() bool { return m.st != nil && m.st.Damage() == nil }

func (m *Monitor) loadSide() (sideRecord, bool) {
	var r sideRecord
	if m.c.SideFile == "" {
		return r, false
	}
	b, err := os.ReadFile(m.c.SideFile)
	if err != nil {
		return r, false
	}
	if err := json.Unmarshal(b, &r); err != nil {
		m.log.Warn("ignoring the damaged side record", "file", m.c.SideFile, "err", err)
		return sideRecord{}, false
	}
	return r, true
}

func (m *Monitor) saveSide(rec store.Run, book store.AlertBook) {
	if m.c.SideFile == "" {
		return
	}
	b, err := json.Marshal(sideRecord{rec, book})
	if err == nil {
		err = atomicfile.Write(m.c.SideFile, b, atomicfile.Options{})
	}
	if err != nil {
		m.log.Warn("cannot keep the monitor record; the owner may be told again next run", "file", m.c.SideFile, "err", err)
	}
}

func (m *Monitor) dropSide() {
	if m.c.SideFile == "" {
		return
	}
	if err := os.Remove(m.c.SideFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		m.log.Warn("cannot remove the side record", "file", m.c.SideFile, "err", err)
	}
}

// mergeAlerts adds the side file's open alerts to the database's, those
// with a key the database does not hold.
func mergeAlerts(db, side []store.Alert) []store.Alert {
	have := map[string]bool{}
	for _, a := range db {
		have[a.Key] = true
	}
	for _, a := range side {
		if !have[a.Key] {
			db = append(db, a)
		}
	}
	return db
}
