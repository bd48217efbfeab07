package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"cotd/config"
)

var versionCommand = command{
	name: "version", aliases: []string{"--version"},
	summary: "print the version",
	help:    "Usage: cotd version\n\nPrints the version, the commit and the Go version.\n",
	run: func(args []string, e env) error {
		args, err := plainArgs("version", args)
		if err != nil {
			return err
		}
		if len(args) > 0 {
			return config.Usagef("run 'cotd version'", "cotd version takes no arguments, got %q", strings.Join(args, " "))
		}
		fmt.Fprintf(e.stdout, "cotd %s\n", versionString())
		return nil
	},
}

func versionString() string {
	v, c := version, commit
	if info, ok := debug.ReadBuildInfo(); ok && c == "" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				c = s.Value
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return fmt.Sprintf("%s (commit %s, %s, %s/%s)", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
