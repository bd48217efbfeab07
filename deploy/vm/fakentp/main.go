// Command fakentp stands in for a completed NTP synchronisation inside the
// VM test's guest, which has no network: it clears the kernel's "clock
// unsynchronised" flag the way systemd-timesyncd does after a good NTP
// answer, and creates /run/systemd/timesync/synchronized, timesyncd's marker.
// It does not change the time itself: the guest's clock is whatever the test
// gave the virtual RTC (qemu -rtc base=...), which is the point of the test.
//
// It is linked statically (CGO_ENABLED=0) so it runs in any guest.
package main

import (
	"fmt"
	"os"
	"syscall"
)

// The adjtimex mode and status bits from <linux/timex.h>; the syscall
// package names the struct but not these constants.
const (
	adjStatus   = 0x0010 // ADJ_STATUS
	adjMaxError = 0x0004 // ADJ_MAXERROR
	adjEstError = 0x0008 // ADJ_ESTERROR
	staUnsync   = 0x0040 // STA_UNSYNC
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fakentp: error:", err)
		os.Exit(1)
	}
}

func run() error {
	var tx syscall.Timex
	if _, err := syscall.Adjtimex(&tx); err != nil {
		return fmt.Errorf("reading the kernel clock state: %w", err)
	}
	// What timesyncd sets after a sync: status without STA_UNSYNC and a small
	// error estimate (the kernel sets STA_UNSYNC again once maxerror grows
	// past 16 s, about nine hours later).
	tx.Modes = adjStatus | adjMaxError | adjEstError
	tx.Status &^= staUnsync
	tx.Maxerror = 0
	tx.Esterror = 0
	if _, err := syscall.Adjtimex(&tx); err != nil {
		return fmt.Errorf("clearing STA_UNSYNC: %w", err)
	}
	var check syscall.Timex
	if _, err := syscall.Adjtimex(&check); err != nil {
		return fmt.Errorf("reading the kernel clock state back: %w", err)
	}
	if check.Status&staUnsync != 0 {
		return fmt.Errorf("the kernel still reports the clock unsynchronised (status %#x)", check.Status)
	}
	if err := os.MkdirAll("/run/systemd/timesync", 0o755); err != nil {
		return err
	}
	if err := os.WriteFile("/run/systemd/timesync/synchronized", nil, 0o644); err != nil {
		return err
	}
	fmt.Printf("fakentp: kernel clock marked synchronised (status %#x)\n", check.Status)
	return nil
}
