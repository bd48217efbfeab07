package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Every number and duration setting goes through pflag's parser, from a
// flag and from the environment alike (issue 11 item 16).
func TestStrictValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  []string
		want string // "" means Load succeeds
	}{
		{[]string{"--catch-up-max-days", "3x"}, nil, `--catch-up-max-days "3x" is not a number of days`},
		{nil, []string{"COTD_CATCH_UP_MAX_DAYS", "3x"}, `--catch-up-max-days "3x" (from COTD_CATCH_UP_MAX_DAYS) is not a number of days`},
		{[]string{"--smtp-port", "25zz"}, nil, `--smtp-port "25zz" is not a port number`},
		{nil, []string{"COTD_SMTP_PORT", "25zz"}, `--smtp-port "25zz" (from COTD_SMTP_PORT) is not a port number`},
		{nil, []string{"COTD_CERT_WARN_DAYS", "3x"}, `--cert-warn-days "3x" (from COTD_CERT_WARN_DAYS) is not a number of days`},
		{[]string{"--index-budget", "8 minutes"}, nil, `--index-budget "8 minutes" is not a duration`},
		{nil, []string{"COTD_INDEX_BUDGET", "8"}, `--index-budget "8" (from COTD_INDEX_BUDGET) is not a duration`},
		{[]string{"--index-budget", "-1m"}, nil, `--index-budget "-1m0s" is not a duration`},
		{[]string{"--catch-up-max-days", "367"}, nil, `--catch-up-max-days "367" is not a number of days`},
		{[]string{"--catch-up-max-days", "3"}, []string{"COTD_CATCH_UP_MAX_DAYS", "3x"}, ""}, // the flag wins; the variable is not read
		{nil, []string{"COTD_CATCH_UP_MAX_DAYS", " 5 "}, ""},
	} {
		s := New("run", nil)
		lookup := env(tc.env...)
		err := s.Parse(tc.args, lookup)
		var c *Config
		if err == nil {
			c, err = s.Load(lookup)
		}
		got := ""
		if err != nil {
			got = err.Error()
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Hint == "" {
				t.Errorf("%v %v: %v is not a usage error with a hint", tc.args, tc.env, err)
			}
		}
		if got != tc.want {
			t.Errorf("%v %v: got %q, want %q", tc.args, tc.env, got, tc.want)
		}
		if c != nil && tc.want == "" && c.Job.Schedule.MaxDays != 3 && c.Job.Schedule.MaxDays != 5 {
			t.Errorf("%v %v: MaxDays = %d", tc.args, tc.env, c.Job.Schedule.MaxDays)
		}
	}
	s := New("run", nil)
	if err := s.Parse([]string{"--index-budget", "90s"}, env()); err != nil {
		t.Fatal(err)
	}
	c, err := s.Load(env())
	if err != nil || c.Job.Indexing.Budget != 90*time.Second {
		t.Errorf("--index-budget 90s: %+v, %v", c.Job.Indexing, err)
	}
}

// A COTD_* variable no option reads is named, with the option it is most
// like (issue 20 §3): a misspelt COTD_SMPT_HOST would otherwise leave the
// run on its default, the outbox, without a word.
func TestUnknownVariables(t *testing.T) {
	got := UnknownVariables([]string{
		// An empty one is as good as unset, as for the settings.
		"HOME=/root", "COTD_SMPT_HOST=mail.example.test", "COTD_SMTP_HOST=mail.example.test",
		"COTD_TO=a@example.test", "COTD_CRASH_AT=send:1", "COTD_SMPT_HOST=again", "COTD_COLOUR=blue",
		"COTD_catch_up=each", "COTD_SMPT_USER=", "COTD_AT",
	})
	want := []Unknown{{"COTD_SMPT_HOST", "COTD_SMTP_HOST"}, {"COTD_COLOUR", ""}, {"COTD_catch_up", "COTD_CATCH_UP"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if l := got[0].Line(); l != "COTD_SMPT_HOST is not a cotd setting, so it is ignored (did you mean COTD_SMTP_HOST?)" {
		t.Errorf("line %q", l)
	}
	for _, o := range options {
		if u := UnknownVariables([]string{o.env + "=x"}); len(u) != 0 {
			t.Errorf("%s is an option's variable, named unknown: %v", o.env, u)
		}
	}
}

// A password file other users can read or change is named with the chmod
// that fixes it (issue 24): the login works, so nothing else says so.
func TestPasswordExposed(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		msg  string // "" means private enough
	}{
		{0o600, ""},
		{0o400, ""},
		{0o640, ""}, // root:cotd 0640 is a deliberate choice
		{0o644, "every user of this machine can read the password file %s (mode 0644)"},
		{0o604, "every user of this machine can read the password file %s (mode 0604)"},
		{0o666, "every user of this machine can read and change the password file %s (mode 0666)"},
	} {
		file := filepath.Join(dir, fmt.Sprintf("pw-%o", tc.mode))
		if err := os.WriteFile(file, []byte("Sw0rdf1sh\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(file, tc.mode); err != nil {
			t.Fatal(err)
		}
		lookup := env()
		s := New("check", nil)
		if err := s.Parse([]string{"--smtp-host", "mail.example.test", "--smtp-user", "cotd", "--smtp-password-file", file,
			"--to", "a@example.test", "--from", "c@example.test"}, lookup); err != nil {
			t.Fatal(err)
		}
		c, err := s.Load(lookup)
		if err != nil {
			t.Fatal(err)
		}
		msg, fix := c.PasswordExposed()
		want, wantFix := "", ""
		if tc.msg != "" {
			want, wantFix = fmt.Sprintf(tc.msg, file), "chmod 600 "+file
		}
		if msg != want || fix != wantFix {
			t.Errorf("mode %04o: %q, %q; want %q, %q", tc.mode, msg, fix, want, wantFix)
		}
	}
	if msg, _ := (&Config{}).PasswordExposed(); msg != "" {
		t.Errorf("no password file: %q", msg)
	}
	if q := shellQuote("/etc/cotd/my password"); q != `'/etc/cotd/my password'` {
		t.Errorf("quoted %s", q)
	}
}
