package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"cotd/care"
)

// The scripts' cotd looks after a machine in a folder of its own,
// $CARE_ROOT ($WORK/machine), never the one the tests run on (its
// pending reboot, its NTP, its uptime): a script makes the files it
// needs there, as Debian, the kernel and the Pi's firmware would:
//
//	$CARE_ROOT/run/reboot-required, run/reboot-required.pkgs
//	$CARE_ROOT/get_throttled        the firmware's bits, e.g. 0x50005
//	$CARE_ROOT/uptime               /proc/uptime, e.g. "7200.00 100.00"
//	$CARE_ROOT/unsynced             present: NTP has not synchronised the clock
//
// The filesystems are the real ones (statfs of the script's folders).
func scriptMachine() care.Machine {
	root := os.Getenv("CARE_ROOT")
	if root == "" {
		return care.Machine{} // not a script: look at nothing
	}
	return care.Machine{
		RebootRequired: filepath.Join(root, "run", "reboot-required"),
		Throttled:      filepath.Join(root, "get_throttled"),
		Uptime:         filepath.Join(root, "uptime"),
		Synced: func() (bool, error) {
			_, err := os.Stat(filepath.Join(root, "unsynced"))
			return err != nil, nil
		},
		Statfs: care.Statfs,
	}
}

// setupMachine gives every script its machine folder.
func setupMachine(t *testing.T, e *testscript.Env) error {
	dir := filepath.Join(e.WorkDir, "machine")
	e.Setenv("CARE_ROOT", dir)
	return os.MkdirAll(dir, 0o755)
}
