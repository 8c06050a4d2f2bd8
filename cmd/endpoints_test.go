package cmd

import (
	"strings"
	"testing"

	"github.com/primeload/primeload/report/metric"
)

// TestRunMaxEndpoints: past --max-endpoints, a real run records the rest as
// (other), counts them, and the summary says so; nothing is lost.
func TestRunMaxEndpoints(t *testing.T) {
	t.Parallel()
	var h hits
	srv := itemsServer(t, &h)
	script := writeScript(t, tinyScript(srv.URL, 4, ""))
	res := execRun(t, nil, nil, "", script, "--max-endpoints", "1")
	if res.code != wantExit(res, ExitOK) {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.out, res.errOut)
	}
	if res.rep == nil {
		t.Fatal("no report written")
	}
	m := res.rep.Aggregate
	// Four users each call /items, then /items/{{ id }}: the endpoint the
	// run saw first is admitted, the other folds.
	var named int64
	eps := m.Endpoints()
	for _, ep := range eps {
		if ep != metric.OtherEndpoint {
			named += m.Summaries[metric.EndpointLatency(ep)].Count
		}
	}
	other := m.Summaries[metric.EndpointLatency(metric.OtherEndpoint)].Count
	if len(eps) != 2 {
		t.Errorf("endpoints %q, want one named and %s", eps, metric.OtherEndpoint)
	}
	if named != 4 || other != 4 || m.Counters[metric.EndpointsFolded] != 4 || m.Counters[metric.Responses] != 8 {
		t.Errorf("named %d, (other) %d, folded %d, responses %d; want 4, 4, 4, 8", named, other, m.Counters[metric.EndpointsFolded], m.Counters[metric.Responses])
	}
	if !strings.Contains(strings.Join(strings.Fields(res.out), " "), `4 responses of the rest are recorded as "(other)"`) {
		t.Errorf("the summary does not warn about the folded endpoint:\n%s", res.out)
	}
}
