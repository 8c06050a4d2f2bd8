package cmd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/reporttest"
)

// liveChart is what the test reads of one time chart on the page: its
// x range (Unix seconds) and the phase marks it drew.
type liveChart struct {
	Name   string  `json:"name"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Phases string  `json:"phases"`
}

// readCharts is the page's time charts, as uPlot drew them last.
const readCharts = `primeloadCharts.filter(u => u.scales.x.time).map(u => ({
	name: u.root.parentElement.dataset.chart, min: u.scales.x.min, max: u.scales.x.max,
	phases: u.root.parentElement.dataset.phases || ""}))`

// `primeload run --dashboard` of a real 8 s run in two phases, followed
// by Chromium: two screenshots seconds apart differ, every time chart's
// axis stays within the run and marks the phases begun, the users line
// agrees with the summary's, the console stays clean, and the final page
// shows the JSON report's numbers.
func TestBrowserFollowsCLIRun(t *testing.T) {
	t.Parallel()
	b := reporttest.StartBrowser(t, 2*time.Minute)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(2 * time.Millisecond) }))
	t.Cleanup(srv.Close)
	script := writeScript(t, `config:
  target: "`+srv.URL+`"
  phases:
    - duration: 3
      arrivalRate: 5
      name: warm up
    - duration: 5
      arrivalRate: 10
      name: steady
scenarios:
  - flow:
      - get:
          url: "/"
      - think: 1
      - get:
          url: "/after"
`)
	addr := freeAddr(t)
	out := filepath.Join(t.TempDir(), "report.json")
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// A loaded machine must not fail the run: lag is not under test.
		done <- Execute(ctx, TestState(&stdout, &stderr, nil), []string{"run", "--quiet", "-o", out,
			"--period", "2s", "--max-lag", "2s", "--dashboard", addr, script})
	}()
	url := "http://" + addr + "/"
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the dashboard never served its first page")
		}
	}
	started := time.Now()
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	eval := func(js string) string {
		s, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	charts := func() []liveChart {
		cs, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]liveChart](readCharts))
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	summary := func() string { return eval(`document.querySelector("#summary").innerText`) }
	shot := func() []byte {
		png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		return png
	}
	time.Sleep(2500 * time.Millisecond)
	first, firstText, firstCharts := shot(), summary(), charts()
	// The second look waits for the next period on the page and the second
	// phase's marks: a loaded machine renders less often (at most a
	// twentieth of a core goes to it), and the run may start late.
	time.Sleep(2 * time.Second)
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		cs := charts()
		if summary() != firstText && len(cs) > 0 && cs[0].Phases == "2" {
			break
		}
	}
	second, secondText, secondCharts := shot(), summary(), charts()
	if bytes.Equal(first, second) {
		t.Error("two screenshots seconds apart are the same: the page did not follow the run")
	}
	if firstText == secondText {
		t.Errorf("the summary did not change during the run:\n%s", firstText)
	}
	// Each time chart spans the run so far, not years; by now the second
	// phase has begun, and each marks both.
	for _, c := range append(firstCharts, secondCharts...) {
		if c.Min < float64(started.Unix()-30) || c.Max-c.Min > 60 {
			t.Errorf("chart %s spans %.0f to %.0f, %.0f s, want within the run, which started about %d", c.Name, c.Min, c.Max, c.Max-c.Min, started.Unix())
		}
	}
	if len(secondCharts) != 9 {
		t.Errorf("%d time charts, want 9", len(secondCharts))
	}
	for _, c := range secondCharts {
		if c.Phases != "2" {
			t.Errorf("chart %s marks %q phases after the second began, want both", c.Name, c.Phases)
		}
	}
	// The summary's active users are its own counts' and agree with the
	// users chart at the end of the period they are from.
	for _, text := range []string{firstText, secondText} {
		created, completed, failed, active := vusersCard(t, text)
		if active != max(0, created-completed-failed) {
			t.Errorf("summary reads %d created, %d completed, %d failed and %d active", created, completed, failed, active)
		}
	}
	// Read at once, so no update lands between the two.
	both := eval(`(() => { const u = primeloadCharts[0], end = +document.querySelector("#as-of").dataset.end;
		const i = u.data[0].indexOf(end - 1);
		return (i < 0 ? "none" : u.data[1][i]) + "\n" + document.querySelector("#summary").innerText; })()`)
	chartActive, text, _ := strings.Cut(both, "\n")
	// The fine series' point and the period are closed a moment apart
	// (Tick and Flush), so a user or two may start or finish in between.
	_, _, _, active := vusersCard(t, text)
	if n, err := strconv.ParseInt(chartActive, 10, 64); err != nil || n < active-2 || n > active+2 {
		t.Errorf("the users chart reads %s active at the summary's instant, the summary %d:\n%s", chartActive, active, text)
	}

	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the run did not end")
	}
	// The server has sent the final event when the run ends; the page may
	// still be parsing and drawing it (seconds under -race on a loaded machine).
	for deadline := time.Now().Add(30 * time.Second); eval(`document.body.dataset.final || ""`) != "true"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the open page never got the final report")
		}
	}
	rep, err := report.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Aggregate.Counters
	finalText := summary()
	for _, want := range []string{
		"Requests\n" + strconv.FormatInt(c[metric.Requests], 10) + " ",
		"Virtual users\n" + strconv.FormatInt(c[metric.VUsersCreated], 10) + " created, " + strconv.FormatInt(c[metric.VUsersCompleted], 10) + " completed, 0 failed\n",
	} {
		if !strings.Contains(finalText, want) {
			t.Errorf("the final dashboard lacks the JSON report's %q:\n%s", want, finalText)
		}
	}
	if strings.Contains(finalText, "As of") {
		t.Errorf("the final dashboard still reads as a running one:\n%s", finalText)
	}
	b.CheckConsole(t)
}

// vusersCard reads the summary's virtual users card: "40 created, 30
// completed, 0 failed, 10 active", the active part only while some are.
func vusersCard(t *testing.T, summary string) (created, completed, failed, active int64) {
	t.Helper()
	_, card, ok := strings.Cut(summary, "Virtual users\n")
	card, _, _ = strings.Cut(card, "\n")
	n := map[string]*int64{"created": &created, "completed": &completed, "failed": &failed, "active": &active}
	for _, part := range strings.Split(card, ", ") {
		num, what, _ := strings.Cut(part, " ")
		v, err := strconv.ParseInt(num, 10, 64)
		if p := n[what]; p != nil && err == nil {
			*p = v
			continue
		}
		ok = false
	}
	if !ok {
		t.Fatalf("no virtual users card in the summary:\n%s", summary)
	}
	return created, completed, failed, active
}
