package main

import (
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// mode OCTAL PATH...: asserts each path's permission bits.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: mode OCTAL PATH...")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	if err != nil {
		ts.Fatalf("mode %q: %v", args[0], err)
	}
	for _, p := range args[1:] {
		fi, err := os.Stat(ts.MkAbs(p))
		if err != nil {
			ts.Fatalf("%v", err)
		}
		if got := uint64(fi.Mode().Perm()); (got == want) == neg {
			ts.Fatalf("%s has mode %#o, want %s%#o", p, got, map[bool]string{true: "not "}[neg], want)
		}
	}
}
