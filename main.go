// Command cotd mails a cat photo and a quote to a few people every morning.
//
// main.go parses flags and wires the packages together; the work happens in
// schedule (what is due), store (state), images (the photo), mail (the
// message) and job (one run, in order). Exit codes: 0 done or nothing due,
// 1 something due was not delivered, 2 usage or configuration, 3 refused to
// act on the state (database locked or unreadable, clock went backwards).
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
