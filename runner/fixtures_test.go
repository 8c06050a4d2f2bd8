package runner

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// load reads a script fixture from testdata.
func load(t *testing.T, name string) *scenario.Script {
	t.Helper()
	s, err := scenario.Load("testdata/"+name, scenario.LoadOptions{})
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return s
}

func TestRunYAMLPhases(t *testing.T) {
	t.Parallel()
	srv := serve(t, ok)
	out, rec := run(t, load(t, "phases.yml"), Options{Target: srv.URL})
	want := []struct {
		name    string
		created int
	}{{"burst", 7}, {"quiet", 0}, {"steady", 15}, {"climb", 15}}
	for i, w := range want {
		p := out.Phases[i]
		if p.Name != w.name || p.Created != w.created || p.Expected != w.created {
			t.Errorf("phase %d: %s created %d of %d, want %s %d", i, p.Name, p.Created, p.Expected, w.name, w.created)
		}
	}
	if got := rec.endpoints["/ping"]; got != 37 {
		t.Errorf("GET /ping answered %d times, want 37", got)
	}
}

// TestRunSeedFlow runs the seed course's scenarios against a stand-in for
// the PRIMEPRE API that checks what each step sends.
func TestRunSeedFlow(t *testing.T) {
	t.Parallel()
	var badAuth, badDetail, badTracking atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			badAuth.Add(1)
		}
		switch r.URL.Path {
		case "/api/goods-received/":
			w.Write([]byte(`{"count":2,"results":[{"id":4711},{"id":2}]}`))
		case "/api/goods-received/4711/":
			w.Write([]byte(`{"id":4711}`))
		case "/api/tracking-updates/":
			var body struct {
				GoodsID any    `json:"goods_id"`
				Status  string `json:"status"`
			}
			if json.NewDecoder(r.Body).Decode(&body) != nil || body.GoodsID != float64(4711) || body.Status != "in_transit" {
				badTracking.Add(1)
			}
			w.WriteHeader(http.StatusCreated)
		case "/api/dashboard/stats/", "/api/dashboard/charts/", "/api/auth/login/":
			ok(w, r)
		default:
			badDetail.Add(1)
			http.NotFound(w, r)
		}
	})
	env := func(k string) (string, bool) { return map[string]string{"API_TOKEN": "s3cret"}[k], k == "API_TOKEN" }
	out, rec := run(t, load(t, "seed-flow.yml"), Options{Target: srv.URL, Env: env, Seed: 3})
	if out.Created != 100 || out.Completed != 100 {
		t.Errorf("created %d, completed %d; want 100 and 100 (counters %v)", out.Created, out.Completed, rec.snapshot())
	}
	if badAuth.Load()+badDetail.Load()+badTracking.Load() != 0 {
		t.Errorf("bad auth %d, unknown paths %d, bad tracking bodies %d; want none", badAuth.Load(), badDetail.Load(), badTracking.Load())
	}
	logistics := rec.endpoints["/api/goods-received/"]
	if rec.endpoints["/api/tracking-updates/"] != logistics || int64(logistics) != rec.get(metric.ExpectOK) {
		t.Errorf("%d lists, %d tracking posts, %d expectations met; want all equal", logistics, rec.endpoints["/api/tracking-updates/"], rec.get(metric.ExpectOK))
	}
	// Weights 70/20/10 over 100 users: each within 4 standard deviations.
	for _, w := range []struct {
		endpoint string
		want, sd float64
	}{{"/api/goods-received/", 70, 4.6}, {"/api/dashboard/stats/", 20, 4}, {"/api/auth/login/", 10, 3}} {
		if got := float64(rec.endpoints[w.endpoint]); got < w.want-4*w.sd || got > w.want+4*w.sd {
			t.Errorf("%s ran %v times of 100, want %v±%v", w.endpoint, got, w.want, 4*w.sd)
		}
	}
}
