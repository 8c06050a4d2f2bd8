package runner

import (
	"net/http"
	"testing"
	"time"

	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/scenario"
)

// TestRunCountsScenariosAndSessions: every user is counted under its
// scenario's name (its index when unnamed), and each completed user, and
// no failed one, has a session length from its scenario's start to its
// flow's end, as Artillery's runner records them.
func TestRunCountsScenariosAndSessions(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	const think = 60 * time.Millisecond
	slow := []scenario.Step{get("/a"), {Think: think}, get("/a")}
	failing := get("/fail")
	failing.Request.Expect = []scenario.Expect{{Kind: scenario.ExpectStatusCode, Type: "statusCode", StatusCode: []int{200}}}
	script := newScript(srv.URL, []scenario.Phase{count(12, 100*time.Millisecond)}, slow, []scenario.Step{failing})
	// A failed expectation ends the user only under reportFailuresAsErrors.
	script.Config.Plugins.ExpectOptions.ReportFailuresAsErrors = true
	script.Scenarios[1].Unnamed = true // counted by its index
	out, rec := run(t, script, Options{Seed: 7})
	browse, unnamed := rec.get(metric.CreatedByName("sa")), rec.get(metric.CreatedByName("1"))
	if browse+unnamed != 12 || browse == 0 || unnamed == 0 {
		t.Fatalf("created by name: sa %d, 1 %d; want both > 0, adding up to 12", browse, unnamed)
	}
	if got := rec.get(metric.VUsersCompleted); got != browse {
		t.Errorf("completed %d, want the %d users of the scenario that completes", got, browse)
	}
	if got := int64(len(rec.sessions)); got != browse {
		t.Errorf("%d sessions recorded, want one per completed user (%d)", got, browse)
	}
	for _, d := range rec.sessions {
		if d < think {
			t.Errorf("session %v is shorter than the flow's think of %v", d, think)
		}
	}
	if out.Failed != unnamed {
		t.Errorf("failed %d, want %d", out.Failed, unnamed)
	}
}
