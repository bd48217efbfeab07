// Command mkphotos writes N distinct JPEG "cat photos" into a folder for the
// VM test's owner to copy onto the guest, as they would copy real photos.
//
//	go run ./deploy/vm/mkphotos DIR N
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"cotd/internal/photogen"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mkphotos DIR N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "mkphotos: error: %q is not a positive count\n", os.Args[2])
		os.Exit(2)
	}
	if err := os.MkdirAll(os.Args[1], 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mkphotos: error:", err)
		os.Exit(1)
	}
	for i := 0; i < n; i++ {
		name := filepath.Join(os.Args[1], fmt.Sprintf("cat-%02d.jpg", i+1))
		if err := os.WriteFile(name, photogen.Distinct(i, 640, 480), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "mkphotos: error:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("mkphotos: wrote %d photos to %s\n", n, os.Args[1])
}
