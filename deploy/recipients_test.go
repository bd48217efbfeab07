package deploy

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The installer's answers (--recipient) become the recipients file, which
// the real cotd reads as the service would (COTD_RECIPIENTS from
// cotd.env); a rerun keeps the owner's edits; an answer with a line break
// is refused.
func TestRecipientAnswers(t *testing.T) {
	binary := cotdBinary(t)
	s := newStaging(t, binary, "Europe/Berlin")
	s.mustRun(t, "--recipient", "Zoe Lima <zoe@example.com>  tz=Asia/Tokyo  at=07:30", "--recipient=ana@example.com")
	got := s.read(t, "/etc/cotd/recipients.txt")
	for _, line := range []string{"\nZoe Lima <zoe@example.com>  tz=Asia/Tokyo  at=07:30\n", "\nana@example.com\n", "#   paused-until=DATE"} {
		if !strings.Contains(got, line) {
			t.Errorf("recipients.txt lacks %q:\n%s", line, got)
		}
	}
	if !strings.Contains(s.read(t, "/etc/cotd/cotd.env"), "\nCOTD_RECIPIENTS=/etc/cotd/recipients.txt\n") {
		t.Error("cotd.env does not point COTD_RECIPIENTS at the file")
	}
	if binaryKind == "real" {
		cmd := exec.Command(filepath.Join(s.root, "usr/local/bin/cotd"), "check", "--recipients", s.path("/etc/cotd/recipients.txt"),
			"--tz", "Europe/Berlin", "--now", "2026-12-07T08:00:00+01:00", "--db", s.path("/var/lib/cotd/cotd.db"))
		out, _ := cmd.CombinedOutput()
		for _, want := range []string{"recipient: Zoe Lima <zoe@example.com>: next 2026-12-08 07:30 Asia/Tokyo", "recipient: ana@example.com: next 2026-12-08 07:00 Europe/Berlin"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("cotd check of the installed file lacks %q:\n%s", want, out)
			}
		}
	}

	edited := got + "bo@example.com tz=America/New_York\n"
	writeFile(t, s.path("/etc/cotd/recipients.txt"), []byte(edited), 0o640)
	out := s.mustRun(t, "--recipient", "new@example.com")
	if s.read(t, "/etc/cotd/recipients.txt") != edited {
		t.Error("a rerun changed the owner's recipients file")
	}
	if !strings.Contains(out, "kept /etc/cotd/recipients.txt as it is: the --recipient answers are not in it") {
		t.Errorf("a rerun with answers does not say they were not used:\n%s", out)
	}

	bad := newStaging(t, binary, "")
	out, code := bad.run(t, "--recipient", "a@example.com\nBcc: evil@example.com")
	if code != 2 || !strings.Contains(out, "contains a control character") {
		t.Errorf("an answer with a line break: exit %d\n%s", code, out)
	}
}
