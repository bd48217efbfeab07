package monitor

import (
	"testing"

	"cotd/care"
)

// Every kind the machine's care finds is a kind of the rule, with its
// severity, its line in `cotd help status` and its resolved note; only a
// clock NTP never set is an error (it moves days); the rest are warnings.
func TestCareKindsAreRows(t *testing.T) {
	for _, k := range []care.Kind{care.Reboot, care.DiskLow, care.ReadOnly, care.Clock, care.Power, care.Backups} {
		key := Key(k)
		if !key.known() || !key.IsCare() || key.Cleared() == "" || careWhat[k] == "" {
			t.Errorf("%s: known %v, care %v, cleared %q, check's name %q", k, key.known(), key.IsCare(), key.Cleared(), careWhat[k])
		}
		if want := Warning; (k == care.Clock) != (key.Severity() == Error) || (k != care.Clock && key.Severity() != want) {
			t.Errorf("%s: severity %s", k, key.Severity())
		}
	}
}
