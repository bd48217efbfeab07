// Command cotd mails a cat photo and a quote to a few people every morning.
//
// main.go holds the embedded defaults and calls cli; cli.go turns a
// command's error into one line, a hint and an exit code; commands.go is
// the command table and the usage text, one cmd_*.go per command; config/
// parses flags and COTD_* variables; wire.go builds the parts a command
// needs. The work happens in schedule (what is due), store (state), images
// (the photo), mail (the message), job (one run, in order) and monitor
// (status, checks and alerts around a run). Exit codes: 0 done or nothing due,
// 1 something due was not delivered, 2 usage or configuration, 3 refused to
// act on the state (database locked, damaged, unreadable or lost, clock went
// backwards).
package main

import (
	_ "embed"
	"os"
	_ "time/tzdata" // a Pi image may lack /usr/share/zoneinfo; --tz must still work
)

//go:embed quotes.txt
var defaultQuotes []byte

//go:embed assets/cat.jpg
var sampleCat []byte

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = ""
)

func main() {
	os.Exit(cli(os.Args[1:], env{os.Stdout, os.Stderr, os.LookupEnv}))
}
