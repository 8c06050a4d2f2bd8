package cmd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
)

func TestQuickOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want QuickOptions
	}{
		{[]string{"http://127.0.0.1:1/"}, QuickOptions{URL: "http://127.0.0.1:1/", Count: 10, Num: 10}},
		{[]string{"-c", "3", "-n", "4", "-k", "-q", "-o", "r.json", "https://127.0.0.1:1/x"},
			QuickOptions{URL: "https://127.0.0.1:1/x", Count: 3, Num: 4, Insecure: true, Quiet: true, Output: "r.json"}},
		{[]string{"--count", "2", "--num", "1", "--insecure", "--output", "o.json", "http://127.0.0.1:1"},
			QuickOptions{URL: "http://127.0.0.1:1", Count: 2, Num: 1, Insecure: true, Output: "o.json"}},
	}
	for _, tt := range tests {
		var got *QuickOptions
		c := newQuickCmdF(TestState(&bytes.Buffer{}, &bytes.Buffer{}, nil), func(_ context.Context, o *QuickOptions) error {
			got = o
			return nil
		})
		c.SetArgs(tt.args)
		if err := c.Execute(); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%v: got %+v, want %+v", tt.args, *got, tt.want)
		}
	}
}

// TestQuickSendsCountTimesNum: quick -c 3 -n 4 sends 12 GETs of the URL
// from 3 users, judged and reported as a run; what it cannot send is
// refused before anything is sent.
func TestQuickSendsCountTimesNum(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && r.URL.RawQuery == "deep=1" {
			hits.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	out := filepath.Join(t.TempDir(), "quick.json")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Execute(ctx, TestState(&stdout, &stderr, nil), []string{"quick", "-c", "3", "-n", "4", "-q", "-o", out, srv.URL + "/health?deep=1"})
	if code != ExitOK && code != ExitUntrusted {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if got := hits.Load(); got != 12 {
		t.Errorf("the server saw %d requests, want 3 users × 4", got)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Aggregate.Counters
	for name, want := range map[string]int64{"http.requests": 12, "vusers.created": 3, "vusers.completed": 3, "vusers.created_by_name.0": 3,
		"plugins.metrics-by-endpoint./health?deep=1.codes.200": 12} {
		if c[name] != want {
			t.Errorf("%s = %d, want %d", name, c[name], want)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"quick", "127.0.0.1:1/"}, "want an http:// or https:// URL"},
		{[]string{"quick", "-c", "0", srv.URL}, "--count 0, --num 10: each must be 1 or more"},
		{[]string{"quick", "http://192.0.2.1/"}, "loopback"},
	} {
		var so, se bytes.Buffer
		if code := Execute(ctx, TestState(&so, &se, nil), tc.args); code != ExitUsage || !strings.Contains(se.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, se.String(), ExitUsage, tc.want)
		}
	}
}
