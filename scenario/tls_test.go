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

// TestExtendedMetrics: config.http.extendedMetrics turns the connection
// histograms on, in config or in an environment merged over it; it is off
// unless set to true, and anything but a boolean is an error naming it.
func TestExtendedMetrics(t *testing.T) {
	tests := []struct {
		config, env string
		want        bool
	}{
		{"", "", false},
		{"  http: {extendedMetrics: true}\n", "", true},
		{"  http: {extendedMetrics: false}\n", "", false},
		{"  http: {extendedMetrics: true}\n  environments: {quiet: {http: {extendedMetrics: false}}}\n", "quiet", false},
		{"  environments: {deep: {http: {extendedMetrics: true}}}\n", "deep", true},
	}
	for _, tt := range tests {
		s, err := Parse("x.yml", []byte(script(defaultPhases+tt.config, "      - get: {url: /}\n")), LoadOptions{Environment: tt.env})
		if err != nil {
			t.Errorf("%q -e %q: %v", tt.config, tt.env, err)
			continue
		}
		if s.Config.HTTP.ExtendedMetrics != tt.want {
			t.Errorf("%q -e %q: ExtendedMetrics %v, want %v", tt.config, tt.env, s.Config.HTTP.ExtendedMetrics, tt.want)
		}
	}
	// Artillery's variable turns it on whatever the script says, even set
	// to "".
	for _, config := range []string{"", "  http: {extendedMetrics: false}\n"} {
		env := func(name string) (string, bool) { return "", name == ExtendedMetricsEnv }
		s, err := Parse("x.yml", []byte(script(defaultPhases+config, "      - get: {url: /}\n")), LoadOptions{Env: env})
		if err != nil || !s.Config.HTTP.ExtendedMetrics {
			t.Errorf("%q with %s set: %v, ExtendedMetrics off", config, ExtendedMetricsEnv, err)
		}
	}
	got := parseErr(t, "x.yml", script(defaultPhases+"  http: {extendedMetrics: \"yes\"}\n", "      - get: {url: /}\n"))
	if !strings.Contains(got, `x.yml:4:27: config.http.extendedMetrics: must be true or false, got "yes"`) {
		t.Errorf("%q", got)
	}
}
