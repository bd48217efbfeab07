package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's first page answers the owner's three daily questions with
// their commands, and says what each exit code means (issue 24): the
// owner reads it once, then types those three commands for years.
func TestReadmeFirstPage(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The first page: everything before the developer's section.
	page, _, ok := strings.Cut(string(b), "\n## The two commands")
	if !ok {
		t.Fatal(`README.md has no "## The two commands" section to end its first page`)
	}
	for _, q := range []struct{ cmd, question string }{
		{"status", "did it go out?"},
		{"check", "is it set up right?"},
		{"preview", "what will they see?"},
	} {
		if !regexp.MustCompile(`(?m)^sudo cotd-service ` + q.cmd + ` +# ` + regexp.QuoteMeta(q.question)).MatchString(page) {
			t.Errorf("the first page lacks the line: sudo cotd-service %s  # %s", q.cmd, q.question)
		}
	}
	for _, code := range []int{exitOK, exitFailed, exitUsage, exitRefused} {
		if !regexp.MustCompile(`(?m)^\| ` + string(rune('0'+code)) + ` \| `).MatchString(page) {
			t.Errorf("the first page's exit code table lacks a row for exit %d", code)
		}
	}
}
