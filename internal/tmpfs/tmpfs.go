// Package tmpfs mounts a small private tmpfs for the tests that need a
// real file system to fill up (ENOSPC) or to remount read-only (EROFS),
// without touching the machine's disks. Mounting needs root, which CI has
// (see needs.Root). It is for tests only.
package tmpfs

import (
	"os"
	"os/exec"
	"testing"

	"cotd/internal/needs"
)

// Mount mounts a tmpfs of size (mount's size=, e.g. "512k") at dir,
// creating dir, and unmounts it when the test ends. Without root the test
// is skipped (failed under CI); a machine that cannot mount a tmpfs (a
// container without the capability) skips it.
func Mount(t testing.TB, dir, size string) {
	t.Helper()
	needs.Root(t, "mounting a small tmpfs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}
