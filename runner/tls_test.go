package runner_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// clientCert makes a self-signed client certificate and its key, in PEM.
func clientCert(t *testing.T) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "primeload test client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), cert
}

// TestTLSClientCertificates: config.tls's certificateAuthority,
// certificate and key, as files or inline PEM, against a real mutual-TLS
// server (issue 18): with them every request is answered; without the
// client certificate the handshake fails, without the CA the server's
// certificate is refused.
func TestTLSClientCertificates(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM, cert := clientCert(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "primeload test client" {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	dir := t.TempDir()
	for name, b := range map[string][]byte{"ca.pem": caPEM, "client.pem": certPEM, "client-key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	indent := func(b []byte) string {
		return "|\n      " + strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n      ")
	}
	tests := []struct {
		name, tls string
		counter   string // the one counter every request lands in
	}{
		{"files", "{certificateAuthority: ca.pem, certificate: client.pem, key: client-key.pem}", "http.codes.200"},
		{"inline PEM", "\n    certificateAuthority: " + indent(caPEM) + "\n    certificate: " + indent(certPEM) + "\n    key: " + indent(keyPEM), "http.codes.200"},
		{"CA list", "{certificateAuthority: [ca.pem], certificate: client.pem, key: client-key.pem}", "http.codes.200"},
		// TLS 1.3 refuses a missing client certificate after the client's
		// handshake, so the user sees the connection end.
		{"no client certificate", "{certificateAuthority: ca.pem}", "vusers.failed"},
		{"no CA", "{certificate: client.pem, key: client-key.pem}", "errors.ECERT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "config:\n  target: http://127.0.0.1:9\n  phases: [{duration: 0.1, arrivalCount: 3}]\n  tls: " + tt.tls + "\nscenarios:\n  - flow:\n      - get: {url: /}\n"
			script, err := scenario.Parse(filepath.Join(dir, "t.yml"), []byte(src), scenario.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, rep := faultRun(t, script, srv.URL, runner.Options{})
			c := rep.Aggregate.Counters
			if got := c[tt.counter]; got != 3 || (tt.counter != "http.codes.200" && c["http.codes.200"] != 0) {
				t.Errorf("%s = %d, want 3 (and no 200 unless that is the one); counters %v", tt.counter, got, c)
			}
		})
	}
}
