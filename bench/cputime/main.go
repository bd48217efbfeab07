// Command cputime runs a command and prints the CPU time it used (user and
// system, all its threads and waited-for children, from the kernel's
// rusage at microsecond resolution) and its peak RSS, for the benchmark
// scripts: GNU time's %U and %S are in 10 ms steps, too coarse for a
// 20 ms warm morning. The command's output goes to cputime's stderr.
//
// Usage: cputime CMD [ARG...]   prints "cpu_ms maxrss_kib"
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cputime CMD [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "cputime:", err)
		os.Exit(1)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		fmt.Fprintln(os.Stderr, "cputime: no rusage on this system")
		os.Exit(1)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	fmt.Printf("%.1f %d\n", float64(cpu.Microseconds())/1000, ru.Maxrss)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cputime:", err)
		os.Exit(1)
	}
}
