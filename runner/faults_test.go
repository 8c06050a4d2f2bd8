package runner_test

// Runs against local servers that misbehave on purpose. Each goes through
// the real report.Collector and writes the report the way `run --output`
// does, so what is asserted is what a user reads: the run finishes, every
// failure sits under a stable error code, and the report on disk is valid.
// Nothing here asserts wall-clock speed; the stall test asserts recorded
// latency values, which only a stall can produce.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
	"github.com/primeload/primeload/scenario"
)

// faultBodyLimit is the response body limit of the body faults, far below
// what their servers offer.
const faultBodyLimit = 1 << 20

// offeredBytes bounds what an endless body server sends, so the test ends
// even if the runner read without limit.
const offeredBytes = 256 << 20

// parseScript compiles a script written inline; its target comes from the test.
func parseScript(t *testing.T, src string) *scenario.Script {
	t.Helper()
	s, err := scenario.Parse("faults.yml", []byte(src), scenario.LoadOptions{})
	if err != nil {
		t.Fatalf("parse script: %v", err)
	}
	return s
}

// twoSteps has users arrivals each send GET /fault and then GET /never, which
// a failed first step must keep them from reaching.
func twoSteps(users int) string {
	return `config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: 0.2
      arrivalCount: ` + strconv.Itoa(users) + `
scenarios:
  - flow:
      - get:
          url: "/fault"
      - get:
          url: "/never"
`
}

// faultRun runs script against target into a report.Collector, writes the
// report to a file atomically as `run -o` does, and returns it as read back.
func faultRun(t *testing.T, script *scenario.Script, target string, opts runner.Options) (*runner.Outcome, *report.Report) {
	t.Helper()
	opts.Target, opts.Seed = target, 1
	// Bounds the test even if a fault made the runner hang.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	col := report.NewCollector(start, report.Info{Target: target, Period: time.Second})
	out, err := runner.Run(ctx, script, col, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.Aborted {
		t.Fatal("the run did not finish on its own within a minute")
	}
	if _, err := col.Flush(time.Now()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := report.WriteFile(path, col.Report()); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	rep, err := report.ReadFile(path)
	if err != nil {
		t.Fatalf("the report on disk does not read back: %v", err)
	}
	return out, rep
}

// errorCounters returns the report's errors.* counters.
func errorCounters(m *report.Metrics) map[string]int64 {
	errs := map[string]int64{}
	for name, n := range m.Counters {
		if strings.HasPrefix(name, "errors.") {
			errs[name] = n
		}
	}
	return errs
}

// countCheck is one counted value and what it must be.
type countCheck struct {
	name      string
	got, want int64
}

// checkCounts reports every count that differs from its want, with why appended.
func checkCounts(t *testing.T, counts []countCheck, why string) {
	t.Helper()
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d%s", c.name, c.got, c.want, why)
		}
	}
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// rawServer accepts connections on loopback and hands each, with its
// request read, to answer. It stops accepting at cleanup and waits for the
// handlers, which must return once their connection is closed.
func rawServer(t *testing.T, hits *atomic.Int64, answer func(c *net.TCPConn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				hits.Add(1)
				answer(c.(*net.TCPConn))
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return "http://" + l.Addr().String()
}

// reset closes c with a TCP RST rather than a FIN.
func reset(c *net.TCPConn) {
	c.SetLinger(0)
	c.Close()
}

// endless writes body chunks until the client goes away or offeredBytes are out.
func endless(w func([]byte) (int, error)) {
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for sent := 0; sent < offeredBytes; sent += len(chunk) {
		if _, err := w(chunk); err != nil {
			return
		}
	}
}

// TestFaultsCountedAndReported runs each fault alone and checks that all of
// its users fail under one stable code, that no later step runs, and that
// the report holds it. It is not parallel, so the allocation bound measures
// this run only: a runner that buffered a body past its limit would have
// allocated about what the server offered.
func TestFaultsCountedAndReported(t *testing.T) {
	const users = 4
	tests := []struct {
		name string
		// start starts the server and returns its URL; hits counts the
		// requests it received (nil: nothing listens).
		start func(t *testing.T, hits *atomic.Int64) string
		want  string
	}{
		{"connection refused", func(t *testing.T, _ *atomic.Int64) string {
			return "http://" + closedAddr(t)
		}, "errors.ECONNREFUSED"},
		{"reset mid-headers", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: appl"))
				reset(c)
			})
		}, "errors.ECONNRESET"},
		{"reset mid-body", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("x", 100)))
				reset(c)
			})
		}, "errors.ECONNRESET"},
		{"content-length longer than the body, then close", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"short\":1}"))
				c.CloseWrite()
			})
		}, "errors.ECONNRESET"},
		{"endless chunked body", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
				endless(func(b []byte) (int, error) {
					return fmt.Fprintf(c, "%x\r\n%s\r\n", len(b), b)
				})
			})
		}, "errors.EBODYTOOLARGE"},
		{"huge declared body", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n"))
				endless(c.Write)
			})
		}, "errors.EBODYTOOLARGE"},
		{"huge body without length, ended by close", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"))
				endless(c.Write)
			})
		}, "errors.EBODYTOOLARGE"},
		{"chunked body cut by close", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nhal"))
				c.CloseWrite()
			})
		}, "errors.ECONNRESET"},
		{"chunked body cut between chunks", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"))
				c.CloseWrite()
			})
		}, "errors.ECONNRESET"},
		{"broken chunk size", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"))
			})
		}, "errors.EPROTO"},
		{"broken chunk end", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!!\r\n0\r\n\r\n"))
			})
		}, "errors.EPROTO"},
		{"headers past the read buffer", func(t *testing.T, hits *atomic.Int64) string {
			return rawServer(t, hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 1<<20) + "\r\nContent-Length: 2\r\n\r\n{}"))
			})
		}, "errors.EPROTO"},
		{"redirect loop", func(t *testing.T, hits *atomic.Int64) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				http.Redirect(w, r, "/fault?again", http.StatusFound)
			}))
			t.Cleanup(srv.Close)
			return srv.URL
		}, "errors.ERR_TOO_MANY_REDIRECTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int64
			target := tt.start(t, &hits)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, rep := faultRun(t, parseScript(t, twoSteps(users)), target, runner.Options{MaxBodyBytes: faultBodyLimit})
			runtime.ReadMemStats(&after)

			agg := rep.Aggregate
			requests, responses := int64(users), int64(0)
			if tt.want == "errors.ERR_TOO_MANY_REDIRECTS" {
				// got follows ten redirects and fails on the eleventh:
				// each of the eleven is a request and a response, as in
				// Artillery and on the wire.
				requests, responses = 11*users, 11*users
				if hits.Load() != requests {
					t.Errorf("the server received %d requests, want %d", hits.Load(), requests)
				}
			}
			if got, want := errorCounters(agg), map[string]int64{tt.want: users}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("error counters %v, want %v", got, want)
			}
			counts := []countCheck{
				{"vusers.created", agg.Counters["vusers.created"], users},
				{"vusers.failed", agg.Counters["vusers.failed"], users},
				{"vusers.completed", agg.Counters["vusers.completed"], 0},
				{"http.requests", agg.Counters["http.requests"], requests},
				{"http.responses", agg.Counters["http.responses"], responses},
				{"Outcome.Failed", out.Failed, users},
			}
			checkCounts(t, counts, "")
			if _, ok := agg.Summaries[metric.EndpointResponseTime+"/never"]; ok {
				t.Error("a user went on to GET /never after its first step failed")
			}
			// A request that got part of an answer is measured, not silently sent again.
			if hits.Load() != 0 && tt.want != "errors.ERR_TOO_MANY_REDIRECTS" && hits.Load() != users {
				t.Errorf("the server received %d requests for %d users", hits.Load(), users)
			}
			var summary bytes.Buffer
			if err := report.WriteSummary(&summary, rep); err != nil {
				t.Fatalf("WriteSummary: %v", err)
			}
			if !strings.Contains(summary.String(), tt.want) {
				t.Errorf("the printed summary does not name %s:\n%s", tt.want, summary.String())
			}
			// Reading a body to its limit allocates a few times the limit
			// while buffers grow (measured: 4.6x at 4 MiB, 7x at 1 MiB), and
			// the collector's histograms add a fixed ~11 MiB. A runner that
			// read what the servers offered would allocate 256 MiB a user.
			if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(users*8*faultBodyLimit+16<<20); alloc > limit {
				t.Errorf("the run allocated %d MiB, want under %d MiB: a body was buffered past its limit", alloc>>20, limit>>20)
			}
		})
	}
}

// TestStallShowsAtItsTrueSize is wrk2's "pause the server" demonstration.
// The server stalls for two seconds in the middle of a constant-rate run.
// Under the open model arrivals keep coming during the stall, every one of
// them waits for the server, and the report's percentiles carry the stall
// at its size; a closed-model tool would record one slow request and
// report a clean p99 (coordinated omission).
func TestStallShowsAtItsTrueSize(t *testing.T) {
	t.Parallel()
	const (
		rate    = 20
		seconds = 4
		stall   = 2 * time.Second
		trigger = 21 // the request that stalls the server, one second in
	)
	var hits atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if n == trigger {
			time.AfterFunc(stall, func() { close(release) })
		}
		if n >= trigger {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	script := parseScript(t, fmt.Sprintf(`config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: %d
      arrivalRate: %d
scenarios:
  - flow:
      - get:
          url: "/"
`, seconds, rate))
	out, rep := faultRun(t, script, srv.URL, runner.Options{})

	agg := rep.Aggregate
	const arrivals = rate * seconds
	counts := []countCheck{
		{"expected arrivals", int64(out.Expected), arrivals},
		{"vusers.created", agg.Counters["vusers.created"], arrivals},
		{"vusers.completed", agg.Counters["vusers.completed"], arrivals},
		{"http.responses", agg.Counters["http.responses"], arrivals},
		{"errors", int64(len(errorCounters(agg))), 0},
		{"response time samples", agg.Summaries[metric.ResponseTime].Count, arrivals},
	}
	checkCounts(t, counts, " (the stall must not swallow arrivals)")
	// About rate*stall = 40 of the 80 requests arrived during the stall and
	// waited out its rest, spread evenly between 0 and 2 s: the slowest 8
	// waited at least 1.6 s and the slowest one the whole stall. Lower
	// bounds only, which a busy machine cannot break.
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	rt := agg.Summaries[metric.ResponseTime]
	t.Logf("%d requests, stall %v: p50 %.1f p90 %.1f p99 %.1f max %.1f ms", rt.Count, stall, rt.P50, rt.P90, rt.P99, rt.Max)
	bounds := []struct {
		stat      string
		got, want float64
	}{
		{"max", rt.Max, ms(stall) * 0.99},
		{"p99", rt.P99, ms(stall) * 3 / 4},
		{"p90", rt.P90, ms(stall) / 2},
	}
	for _, b := range bounds {
		if b.got < b.want {
			t.Errorf("http.response_time.%s = %.0f ms, want at least %.0f ms of the %v stall", b.stat, b.got, b.want, stall)
		}
	}
}

// TestMalformedJSONCaptureFailsOnlyThatUser answers every other capture
// request with truncated JSON: those users count a failed capture and stop,
// the others carry on, and the run finishes.
func TestMalformedJSONCaptureFailsOnlyThatUser(t *testing.T) {
	t.Parallel()
	const users = 10
	var lists atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/items" {
			w.Write([]byte(`{"id":7,"name":"crate"}`))
			return
		}
		if lists.Add(1)%2 == 0 {
			w.Write([]byte(`{"results":[{"id":7},{"id":`))
			return
		}
		w.Write([]byte(`{"results":[{"id":7}]}`))
	}))
	t.Cleanup(srv.Close)
	script := parseScript(t, `config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: 0.5
      arrivalCount: `+strconv.Itoa(users)+`
scenarios:
  - flow:
      - get:
          url: "/items"
          capture:
            - json: "$.results[0].id"
              as: "id"
      - get:
          url: "/items/{{ id }}"
`)
	out, rep := faultRun(t, script, srv.URL, runner.Options{})
	agg := rep.Aggregate
	counts := []countCheck{
		{"errors.Failed capture or match", agg.Counters["errors.Failed capture or match"], users / 2},
		{"vusers.failed", agg.Counters["vusers.failed"], users / 2},
		{"vusers.completed", agg.Counters["vusers.completed"], users / 2},
		// A malformed body is still a response: it is timed and its 200 counted.
		{"http.codes.200", agg.Counters["http.codes.200"], users + users/2},
		{"GET /items responses", agg.Summaries[metric.EndpointResponseTime+"/items"].Count, users},
		{"GET /items/{{ id }} responses", agg.Summaries[metric.EndpointResponseTime+"/items/{{ id }}"].Count, users / 2},
		{"Outcome.Failed", out.Failed, users / 2},
	}
	checkCounts(t, counts, "")
}

// A server that received a request on a kept-alive connection and closed
// it without answering may have acted on it: a POST is counted as failed
// and never sent again; a GET, which may be repeated, is sent once more on
// a fresh connection. The server answers the first request of each
// connection and drops the connection on its second.
func TestUnansweredReuseResendsOnlyIdempotent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method       string
		wantRequests int64 // received by the server
		wantErrors   map[string]int64
	}{
		{"post", 2, map[string]int64{"errors.ECONNRESET": 1}},
		{"get", 3, map[string]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			target := rawServer(t, &hits, func(c *net.TCPConn) {
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					hits.Add(1)
				}
			})
			script := parseScript(t, `config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: 0.01
      arrivalCount: 1
scenarios:
  - flow:
      - `+tt.method+`: {url: "/x", body: "a"}
      - `+tt.method+`: {url: "/y", body: "b"}
`)
			_, rep := faultRun(t, script, target, runner.Options{})
			if got := errorCounters(rep.Aggregate); fmt.Sprint(got) != fmt.Sprint(tt.wantErrors) {
				t.Errorf("errors %v, want %v", got, tt.wantErrors)
			}
			if got := hits.Load(); got != tt.wantRequests {
				t.Errorf("the server received %d requests, want %d", got, tt.wantRequests)
			}
		})
	}
}

// gzipBomb is a gzip body that inflates to decoded bytes of zeros, about a
// thousand times its size: copies of one member, which a gzip reader reads
// one after another as one body.
func gzipBomb(t *testing.T, decoded int) []byte {
	t.Helper()
	const member = 16 << 20
	var one bytes.Buffer
	zw, err := gzip.NewWriterLevel(&one, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range member / len(zeros) {
		zw.Write(zeros)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(one.Bytes(), decoded/member)
}

// Issue 13 item 2: a hostile server answers a step that captures with a
// gzip bomb. The step fails under its own code once the body inflates past
// (10 << 20), the other users and the report carry on,
// and the run allocates a few times the bound, not what the bomb holds.
// Not parallel, so the allocation measured is this run's.
func TestGzipBombIsBounded(t *testing.T) {
	const (
		users   = 3
		decoded = 256 << 20
	)
	bomb := gzipBomb(t, decoded)
	var items atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// The first and third users get the bomb.
		if r.URL.Path == "/item" && items.Add(1)%2 == 1 {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb)
			return
		}
		w.Write([]byte(`{"id":1}`))
	}))
	t.Cleanup(srv.Close)
	script := parseScript(t, `config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: 0.3
      arrivalCount: `+strconv.Itoa(users)+`
scenarios:
  - flow:
      - get:
          url: "/item"
          capture:
            - json: "$.id"
              as: "id"
      - get:
          url: "/after"
`)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, rep := faultRun(t, script, srv.URL, runner.Options{})
	runtime.ReadMemStats(&after)

	agg := rep.Aggregate
	if got, want := errorCounters(agg), map[string]int64{"errors.EDECODEDTOOLARGE": 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("error counters %v, want %v", got, want)
	}
	counts := []countCheck{
		{"http.codes.200", agg.Counters["http.codes.200"], 4}, // the bombs are answers, timed and counted
		{"vusers.failed", agg.Counters["vusers.failed"], 2},
		{"vusers.completed", agg.Counters["vusers.completed"], 1},
		{"Outcome.Failed", out.Failed, 2},
	}
	checkCounts(t, counts, "")
	var summary bytes.Buffer
	if err := report.WriteSummary(&summary, rep); err != nil {
		t.Fatalf("WriteSummary: %v", err)
	}
	if !strings.Contains(summary.String(), "errors.EDECODEDTOOLARGE") {
		t.Errorf("the printed summary does not name errors.EDECODEDTOOLARGE:\n%s", summary.String())
	}
	// Inflating to the bound grows a buffer a few times over, and the
	// collector's histograms take a fixed ~11 MiB; inflating the whole
	// bomb would take over 256 MiB a user.
	alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(users*4*runner.DefaultMaxDecodedBytes+32<<20)
	t.Logf("the run allocated %d MiB", alloc>>20)
	if alloc > limit {
		t.Errorf("the run allocated %d MiB, want under %d MiB: a body was inflated past its bound", alloc>>20, limit>>20)
	}
}
