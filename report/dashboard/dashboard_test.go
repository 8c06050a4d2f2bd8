package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/primeload/primeload/report"
	"github.com/primeload/primeload/report/html"
	"github.com/primeload/primeload/report/metric"
)

// run is a collector fed one period at a time, as a run feeds it.
type run struct {
	col *report.Collector
	at  time.Time
}

func newRun() *run {
	start := time.Now().Truncate(time.Second)
	return &run{col: report.NewCollector(start, report.Info{Target: "http://127.0.0.1:1", Period: time.Second}), at: start}
}

// period records n requests answered 200 and closes the period.
func (r *run) period(t *testing.T, n int) *report.Metrics {
	t.Helper()
	for i := range n {
		s := r.col.Sink(1 + i%3)
		s.Count(metric.VUsersCreated, 1)
		s.Count(metric.Requests, 1)
		s.Response("/items", time.Duration(1+i%7)*time.Millisecond, 200, 10)
		s.Count(metric.VUsersCompleted, 1)
	}
	r.at = r.at.Add(time.Second)
	m, err := r.col.Flush(r.at)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func listen(t *testing.T) *Server {
	t.Helper()
	s, err := Listen(context.Background(), "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// stream is one browser's event stream.
type stream struct {
	body io.Closer
	r    *bufio.Reader
}

func follow(t *testing.T, s *Server) *stream {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/events: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &stream{body: resp.Body, r: bufio.NewReaderSize(resp.Body, 1<<20)}
}

// next reads one event: its name and its update.
func (st *stream) next(t *testing.T) (string, html.Update) {
	t.Helper()
	var name, data string
	for {
		line, err := st.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && name != "":
			var u html.Update
			if err := json.Unmarshal([]byte(data), &u); err != nil {
				t.Fatalf("event %s: %v", name, err)
			}
			return name, u
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func get(t *testing.T, url, host string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// A browser gets the report so far at once, an update after each period,
// and at the end the final report, after which / serves the --html file.
func TestLiveThenFinal(t *testing.T) {
	t.Parallel()
	s := listen(t)
	if code, _ := get(t, "http://"+s.Addr()+"/", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/ before the run: %d, want 503", code)
	}
	r := newRun()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx, r.col)
	st := follow(t, s)
	name, u := st.next(t)
	if name != "update" || len(u.Series.Time) != 0 || !strings.Contains(u.Report, "running: the report so far") {
		t.Fatalf("first event %s with %d periods, want an update of none, running", name, len(u.Series.Time))
	}
	for i, n := range []int{5, 9} {
		s.Period(r.period(t, n), []report.PhaseArrivals{{Name: "steady", Expected: 14, Created: 5}})
		name, u = st.next(t)
		if name != "update" || len(u.Series.Time) != i+1 {
			t.Fatalf("after period %d: event %s with %d periods", i+1, name, len(u.Series.Time))
		}
		if want := []int{5, 14}[i]; !strings.Contains(u.Report, fmt.Sprintf("<dd>%d <small>", want)) {
			t.Errorf("after period %d the requests card does not say %d:\n%s", i+1, want, u.Report)
		}
	}
	if !strings.Contains(u.Report, "<td>steady</td>") {
		t.Error("the phases handed over are not on the page")
	}
	_, live := get(t, "http://"+s.Addr()+"/", "")
	if !bytes.Contains(live, []byte("new EventSource(")) {
		t.Error("the live page does not follow the events")
	}

	r.period(t, 3) // the last period, which only the final report has
	final := r.col.Report()
	final.Verdict = report.Pass
	if err := s.Finish(final); err != nil {
		t.Fatal(err)
	}
	name, u = st.next(t)
	if name != "final" || len(u.Series.Time) != 3 || strings.Contains(u.Report, "running") {
		t.Fatalf("last event %s with %d periods, want the final report's 3", name, len(u.Series.Time))
	}
	if _, err := st.r.ReadByte(); err != io.EOF {
		t.Errorf("the stream goes on after the final event: %v", err)
	}
	var file bytes.Buffer
	if err := html.Write(&file, final); err != nil {
		t.Fatal(err)
	}
	if _, page := get(t, "http://"+s.Addr()+"/", ""); !bytes.Equal(page, file.Bytes()) {
		t.Error("after the run, / differs from the --html file")
	}
	// A browser opened after the end gets the final report and no more.
	late := follow(t, s)
	if name, _ := late.next(t); name != "final" {
		t.Errorf("a late browser's first event is %s, want final", name)
	}
}

// A browser that reads nothing holds up neither the run nor the others:
// it keeps only the latest event.
func TestSlowBrowser(t *testing.T) {
	t.Parallel()
	s := listen(t)
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: %s\r\n\r\n", s.Addr())
	// Far more than socket buffers hold, so a writer that waited on this
	// browser would block here for good.
	big := bytes.Repeat([]byte("x"), 1<<20)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 64 {
			s.publish([]byte("page"), fmt.Appendf(nil, `{"report":"%d %s"}`, i, big), nil, false)
		}
		s.publish([]byte("page"), []byte(`{"report":"last"}`), nil, false)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("publishing blocked on a browser that reads nothing")
	}
	st := follow(t, s)
	if _, u := st.next(t); u.Report != "last" {
		t.Errorf("a new browser got %.20q, want the latest event", u.Report)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	s := listen(t)
	for _, tt := range []struct {
		host string
		want int
	}{
		{"", http.StatusServiceUnavailable}, // 127.0.0.1:port, before the run
		{"localhost", http.StatusServiceUnavailable},
		{"[::1]:80", http.StatusServiceUnavailable},
		{"attacker.example", http.StatusMisdirectedRequest}, // a rebound name
		{"attacker.example:8080", http.StatusMisdirectedRequest},
		{"192.168.1.9", http.StatusMisdirectedRequest},
	} {
		if code, _ := get(t, "http://"+s.Addr()+"/", tt.host); code != tt.want {
			t.Errorf("Host %q: %d, want %d", tt.host, code, tt.want)
		}
	}
	if code, _ := get(t, "http://"+s.Addr()+"/other", ""); code != http.StatusNotFound {
		t.Errorf("/other: %d, want 404", code)
	}
	for range MaxClients {
		follow(t, s)
	}
	if code, _ := get(t, "http://"+s.Addr()+"/events", ""); code != http.StatusServiceUnavailable {
		t.Errorf("browser %d: %d, want 503", MaxClients+1, code)
	}
}

// Steps, each a point of the fine series, move the page between periods,
// and however often they come the page renders at most once a second.
func TestStepsRenderEachSecond(t *testing.T) {
	t.Parallel()
	s := listen(t)
	r := newRun()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Start(ctx, r.col)
	st := follow(t, s)
	type seen struct {
		name            string
		periods, fine   int
		phasesOnThePage bool
	}
	events := make(chan seen, 64)
	go func() {
		defer close(events)
		for {
			name, u := st.next(t) // fails only on a broken stream, which ends at final
			events <- seen{name, len(u.Series.Time), len(u.Series.Fine.Time), strings.Contains(u.Report, "<td>steady</td>")}
			if name == "final" {
				return
			}
		}
	}()
	// 25 steps over 2.5 s, a point of 100 ms each: ten times too many to render.
	const steps = 25
	for i := range steps {
		sink := r.col.Sink(1)
		sink.Count(metric.Requests, 1)
		sink.Response("/items", time.Millisecond, 200, 10)
		r.col.Tick(time.Now())
		s.Step([]report.PhaseArrivals{{Name: "steady", Expected: steps, Created: int64(i + 1)}})
		time.Sleep(100 * time.Millisecond)
	}
	final := r.col.Report()
	final.Verdict = report.Pass
	if err := s.Finish(final); err != nil {
		t.Fatal(err)
	}
	var updates []seen
	for e := range events {
		if e.name == "update" {
			updates = append(updates, e)
		}
	}
	// The render at Start, then at most one a second of the 2.5 s.
	if n := len(updates); n < 2 || n > 4 {
		t.Errorf("%d updates for %d steps over 2.5 s, want 2 to 4: one at the start, then at most one a second", n, steps)
	}
	for i, u := range updates {
		if u.periods != 0 {
			t.Errorf("update %d has %d periods; none was flushed", i, u.periods)
		}
		if i > 0 && u.fine <= updates[i-1].fine {
			t.Errorf("update %d has %d fine points, update %d had %d: a step must move the page", i, u.fine, i-1, updates[i-1].fine)
		}
	}
	if last := updates[len(updates)-1]; !last.phasesOnThePage {
		t.Error("the phases a step handed over are not on the page")
	}
}

// A render that takes long spaces the next out, so renders take at most
// 1/RenderShare of a core; a quick one still lets the page move each second.
func TestNextGap(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ took, want time.Duration }{
		{0, MinInterval},
		{25 * time.Millisecond, MinInterval}, // an hour's run (BenchmarkLive/1h)
		{MinInterval / RenderShare, MinInterval},
		{137 * time.Millisecond, 2740 * time.Millisecond}, // a day's (BenchmarkLive/1d)
		{time.Second, RenderShare * time.Second},
	} {
		if got := nextGap(tt.took); got != tt.want {
			t.Errorf("nextGap(%s) = %s, want %s", tt.took, got, tt.want)
		}
	}
}
