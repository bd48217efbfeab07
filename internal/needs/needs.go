// Package needs is how a test says something it needs is missing: a real
// peer that is not installed (Mailpit, Postfix) or root. CI, which
// installs everything and runs as root, fails; a developer's machine
// skips, naming what to install or that root is needed. It is for tests
// only.
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

// Root fails the test under CI and skips it elsewhere unless it runs as
// root; why says what root is needed for ("mounting a tmpfs").
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI runs this test as root: %s needs root", why)
	}
	t.Skip(why + " needs root")
}
