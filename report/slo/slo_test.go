package slo

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/reporttest"
	"github.com/primeload/primeload/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files")

var endpoints = []string{"GET /api/goods-received/", "GET /api/goods-received/{{ goodsId }}/", "login"}

// run is a finished run's metrics: 1000 requests, five 500s, p99 212.5 ms.
var run = MapMetrics{
	"http.requests":             1000,
	"http.responses":            995,
	"http.codes.200":            990,
	"http.codes.500":            5,
	"http.request_rate":         50,
	"errors.ETIMEDOUT":          5,
	"vusers.created":            400,
	"vusers.completed":          398,
	"vusers.failed":             2,
	"http.response_time.min":    1.2,
	"http.response_time.max":    480,
	"http.response_time.p50":    20,
	"http.response_time.median": 20,
	"http.response_time.p95":    150,
	"http.response_time.p99":    212.5,
	"plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95": 180,
	"plugins.metrics-by-endpoint.response_time.login.p99":                    90,
	"plugins.metrics-by-endpoint.login.codes.200":                            100,
}

func pos(line int) scenario.Pos { return scenario.Pos{File: "bf.yml", Line: line, Column: 7} }

func TestEvaluate(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name   string
		ensure scenario.Ensure
		want   report.SLO
	}{
		{
			name:   "threshold passes",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 250}}},
			want:   report.SLO{Name: "http.response_time.p99", Expression: "http.response_time.p99 < 250", Value: f(212.5), Limit: f(250), OK: true, Strict: true},
		},
		{
			name:   "threshold fails",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 200}}},
			want:   report.SLO{Name: "http.response_time.p99", Expression: "http.response_time.p99 < 200", Value: f(212.5), Limit: f(200), Strict: true},
		},
		{
			name:   "threshold is strictly less than",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 212.5}}},
			want:   report.SLO{Name: "http.response_time.p99", Expression: "http.response_time.p99 < 212.5", Value: f(212.5), Limit: f(212.5), Strict: true},
		},
		{
			name: "per-endpoint threshold with spaces is written bare, as Artillery writes it",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{
				{Metric: "plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95", Limit: 500},
			}},
			want: report.SLO{
				Name:       "plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95",
				Expression: `plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95 < 500`,
				Value:      f(180), Limit: f(500), OK: true, Strict: true,
			},
		},
		{
			name:   "a counter that never happened is 0",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.codes.503", Limit: 1}}},
			want:   report.SLO{Name: "http.codes.503", Expression: "http.codes.503 < 1", Value: f(0), Limit: f(1), OK: true, Strict: true},
		},
		{
			name:   "a summary without samples fails",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "primeload.schedule_lag.p95", Limit: 1000}}},
			want:   report.SLO{Name: "primeload.schedule_lag.p95", Expression: "primeload.schedule_lag.p95 < 1000", Limit: f(1000), Strict: true, Detail: "no samples: primeload.schedule_lag.p95"},
		},
		{
			name:   "condition with and and arithmetic passes",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.response_time.p99 < 250 and http.codes.500 / http.requests < 0.01", Strict: true}}},
			want: report.SLO{
				Name: "http.response_time.p99 < 250 and http.codes.500 / http.requests < 0.01", Expression: "http.response_time.p99 < 250 and http.codes.500 / http.requests < 0.01",
				OK: true, Strict: true, Detail: "http.response_time.p99=212.5, http.codes.500=5, http.requests=1000",
			},
		},
		{
			name:   "condition with or and not fails",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "not (http.codes.500 == 0) and (errors.ETIMEDOUT > 10 or http.request_rate < 10)", Strict: true}}},
			want: report.SLO{
				Name: "not (http.codes.500 == 0) and (errors.ETIMEDOUT > 10 or http.request_rate < 10)", Expression: "not (http.codes.500 == 0) and (errors.ETIMEDOUT > 10 or http.request_rate < 10)",
				Strict: true, Detail: "http.codes.500=5, errors.ETIMEDOUT=5, http.request_rate=50",
			},
		},
		{
			name:   "comparison condition shows its value and limit",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.codes.500 / http.requests * 100 < 0.1", Strict: true}}},
			want: report.SLO{
				Name: "http.codes.500 / http.requests * 100 < 0.1", Expression: "http.codes.500 / http.requests * 100 < 0.1",
				Value: f(0.5), Limit: f(0.1), Strict: true, Detail: "http.codes.500=5, http.requests=1000",
			},
		},
		{
			name:   "non-strict condition fails as a warning",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.response_time.max < 100"}}},
			want:   report.SLO{Name: "http.response_time.max < 100", Expression: "http.response_time.max < 100", Value: f(480), Limit: f(100), Detail: "http.response_time.max=480"},
		},
		{
			name:   "quoted per-endpoint metric in a condition",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: `metric('plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95') < 200 and plugins.metrics-by-endpoint.response_time.login.p99 < 100`, Strict: true}}},
			want: report.SLO{
				Name:       `metric('plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95') < 200 and plugins.metrics-by-endpoint.response_time.login.p99 < 100`,
				Expression: `metric('plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95') < 200 and plugins.metrics-by-endpoint.response_time.login.p99 < 100`,
				OK:         true, Strict: true,
				Detail: "plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95=180, plugins.metrics-by-endpoint.response_time.login.p99=90",
			},
		},
		{
			name:   "per-endpoint counter",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "plugins.metrics-by-endpoint.login.codes.200 >= 100", Strict: true}}},
			want:   report.SLO{Name: "plugins.metrics-by-endpoint.login.codes.200 >= 100", Expression: "plugins.metrics-by-endpoint.login.codes.200 >= 100", Value: f(100), Limit: f(100), OK: true, Strict: true, Detail: "plugins.metrics-by-endpoint.login.codes.200=100"},
		},
		{
			name:   "legacy p95 passes",
			ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "p95", Limit: 200}}},
			want:   report.SLO{Name: "p95", Expression: "http.response_time.p95 < 200", Value: f(150), Limit: f(200), OK: true, Strict: true, Detail: "http.response_time.p95=150"},
		},
		{
			name:   "legacy p99 fails",
			ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "p99", Limit: 200}}},
			want:   report.SLO{Name: "p99", Expression: "http.response_time.p99 < 200", Value: f(212.5), Limit: f(200), Strict: true, Detail: "http.response_time.p99=212.5"},
		},
		{
			name:   "legacy median",
			ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "median", Limit: 20}}},
			want:   report.SLO{Name: "median", Expression: "http.response_time.median < 20", Value: f(20), Limit: f(20), Strict: true, Detail: "http.response_time.median=20"},
		},
		{
			name:   "legacy min and max",
			ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "max", Limit: 500}}},
			want:   report.SLO{Name: "max", Expression: "http.response_time.max < 500", Value: f(480), Limit: f(500), OK: true, Strict: true, Detail: "http.response_time.max=480"},
		},
		{
			name:   "legacy maxErrorRate passes inclusively",
			ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "maxErrorRate", Limit: 0.5}}},
			want: report.SLO{
				Name: "maxErrorRate", Expression: "(vusers.created - vusers.completed) / vusers.created * 100 <= 0.5",
				Value: f(0.5), Limit: f(0.5), OK: true, Strict: true, Detail: "vusers.created=400, vusers.completed=398",
			},
		},
		{
			name:   "legacy maxErrorRate fails",
			ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "maxErrorRate", Limit: 0.1}}},
			want: report.SLO{
				Name: "maxErrorRate", Expression: "(vusers.created - vusers.completed) / vusers.created * 100 <= 0.1",
				Value: f(0.5), Limit: f(0.1), Strict: true, Detail: "vusers.created=400, vusers.completed=398",
			},
		},
		{
			name:   "division by zero fails without a value",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.codes.404 / vusers.skipped < 0.01", Strict: true}}},
			want:   report.SLO{Name: "http.codes.404 / vusers.skipped < 0.01", Expression: "http.codes.404 / vusers.skipped < 0.01", Limit: f(0.01), Strict: true, Detail: "http.codes.404=0, vusers.skipped=0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, errs := Compile(tt.ensure, Names{Endpoints: endpoints})
			if len(errs) > 0 {
				t.Fatalf("Compile: %v", errs)
			}
			got := set.Evaluate(run)
			if len(got) != 1 {
				t.Fatalf("Evaluate gave %d results, want 1", len(got))
			}
			if !equalResult(got[0], tt.want) {
				t.Errorf("got  %s\nwant %s", show(got[0]), show(tt.want))
			}
			if gotPassed, want := Passed(got), tt.want.OK || !tt.want.Strict; gotPassed != want {
				t.Errorf("Passed = %v, want %v", gotPassed, want)
			}
		})
	}
}

func equalResult(a, b report.SLO) bool {
	eq := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	if b.Detail == "" && a.Value != nil {
		// Cases that do not spell out the detail check the rest.
		a.Detail = ""
	}
	return a.Name == b.Name && a.Expression == b.Expression && eq(a.Value, b.Value) && eq(a.Limit, b.Limit) &&
		a.OK == b.OK && a.Strict == b.Strict && a.Detail == b.Detail
}

func show(r report.SLO) string {
	p := func(f *float64) string {
		if f == nil {
			return "nil"
		}
		return report.FormatNumber(*f)
	}
	return "{" + strings.Join([]string{r.Name, r.Expression, "value=" + p(r.Value), "limit=" + p(r.Limit),
		"ok=" + boolStr(r.OK), "strict=" + boolStr(r.Strict), "detail=" + r.Detail}, " | ") + "}"
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ensure scenario.Ensure
		want   []string // substrings of the single error
	}{
		{
			name:   "typo in a threshold",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.respnse_time.p99", Limit: 250, Pos: pos(12)}}},
			want:   []string{"bf.yml:12:7: ensure.thresholds: ", `unknown metric "http.respnse_time.p99"`, `did you mean "http.response_time.p99"?`},
		},
		{
			name:   "unknown statistic",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.response_time.pp95", Limit: 250, Pos: pos(13)}}},
			want:   []string{"bf.yml:13:7:", `"pp95" is not a statistic of http.response_time`, `did you mean "http.response_time.p95"?`, "valid: min, max"},
		},
		{
			name:   "typo in a condition",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.response_time.p99 < 250 and http.code.500 < 1", Pos: pos(20)}}},
			want:   []string{"bf.yml:20:7: ensure.conditions: http.response_time.p99 < 250 and http.code.500 < 1: ", `unknown metric "http.code.500"`, `did you mean "http.codes.500"?`},
		},
		{
			name:   "bare statistic in a condition",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "p95 < 200", Pos: pos(21)}}},
			want:   []string{"bf.yml:21:7:", `unknown metric "p95"`, `did you mean "http.response_time.p95"?`},
		},
		{
			name:   "endpoint the script never calls",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "plugins.metrics-by-endpoint.response_time.GET /api/goods-recieved/.p95", Limit: 500, Pos: pos(14)}}},
			want:   []string{"bf.yml:14:7:", `never calls endpoint "GET /api/goods-recieved/"`, `did you mean "plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95"?`},
		},
		{
			name:   "per-endpoint counter of an unknown endpoint",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "plugins.metrics-by-endpoint.logout.codes.500 < 1", Pos: pos(15)}}},
			want:   []string{"bf.yml:15:7:", `never calls endpoint "logout"`},
		},
		{
			name:   "bare endpoint the script never calls",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "plugins.metrics-by-endpoint.response_time.GET /api/goods-recieved/.p95 < 500", Pos: pos(16)}}},
			want:   []string{"bf.yml:16:7:", `never calls endpoint "GET /api/goods-recieved/"`, `did you mean "plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95"?`},
		},
		{
			name:   "a known name with text glued to it",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.codes.5000 < 1", Pos: pos(17)}}},
			want:   []string{"bf.yml:17:7:", `unknown metric "http.codes.5000"`, "3-digit code"},
		},
		{
			name:   "bad status code",
			ensure: scenario.Ensure{Thresholds: []scenario.Threshold{{Metric: "http.codes.5xx", Limit: 1, Pos: pos(18)}}},
			want:   []string{"bf.yml:18:7:", "http.codes.<3-digit code>"},
		},
		{
			name:   "syntax error",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.response_time.p99 < < 250", Pos: pos(19)}}},
			want:   []string{"bf.yml:19:7:", "invalid expression"},
		},
		{
			name:   "a list outside in",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: "http.response_time.p99 < (1, 2)", Pos: pos(22)}}},
			want:   []string{"bf.yml:22:7:", "invalid expression", "only used after in or not in"},
		},
		{
			name:   "unterminated string",
			ensure: scenario.Ensure{Conditions: []scenario.Condition{{Expression: `metric("http.codes.500) < 1`, Pos: pos(23)}}},
			want:   []string{"bf.yml:23:7:", "unterminated quote"},
		},
		{
			name:   "unknown legacy key",
			ensure: scenario.Ensure{Legacy: []scenario.Threshold{{Metric: "p90", Limit: 1, Pos: pos(24)}}},
			want:   []string{"bf.yml:24:7: ensure.p90: p90: unknown ensure key", "maxErrorRate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errs := Compile(tt.ensure, Names{Endpoints: endpoints})
			if len(errs) != 1 {
				t.Fatalf("got %d errors %v, want 1", len(errs), errs)
			}
			var e *Error
			if !errors.As(errs[0], &e) {
				t.Fatalf("error %T is not an *Error", errs[0])
			}
			for _, w := range tt.want {
				if !strings.Contains(errs[0].Error(), w) {
					t.Errorf("error\n  %s\nlacks %q", errs[0], w)
				}
			}
		})
	}
}

func TestCompileCollectsEveryError(t *testing.T) {
	t.Parallel()
	e := scenario.Ensure{
		Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 250, Pos: pos(3)}, {Metric: "http.reqests", Limit: 1, Pos: pos(4)}},
		Conditions: []scenario.Condition{{Expression: "errors.ETIMEDOUT == 0", Strict: true, Pos: pos(6)}, {Expression: "vuser.failed == 0", Pos: pos(7)}},
	}
	set, errs := Compile(e, Names{Endpoints: endpoints})
	var lines []string
	for _, err := range errs {
		lines = append(lines, strings.SplitN(err.Error(), ":", 3)[1])
	}
	if got, want := strings.Join(lines, ","), "4,7"; got != want {
		t.Errorf("error lines = %s, want %s (%v)", got, want, errs)
	}
	if got, want := set.Len(), 2; got != want {
		t.Errorf("compiled %d SLOs, want %d", got, want)
	}
}

func TestLexNames(t *testing.T) {
	t.Parallel()
	cat := newCatalog(Names{Endpoints: endpoints})
	tests := []struct {
		in    string
		names []string
	}{
		{"http.response_time.p99 < 250", []string{"http.response_time.p99"}},
		{"http.response_time.p999 < 250", []string{"http.response_time.p999"}},
		{"http.codes.500/http.requests<1e-2", []string{"http.codes.500", "http.requests"}},
		{"vusers.created-vusers.completed < 5", []string{"vusers.created", "vusers.completed"}},
		{"http.requests - http.requests > 0", []string{"http.requests"}},
		{"plugins.metrics-by-endpoint.login.codes.200 > 0", []string{"plugins.metrics-by-endpoint.login.codes.200"}},
		{"plugins.metrics-by-endpoint.response_time.GET /api/goods-received/{{ goodsId }}/.p95<1 or plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p99 > 1",
			[]string{"plugins.metrics-by-endpoint.response_time.GET /api/goods-received/{{ goodsId }}/.p95", "plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p99"}},
		{`metric( "http.codes.200" ) > 1 and not 'errors.ETIMEDOUT' == 2`, []string{"http.codes.200", "errors.ETIMEDOUT"}},
		{`'plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95' > 1`, []string{"plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95"}},
		{"errors.Failed capture or match == 0", []string{"errors.Failed capture or match"}},
		{"max(http.requests, 1) > 0 and exists(http.response_time.p50)", []string{"http.requests", "http.response_time.p50"}},
	}
	for _, tt := range tests {
		l, err := lex(tt.in, cat)
		if err != nil || len(l.names) > 0 {
			t.Errorf("lex(%q): %v %v", tt.in, err, l.names)
			continue
		}
		_, names, err := parse(l.toks)
		if err != nil {
			t.Errorf("parse(%q): %v", tt.in, err)
			continue
		}
		if got, want := strings.Join(names, " | "), strings.Join(tt.names, " | "); got != want {
			t.Errorf("names of %q\n got  %s\n want %s", tt.in, got, want)
		}
	}
}

// TestFiltrexSemantics pins operator precedence, associativity and
// JavaScript arithmetic; each want is what filtrex 2.2.3 returns for the
// same text (node -e 'require("filtrex").compileExpression(E)({})').
func TestFiltrexSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
	}{
		{"2^3^2", 64},
		{"-2^2", 4},
		{"not 0 == 1", 1},
		{"not 1 in (0)", 1},
		{"1 < 2 < 3", 1},
		{"3 > 2 > 1", 0},
		{"5 > 3 == 1", 1},
		{"2 and 3", 3},
		{"0 and 5", 0},
		{"0 or 5", 5},
		{"1 or 0 and 0", 1},
		{"7 % -3", 1},
		{"-7 % 3", -1},
		{"round(-2.5)", -2},
		{"round(2.5)", 3},
		{"1 ? 2 : 3 ? 4 : 5", 4},
		{"0 ? 1 : 0 ? 2 : 3", 3},
		{"1 ? 0 ? 7 : 8 : 9", 8},
		{"0 ? 1 : 2 or 3", 2},
		{"(1, 2) in (1, 2, 3)", 1},
		{"2 in 2", 1},
		{"3 not in (1, 2)", 1},
		{"1 == 1 in (1)", 1},
		{"1 / 0 > 100000", 1},
		{"max(1, 5, 3)", 5},
		{"1 + not 0", 2},
		{"2 * 3 + 4 * 5", 26},
		{"10 - 2 - 3", 5},
		{"abs(-3) + ceil(1.2) + floor(1.8)", 6},
		{"sqrt(16) == 4 and log(1) == 0", 1},
		{"-(2 + 3)", -5},
	}
	cat := newCatalog(Names{})
	for _, tt := range tests {
		l, err := lex(tt.in, cat)
		if err != nil {
			t.Errorf("lex(%q): %v", tt.in, err)
			continue
		}
		root, _, err := parse(l.toks)
		if err != nil {
			t.Errorf("parse(%q): %v", tt.in, err)
			continue
		}
		if got := (&evaluation{}).eval(root).number(); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPrintGolden(t *testing.T) {
	t.Parallel()
	e := scenario.Ensure{
		Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 250}},
		Conditions: []scenario.Condition{
			{Expression: "http.codes.500 / http.requests < 0.001", Strict: true},
			{Expression: "http.response_time.p95 < 100 and http.request_rate > 10"},
			{Expression: "primeload.schedule_lag.p95 < 1000", Strict: true},
		},
		Legacy: []scenario.Threshold{{Metric: "maxErrorRate", Limit: 1}},
	}
	set, errs := Compile(e, Names{Endpoints: endpoints})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var buf bytes.Buffer
	if err := Print(&buf, set.Evaluate(run)); err != nil {
		t.Fatal(err)
	}
	reporttest.Golden(t, filepath.Join("testdata", "print.golden"), buf.Bytes(), *update)
}

func TestCompileRejectsHugeExpression(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("http.requests + ", MaxExpression/16) + "0 > 0"
	_, errs := CompileSpecs([]Spec{{Name: "f", Expression: long, Strict: true}}, Names{Endpoints: endpoints})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "at most 4096") {
		t.Fatalf("errors = %v, want one saying the expression is too long", errs)
	}
	fits := strings.Repeat("http.requests + ", MaxExpression/32) + "0 > 0"
	if _, errs := CompileSpecs([]Spec{{Name: "f", Expression: fits, Strict: true}}, Names{Endpoints: endpoints}); len(errs) != 0 {
		t.Fatalf("a %d-byte expression: %v", len(fits), errs)
	}
}

func FuzzCompile(f *testing.F) {
	f.Add("http.response_time.p99 < 250 and http.codes.500 / http.requests < 0.01")
	f.Add(`metric("plugins.metrics-by-endpoint.response_time.login.p95") < 1`)
	f.Add(`'errors.ETIMEDOUT' > 1 ? 2 : 3 ^ -1`)
	f.Add("not (errors.ETIMEDOUT == 0) or 1e-3 > 0 and http.codes.200 not in (1, 2)")
	f.Add("plugins.metrics-by-endpoint.response_time.GET /api/goods-received/.p95 < 500")
	f.Fuzz(func(t *testing.T, expression string) {
		set, errs := CompileSpecs([]Spec{{Name: "f", Expression: expression, Strict: true}}, Names{Endpoints: endpoints})
		if len(errs) > 0 {
			return
		}
		// Whatever compiles evaluates without panicking, to the same
		// verdict each time unless it draws random().
		a, b := set.Evaluate(run), set.Evaluate(run)
		if a[0].OK != b[0].OK && !strings.Contains(expression, "random") {
			t.Fatalf("%q: verdict %v then %v", expression, a[0].OK, b[0].OK)
		}
	})
}

func BenchmarkEvaluate(b *testing.B) {
	set, errs := Compile(scenario.Ensure{
		Thresholds: []scenario.Threshold{{Metric: "http.response_time.p99", Limit: 250}},
		Conditions: []scenario.Condition{{Expression: "http.codes.500 / http.requests < 0.01 and http.response_time.p95 < 500", Strict: true}},
		Legacy:     []scenario.Threshold{{Metric: "maxErrorRate", Limit: 1}},
	}, Names{Endpoints: endpoints})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		set.Evaluate(run)
	}
}

// Print keeps to the summary's width whatever the expressions, and loses
// nothing: each expression and measurement reads whole once unwrapped.
func TestPrintFits(t *testing.T) {
	t.Parallel()
	long := "(http.codes.500 + http.codes.502 + http.codes.503 + http.codes.504 + errors.ETIMEDOUT + errors.ECONNREFUSED + errors.ECONNRESET) / http.requests < 0.001"
	tests := []struct {
		name    string
		results []report.SLO
	}{
		{"short", []report.SLO{{Expression: "http.response_time.p95 < 500", OK: true, Strict: true, Value: ptr(29.8), Limit: ptr(500.0)}}},
		{"a long expression", []report.SLO{{Expression: long, OK: true, Strict: true, Value: ptr(0.0), Limit: ptr(0.001)},
			{Expression: "http.response_time.p99 < 2000", OK: true, Value: ptr(46.24), Limit: ptr(2000.0)}}},
		{"one word longer than the line", []report.SLO{{Expression: "plugins.metrics-by-endpoint.response_time./api/v2/warehouses/{{warehouseId}}/goods-received/{{goodsId}}/tracking-updates/.p95 < 500",
			Strict: true, Value: ptr(26.9), Limit: ptr(500.0)}}},
		{"a long measurement", []report.SLO{{Expression: "a < 1 and b < 2", Strict: false,
			Detail: strings.Repeat("plugins.metrics-by-endpoint.response_time./api/x/.p95=150, ", 4)}}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := Print(&buf, tt.results); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(buf.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > report.SummaryWidth {
				t.Errorf("%s: a line of %d columns:\n%s", tt.name, n, buf.String())
			}
		}
		if len(tt.results) > 0 {
			title, meas := printColumns(t, buf.String())
			for i, part := range []string{tt.results[0].Title(), tt.results[0].Measured()} {
				got := []string{title, meas}[i]
				// A word broken at a joint has no space inside once unwrapped.
				if strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(part, " ", "") {
					t.Errorf("%s: column %d reads %q, want %q:\n%s", tt.name, i, got, part, buf.String())
				}
			}
		}
	}
}

// printColumns reads the first SLO's expression and measurement columns
// back out of Print's output (ASCII only), each unwrapped to one line. A
// line holds expression text from column 8 up to a gap of two spaces,
// then measurement text; a line that starts with more spaces holds only
// measurement text.
func printColumns(t *testing.T, out string) (title, meas string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:]
	const lead = 8
	var ts, ms []string
	for i, line := range lines {
		if i > 0 && !strings.HasPrefix(line, strings.Repeat(" ", lead)) {
			break // the next SLO
		}
		rest := line[lead:]
		if strings.HasPrefix(rest, " ") {
			ms = append(ms, strings.TrimSpace(rest))
			continue
		}
		left, right, _ := strings.Cut(rest, "  ")
		ts = append(ts, left)
		if right = strings.TrimSpace(right); right != "" {
			ms = append(ms, right)
		}
	}
	return strings.Join(ts, " "), strings.Join(ms, " ")
}

func ptr(v float64) *float64 { return &v }
