// Command mkphotos writes N distinct real-size JPEG photos for the index
// benchmarks (bench/index.sh): internal/photogen's distinct pattern over
// a photo's worth of detail, so each file costs what a phone photo costs
// to decode, and no two share a hash (cotd renders each one).
//
// Usage: go run ./bench/mkphotos DIR N [WxH] [FIRST]
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"cotd/internal/photogen"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: mkphotos DIR N [WxH] [FIRST]")
		os.Exit(2)
	}
	dir := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkphotos: N must be a number")
		os.Exit(2)
	}
	w, h := 4032, 3024
	if len(os.Args) > 3 {
		if _, err := fmt.Sscanf(os.Args[3], "%dx%d", &w, &h); err != nil {
			fmt.Fprintln(os.Stderr, "mkphotos: size must be WxH")
			os.Exit(2)
		}
	}
	first := 0
	if len(os.Args) > 4 {
		first, _ = strconv.Atoi(os.Args[4])
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mkphotos:", err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name := filepath.Join(dir, fmt.Sprintf("IMG_%05d.jpg", i))
				if err := os.WriteFile(name, photogen.Distinct(i, w, h), 0o644); err != nil {
					fmt.Fprintln(os.Stderr, "mkphotos:", err)
					os.Exit(1)
				}
			}
		}()
	}
	for i := first; i < first+n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
