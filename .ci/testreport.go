//go:build ignore

// testreport reads `go test -json` on stdin and writes what a person reads
// in the CI log: each package's ok/FAIL line, the whole output of every
// test that failed, and at the end how many tests passed, failed and
// skipped, with every skipped test and its reason. Under CI=true a skipped
// test fails the run: CI installs everything and runs as root, so a skip
// there means something was not tested (internal/needs fails such tests
// itself; this catches the rest, e.g. a testscript [!exec:X] skip).
//
//	go test -json ./... | go run .ci/testreport.go
//
// It exits 1 when a test failed or, under CI, was skipped; go test's own
// exit status (a build failure) is the pipeline's (set -o pipefail).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	outputs := map[string][]string{} // package + test -> its output lines
	var passed, failed int
	var fails, skips []string
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		line := in.Text()
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Action == "" {
			fmt.Println(line) // not an event: say it as it came
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			fmt.Print(e.Output)
		case "output":
			if e.Test == "" { // the package's own lines: ok, FAIL, coverage, panics
				if !strings.HasPrefix(e.Output, "=== ") && !strings.HasPrefix(e.Output, "PASS") {
					fmt.Print(e.Output)
				}
				continue
			}
			outputs[key] = append(outputs[key], e.Output)
		case "pass":
			if e.Test != "" {
				passed++
				delete(outputs, key)
			}
		case "fail":
			if e.Test != "" {
				failed++
				fails = append(fails, e.Package+" "+e.Test)
				fmt.Printf("--- %s %s failed:\n%s", e.Package, e.Test, strings.Join(outputs[key], ""))
				delete(outputs, key)
			}
		case "skip":
			if e.Test != "" {
				skips = append(skips, fmt.Sprintf("%s %s: %s", e.Package, e.Test, reason(outputs[key])))
				delete(outputs, key)
			}
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	sort.Strings(skips)
	fmt.Printf("\ntests: %d passed, %d failed, %d skipped\n", passed, failed, len(skips))
	for _, f := range fails {
		fmt.Println("  failed: " + f)
	}
	for _, s := range skips {
		fmt.Println("  skipped: " + s)
	}
	ci := os.Getenv("CI") != ""
	if ci && len(skips) > 0 {
		fmt.Printf("testreport: %d tests skipped under CI=true; CI must run every test (install what they name)\n", len(skips))
	}
	if failed > 0 || (ci && len(skips) > 0) {
		os.Exit(1)
	}
}

// reason is the skip message: the test's last output line that is not
// go test's own "--- SKIP" line.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "--- SKIP") && !strings.HasPrefix(l, "=== ") {
			return l
		}
	}
	return "(no reason given)"
}
