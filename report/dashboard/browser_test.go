package dashboard

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/html"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/reporttest"
	"github.com/primeload/primeload/runner/loadtest"
	"github.com/primeload/primeload/scenario"
)

var update = flag.Bool("update", false, "rewrite the dashboard screenshots in ../html/testdata")

// Chromium follows the dashboard of a real 5 s run against a local server:
// two screenshots 2 s apart differ, the console stays clean, and the final
// page shows the JSON report's numbers and reads as the --html file.
func TestBrowserFollowsRealRun(t *testing.T) {
	t.Parallel()
	b := reporttest.StartBrowser(t, 2*time.Minute)
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(2 * time.Millisecond) }))
	t.Cleanup(target.Close)
	script, err := scenario.Parse("live.yml", []byte("config:\n  target: \""+target.URL+"\"\n  phases:\n    - duration: 5\n      arrivalRate: 20\n      name: steady\nscenarios:\n  - flow:\n      - get:\n          url: \"/\"\n"), scenario.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Listen(ctx, "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)

	type result struct {
		rep *report.Report
		err error
	}
	done := make(chan result, 1)
	started := make(chan struct{})
	go func() {
		rep, err := loadtest.Run(ctx, script, loadtest.Options{Period: 500 * time.Millisecond, MaxLag: 2 * time.Second}, loadtest.Hooks{
			Collector: func(col *report.Collector) { s.Start(ctx, col); close(started) },
			Period:    func(m *report.Metrics, sm loadtest.Sample) { s.Period(m, sm.Arrivals) },
			Step:      func(sm loadtest.Sample) { s.Step(sm.Arrivals) },
		})
		done <- result{rep, err}
	}()
	<-started
	url := "http://" + s.Addr() + "/"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _ := get(t, url, ""); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dashboard never served its first page")
		}
	}
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	summary := func() string {
		txt, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.querySelector("#summary").innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return txt
	}
	shot := func() []byte {
		png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		return png
	}
	time.Sleep(1500 * time.Millisecond)
	first, firstText := shot(), summary()
	// The next render is at least a second away, and RenderShare times the
	// last render's length when that is more: under -race on a loaded
	// machine a render takes 100 ms and more, so the page moves every few
	// seconds. Wait for it to move, 2 s at least, until the run ends.
	time.Sleep(2 * time.Second)
	secondText := summary()
	for secondText == firstText && len(done) == 0 {
		time.Sleep(200 * time.Millisecond)
		secondText = summary()
	}
	second := shot()
	if bytes.Equal(first, second) {
		t.Error("two screenshots 2 s apart are the same: the page did not follow the run")
	}
	if firstText == secondText {
		t.Errorf("the summary did not change during the run:\n%s", firstText)
	}
	// The tracked screenshots (README shows them) change only when asked.
	if *update {
		for name, png := range map[string][]byte{"dashboard-1.png": first, "dashboard-2.png": second} {
			if err := os.WriteFile(filepath.Join("..", "html", "testdata", name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	defer res.rep.Close()
	if err := s.Finish(res.rep); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		final, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.body.dataset.final || ""`))
		if err != nil {
			t.Fatal(err)
		}
		if final == "true" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the open page never got the final report")
		}
	}
	// The numbers are the JSON report's, as written and read back.
	var js bytes.Buffer
	if err := report.Encode(&js, res.rep); err != nil {
		t.Fatal(err)
	}
	decoded, err := report.Decode(&js)
	if err != nil {
		t.Fatal(err)
	}
	c := decoded.Aggregate.Counters
	if c[metric.Requests] == 0 {
		t.Fatal("the run sent nothing")
	}
	liveText := summary()
	for _, want := range []string{
		"Requests\n" + strconv.FormatInt(c[metric.Requests], 10) + " ",
		"Virtual users\n" + strconv.FormatInt(c[metric.VUsersCreated], 10) + " created, " + strconv.FormatInt(c[metric.VUsersCompleted], 10) + " completed",
	} {
		if !strings.Contains(liveText, want) {
			t.Errorf("the final dashboard lacks the JSON report's %q:\n%s", want, liveText)
		}
	}
	points, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.querySelector('[data-chart="rate"]').dataset.points`))
	if err != nil {
		t.Fatal(err)
	}
	// The rate chart draws the fine series: a point for each second the run covered.
	if decoded.Series == nil {
		t.Fatal("the JSON report has no fine series")
	}
	seconds := 0
	for _, p := range decoded.Series.Points {
		if p.Length > 0 {
			seconds++
		}
	}
	if want := strconv.Itoa(seconds); points != want {
		t.Errorf("the final rate chart has %s points, the JSON report's fine series %s", points, want)
	}
	b.CheckConsole(t)

	// The --html file, opened in the same browser, reads the same.
	path := filepath.Join(t.TempDir(), "report.html")
	var page bytes.Buffer
	if err := html.Write(&page, res.rep); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("file://"+path)); err != nil {
		t.Fatal(err)
	}
	if fileText := summary(); fileText != liveText {
		t.Errorf("the final dashboard's summary differs from the --html file's:\n%s\nwant\n%s", liveText, fileText)
	}
}
