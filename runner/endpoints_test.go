package runner_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/runner"
)

// TestEndpointNamesAsArtillery runs a script with named, unnamed, absolute,
// query-string and templated URLs against real servers under each option
// of Artillery's metrics-by-endpoint plugin, and checks that the
// per-endpoint metric names are the plugin's: the URL path as written
// (query kept unless stripQueryString, qs parameters never), the host and
// port only when they differ from the target, "path (name)" for a named
// request.
func TestEndpointNamesAsArtillery(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	other := httptest.NewServer(mux)
	t.Cleanup(other.Close)
	u, err := url.Parse(other.URL)
	if err != nil {
		t.Fatal(err)
	}
	otherPort := ":" + u.Port()

	flow := `      - get:
          url: "/items"
      - get:
          url: "/items/1"
          name: "one item"
      - get:
          url: "/items?page=2&sort=name"
      - get:
          url: "/search"
          qs:
            q: "crates"
      - get:
          url: "` + srv.URL + `/abs"
      - get:
          url: "` + other.URL + `/elsewhere?x=1"
      - get:
          url: "/goods/{{ id }}?v={{ id }}"
          name: "goods"
      - get:
          url: "/goods/{{ id }}/stock"
      - get:
          url: "/slow"
`
	tests := []struct {
		name    string
		options string
		// want lists the endpoint of each request answered 200, in flow
		// order; "/slow" times out and has errors.ETIMEDOUT instead.
		want []string
		slow string // the slow request's endpoint, "" when not recorded
	}{
		{
			name: "defaults",
			want: []string{"/items", "/items/1 (one item)", "/items?page=2&sort=name", "/search", "/abs",
				otherPort + "/elsewhere?x=1", "/goods/{{ id }}?v={{ id }} (goods)", "/goods/{{ id }}/stock"},
			slow: "/slow",
		},
		{
			name:    "stripQueryString",
			options: "stripQueryString: true",
			want: []string{"/items", "/items/1 (one item)", "/items", "/search", "/abs",
				otherPort + "/elsewhere", "/goods/{{ id }} (goods)", "/goods/{{ id }}/stock"},
			slow: "/slow",
		},
		{
			name:    "useOnlyRequestNames",
			options: "useOnlyRequestNames: true",
			want: []string{"/items", "one item", "/items?page=2&sort=name", "/search", "/abs",
				otherPort + "/elsewhere?x=1", "goods", "/goods/{{ id }}/stock"},
			slow: "/slow",
		},
		{
			name:    "ignoreUnnamedRequests",
			options: "ignoreUnnamedRequests: true",
			want:    []string{"/items/1 (one item)", "/goods/{{ id }}?v={{ id }} (goods)"},
		},
		{
			name:    "groupDynamicURLs false renders the URL",
			options: "groupDynamicURLs: false",
			want: []string{"/items", "/items/1 (one item)", "/items?page=2&sort=name", "/search", "/abs",
				otherPort + "/elsewhere?x=1", "/goods/7?v=7 (goods)", "/goods/7/stock"},
			slow: "/slow",
		},
		{
			name:    "groupDynamicURLs false with stripQueryString and only names",
			options: "groupDynamicURLs: false\n      stripQueryString: true\n      useOnlyRequestNames: true",
			want: []string{"/items", "one item", "/items", "/search", "/abs",
				otherPort + "/elsewhere", "goods", "/goods/7/stock"},
			slow: "/slow",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plugin := "    metrics-by-endpoint: {}\n"
			if tt.options != "" {
				plugin = "    metrics-by-endpoint:\n      " + tt.options + "\n"
			}
			script := parseScript(t, `config:
  target: "`+srv.URL+`"
  http:
    timeout: 0.3
  variables:
    id: 7
  phases:
    - duration: 0.1
      arrivalCount: 1
  plugins:
`+plugin+`scenarios:
  - flow:
`+flow)
			_, rep := faultRun(t, script, srv.URL, runner.Options{})
			agg := rep.Aggregate
			var got []string
			for name := range agg.Counters {
				if rest, ok := strings.CutPrefix(name, metric.EndpointPrefix); ok {
					got = append(got, rest)
				}
			}
			var want []string
			for _, ep := range tt.want {
				var n int64
				for _, w := range tt.want {
					if w == ep {
						n++
					}
				}
				if !slices.Contains(want, ep+".codes.200") {
					want = append(want, ep+".codes.200")
				}
				if got := agg.Counters[metric.EndpointPrefix+ep+".codes.200"]; got != n {
					t.Errorf("%s%s.codes.200 = %d, want %d", metric.EndpointPrefix, ep, got, n)
				}
				if got := agg.Summaries[metric.EndpointResponseTime+ep].Count; got != n {
					t.Errorf("summary %s%s has %d samples, want %d", metric.EndpointResponseTime, ep, got, n)
				}
			}
			if tt.slow != "" {
				want = append(want, tt.slow+".errors.ETIMEDOUT")
			}
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("per-endpoint counters\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
			}
			if n := agg.Counters["http.codes.200"]; n != 8 {
				t.Errorf("http.codes.200 = %d, want 8 whatever the names", n)
			}
			// Under a metricsNamespace the file names the same metrics
			// as Artillery's plugin does: namespace + "." + the rest.
			rep.MetricsNamespace = "shop.api"
			var file bytes.Buffer
			if err := report.Encode(&file, rep); err != nil {
				t.Fatal(err)
			}
			var raw struct {
				Aggregate struct {
					Counters  map[string]int64           `json:"counters"`
					Summaries map[string]json.RawMessage `json:"summaries"`
				} `json:"aggregate"`
			}
			if err := json.Unmarshal(file.Bytes(), &raw); err != nil {
				t.Fatal(err)
			}
			var inFile []string
			for name := range raw.Aggregate.Counters {
				if strings.HasPrefix(name, metric.EndpointPrefix) {
					t.Errorf("%s is in the file under a metricsNamespace", name)
				}
				if rest, ok := strings.CutPrefix(name, "shop.api."); ok {
					inFile = append(inFile, rest)
				}
			}
			sort.Strings(inFile)
			if !slices.Equal(inFile, want) {
				t.Errorf("per-endpoint counters in the file under shop.api\n got  %s\n want %s", strings.Join(inFile, "\n      "), strings.Join(want, "\n      "))
			}
			for _, ep := range tt.want {
				if _, ok := raw.Aggregate.Summaries["shop.api.response_time."+ep]; !ok {
					t.Errorf("no summary shop.api.response_time.%s in the file", ep)
				}
			}
			back, err := report.Decode(&file)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(back.Aggregate.Counters, agg.Counters) {
				t.Errorf("decoding the namespaced file gives counters\n%v\nwant the recorded\n%v", back.Aggregate.Counters, agg.Counters)
			}
		})
	}
}

// TestRenderedEndpointsAreBounded checks that rendered URLs cannot grow the
// endpoint table past Options.MaxEndpoints: the rest share one endpoint, and
// the run says so once.
func TestRenderedEndpointsAreBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	const limit = 30
	const users = limit + 20
	script := parseScript(t, fmt.Sprintf(`config:
  target: "%s"
  phases:
    - duration: 0.5
      arrivalCount: %d
  plugins:
    metrics-by-endpoint:
      groupDynamicURLs: false
scenarios:
  - flow:
      - get:
          url: "/items/{{ $uuid }}"
`, srv.URL, users))
	var log strings.Builder
	_, rep := faultRun(t, script, srv.URL, runner.Options{Log: &log, MaxEndpoints: limit})
	names := 0
	for name := range rep.Aggregate.Summaries {
		if strings.HasPrefix(name, metric.EndpointResponseTime) {
			names++
		}
	}
	if names != limit+1 {
		t.Errorf("%d endpoints, want %d and %s", names, limit, metric.OtherEndpoint)
	}
	if got := rep.Aggregate.Summaries[metric.EndpointResponseTime+metric.OtherEndpoint].Count; got != users-limit {
		t.Errorf("%s has %d samples, want %d", metric.OtherEndpoint, got, users-limit)
	}
	// The report counts the runner's folds as its own, so the summary's
	// warning about (other) covers rendered URLs too.
	if got := rep.Aggregate.Counters[metric.EndpointsFolded]; got != users-limit {
		t.Errorf("%s = %d, want %d", metric.EndpointsFolded, got, users-limit)
	}
	if n := strings.Count(log.String(), "warning: more than"); n != 1 {
		t.Errorf("%d warnings in the log, want 1:\n%s", n, log.String())
	}
}

// TestUUIDPerUser: $uuid is one valid version 4 UUID per virtual user, the
// same in every request of its flow, different between users, and the same
// again for a run with the same seed.
func TestUUIDPerUser(t *testing.T) {
	t.Parallel()
	run := func() [][2]string {
		var mu sync.Mutex
		var seen [][2]string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, [2]string{r.Header.Get("X-User"), r.URL.Path})
			mu.Unlock()
		}))
		defer srv.Close()
		script := parseScript(t, fmt.Sprintf(`config:
  target: "%s"
  phases:
    - duration: 0.2
      arrivalCount: 20
scenarios:
  - flow:
      - get:
          url: "/a/{{ $uuid }}"
          headers:
            X-User: "{{ $uuid }}"
      - get:
          url: "/b/{{ $uuid }}"
          headers:
            X-User: "{{ $uuid }}"
`, srv.URL))
		faultRun(t, script, srv.URL, runner.Options{Seed: 7})
		mu.Lock()
		defer mu.Unlock()
		slices.SortFunc(seen, func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
		return seen
	}
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	first := run()
	if len(first) != 40 {
		t.Fatalf("%d requests, want 40", len(first))
	}
	users := map[string]int{}
	for _, s := range first {
		id := s[0]
		if !v4.MatchString(id) {
			t.Fatalf("$uuid %q is not a version 4 UUID", id)
		}
		if !strings.HasSuffix(s[1], "/"+id) {
			t.Errorf("request %s carries user %s: $uuid differs within one user", s[1], id)
		}
		users[id]++
	}
	if len(users) != 20 {
		t.Errorf("%d distinct $uuid values over 20 users, want 20", len(users))
	}
	if again := run(); !slices.Equal(again, first) {
		t.Errorf("a second run with the same seed sent other $uuid values")
	}
}
