package cmd

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRemoteTargetWarning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		target string
		host   string // named in the warning; "" for none
	}{
		{"http://127.0.0.1:8080", ""},
		{"http://localhost:8080/api", ""},
		{"http://[::1]:8080", ""},
		{"http://127.3.2.1", ""},
		{"https://api.primepre.com", "api.primepre.com"},
		{"http://10.0.0.5:8080", "10.0.0.5"},
		{"http://0.0.0.0:8080", "0.0.0.0"},
		{"not a url", ""},
	}
	for _, tt := range tests {
		w := remoteTargetWarning(tt.target)
		if (w != "") != (tt.host != "") || (tt.host != "" && !strings.Contains(w, "goes to "+tt.host)) {
			t.Errorf("%s: warning %q, want one naming %q", tt.target, w, tt.host)
		}
	}
}

// TestRunWarnsOfRemoteTarget: a run whose target is not a loopback host
// says so, naming the host, before its first arrival. 0.0.0.0 is not a
// loopback address, yet Linux connects it to this machine, so the test
// sends nothing off the machine.
func TestRunWarnsOfRemoteTarget(t *testing.T) {
	t.Parallel()
	script := okScript(t, "1", 1)
	res := execRun(t, nil, nil, "", script)
	if strings.Contains(res.errOut, "WARNING: the target") {
		t.Errorf("loopback target warned:\n%s", res.errOut)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	_, port, _ := strings.Cut(srv.Listener.Addr().String(), ":")
	res = execRun(t, nil, nil, "", script, "-t", "http://0.0.0.0:"+port)
	if !strings.Contains(res.errOut, "WARNING: the target http://0.0.0.0:"+port+" is not this machine: every arrival goes to 0.0.0.0") {
		t.Errorf("no warning naming 0.0.0.0 (exit %d):\n%s", res.code, res.errOut)
	}
}
