package html

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/metric"
	"github.com/primeload/primeload/report/reporttest"
)

// The dashboard's final page is the --html file, byte for byte, and each
// update carries exactly the page's own markup and data.
func TestLiveMatchesWrite(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Ensure: ensure(), Failures: true, Periods: 3})
	var file bytes.Buffer
	if err := Write(&file, r); err != nil {
		t.Fatal(err)
	}
	live, _, err := Live(r, true)
	if err != nil {
		t.Fatal(err)
	}
	live2, _, err := Live(r, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(live, live2) {
		t.Error("two renders of one report differ")
	}
	final, upd, err := Live(r, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(final, file.Bytes()) {
		t.Error("the finished run's live page differs from the file Write writes")
	}
	js, err := files.ReadFile("assets/live.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		page    []byte
		running bool
	}{{"running", live, true}, {"final", final, false}} {
		if got := bytes.Contains(tt.page, js); got != tt.running {
			t.Errorf("%s page has the live script: %v, want %v", tt.name, got, tt.running)
		}
		if got := bytes.Contains(tt.page, []byte(`<p class="verdict good">running: the report so far</p>`)); got != tt.running {
			t.Errorf("%s page reads running: %v, want %v", tt.name, got, tt.running)
		}
	}

	// The update's markup is the page's body up to its first script, and
	// its series is the data the page embeds.
	var u Update
	if err := json.Unmarshal(upd, &u); err != nil {
		t.Fatal(err)
	}
	page := file.String()
	from, to := strings.Index(page, "<body>")+len("<body>"), strings.Index(page, "\n<script>")
	if from < len("<body>") || to < from {
		t.Fatal("the page has no <body> or no script")
	}
	if u.Report != page[from:to] {
		t.Errorf("the update's markup differs from the page's body:\n%s\nwant\n%s", u.Report, page[from:to])
	}
	const lead = "<script>const primeloadSeries = "
	i := strings.Index(page, lead)
	j := strings.Index(page[i+len(lead):], ";</script>")
	if i < 0 || j < 0 {
		t.Fatal("the page does not embed its data")
	}
	var embedded series
	if err := json.Unmarshal([]byte(page[i+len(lead):i+len(lead)+j]), &embedded); err != nil {
		t.Fatalf("the page's data: %v", err)
	}
	want, err := json.Marshal(embedded)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(u.Series)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the update's series differ from the page's")
	}
	if len(u.Series.Time) != len(r.Intermediate) {
		t.Errorf("the update has %d periods, the report %d", len(u.Series.Time), len(r.Intermediate))
	}
}

// A run's first moments, with no period closed yet, render.
func TestLiveEmptyRun(t *testing.T) {
	t.Parallel()
	r := &report.Report{Aggregate: &report.Metrics{Counters: map[string]int64{}}, Intermediate: []*report.Metrics{}}
	page, upd, err := Live(r, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("running: the report so far")) || !bytes.Contains(upd, []byte(`"time":[]`)) {
		t.Errorf("an empty run renders as\n%s\nwith update %s", page, upd)
	}
}

// A live report may have an endpoint in its aggregate before the period
// that saw it is handed over: its chart lines are empty arrays, which the
// page's script reads, never null.
func TestLiveEndpointBeforeItsPeriod(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Periods: 1})
	r.Intermediate = []*report.Metrics{}
	_, upd, err := Live(r, true)
	if err != nil {
		t.Fatal(err)
	}
	var u Update
	if err := json.Unmarshal(upd, &u); err != nil {
		t.Fatal(err)
	}
	if len(u.Series.EndpointRate) == 0 {
		t.Fatal("the report has no endpoint to chart")
	}
	if bytes.Contains(upd, []byte(`"values":null`)) {
		t.Errorf("an endpoint line without periods is null: %s", upd)
	}
}

// BenchmarkLive measures one live render, what the dashboard does each
// second of a run: a 5 minute run, an hour's (360 periods, 3600 fine
// points) and a day's (8640 periods; the fine series stays at 3600
// points). update-bytes is the event every open page is sent.
func BenchmarkLive(b *testing.B) {
	for _, bb := range []struct {
		name            string
		periods, perSec int
	}{{"5min", 30, 20}, {"1h", 360, 20}, {"1d", 8640, 1}} {
		b.Run(bb.name, func(b *testing.B) {
			r := reporttest.Run(b, reporttest.Options{Failures: true, Periods: bb.periods, PerSec: bb.perSec})
			b.ReportAllocs()
			var n int
			for b.Loop() {
				_, upd, err := Live(r, true)
				if err != nil {
					b.Fatal(err)
				}
				n = len(upd)
			}
			b.ReportMetric(float64(n), "update-bytes")
		})
	}
}

// A running report's summary says which instant its counts are from and
// how many users were active then, by those same counts; a finished
// report's page has no such note.
func TestLiveSummaryInstant(t *testing.T) {
	t.Parallel()
	r := reporttest.Run(t, reporttest.Options{Periods: 2})
	r.Aggregate.Counters[metric.VUsersCreated] = 13
	r.Aggregate.Counters[metric.VUsersCompleted] = 9
	r.Aggregate.Counters[metric.VUsersFailed] = 1
	for _, tt := range []struct {
		running bool
		want    []string
		wantNot []string
	}{
		{true, []string{"13 created, 9 completed, 1 failed, 3 active", `id="as-of" data-end="` + strconv.FormatInt(r.EndedAt.Unix(), 10) + `"`,
			"As of the last period's end, " + r.EndedAt.UTC().Format("15:04:05 UTC")}, nil},
		{false, []string{"13 created, 9 completed, 1 failed, 3 active"}, []string{`id="as-of"`}},
	} {
		page, _, err := Live(r, tt.running)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !bytes.Contains(page, []byte(w)) {
				t.Errorf("running=%v: the page lacks %q", tt.running, w)
			}
		}
		for _, w := range tt.wantNot {
			if bytes.Contains(page, []byte(w)) {
				t.Errorf("running=%v: the page has %q", tt.running, w)
			}
		}
	}
}
