package cmd

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report/html"
)

// dashEvent is one server-sent event of a dashboard.
type dashEvent struct {
	name string
	u    html.Update
}

// followDashboard connects to the dashboard on addr as soon as it listens
// (for at most 20 s) and delivers its events until the stream ends.
func followDashboard(t *testing.T, addr string) <-chan dashEvent {
	events := make(chan dashEvent, 64)
	go func() {
		defer close(events)
		var resp *http.Response
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			r, err := http.Get("http://" + addr + "/events")
			if err == nil && r.StatusCode == http.StatusOK {
				resp = r
				break
			}
			if err == nil {
				r.Body.Close()
			}
		}
		if resp == nil {
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		var name string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				var u html.Update
				if err := json.Unmarshal([]byte(v), &u); err != nil {
					t.Errorf("event %s: %v", name, err)
					return
				}
				events <- dashEvent{name, u}
			}
		}
	}()
	return events
}

// A real run's dashboard pushes updates while the run goes and ends with
// the report the --html file holds. Updates come each second whatever
// --period is, each with the fine series grown by the seconds since; with
// short periods they also carry more periods each time.
func TestRunDashboard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		period string
		// grownPeriods is how many updates must have more periods than the
		// one before: a 10 s period may close once, on its wall-clock
		// boundary, within the 3 s run, or not at all.
		grownPeriods int
	}{
		{"1s", 2},
		{"10s", 0},
	}
	for _, tt := range tests {
		t.Run(tt.period, func(t *testing.T) {
			t.Parallel()
			srv := itemsServer(t, &hits{})
			addr := freeAddr(t)
			script := writeScript(t, metricsScript(srv.URL))
			page := filepath.Join(t.TempDir(), "report.html")
			events := followDashboard(t, addr)
			res := execRun(t, nil, nil, "", script, "--period", tt.period, "--dashboard", addr, "--html", page)
			if res.rep == nil {
				t.Fatalf("no report; exit %d\n%s\n%s", res.code, res.out, res.errOut)
			}
			if !strings.Contains(res.errOut, "live dashboard on http://"+addr+"/") {
				t.Errorf("stderr does not say where the dashboard is:\n%s", res.errOut)
			}
			var updates []dashEvent
			var final *html.Update
			for e := range events {
				switch e.name {
				case "update":
					updates = append(updates, e)
				case "final":
					final = &e.u
				}
			}
			if final == nil {
				t.Fatalf("no final event after %d updates", len(updates))
			}
			grewPeriods, grewFine := 0, 0
			for i := 1; i < len(updates); i++ {
				was, is := updates[i-1].u.Series, updates[i].u.Series
				if len(is.Time) > len(was.Time) {
					grewPeriods++
				}
				if len(is.Fine.Time) > len(was.Fine.Time) {
					grewFine++
				}
			}
			if grewPeriods < tt.grownPeriods {
				t.Errorf("%d updates, %d of them with more periods than the one before, want %d or more", len(updates), grewPeriods, tt.grownPeriods)
			}
			// 3 s of load: a point a second, each on the page within a second.
			if grewFine < 2 {
				t.Errorf("%d updates, %d of them with a longer fine series than the one before: want the page to move each second", len(updates), grewFine)
			}
			if n := len(final.Series.Fine.Time); n < 3 || n != len(res.rep.Series.Points) {
				t.Errorf("the final event has %d fine points, the JSON report %d, want those of a 3 s run", n, len(res.rep.Series.Points))
			}
			file, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			body := string(file)
			from, to := strings.Index(body, "<body>")+len("<body>"), strings.Index(body, "\n<script>")
			if final.Report != body[from:to] {
				t.Errorf("the final event's report differs from the --html file's:\n%s", final.Report)
			}
			if len(final.Series.Time) != len(res.rep.Intermediate) {
				t.Errorf("the final event has %d periods, the JSON report %d", len(final.Series.Time), len(res.rep.Intermediate))
			}
		})
	}
}

func TestDashboardFlags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string // in the usage error; "" for none
	}{
		{[]string{"--dashboard", "10.1.2.3:8089"}, `"10.1.2.3:8089" is not a loopback address`},
		{[]string{"--dashboard", "nonsense"}, `is not HOST:PORT`},
		{[]string{"--dashboard-hold", "-1s", "--dashboard", ":0"}, "is negative"},
	} {
		res := execRun(t, nil, nil, "", append([]string{writeScript(t, metricsScript("http://127.0.0.1:1"))}, tt.args...)...)
		if res.code != ExitUsage || !strings.Contains(res.errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %s; want 2 and %q", tt.args, res.code, res.errOut, tt.want)
		}
	}
}
