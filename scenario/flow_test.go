package scenario

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestFlowStepForms: Artillery 2.0.34's loop, think and probability forms
// load as written, and their mistakes are errors with positions (issue 18).
func TestFlowStepForms(t *testing.T) {
	ok := []struct {
		name, flow string
		check      func(t *testing.T, s *Script)
	}{
		{"count range", "      - loop: [{get: {url: /}}]\n        count: \"2-5\"\n", func(t *testing.T, s *Script) {
			if l := s.Scenarios[0].Flow[0].Loop; l.From != 2 || l.Count != 3 {
				t.Errorf("from %d count %d, want 2 and 3", l.From, l.Count)
			}
		}},
		{"templated count and renames", "      - loop: [{get: {url: \"/{{ i }}/{{ e }}\"}}]\n        count: \"{{ n }}\"\n        loopValue: i\n        loopElement: e\n      - get: {url: \"/{{ i }}/{{ $loopCount }}\"}\n", func(t *testing.T, s *Script) {
			if l := s.Scenarios[0].Flow[0].Loop; l.CountT == nil || l.IndexVar != "i" || l.ElementVar != "e" {
				t.Errorf("loop = %+v", l)
			}
		}},
		{"templated think", "      - think: \"{{ n }}\"\n", func(t *testing.T, s *Script) {
			if st := s.Scenarios[0].Flow[0]; st.ThinkT == nil || st.Think != 0 {
				t.Errorf("step = %+v", st)
			}
		}},
		{"probability", "      - get: {url: /, probability: 25}\n", func(t *testing.T, s *Script) {
			if r := s.Scenarios[0].Flow[0].Request; !r.HasProbability || r.Probability != 25 {
				t.Errorf("request = %+v", r)
			}
		}},
		{"parallel", "      - parallel:\n          - get: {url: /a, capture: {json: $.id, as: id}}\n          - get: {url: /b}\n        limit: 1\n      - get: {url: \"/{{ id }}\"}\n", func(t *testing.T, s *Script) {
			if p := s.Scenarios[0].Flow[0].Parallel; p == nil || len(p.Steps) != 2 || p.Limit != 1 {
				t.Errorf("parallel = %+v", p)
			}
			if got := s.Endpoints; len(got) != 3 {
				t.Errorf("endpoints = %v, want the parallel requests' and the last", got)
			}
		}},
		{"match", "      - get: {url: /, match: [{json: $.id, value: 7}, {header: x-v, value: \"{{ n }}\", strict: false}]}\n", func(t *testing.T, s *Script) {
			m := s.Scenarios[0].Flow[0].Request.Match
			if len(m) != 2 || m[0].ValueKind != "number" || m[0].Capture.Kind != CaptureJSON || m[1].Strict || m[1].Capture.Kind != CaptureHeader {
				t.Errorf("match = %+v", m)
			}
		}},
		{"triple braces", "      - get: {url: \"/{{{ n }}}\"}\n", func(t *testing.T, s *Script) {
			if refs := s.Scenarios[0].Flow[0].Request.URL.Refs(); len(refs) != 1 || refs[0] != "n" {
				t.Errorf("refs = %v", refs)
			}
		}},
	}
	for _, tt := range ok {
		s, err := Parse("f.yml", []byte(script("  variables: {n: 2}\n"+defaultPhases, tt.flow)), LoadOptions{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		tt.check(t, s)
	}
	bad := []struct{ flow, want string }{
		{"      - loop: [{get: {url: /}}]\n        count: \"5-2\"\n", `scenarios[0].flow[0].count: a range from-to runs to - from times`},
		{"      - loop: [{get: {url: /}}]\n        count: 2\n        loopValue: \"a b\"\n", `scenarios[0].flow[0].loopValue: names are letters`},
		{"      - get: {url: /, loopValue: i}\n", `scenarios[0].flow[0].get.loopValue: unknown key`},
		{"      - get: {url: /, probability: 101}\n", `scenarios[0].flow[0].get.probability: must be a percentage from 0 to 100, got 101`},
		{"      - get: {url: /, probability: often}\n", `scenarios[0].flow[0].get.probability: must be a percentage from 0 to 100, got "often"`},
		{"      - get: {url: \"/{{{ n }}\"}\n", `unclosed {{{`},
		{"      - get: {url: /, match: {json: $.id}}\n", `scenarios[0].flow[0].get.match.value: is required`},
		{"      - get: {url: /, match: [{json: $.id, value: 1, as: x}]}\n", `scenarios[0].flow[0].get.match[0].as: a match checks a value and stores nothing`},
		{"      - get: {url: /, match: {jsn: $.id, value: 1}}\n", `scenarios[0].flow[0].get.match.jsn: unknown key`},
		{"      - get: {url: /, match: {regexp: \"(\", value: 1}}\n", `scenarios[0].flow[0].get.match.regexp:`},
		{"      - parallel: []\n", `scenarios[0].flow[0].parallel: must hold at least one step`},
		{"      - parallel: [{get: {url: /}}]\n        limit: 0\n", `scenarios[0].flow[0].limit: must be a positive whole number`},
		{"      - get: {url: /}\n        limit: 2\n", `scenarios[0].flow[0].limit: only goes with parallel`},
		{"      - parallel: [{get: {url: /}}]\n        count: 2\n", `scenarios[0].flow[0].count: only goes with loop`},
		{"      - get: {url: \"/{{ $loopCount }}\"}\n      - loop: [{get: {url: /}}]\n        count: 1\n", `scenarios[0].flow[0].get.url: $loopCount and $loopElement only have a value inside a loop's steps, or after a loop`},
	}
	for _, tt := range bad {
		if got := parseErr(t, "f.yml", script("  variables: {n: 2}\n"+defaultPhases, tt.flow)); !strings.Contains(got, tt.want) {
			t.Errorf("%q:\n got %q\nwant %q", tt.flow, got, tt.want)
		}
	}
}

func TestLoopCountAndParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in      string
		from, n int
	}{{"3", 0, 3}, {" 2-5 ", 2, 3}, {"5-2", 0, 0}, {"-1", 0, 0}, {"many", 0, 0}, {"0", 0, 0}} {
		if from, n := LoopCount(tt.in); from != tt.from || n != tt.n {
			t.Errorf("LoopCount(%q) = %d, %d; want %d, %d", tt.in, from, n, tt.from, tt.n)
		}
	}
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"2", 2 * time.Second, true}, {"500ms", 500 * time.Millisecond, true}, {"1 min", time.Minute, true}, {"soon", 0, false}, {"0", 0, false}, {"400d", 0, false}} {
		if got, ok := ParseDuration(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestThinkJitter: a think step's own jitter, else config.http.defaults'
// (Artillery's requestSpec.jitter || opts.jitter), and the pause it gives
// stays within Artillery's max(0, t - j + random * 2j) over many draws
// from a seeded source (issue 18).
func TestThinkJitter(t *testing.T) {
	tests := []struct {
		name, config, step string
		think              time.Duration
		lo, hi             time.Duration // bounds of the pause
	}{
		{"step in ms", "", "      - think: 2\n        jitter: 500\n", 2 * time.Second, 1500 * time.Millisecond, 2500 * time.Millisecond},
		{"step in percent", "", "      - think: 2\n        jitter: \"10%\"\n", 2 * time.Second, 1800 * time.Millisecond, 2200 * time.Millisecond},
		{"default", "  http: {defaults: {think: {jitter: \"50%\"}}}\n", "      - think: 1\n", time.Second, 500 * time.Millisecond, 1500 * time.Millisecond},
		{"step over default", "  http: {defaults: {think: {jitter: \"50%\"}}}\n", "      - think: 1\n        jitter: 100\n", time.Second, 900 * time.Millisecond, 1100 * time.Millisecond},
		{"step 0 falls back to the default", "  defaults: {think: {jitter: 200}}\n", "      - think: 1\n        jitter: 0\n", time.Second, 800 * time.Millisecond, 1200 * time.Millisecond},
		{"step 0%: no jitter", "  defaults: {think: {jitter: 200}}\n", "      - think: 1\n        jitter: \"0%\"\n", time.Second, time.Second, time.Second},
		{"floored at 0", "", "      - think: 1\n        jitter: \"300%\"\n", time.Second, 0, 4 * time.Second},
		{"templated think", "  variables: {t: 1}\n", "      - think: \"{{ t }}\"\n        jitter: 250\n", time.Second, 750 * time.Millisecond, 1250 * time.Millisecond},
		{"none", "", "      - think: 1\n", time.Second, time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("t.yml", []byte(script(defaultPhases+tt.config, tt.step)), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			st := &s.Scenarios[0].Flow[0]
			j := st.ThinkJitter(s.Config.Defaults.ThinkJitter)
			rng := rand.New(rand.NewPCG(18, 1))
			lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
			zeros := 0
			for range 20000 {
				d := j.Apply(tt.think, rng.Float64)
				lo, hi = min(lo, d), max(hi, d)
				if d == 0 {
					zeros++
				}
			}
			if lo < tt.lo || hi > tt.hi {
				t.Errorf("pauses in [%v, %v], want within [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			// The draws cover the range: each end within 1% of its width.
			slack := (tt.hi - tt.lo) / 100
			if lo > tt.lo+slack || hi < tt.hi-slack {
				t.Errorf("pauses in [%v, %v], want to reach near [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			if tt.lo == 0 && zeros < 20000/4 {
				t.Errorf("%d pauses at 0, want the third of draws below zero floored there", zeros)
			}
		})
	}
	for _, bad := range []struct{ step, want string }{
		{"      - think: 1\n        jitter: lots\n", `scenarios[0].flow[0].jitter: must be whole milliseconds (500) or a percentage (20%), got "lots"`},
		{"      - think: 1\n        jitter: 0.5\n", "Artillery reads the whole milliseconds only"},
		{"      - get: {url: /}\n        jitter: 100\n", "scenarios[0].flow[0].jitter: only goes with think"},
	} {
		if got := parseErr(t, "t.yml", script(defaultPhases, bad.step)); !strings.Contains(got, bad.want) {
			t.Errorf("%q: %q, want %q", bad.step, got, bad.want)
		}
	}
}

// TestMaxRedirects: a step's maxRedirects is got's limit as Artillery
// passes it through, 10 when unset and 0 allowed; anything but a whole
// number of 0 or more is an error at its line (issue 18).
func TestMaxRedirects(t *testing.T) {
	for _, tt := range []struct {
		step string
		want int
	}{
		{"      - get: {url: /}\n", DefaultMaxRedirects},
		{"      - get: {url: /, maxRedirects: 3}\n", 3},
		{"      - post: {url: /, maxRedirects: 0}\n", 0},
		{"      - get: {url: /, maxRedirects: 25, followRedirect: true}\n", 25},
	} {
		s, err := Parse("f.yml", []byte(script(defaultPhases, tt.step)), LoadOptions{})
		if err != nil {
			t.Errorf("%q: %v", tt.step, err)
			continue
		}
		if got := s.Scenarios[0].Flow[0].Request.RedirectLimit(); got != tt.want {
			t.Errorf("%q: RedirectLimit() = %d, want %d", tt.step, got, tt.want)
		}
	}
	for _, tt := range []struct{ step, want string }{
		{"      - get:\n          url: /\n          maxRedirects: -1\n", `f.yml:8:25: scenarios[0].flow[0].get.maxRedirects: must be a whole number >= 0, got -1`},
		{"      - get: {url: /, maxRedirects: 2.5}\n", `f.yml:6:37: scenarios[0].flow[0].get.maxRedirects: must be a whole number >= 0, got 2.5`},
		{"      - get: {url: /, maxRedirects: many}\n", `scenarios[0].flow[0].get.maxRedirects: must be a whole number >= 0, got "many"`},
		{"      - get: {url: /, maxRedirects: true}\n", `scenarios[0].flow[0].get.maxRedirects: must be a whole number >= 0, got true`},
	} {
		if got := parseErr(t, "f.yml", script(defaultPhases, tt.step)); !strings.Contains(got, tt.want) {
			t.Errorf("%q:\n got %q\nwant %q", tt.step, got, tt.want)
		}
	}
}
