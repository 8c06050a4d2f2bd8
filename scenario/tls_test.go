package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSConfigErrors: config.tls mistakes are errors at their line,
// naming got's option where Node's was written (issue 18).
func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plain.txt"), []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ tls, want string }{
		{"{ca: x}", "config.tls.ca: ca is Node's name; Artillery hands config.tls to got, which calls it certificateAuthority"},
		{"{cert: x}", "config.tls.cert: cert is Node's name"},
		{"{passphrase: x}", "config.tls.passphrase: an encrypted key is not supported"},
		{"{certificate: plain.txt}", "config.tls.certificate: must be PEM text or the path of a PEM file: plain.txt holds no PEM block"},
		{"{certificateAuthority: missing.pem}", "config.tls.certificateAuthority: must be PEM text or the path of a PEM file: open "},
		{"{certificateAuthority: \"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\"}", "config.tls.certificateAuthority: holds no PEM certificate"},
		{"{key: \"-----BEGIN PRIVATE KEY-----\"}", "config.tls.certificate: is required with key"},
		{"{minVersion: TLSv1.4}", `config.tls.minVersion: must be TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3, got "TLSv1.4"`},
		{"{rejectUnauthorized: 0}", "config.tls.rejectUnauthorized: must be true or false"},
	}
	for _, tt := range tests {
		got := parseErr(t, filepath.Join(dir, "t.yml"), script(defaultPhases+"  tls: "+tt.tls+"\n", "      - get: {url: /}\n"))
		if !strings.Contains(got, tt.want) {
			t.Errorf("tls %s: %q, want %q", tt.tls, got, tt.want)
		}
	}
}

// TestExtendedMetricsRefused: config.http.extendedMetrics is refused with
// its reason, not accepted and ignored.
func TestExtendedMetricsRefused(t *testing.T) {
	got := parseErr(t, "x.yml", script(defaultPhases+"  http: {extendedMetrics: true}\n", "      - get: {url: /}\n"))
	if !strings.Contains(got, "x.yml:4:10: config.http.extendedMetrics: extendedMetrics (the http.dns, http.tcp, http.tls and http.total histograms) is not recorded yet") {
		t.Errorf("%q", got)
	}
}
