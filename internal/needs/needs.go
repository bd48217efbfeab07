// Package needs is how a test says a real peer it needs (Mailpit,
// Postfix) is not installed: CI, which installs everything, fails; a
// developer's machine skips, naming what to install. It is for tests only.
package needs

import (
	"os"
	"testing"
)

// Missing fails the test under CI and skips it elsewhere, with why and
// the command that installs what is missing.
func Missing(t testing.TB, why, install string) {
	t.Helper()
	msg := why + "; install it: " + install
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
