package mail

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cotd/internal/tmpfs"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOutboxWritesOneFilePerMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "outbox")
	o := Outbox{Dir: dir}
	tos := []string{"ann@example.test", `"Bob O'Neil" <Bob.ONeil+cats@Example.test>`, "cee@example.test"}
	msgs := testMsgs(t, tos...)
	results, err := collect(o, context.Background(), msgs)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i, r := range results {
		if !r.Delivered || r.Err != nil {
			t.Errorf("result %d: %+v, want delivered", i, r)
		}
	}
	want := []string{
		"2026-03-04-ann@example.test.eml",
		"2026-03-04-bob.oneil+cats@example.test.eml",
		"2026-03-04-cee@example.test.eml",
	}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("outbox holds %q, want %q", got, want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("outbox dir mode: %v %v, want 0700", fi.Mode(), err)
	}
	for i, name := range want {
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode: %v %v, want 0600", name, fi.Mode(), err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := netmail.ReadMessage(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s does not parse as mail: %v", name, err)
		}
		to, err := m.Header.AddressList("To")
		wantTo, _ := netmail.ParseAddress(tos[i])
		if err != nil || len(to) != 1 || to[0].Address != wantTo.Address {
			t.Errorf("%s: To %v (%v), want only %s", name, to, err, wantTo.Address)
		}
		if id := m.Header.Get("Message-Id"); id != "<"+msgs[i].GetMessageID()+">" && id != msgs[i].GetMessageID() {
			t.Errorf("%s: Message-Id %q, want %q", name, id, msgs[i].GetMessageID())
		}
	}

	// The same messages again (a rerun after a crash) rewrite nothing new.
	results, err = collect(o, context.Background(), testMsgs(t, tos...))
	if err != nil || !results[0].Delivered {
		t.Fatalf("second Send: %v %+v", err, results)
	}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Errorf("after resending the same messages: %q, want %q", got, want)
	}

	// The same Message-ID with other bytes (MIME boundaries are random)
	// replaces the file instead of adding one.
	again := testMsg(t, tos[0], "Cat of the Day "+testDay.Format(time.DateOnly))
	again.SetBodyString(gomail.TypeTextPlain, "purr\n")
	if results, err := collect(o, context.Background(), []*gomail.Msg{again}); err != nil || !results[0].Delivered {
		t.Fatalf("Send again: %v %+v", err, results)
	}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Errorf("after resending with the same Message-ID: %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, want[0])); !strings.Contains(string(b), "purr") {
		t.Errorf("%s was not replaced by the newer copy", want[0])
	}

	// A different message for the same day and recipient is kept beside it.
	other := testMsg(t, "ann@example.test", "send-test")
	if results, err := collect(o, context.Background(), []*gomail.Msg{other}); err != nil || !results[0].Delivered {
		t.Fatalf("Send other: %v %+v", err, results)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-03-04-ann@example.test-2.eml")); err != nil {
		t.Errorf("a different message for ann did not get its own file: %v (dir: %q)", err, listDir(t, dir))
	}
}

func TestOutboxFileNames(t *testing.T) {
	tests := []struct {
		date time.Time // zero: no Date header
		to   string
		want string
	}{
		{testDay, "ann@example.test", "2026-03-04-ann@example.test"},
		// Just after midnight in the owner's zone is still that day, though
		// UTC is the day before.
		{time.Date(2026, 3, 4, 0, 30, 0, 0, time.FixedZone("CEST", 2*3600)), "ann@example.test", "2026-03-04-ann@example.test"},
		{testDay, "Zoë <zoe@example.test>", "2026-03-04-zoe@example.test"},
		{testDay, `"odd/name"@example.test`, "2026-03-04-odd_name@example.test"},
		{testDay, `".x"@example.test`, "2026-03-04-x@example.test"},
		{time.Time{}, "ann@example.test", "2027-01-02-ann@example.test"},
	}
	o := Outbox{Now: func() time.Time { return time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC) }}
	for _, tt := range tests {
		m := gomail.NewMsg()
		if err := m.To(tt.to); err != nil {
			t.Fatalf("To(%q): %v", tt.to, err)
		}
		if !tt.date.IsZero() {
			m.SetDateWithValue(tt.date)
		}
		if got := o.fileBase(m); got != tt.want {
			t.Errorf("fileBase(date %v, to %q) = %q, want %q", tt.date, tt.to, got, tt.want)
		}
	}
}

// fullDisk is a temp file whose writes fail with ENOSPC.
type fullDisk struct{ *os.File }

func (f fullDisk) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func TestOutboxDiskFull(t *testing.T) {
	dir := t.TempDir()
	calls := 0
	o := Outbox{Dir: dir, createTemp: func(dir, pattern string) (outFile, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		calls++
		if calls == 1 { // only the first message meets a full disk
			return fullDisk{f}, nil
		}
		return f, nil
	}}
	results, err := collect(o, context.Background(), testMsgs(t, "ann@example.test", "bob@example.test"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	ann := results[0]
	if ann.Delivered || !errors.Is(ann.Err, syscall.ENOSPC) {
		t.Fatalf("ann: %+v, want undelivered with ENOSPC", ann)
	}
	checkErr(t, ann.Err, "", filepath.Join(dir, "2026-03-04-ann@example.test.eml"), "free some space")
	if !results[1].Delivered {
		t.Errorf("bob: %+v, want delivered", results[1])
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"2026-03-04-bob@example.test.eml"}) {
		t.Errorf("outbox holds %q, want only bob's file (no temp file left)", got)
	}
}

// TestOutboxRealFullDisk fills a small tmpfs, which needs root.
func TestOutboxRealFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tiny")
	tmpfs.Mount(t, dir, "64k")
	big := testMsg(t, "ann@example.test", "big")
	big.SetBodyString(gomail.TypeTextPlain, strings.Repeat("meow ", 40000)) // 200 KB
	small := testMsg(t, "bob@example.test", "small")
	results, err := collect(Outbox{Dir: dir}, context.Background(), []*gomail.Msg{big, small})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if results[0].Delivered || !errors.Is(results[0].Err, syscall.ENOSPC) {
		t.Fatalf("big message: %+v, want ENOSPC", results[0])
	}
	checkErr(t, results[0].Err, "", filepath.Join(dir, "2026-03-04-ann@example.test.eml"))
	if !results[1].Delivered {
		t.Errorf("small message after the failure: %+v, want delivered", results[1])
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"2026-03-04-bob@example.test.eml"}) {
		t.Errorf("outbox holds %q, want only bob's file", got)
	}
}

func TestOutboxUnusableDir(t *testing.T) {
	parent := t.TempDir()
	file := filepath.Join(parent, "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	results, err := collect(Outbox{Dir: filepath.Join(file, "outbox")}, context.Background(), testMsgs(t, "ann@example.test", "bob@example.test"))
	checkErr(t, err, "", "create outbox "+filepath.Join(file, "outbox"), "--outbox")
	assertNoneDelivered(t, results, 2)
}

func TestOutboxCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(fmt.Errorf("shutting down"))
	results, err := collect(Outbox{Dir: dir}, ctx, testMsgs(t, "ann@example.test"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	checkErr(t, results[0].Err, "", "not written: shutting down")
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("outbox holds %q after cancellation", got)
	}
}

func TestOutboxSendEachReportsBeforeTheNextMessage(t *testing.T) {
	dir := t.TempDir()
	var order []int
	err := Outbox{Dir: dir}.SendEach(context.Background(), testMsgs(t, "ann@example.test", "bob@example.test"), nil, func(i int, r Result) {
		order = append(order, i)
		if !r.Delivered {
			t.Errorf("result %d: %+v, want delivered", i, r)
		}
		if n := len(listDir(t, dir)); n != i+1 {
			t.Errorf("when message %d was reported the outbox held %d files, want %d", i, n, i+1)
		}
	})
	if err != nil || !slices.Equal(order, []int{0, 1}) {
		t.Fatalf("SendEach: %v, done called for %v", err, order)
	}
}

// collect is SendEach gathering the results in order, for tests.
func collect(s interface {
	SendEach(context.Context, []*gomail.Msg, func(int) error, func(int, Result)) error
}, ctx context.Context, msgs []*gomail.Msg) ([]Result, error) {
	results := make([]Result, len(msgs))
	err := s.SendEach(ctx, msgs, nil, func(i int, r Result) { results[i] = r })
	return results, err
}
