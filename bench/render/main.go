// Command render renders one photo the way cotd mails it, for benchmarks and
// for checking a picture by hand until `cotd render` does the same:
//
//	go run ./bench/render PHOTO OUT.jpg
package main

import (
	"fmt"
	"os"

	"cotd/images"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: render PHOTO OUT.jpg")
		os.Exit(2)
	}
	res, err := images.RenderFile(os.Args[1], images.Default)
	if err != nil {
		fmt.Fprintf(os.Stderr, "render: error: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], res.JPEG, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "render: error: %v\n", err)
		os.Exit(1)
	}
}
