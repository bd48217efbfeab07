package health

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cotd/certs"
	"cotd/internal/needs"
)

var runAt = time.Date(2026, 11, 25, 7, 0, 3, 0, time.UTC)

func sampleMetrics() Metrics {
	return Metrics{
		LastRun:          runAt,
		LastSuccess:      runAt.Add(-24 * time.Hour),
		ExitCode:         1,
		MessagesSent:     9,
		DeliveryFailures: 1,
		PhotosTotal:      120,
		PhotosUnsent:     9,
		QuotesTotal:      365,
		QuotesUnsent:     200,
		CertExpiry: []certs.Expiry{
			{Source: "smtp mail.example.test:587", NotAfter: runAt.AddDate(0, 0, 5)},
			{Source: "/var/lib/rancher/k3s/server/tls/server-ca.crt", NotAfter: runAt.AddDate(10, 0, 0)},
			{Source: "127.0.0.1:6443", NotAfter: runAt.AddDate(1, 0, 0)},
			// Seen twice: the earlier one counts.
			{Source: "127.0.0.1:6443", NotAfter: runAt.AddDate(0, 2, 0)},
			// File names can hold anything.
			{Source: "/etc/ssl/we\"ird\\na\nme\xff.pem", NotAfter: runAt.AddDate(0, 0, 30)},
		},
	}
}

func TestFormatGolden(t *testing.T) {
	golden(t, "metrics.prom", Format(sampleMetrics()))
}

func TestFormatDetails(t *testing.T) {
	out := string(Format(sampleMetrics()))
	for _, want := range []string{
		`cotd_cert_expiry_timestamp_seconds{source="127.0.0.1:6443"} ` + itoa(runAt.AddDate(0, 2, 0).Unix()) + "\n",
		`cotd_cert_expiry_timestamp_seconds{source="/etc/ssl/we\"ird\\na\nme` + "\uFFFD" + `.pem"}`,
		"cotd_last_success_timestamp_seconds " + itoa(runAt.Add(-24*time.Hour).Unix()) + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Count(out, `source="127.0.0.1:6443"`) != 1 {
		t.Error("duplicate source written twice")
	}

	empty := string(Format(Metrics{CertExpiry: []certs.Expiry{{Source: "smtp down.example.test:587"}}}))
	if !strings.Contains(empty, "cotd_last_success_timestamp_seconds 0\n") {
		t.Error("a never-successful run should write 0")
	}
	if strings.Contains(empty, "cert_expiry") {
		t.Error("no certificates should write no cert metric family")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestWriteMetrics(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cotd.prom")
	if err := os.WriteFile(path, []byte("old content"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteMetrics(path, sampleMetrics()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Format(sampleMetrics())) {
		t.Error("file content differs from Format")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so node_exporter can read it", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only cotd.prom (a temp file left behind?)", names)
	}

	missing := filepath.Join(dir, "no-such-dir", "cotd.prom")
	err = WriteMetrics(missing, Metrics{})
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "textfile.directory") {
		t.Errorf("missing dir: %v", err)
	}
}

// TestPromtool checks the written file with Prometheus' own linter.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		needs.Missing(t, "promtool not found", "apt install prometheus")
	}
	for name, m := range map[string]Metrics{"full": sampleMetrics(), "empty": {}} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cotd.prom")
			if err := WriteMetrics(path, m); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = f
			out, err := cmd.CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) != 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}

	// The check must be able to fail: the same source left unescaped, and
	// left invalid UTF-8, is refused.
	for _, raw := range []string{"we\"ird", "na\xffme"} {
		bad := "cotd_cert_expiry_timestamp_seconds{source=\"" + raw + "\"} 1\n"
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(bad)
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("promtool accepted %q:\n%s", bad, out)
		}
	}
}
