package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// unwrapped folds a wrapped text back to one line, for tests that look for
// a sentence wherever the summary broke it.
func unwrapped(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		s     string
		width int
		want  []string
	}{
		{"fits", "a < 1", 10, []string{"a < 1"}},
		{"empty", "", 10, []string{""}},
		{"at spaces", "(a + b + c) / d < 0.001", 11, []string{"(a + b + c)", "/ d < 0.001"}},
		{"exactly the width", "aaaa bbbb", 4, []string{"aaaa", "bbbb"}},
		{"space runs fold", "a   b", 10, []string{"a b"}},
		{"a long word breaks after a joint", "plugins.metrics-by-endpoint.response_time./api/x/.p95 < 5", 30,
			[]string{"plugins.metrics-by-endpoint.", "response_time./api/x/.p95 < 5"}},
		{"a long word without joints breaks at the width", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"runes, not bytes", "ééééé ééé", 5, []string{"ééééé", "ééé"}},
		{"width below one is one", "ab", 0, []string{"a", "b"}},
	}
	for _, tt := range tests {
		got := Wrap(tt.s, tt.width)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: Wrap(%q, %d) = %q, want %q", tt.name, tt.s, tt.width, got, tt.want)
		}
		for _, line := range got {
			if n := utf8.RuneCountInString(line); n > max(tt.width, 1) {
				t.Errorf("%s: line %q is %d runes, over %d", tt.name, line, n, tt.width)
			}
		}
	}
}

func TestAbbreviate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s     string
		width int
		want  string
	}{
		{"GET /a", 10, "GET /a"},
		{"GET /api/goods-received/{{ goodsId }}/", 20, "GET /api/…oodsId }}/"},
		{"abcdef", 5, "ab…ef"},
		{"abcdef", 1, "a"},
		{"abcdef", 0, ""},
		{"éééééé", 3, "é…é"},
	}
	for _, tt := range tests {
		if got := Abbreviate(tt.s, tt.width); got != tt.want {
			t.Errorf("Abbreviate(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
		if n := utf8.RuneCountInString(Abbreviate(tt.s, tt.width)); n > max(tt.width, 0) {
			t.Errorf("Abbreviate(%q, %d) is %d runes", tt.s, tt.width, n)
		}
	}
}

// wideReport has everything that used to push the summary past 100
// columns: a long script path, long endpoint labels, many status codes, a
// long failure reason and a warning.
func wideReport(t *testing.T) *Report {
	t.Helper()
	long := "GET /api/v2/warehouses/{{ warehouseId }}/goods-received/{{ goodsId }}/tracking-updates/?page_size=100"
	other := "POST http://127.0.0.1:18080/api/v2/warehouses/{{ warehouseId }}/goods-received/ (create a delivery)"
	c := NewCollector(t0, Info{Period: 10 * time.Second, Target: "http://127.0.0.1:8080", Version: "0.1.0",
		Script: ScriptInfo{Path: "/home/ci/builds/primepre/logistics-platform/load-tests/black-friday/black-friday-2026.yml",
			Endpoints: []string{long, other}}})
	for i := range 60 {
		status := []int{200, 201, 204, 301, 302, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503}[i%15]
		record(c, []sample{{sink: i, endpoint: long, latency: time.Duration(i+1) * time.Millisecond, status: status, bytes: 100}})
		record(c, []sample{{sink: i, endpoint: other, latency: 2 * time.Second, status: 201, bytes: 100}})
	}
	if _, err := c.Flush(t0.Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	r := c.Report()
	r.MissedArrivals = 2
	r.Expected = []PhaseArrivals{{Name: "Sustained load at ten times the seed's rate for the whole afternoon", Expected: 60, Created: 60}}
	r.Failures = []Failure{{Endpoint: long, Code: "http.codes.500", Count: 4, Samples: []FailureSample{{
		Reason: `the response was 500 {"error":"database is unavailable","detail":"could not connect to server: Connection refused; is the server running on host 10.0.0.12 and accepting TCP/IP connections on port 5432?"}`,
		Status: 500}}}}
	return r
}

func TestWriteSummaryFits(t *testing.T) {
	t.Parallel()
	reports := map[string]*Report{"summary-wide.txt": wideReport(t), "summary.txt": smallReport(t), "summary-failures.txt": failingReport()}
	for name, r := range reports {
		var buf bytes.Buffer
		if err := WriteSummary(&buf, r); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(buf.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > SummaryWidth {
				t.Errorf("%s line %d is %d columns, over %d:\n%s", name, i+1, n, SummaryWidth, line)
			}
		}
		if name == "summary-wide.txt" {
			golden(t, name, buf.Bytes())
			// Nothing is lost by wrapping: the reason reads whole once unwrapped.
			if !strings.Contains(unwrapped(buf.String()), unwrapped(r.Failures[0].Samples[0].Reason)) {
				t.Errorf("the failure reason is not all there:\n%s", buf.String())
			}
		}
	}
}

func TestFitLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 60)
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"one line", []string{"a", "b"}, "a · b"},
		{"goes on under an indent", []string{long, long}, long + "\n  " + long},
		{"a part longer than a line wraps on lines of its own", []string{"a", strings.Repeat("word ", 30)},
			"a\n  " + strings.TrimSpace(strings.Repeat("word ", 19)) + "\n  " + strings.TrimSpace(strings.Repeat("word ", 11))},
	}
	for _, tt := range tests {
		if got := fitLine(tt.parts...); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestFitParts(t *testing.T) {
	t.Parallel()
	when := LinePart{Text: "[+10s] 50 requests"}
	errs := LinePart{Text: "3 errors (ECONNRESET×3)", Short: "3 errors"}
	lag := LinePart{Text: "lag p99 0.49 ms", Drop: 6}
	eta := LinePart{Text: "00:20/01:00 · ETA 00:40", Short: "ETA 00:40", Drop: 2}
	users := LinePart{Text: "12 vusers active", Short: "12 vusers", Drop: 3}
	tests := []struct {
		name  string
		parts []LinePart
		width int
		want  string
	}{
		{"all fit in full", []LinePart{when, errs, lag, eta, users}, 107,
			"[+10s] 50 requests · 3 errors (ECONNRESET×3) · lag p99 0.49 ms · 00:20/01:00 · ETA 00:40 · 12 vusers active"},
		{"short forms, and the least important left out", []LinePart{when, errs, lag, eta, users}, 53,
			"[+10s] 50 requests · 3 errors · ETA 00:40 · 12 vusers"},
		{"full text goes by importance", []LinePart{when, errs, lag, eta, users}, 68,
			"[+10s] 50 requests · 3 errors (ECONNRESET×3) · ETA 00:40 · 12 vusers"},
		{"a smaller part fits where a larger did not", []LinePart{when, errs, eta, users, {Text: "x", Drop: 9}}, 45,
			"[+10s] 50 requests · 3 errors · ETA 00:40 · x"},
		{"never-dropped parts are cut at the end", []LinePart{when, errs, users}, 25,
			"[+10s] 50 requests · 3 e…"},
		{"nothing", nil, 10, ""},
	}
	for _, tt := range tests {
		got := FitParts(tt.parts, tt.width)
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > tt.width {
			t.Errorf("%s: %d runes, over %d", tt.name, n, tt.width)
		}
	}
}
