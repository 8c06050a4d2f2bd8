package trace_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/runner/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// exchanges are one of each shape: an answer whose capture missed, and a
// transport failure with no answer.
func exchanges() []*runner.Exchange {
	at := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	return []*runner.Exchange{
		{
			Time: at, Endpoint: "/items?page=2", Sample: runner.SampleFirst, Latency: 12345 * time.Microsecond,
			Request: runner.TracedRequest{Method: "GET", URL: "http://127.0.0.1:8080/items?page=2", Headers: []runner.TraceHeader{
				{Name: "Host", Value: "127.0.0.1:8080"}, {Name: "Authorization", Value: "Bearer [redacted, 0 bytes]"},
			}},
			Response: &runner.TracedResponse{Proto: "HTTP/1.1", Status: 401, Message: "Unauthorized", Headers: []runner.TraceHeader{
				{Name: "Content-Type", Value: "application/json"},
			}, BodySize: 4000, Body: "{\"detail\":\"invalid token\",\n\"more\":\"...\"}"},
			Checks: []runner.TracedCheck{{Kind: "capture", Expr: "json $.token", As: "token"}, {Kind: "expect", Expr: "statusCode 401", OK: true}},
			Error:  "errors.Failed capture or match", Reason: "a strict capture found nothing in the response",
		},
		{
			Time: at.Add(time.Second), Endpoint: "/orders", Sample: runner.SampleFailure, Latency: 150 * time.Microsecond,
			Request: runner.TracedRequest{Method: "POST", URL: "https://127.0.0.1:8080/orders", BodySize: 3, Body: "\x00\x01\x02"},
			Error:   "errors.EPROTO", Reason: "TLS handshake to a plain-HTTP port: 127.0.0.1:8080 answered the TLS hello with something else; use http://",
			Detail: "tls: first record does not look like a TLS handshake",
		},
	}
}

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	tr := trace.NewText(&b)
	for _, x := range exchanges() {
		tr.Trace(x)
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "text.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("text trace differs from %s (rerun with -update if intended):\n%s", golden, b.String())
	}
}

// Each exchange is one line of JSON that reads back as it was written.
func TestJSONLinesRoundTrip(t *testing.T) {
	var b bytes.Buffer
	tr := trace.NewJSONLines(&b)
	xs := exchanges()
	for _, x := range xs {
		tr.Trace(x)
	}
	lines := bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"))
	if len(lines) != len(xs) {
		t.Fatalf("%d lines for %d exchanges:\n%s", len(lines), len(xs), b.String())
	}
	for i, line := range lines {
		var got runner.Exchange
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if !reflect.DeepEqual(&got, xs[i]) {
			t.Errorf("line %d reads back as %+v, want %+v", i+1, got, *xs[i])
		}
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

// A writer that fails is written once and the error kept, not retried for
// every exchange.
func TestWriteErrorIsKept(t *testing.T) {
	for name, tr := range map[string]interface {
		runner.Tracer
		Err() error
	}{"text": trace.NewText(&failingWriter{}), "json": trace.NewJSONLines(&failingWriter{})} {
		for _, x := range exchanges() {
			tr.Trace(x)
		}
		if err := tr.Err(); err == nil {
			t.Errorf("%s: Err() = nil after a failed write", name)
		}
	}
}
