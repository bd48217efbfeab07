package images

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"cotd/internal/needs"
)

// realworldDir is ../shared/realworld-photos relative to the repository
// root; tests that need it skip when it is absent.
func realworldDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "realworld-photos")
	if _, err := os.Stat(dir); err != nil {
		needs.Absent(tb, "no real-world photos at "+dir, "put the shared folder beside the repository (../shared/realworld-photos)")
	}
	return dir
}

// realworldDirOrEmpty is realworldDir for tests that also run without it.
func realworldDirOrEmpty() string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "realworld-photos")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}
